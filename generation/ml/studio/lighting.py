"""Lighting correction: estimate the light on the face from its shading, then re-light it evenly
from the front. Plain NumPy/OpenCV; no Django.

Face shape. There is no 3D face model offline (DESIGN.md, "Studio-stage facts"), so the face is a
generic half-ellipsoid placed by the 68 landmarks (``face_normals``): its outline spans the jaw
(point 0 to point 16) across and the chin (8) to the top of ``face_region_mask``'s forehead down;
its depth equals its half-width, so across it is round like a head and its outline is where the
normals turn sideways. Normals are in camera axes: x to the image's right, y up, z to the camera.
(A flatter-fronted superellipsoid and a taller or shorter ellipsoid fitted 40 clean corpus faces
worse: mean relative residual 0.27-0.39 against 0.265.)

Estimate (``estimate_light``). Over the face's skin (``skin_mask``: the face region less eyes,
brows, nostrils and mouth, less clipped or near-black pixels; sampled down to ~6000 pixels), linear
luminance Y is fitted with first-order spherical harmonics of the normal, ``Y ≈ c0 + c·n``
(constant albedo folded in), by least squares. Its direction ``c/|c|`` starts a refinement under
``Y ≈ a + b·max(0, n·l)`` (ambient + Lambert, a ≥ 0, b ≥ 0), which is the same model wherever the
whole face is lit, but right where a side light leaves part of it in attached shadow: first-order
harmonics alone read a 60° light as 90° (measured on a flat-albedo face). The direction is searched
on an azimuth/elevation grid (4° then 0.5° steps; azimuth within ±85°, elevation −30° to 80°: faces
are rarely lit from below, and dark chins or hats would otherwise read as such), three times, each
time dropping pixels whose residual is over 2.5 robust standard deviations (hair, beard, sheen).

Relight (``relight``). The ratio of the fitted shading to the frontal one, ``a + b·n_z`` (the same
light moved in front of the face), softened at grazing normals (``SOFT``), is taken to ``strength``
in the log, feathered to nothing ``FADE`` × the jaw width outside the face region, smoothed, and
divided out of linear RGB (one factor for all three channels: hue and saturation stay); brightening
never pushes a channel past ``HEADROOM``. The strength fades for turned heads (|yaw| 10-30°, from
``FaceContext.yaw`` or the landmarks; the symmetric shape does not fit them) and for overexposed
faces (2-10% of face pixels with a clipped channel; 10% of accepted corpus faces have more): blown
highlights hold no shading to remove, and darkening them turns them grey or, kept, leaves white
blotches.

Skin tone. A gain on the face holds the skin-tone reading: the median luminance of the ITA patches
of ``generation.ml.skin_tone`` is kept (L* is monotonic in Y, so their median L* stays), then, if
pixels crossing that measure's clip/shadow levels still move its ITA° by over ``ITA_MATCH``, the
gain is bisected within ×e^±0.15 (the closest result is kept). Holding the face's mean luminance
instead raised ITA on clean corpus photos by +3.6° on average for the brown group and +27° for the
dark one (evening a half-shadowed face lifts its median lightness): a stage that lightens darker
skin. The price is that the face's mean skin luminance moves; where it would move by more than
``MEAN_CHANGE`` (25%), the strength is bisected down instead (less evening, not a dimmer face).

Measured (``.venv/bin/python bench/stage_figures.py --photos 300``: real aligned 256-px corpus faces,
their own low-frequency shading divided out, lit with ambient 0.3 + Lambert on this shape, which
flatters the estimator: the shape is its own). A uniform face: error < 0.5° (the tests). The 94
near-frontal (|yaw| < 6°) faces among the first 300 accepted corpus photos, 3 side lights each (azimuth
±45-60°, elevation −10° to 20°): direction error median 4.2°, 90th percentile 20.3°, max 57.7°; frontal
light median 3.2°; relight removes a median 73% of the left/right luminance asymmetry (10th percentile
62%). On the 300 clean crops of every group: |ΔITA| ≤ 0.89° (very light 0.89, light 0.46, intermediate
0.67, tan 0.43, brown 0.38, dark 0.47 on 7). Where the ITA reading cannot be held within ``ITA_LIMIT``
(one dark face moved 11.7° before this guard), the correction is halved until it can, or not applied.
Faces read as darker are more often unevenly lit, so evening moves their mean skin luminance more
(median −7% brown, −9% dark on an earlier 137-photo run) while their ITA stays put. ~0.3-0.6 s per
256-px image on one loaded core. Not handled: cast shadows (a cap brim), faces turned more than 30°,
overexposed faces, real face shapes (the nose and brow are not in the ellipsoid)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from generation.ml.skin_tone import HIGHLIGHT, SHADOW, measure_skin_tone, skin_pixels
from generation.ml.studio.base import FaceContext, Param, Stage, StageSkipped, as_rgb_uint8, face_region_mask

CLIP_HIGH, CLIP_LOW = 250, 10  # 8-bit levels: pixels with a channel ≥ high or all ≤ low are not fitted
MAX_PIXELS = 6000  # the fit samples the skin on a regular grid down to about this many pixels
ROUNDS = 3  # fits of the ambient + Lambert model, each followed by outlier removal
AZIMUTH_LIMIT, ELEVATION_RANGE = 85.0, (-30.0, 80.0)  # degrees: where the fit looks for the light
SOFT = 0.2  # the ratio is (shading + s) / (frontal + s), s = SOFT × the peak shading
RATIO_RANGE = (0.25, 4.0)  # and clamped to this range
FADE = 0.35  # the correction fades to nothing this far (× jaw width) outside the face region
SMOOTH = 0.03  # Gaussian sigma of the log-ratio image, × jaw width
HEADROOM = 0.91  # linear level (sRGB ≈ 244) that brightening never pushes a channel past
YAW_FULL, YAW_NONE = 10.0, 30.0  # |yaw| (degrees) where relight works fully / not at all
CLIPPED_FULL, CLIPPED_NONE = 0.02, 0.10  # share of clipped face pixels where relight works fully / not
ITA_MATCH, ITA_STEPS, ITA_RANGE = 0.5, 10, 0.15  # ITA° held within ITA_MATCH by a face gain e^±ITA_RANGE
ITA_LIMIT = 1.0  # a result whose ITA° still misses by more is redone with less correction, or not at all
SHARE_BACKOFF = 4  # halvings of the correction tried before the face is left as it is
MEAN_CHANGE, SHARE_STEPS = 0.25, 6  # relight does less where the skin's mean luminance would move more
LUMA = np.array([0.2126, 0.7152, 0.0722])  # linear sRGB (Rec. 709) → luminance Y


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    """uint8 (or 0-1 float) sRGB → float64 linear light in 0-1."""
    v = np.asarray(rgb, np.float64)
    v = v / 255.0 if np.asarray(rgb).dtype == np.uint8 else v
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear light (clipped to 0-1) → uint8 sRGB, rounded."""
    v = np.clip(linear, 0.0, 1.0)
    v = np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)
    return np.round(v * 255.0).astype(np.uint8)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """(H, W) linear luminance Y of a uint8 sRGB image."""
    return srgb_to_linear(rgb) @ LUMA


# --- masks and face shape -----------------------------------------------------------------------

def jaw_width(points: np.ndarray) -> float:
    """Distance from jaw point 0 to jaw point 16 in pixels (at least 1): the face's scale."""
    return max(float(np.linalg.norm(points[16] - points[0])), 1.0)


def skin_mask(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(H, W) bool: the face region less eyes, brows, nostrils and mouth (drawn thick from the
    landmarks) and less pixels with a clipped (≥ 250) channel or with every channel ≤ 10."""
    points = np.asarray(landmarks, np.float64)
    mask = face_region_mask(rgb.shape[:2], points).astype(np.uint8)
    thick = max(2, round(0.06 * jaw_width(points)))
    features = [(slice(36, 42), True), (slice(42, 48), True), (slice(48, 60), True),
                (slice(17, 22), False), (slice(22, 27), False), (slice(31, 36), False)]
    for part, closed in features:
        outline = np.round(points[part]).astype(np.int32)
        if closed:
            cv2.fillPoly(mask, [outline], 0)
        cv2.polylines(mask, [outline], closed, 0, thick)
    top = rgb.max(axis=2)
    return mask.astype(bool) & (top < CLIP_HIGH) & (top > CLIP_LOW)


def face_normals(shape: tuple[int, int], landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(normals (H, W, 3), inside (H, W) bool)``: unit normals of the generic face ellipsoid (x
    right, y up, z to the camera; clamped to its rim outside it) and where the ellipsoid is."""
    points = np.asarray(landmarks, np.float64)
    across = points[16] - points[0]
    across /= max(np.linalg.norm(across), 1e-9)
    down = np.array([-across[1], across[0]])  # image "down" along the face (y grows downwards)
    brows = points[17:27].mean(axis=0)
    top = brows + (brows - points[8]) * 0.5  # the forehead edge of face_region_mask
    bottom = points[8]
    jaw_mid = (points[0] + points[16]) / 2
    centre = jaw_mid + ((top + bottom) / 2 - jaw_mid) @ down * down  # jaw middle across, mid-height down
    half_width = jaw_width(points) / 2
    half_height = max(abs(float((bottom - top) @ down)) / 2, 1.0)
    h, w = shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    rel_x, rel_y = x - centre[0], y - centre[1]
    u = (rel_x * across[0] + rel_y * across[1]) / half_width
    v = (rel_x * down[0] + rel_y * down[1]) / half_height
    radius = np.hypot(u, v)
    inside = radius < 1.0
    shrink = np.where(radius > 0.98, 0.98 / np.maximum(radius, 1e-9), 1.0)
    u, v = u * shrink, v * shrink
    z = np.sqrt(np.clip(1.0 - u**2 - v**2, 0.0, None))
    # The gradient of (x/a)² + (y/b)² + (z/c)² = 1 is (u/a, v/b, z/c); the depth c is the half-width a.
    n_face = np.stack([u, v * half_width / half_height, z], axis=-1)
    n_face /= np.linalg.norm(n_face, axis=-1, keepdims=True)
    # Face axes → camera axes (x right, y up): undo the roll, flip image-down to up.
    nx = n_face[..., 0] * across[0] + n_face[..., 1] * down[0]
    ny_image = n_face[..., 0] * across[1] + n_face[..., 1] * down[1]
    return np.stack([nx, -ny_image, n_face[..., 2]], axis=-1), inside


# --- estimate -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class LightEstimate:
    """The light on the face: ``Y ≈ ambient + strength · max(0, direction·n)`` over its skin."""

    direction: tuple[float, float, float]  # unit vector towards the light: x right, y up, z to camera
    ambient: float  # a, in linear luminance (albedo folded in)
    strength: float  # b, in linear luminance
    residual: float  # RMS misfit / mean Y over the fitted pixels
    pixels: int  # how many pixels the final fit used

    @property
    def azimuth(self) -> float:
        """Degrees; 0 = frontal, positive = the light comes from the image's right."""
        return _angles(np.asarray(self.direction))[0]

    @property
    def elevation(self) -> float:
        """Degrees; positive = the light comes from above."""
        return _angles(np.asarray(self.direction))[1]

    def shading(self, normals: np.ndarray) -> np.ndarray:
        """The fitted shading at these normals (..., 3)."""
        return self.ambient + self.strength * np.maximum(normals @ np.asarray(self.direction), 0.0)


def _fit_lambert(normals: np.ndarray, y: np.ndarray, directions: np.ndarray) -> tuple[int, float, float]:
    """For each candidate direction (K, 3), the least-squares ``y ≈ a + b·max(0, n·l)`` with a, b ≥ 0:
    ``(index of the best, its a, its b)``. Everything comes from five sums over the pixels (Σc, Σc²,
    Σyc, Σy, Σy²), so the (N, K) cosines are read three times, not ten."""
    cosine = np.maximum(normals @ directions.T, 0.0)  # (N, K)
    count = len(y)
    sum_c, sum_cc, sum_yc = cosine.sum(axis=0), np.einsum("nk,nk->k", cosine, cosine), y @ cosine
    sum_y, sum_yy = float(y.sum()), float(y @ y)
    mean_c, mean_y = sum_c / count, sum_y / count
    var_c = sum_cc / count - mean_c**2
    cov = sum_yc / count - mean_y * mean_c
    b = np.maximum(cov, 0.0) / np.maximum(var_c, 1e-12)
    a = mean_y - b * mean_c
    dark = a < 0  # no negative ambient light: refit those through the origin
    through_origin = sum_yc / np.maximum(sum_cc, 1e-12)
    a, b = np.where(dark, 0.0, a), np.where(dark, through_origin, b)
    # Σ(y - a - b·c)², expanded
    sse = sum_yy - 2 * a * sum_y - 2 * b * sum_yc + count * a**2 + 2 * a * b * sum_c + b**2 * sum_cc
    best = int(np.argmin(sse))
    return best, float(a[best]), float(b[best])


def _directions_around(direction: np.ndarray, span: float, step: float) -> np.ndarray:
    """Unit vectors on an azimuth/elevation grid (degrees) centred on ``direction``, facing the camera."""
    az0, el0 = _angles(direction)
    offsets = np.arange(-span, span + step / 2, step)
    az, el = np.meshgrid(np.clip(az0 + offsets, -AZIMUTH_LIMIT, AZIMUTH_LIMIT),
                         np.clip(el0 + offsets, *ELEVATION_RANGE))
    return direction_from_angles(az.ravel(), el.ravel()).T


def estimate_light(rgb: np.ndarray, landmarks: np.ndarray) -> LightEstimate:
    """Fit the face's shading (see the module docstring): first-order spherical harmonics by robust
    least squares, then the ambient + clamped-cosine refinement of the direction."""
    rgb = as_rgb_uint8(rgb)
    normals, inside = face_normals(rgb.shape[:2], landmarks)
    keep = skin_mask(rgb, landmarks) & inside
    step = max(1, int(np.sqrt(keep.sum() / MAX_PIXELS)))
    grid = np.zeros_like(keep)
    grid[::step, ::step] = True  # a regular sample of the skin keeps the fit fast at any size
    keep &= grid
    y = luminance(rgb)[keep]
    n = normals[keep]
    if len(y) < 16:
        raise ValueError("too few skin pixels to estimate the light")
    coef, *_ = np.linalg.lstsq(np.column_stack([np.ones(len(y)), n]), y, rcond=None)
    direction = coef[1:] if np.linalg.norm(coef[1:]) > 0 else np.array([0.0, 0.0, 1.0])
    use = np.ones(len(y), bool)
    for _ in range(ROUNDS):  # ambient + Lambert, then drop outliers (hair, beard, sheen)
        for span, step in ((40.0, 4.0), (4.0, 0.5)):
            candidates = _directions_around(direction, span, step)
            best, ambient, strength = _fit_lambert(n[use], y[use], candidates)
            direction = candidates[best]
        resid = y - ambient - strength * np.maximum(n @ direction, 0.0)
        centre = np.median(resid[use])
        spread = 1.4826 * np.median(np.abs(resid[use] - centre)) + 1e-9
        use = np.abs(resid - centre) < 2.5 * spread
    resid = resid[use]
    return LightEstimate(direction=tuple(float(d) for d in direction), ambient=ambient, strength=strength,
                         residual=float(np.sqrt(np.mean(resid**2)) / max(y[use].mean(), 1e-9)),
                         pixels=int(use.sum()))


def _angles(direction: np.ndarray) -> tuple[float, float]:
    """(azimuth, elevation) in degrees of a direction vector (any length)."""
    x, y, z = np.asarray(direction, np.float64) / max(float(np.linalg.norm(direction)), 1e-12)
    return float(np.degrees(np.arctan2(x, z))), float(np.degrees(np.arcsin(np.clip(y, -1.0, 1.0))))


# --- relight ------------------------------------------------------------------------------------

def feather(face: np.ndarray, fade_px: float) -> np.ndarray:
    """1 on the face, easing (smoothstep) to 0 at ``fade_px`` outside it."""
    distance = cv2.distanceTransform((~face).astype(np.uint8), cv2.DIST_L2, 5)
    t = np.clip(1.0 - distance / max(fade_px, 1.0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _tone_anchor_gain(rgb: np.ndarray, landmarks: np.ndarray, y: np.ndarray, gain: np.ndarray) -> float:
    """The factor that brings the median luminance of the skin-tone patches under ``gain`` back to
    what it was: L* is monotonic in Y, so the median L* that ITA reads stays put."""
    samples = skin_pixels(np.dstack([y, y * gain, rgb.max(axis=2)]), landmarks)
    usable = samples[(samples[:, 2] < HIGHLIGHT) & (samples[:, 2] > SHADOW)]
    if len(usable) < 16:
        return 1.0
    return float(np.median(usable[:, 0]) / max(np.median(usable[:, 1]), 1e-9))


def landmark_yaw(landmarks: np.ndarray) -> float:
    """A rough head yaw in degrees from the landmarks: the nose tip's offset from the middle of the
    jaw, × 55° per half jaw width (fitted to FaceAnalyzer's pose on 399 corpus faces, r = 0.97)."""
    points = np.asarray(landmarks, np.float64)
    across = (points[16] - points[0]) / jaw_width(points)
    return float(55.0 * ((points[30] - (points[0] + points[16]) / 2) @ across) / (jaw_width(points) / 2))


def _limit_highlights(linear: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """``gain`` lowered where it would push a channel past ``HEADROOM``: brightening never clips."""
    room = HEADROOM / np.maximum(linear.max(axis=2), 1e-6)
    return np.where(gain > 1.0, np.minimum(gain, np.maximum(room, 1.0)), gain)


def _fade(value: float, full: float, none: float) -> float:
    """1 up to ``full``, 0 from ``none`` on, linear between."""
    return float(np.clip((none - value) / (none - full), 0.0, 1.0))


def relight(rgb: np.ndarray, face: FaceContext, *, strength: float = 1.0) -> np.ndarray:
    """Re-render the face towards even frontal light; ``strength`` 0 → unchanged, 1 → fully. The
    strength fades for turned heads (|yaw| from ``YAW_FULL`` to ``YAW_NONE`` degrees), where the
    symmetric face shape does not fit, and for overexposed faces (share of face pixels with a
    clipped channel from ``CLIPPED_FULL`` to ``CLIPPED_NONE``), whose blown highlights hold neither
    shading nor colour; it is lowered where evening the light would move the mean luminance of the
    face's skin by more than ``MEAN_CHANGE``."""
    rgb = as_rgb_uint8(rgb)
    landmarks = face.require_landmarks("lighting")
    region = face_region_mask(rgb.shape[:2], landmarks)
    yaw = abs(face.yaw if face.yaw is not None else landmark_yaw(landmarks))
    clipped = float((rgb.max(axis=2) >= CLIP_HIGH)[region].mean()) if region.any() else 0.0
    strength = float(np.clip(strength, 0.0, 1.0) * _fade(yaw, YAW_FULL, YAW_NONE)
                     * _fade(clipped, CLIPPED_FULL, CLIPPED_NONE))
    if strength == 0.0:
        return rgb.copy()
    try:
        estimate = estimate_light(rgb, landmarks)
    except ValueError as exc:
        raise StageSkipped(f"lighting: {exc}") from exc
    normals, _ = face_normals(rgb.shape[:2], landmarks)
    shading = estimate.shading(normals)
    frontal = estimate.ambient + estimate.strength * normals[..., 2]
    soft = SOFT * (estimate.ambient + estimate.strength)  # no ratio of two tiny numbers at grazing normals
    ratio = np.clip((shading + soft) / (frontal + soft + 1e-12), *RATIO_RANGE)
    jaw = jaw_width(landmarks)
    weight = feather(region, FADE * jaw)
    log_ratio = weight * np.log(ratio)
    linear = srgb_to_linear(rgb)
    y, skin = linear @ LUMA, skin_mask(rgb, landmarks)

    def face_gain(share: float) -> np.ndarray:  # ``share`` of the correction, the tone anchor held
        gain = _limit_highlights(linear, np.exp(cv2.GaussianBlur(-share * log_ratio, (0, 0), SMOOTH * jaw)))
        return _limit_highlights(linear, gain * _tone_anchor_gain(rgb, landmarks, y, gain) ** weight)

    def mean_change(gain: np.ndarray) -> float:
        return abs(float((y * gain)[skin].mean() / max(y[skin].mean(), 1e-9)) - 1.0) if skin.any() else 0.0

    share = strength
    if mean_change(face_gain(strength)) > MEAN_CHANGE:  # do less rather than dim or brighten the face
        low, high = 0.0, strength
        for _ in range(SHARE_STEPS):
            middle = (low + high) / 2
            low, high = (middle, high) if mean_change(face_gain(middle)) <= MEAN_CHANGE else (low, middle)
        share = low
    # Where the skin-tone reading cannot be held (on some dark faces ITA swings with small changes of
    # b*), less correction is tried, then none: moving a person's skin tone is worse than uneven light.
    for _ in range(SHARE_BACKOFF + 1):
        out, miss = _hold_ita(rgb, landmarks, linear, face_gain(share), weight)
        if miss <= ITA_LIMIT:
            return out
        share /= 2
    return rgb.copy()


def _hold_ita(rgb: np.ndarray, landmarks: np.ndarray, linear: np.ndarray, gain: np.ndarray,
              weight: np.ndarray) -> tuple[np.ndarray, float]:
    """``linear × gain`` as uint8 sRGB, the face's gain fine-tuned so its ITA° reading stays within
    ``ITA_MATCH`` of the input's: pixels crossing the skin-tone measure's clip/shadow levels can still
    move it. Bisection on the face's gain (ITA grows with it); the closest result is kept, with how
    far (degrees) its ITA° is from the input's (0 when the input has no reading)."""

    def render(log_k: float) -> np.ndarray:
        return linear_to_srgb(linear * _limit_highlights(linear, gain * np.exp(log_k * weight))[..., None])

    ita_before, _ = measure_skin_tone(rgb, landmarks)
    best, best_miss = render(0.0), np.inf
    if ita_before is None:
        return best, 0.0
    low, high = -ITA_RANGE, ITA_RANGE
    for step in range(ITA_STEPS + 1):
        log_k = (low + high) / 2
        out = best if step == 0 else render(log_k)
        ita = measure_skin_tone(out, landmarks)[0]
        miss = np.inf if ita is None else abs(ita - ita_before)
        if miss < best_miss:
            best, best_miss = out, miss
        if best_miss <= ITA_MATCH:
            break
        low, high = (log_k, high) if ita is None or ita < ita_before else (low, log_k)
    return best, float(best_miss)


STAGE = Stage(
    name="lighting",
    version="2",
    apply=relight,
    summary="Evens out side or top light on the face (shading fitted on a generic face shape from "
            "the landmarks), holding the skin-tone reading (ITA) fixed.",
    params={"strength": Param(1.0, 0.0, 1.0, help="0 = unchanged, 1 = fully frontal light")},
)


# --- metrics ------------------------------------------------------------------------------------

def face_asymmetry(rgb: np.ndarray, landmarks: np.ndarray) -> float:
    """|mean linear luminance of the image-left half of the face's skin − the right half| / mean of
    both halves' means; the halves are split by the line from the nose root (27) to the chin (8)."""
    rgb = as_rgb_uint8(rgb)
    points = np.asarray(landmarks, np.float64)
    skin = skin_mask(rgb, points)
    h, w = skin.shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    root, chin = points[27], points[8]
    side = (chin[0] - root[0]) * (y - root[1]) - (chin[1] - root[1]) * (x - root[0])  # > 0: image left
    lum = luminance(rgb)
    left, right = lum[skin & (side > 0)], lum[skin & (side < 0)]
    if len(left) == 0 or len(right) == 0:
        raise ValueError("no skin pixels on one side of the face")
    mean = (left.mean() + right.mean()) / 2
    return float(abs(left.mean() - right.mean()) / max(mean, 1e-9))


def light_direction_error(estimate: LightEstimate | np.ndarray | tuple[float, float, float],
                          true_direction: np.ndarray | tuple[float, float, float]) -> float:
    """Angle in degrees between an estimated light direction and the true one (3-vectors)."""
    a = np.asarray(estimate.direction if isinstance(estimate, LightEstimate) else estimate, np.float64)
    b = np.asarray(true_direction, np.float64)
    return float(np.degrees(np.arctan2(np.linalg.norm(np.cross(a, b)), a @ b)))  # exact near 0° too


def direction_from_angles(azimuth: float, elevation: float = 0.0) -> np.ndarray:
    """Unit vector towards a light at ``azimuth`` (degrees, + = image right) and ``elevation``
    (degrees, + = above), in the axes of ``LightEstimate.direction``."""
    az, el = np.radians(azimuth), np.radians(elevation)
    return np.array([np.sin(az) * np.cos(el), np.sin(el), np.cos(az) * np.cos(el)])
