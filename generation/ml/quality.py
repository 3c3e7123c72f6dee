"""Photo-quality measures on the face region and the gates that turn them into rejection codes.

Every measure is taken on the *face crop* (the detector's box, clipped to the image) resized to a
fixed ``crop`` × ``crop`` grey square, so numbers do not depend on the photo's resolution: a face
is judged at the scale the generator will see it (the aligned frames are 64 and 128 px).

Measures (keys of ``FaceAnalysis.quality``):

* ``face_px``: the short side of the face box in original pixels.
* ``sharpness``: variance of the 3×3 Laplacian of the crop after its grey levels are stretched to a
  fixed standard deviation (``contrast_std``). The stretch makes a dim but sharp face as sharp as a
  bright one; blur removes the fine detail the Laplacian sees, whatever the contrast.
* ``motion_anisotropy``: (λ1 − λ2) / (λ1 + λ2) of the gradient structure tensor summed over the
  high-passed crop (crop minus its Gaussian blur, σ = 1 px): 0 = fine detail in all directions,
  1 = all gradients parallel. Motion blur smears detail along the motion and wipes out gradients in
  that direction, so the ratio jumps (corpus faces: median 0.14, 99th percentile 0.50; an 11 px
  motion blur: median 0.64-0.85 depending on direction). The high-pass removes the face's
  own large horizontal features (brows, eyes, mouth), which would otherwise look "directional".
* ``brightness``: mean grey level of the crop, 0–1; ``peak_brightness``: its 99th percentile. Too
  dark is judged on the peak (plus clipped shadows), not the mean: the mean mostly measures skin
  tone (darkest well-lit corpus faces: mean 0.16, peak ≥ 0.39), while the brightest 1% of a face
  (eye whites, teeth, skin sheen) tracks the light. ``highlights`` / ``shadows``: fractions of crop
  pixels at or above ``clip_high`` / at or below ``clip_low`` grey levels (clipped, detail lost).
* ``eye_left_texture``, ``eye_right_texture``, ``mouth_texture``: grey standard deviation inside
  the bounding box of each eye's / the outer lips' landmarks (padded by 10% of its width), divided
  by that of the whole crop. Sunglasses, a hand, a bar or a sticker over a feature leave an almost
  flat patch: a low ratio (corpus faces: 1st percentile 0.15, median 0.63-0.75; 10 of the 11
  under 0.12 wear dark sunglasses, the 11th is a dim photo with hair across one eye).
* ``landmarks_outside``: fraction of the 68 landmarks that fall outside the image (face cut off).

Gates (``rejections``), in the stable order of ``REJECTION_CODES``, decided by ``QualityThresholds``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from generation.ml.faces import LEFT_EYE, MOUTH, RIGHT_EYE, FaceBox

# Analysis-level codes first, then the two the upload layer uses; rejections follow this order.
REJECTION_CODES: tuple[str, ...] = (
    "no_face", "multiple_faces", "face_too_small", "too_blurry", "extreme_pose",
    "too_dark", "overexposed", "occluded", "not_an_image", "too_large",
)
REJECTION_MESSAGES: dict[str, str] = {
    "no_face": "We could not find a face in this photo. Upload a photo where your face is clearly "
               "visible and looking at the camera.",
    "multiple_faces": "There is more than one face in this photo. Upload a photo of just you, or crop "
                      "the others out.",
    "face_too_small": "Your face is too small in this photo. Take it closer, so your head fills about "
                      "a third of the picture.",
    "occluded": "Part of your face is hidden or cut off. Remove sunglasses, hair or hands from your "
                "face and keep your whole face inside the picture.",
    "extreme_pose": "Your head is turned or tilted too far. Look straight at the camera and hold your "
                    "head level.",
    "too_dark": "The photo is too dark to see your face. Take it facing a window or a lamp.",
    "overexposed": "The photo is so bright that parts of your face are washed out. Move out of direct "
                   "sunlight or turn off the flash.",
    "too_blurry": "The photo is too blurry. Hold the camera still, tap your face to focus and take it "
                  "again in good light.",
    "not_an_image": "This file is not a photo we can open. Upload a JPEG, PNG or WebP picture.",
    "too_large": "This file is too big. Upload a smaller copy of the photo, for example by choosing a "
                 "smaller size when you share or export it.",
}


@dataclass(frozen=True)
class QualityThresholds:
    """Cut-offs of the analysis gates. Defaults were set on 999 CelebA photos and degraded copies
    (see docs/face_pipeline.md); raise ``min_face_px`` for uploads from real cameras."""

    # face_too_small: short side of the face box below this (px). dlib's box spans brows to chin;
    # the 128 px aligned frame holds a ~89 px box, so below 64 px the frame is mostly upsampling.
    min_face_px: int = 64
    # Faces the detector is much less sure of than its best one are dropped before counting (HOG
    # fires now and then on a jacket or a pattern at scores near 0; real faces score 0.5-3).
    min_relative_score: float = 0.3
    # too_blurry: sharpness below this, or motion anisotropy above max_anisotropy.
    min_sharpness: float = 150.0
    max_anisotropy: float = 0.6
    # too_dark / overexposed, on the face crop (brightness 0-1, grey levels 0-255 for the clips).
    min_peak_brightness: float = 0.3
    max_shadows: float = 0.4
    max_brightness: float = 0.85
    max_highlights: float = 0.25
    clip_low: int = 10
    clip_high: int = 245
    # occluded: any feature texture ratio below this, or too many landmarks outside the image.
    min_feature_texture: float = 0.12
    max_landmarks_outside: float = 0.05
    # extreme_pose: absolute angles in degrees above these (see pose.py for the conventions).
    max_yaw: float = 40.0
    max_pitch: float = 30.0
    max_roll: float = 30.0
    # Measurement settings (not gates): crop side, the grey std the crop is stretched to for
    # sharpness, the high-pass blur for anisotropy (px of the crop), the feature-box padding.
    crop: int = 128
    contrast_std: float = 50.0
    highpass_sigma: float = 1.0
    feature_pad: float = 0.1

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def face_crop(rgb: np.ndarray, box: FaceBox, crop: int) -> tuple[np.ndarray, float, float, float]:
    """The box region of ``rgb`` in grey, resized to ``crop``², and the (x0, y0, scale) that map
    image coordinates into it: ``crop_xy = (xy - (x0, y0)) * scale``."""
    h, w = rgb.shape[:2]
    x0, y0 = min(max(box.left, 0), w - 1), min(max(box.top, 0), h - 1)
    x1, y1 = min(box.right, w), min(box.bottom, h)
    region = np.ascontiguousarray(rgb[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)])
    region = cv2.cvtColor(region, cv2.COLOR_RGB2GRAY)
    side = max(region.shape)
    interpolation = cv2.INTER_AREA if side > crop else cv2.INTER_LINEAR
    resized = cv2.resize(region, (crop, crop), interpolation=interpolation)
    return resized.astype(np.float64), x0, y0, crop / side


def measure_quality(rgb: np.ndarray, box: FaceBox, landmarks: np.ndarray | None,
                    thresholds: QualityThresholds | None = None) -> dict[str, float]:
    """All quality measures (module docstring) of the face in ``box``; feature checks need landmarks."""
    t = thresholds or QualityThresholds()
    crop, x0, y0, scale = face_crop(rgb, box, t.crop)
    quality = {"face_px": float(min(box.width, box.height))}
    quality.update(sharpness_measures(crop, t.contrast_std, t.highpass_sigma))
    quality.update(exposure_measures(crop, t.clip_low, t.clip_high))
    if landmarks is not None:
        local = (np.asarray(landmarks) - (x0, y0)) * scale
        quality.update(feature_textures(crop, local, t.feature_pad))
        h, w = rgb.shape[:2]
        xs, ys = landmarks[:, 0], landmarks[:, 1]
        outside = (xs < 0) | (ys < 0) | (xs > w - 1) | (ys > h - 1)
        quality["landmarks_outside"] = float(outside.mean())
    return quality


def sharpness_measures(crop: np.ndarray, contrast_std: float, highpass_sigma: float) -> dict[str, float]:
    """Contrast-normalised Laplacian variance and the high-pass gradient anisotropy (motion blur)."""
    stretched = (crop - crop.mean()) * (contrast_std / max(crop.std(), 1e-6))
    sharpness = cv2.Laplacian(stretched, cv2.CV_64F, ksize=3).var()
    detail = crop - cv2.GaussianBlur(crop, (0, 0), highpass_sigma)
    gx = cv2.Sobel(detail, cv2.CV_64F, 1, 0, ksize=3)
    gy = cv2.Sobel(detail, cv2.CV_64F, 0, 1, ksize=3)
    jxx, jyy, jxy = (gx * gx).sum(), (gy * gy).sum(), (gx * gy).sum()
    trace = jxx + jyy
    spread = np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2)  # λ1 − λ2 of [[jxx, jxy], [jxy, jyy]]
    anisotropy = spread / trace if trace > 0 else 0.0
    return {"sharpness": float(sharpness), "motion_anisotropy": float(anisotropy)}


def exposure_measures(crop: np.ndarray, clip_low: int, clip_high: int) -> dict[str, float]:
    """Mean and 99th-percentile brightness (0-1), and the fractions of clipped shadows and highlights."""
    return {
        "brightness": float(crop.mean() / 255.0),
        "peak_brightness": float(np.percentile(crop, 99) / 255.0),
        "shadows": float((crop <= clip_low).mean()),
        "highlights": float((crop >= clip_high).mean()),
    }


def feature_textures(crop: np.ndarray, local: np.ndarray, pad: float) -> dict[str, float]:
    """Texture (grey std ratio to the whole crop) of each eye and the mouth; see the module doc."""
    reference = max(crop.std(), 1e-6)
    side = crop.shape[0]
    out = {}
    for name, part in (("eye_left", LEFT_EYE), ("eye_right", RIGHT_EYE), ("mouth", MOUTH)):
        points = local[part]
        low, high = points.min(axis=0), points.max(axis=0)
        margin = pad * (high[0] - low[0]) + 1.0
        x0, y0 = np.floor(low - margin).astype(int).clip(0, side - 1)
        x1, y1 = np.ceil(high + margin).astype(int).clip(1, side)
        patch = crop[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)]
        out[f"{name}_texture"] = float(patch.std() / reference)
    return out


def quality_rejections(quality: dict[str, float], pose: dict[str, float] | None,
                       thresholds: QualityThresholds | None = None) -> list[str]:
    """Rejection codes for one measured face, in ``REJECTION_CODES`` order (face-count gates aside)."""
    t = thresholds or QualityThresholds()
    q = quality
    failed = set()
    if q["face_px"] < t.min_face_px:
        failed.add("face_too_small")
    textures = [q[k] for k in ("eye_left_texture", "eye_right_texture", "mouth_texture") if k in q]
    cut_off = q.get("landmarks_outside", 0.0) > t.max_landmarks_outside
    if (textures and min(textures) < t.min_feature_texture) or cut_off:
        failed.add("occluded")
    if pose is not None and (abs(pose["yaw"]) > t.max_yaw or abs(pose["pitch"]) > t.max_pitch
                             or abs(pose["roll"]) > t.max_roll):
        failed.add("extreme_pose")
    if q["peak_brightness"] < t.min_peak_brightness or q["shadows"] > t.max_shadows:
        failed.add("too_dark")
    if q["brightness"] > t.max_brightness or q["highlights"] > t.max_highlights:
        failed.add("overexposed")
    if q["sharpness"] < t.min_sharpness or q["motion_anisotropy"] > t.max_anisotropy:
        failed.add("too_blurry")
    return [code for code in REJECTION_CODES if code in failed]
