"""Face alignment: a similarity transform puts both eye centres and the mouth centre at fixed spots.

Canonical positions are fractions of the square frame's side, so every size shares one geometry:

* image-left eye centre  (0.35, 0.40)
* image-right eye centre (0.65, 0.40)
* mouth centre           (0.50, 0.72)

The eye-to-mouth drop (0.32) is 1.06 × the eye span (0.30): the median of near-frontal CelebA
faces, so a typical face fits with sub-pixel residuals. The transform (rotation, one scale,
translation; no shear, so faces keep their proportions) is the least-squares fit of those three
points (Umeyama 1991); a face with unusual proportions is placed as well as three points allow.
Pixels outside the photo repeat its border. Big photos are first shrunk with area averaging so the
warp never aliases.
"""

from __future__ import annotations

import cv2
import numpy as np

from generation.ml.faces import eye_centres, mouth_centre

ALIGN_SIZES: tuple[int, ...] = (64, 128)
CANONICAL = np.array([(0.35, 0.40), (0.65, 0.40), (0.50, 0.72)])  # left eye, right eye, mouth


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The (2, 3) matrix of the rotation + uniform scale + translation that maps ``src`` points
    onto ``dst`` points with the least squared error (Umeyama, without reflection)."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - src_mean, dst - dst_mean
    covariance = b.T @ a / len(src)
    u, singular, vt = np.linalg.svd(covariance)
    d = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    rotation = u @ d @ vt
    scale = np.trace(np.diag(singular) @ d) / (a**2).sum(axis=1).mean()
    translation = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, translation[:, None]])


def face_points(landmarks: np.ndarray) -> np.ndarray:
    """(3, 2): image-left eye centre, image-right eye centre, mouth centre."""
    left, right = eye_centres(landmarks)
    return np.stack([left, right, mouth_centre(landmarks)])


def alignment_matrix(landmarks: np.ndarray, size: int) -> np.ndarray:
    """(2, 3) matrix mapping photo pixels to the ``size`` × ``size`` aligned frame."""
    return similarity_transform(face_points(landmarks), CANONICAL * size)


def transform_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a (2, 3) affine matrix to (N, 2) points."""
    points = np.asarray(points, np.float64)
    return points @ matrix[:, :2].T + matrix[:, 2]


def aligned_face(rgb: np.ndarray, landmarks: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The aligned ``size`` × ``size`` crop (``align_face``) and the photo's landmarks carried into it:
    what a studio stage needs to know where the face is in the generator's frame."""
    points = transform_points(alignment_matrix(landmarks, size), landmarks)
    return align_face(rgb, landmarks, size), points


def align_face(rgb: np.ndarray, landmarks: np.ndarray, size: int = 128) -> np.ndarray:
    """The face warped into a ``size`` × ``size`` × 3 uint8 frame (canonical positions above)."""
    matrix = alignment_matrix(landmarks, size)
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if scale < 1.0:  # shrink with area averaging first, then warp at ~unit scale
        h, w = rgb.shape[:2]
        small_size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = cv2.resize(rgb, small_size, interpolation=cv2.INTER_AREA)
        fx, fy = small_size[0] / w, small_size[1] / h
        # Pixel centres: small pixel x covers big x_big = (x + 0.5) / fx - 0.5.
        to_big = np.array([[1 / fx, 0.0, 0.5 / fx - 0.5], [0.0, 1 / fy, 0.5 / fy - 0.5], [0.0, 0.0, 1.0]])
        matrix = matrix @ to_big
        rgb = small
    return cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
