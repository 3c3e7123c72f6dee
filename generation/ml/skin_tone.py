"""Skin tone as the Individual Typology Angle (ITA°) of skin patches located from 68 landmarks.

ITA° = arctan((L* − 50) / b*) × 180/π, with L* and b* the CIELAB (D65, 2° observer) lightness and
yellow-blue coordinates of the skin (Chardon et al. 1991; categories from Del Bino et al. 2006).
We use ``atan2(L* − 50, b*)``: identical for b* > 0 (every real skin colour), and it keeps bluish
greys (b* ≤ 0) on the light/dark side their lightness says instead of flipping sign.

Patches: both cheeks (centred between the lower eyelid, the side of the nose and the jaw) and the
forehead (above the brows, away from the eyes along the face's chin-to-brow axis), each a square
of side ``PATCH`` × the jaw width. Their pixels are pooled; clipped highlights (any channel ≥ 250)
and deep shadows (every channel ≤ 25: hair, nostrils, under-exposure) are dropped, then the pixels
outside the 10th-90th percentile of L* (stray hair, specular sheen); ITA comes from the medians of
L* and b* of the rest. Lighting shifts ITA (a dim photo reads darker), which is why the pipeline
also gates exposure; ITA here is a coarse, per-photo estimate for fairness reporting, not a
measurement of a person.
"""

from __future__ import annotations

import numpy as np
from skimage.color import rgb2lab

# (code, label, lower bound): a face is in the first category whose bound its ITA exceeds.
ITA_CATEGORIES: list[tuple[str, str, float]] = [
    ("very_light", "Very light", 55.0),
    ("light", "Light", 41.0),
    ("intermediate", "Intermediate", 28.0),
    ("tan", "Tan", 10.0),
    ("brown", "Brown", -30.0),
    ("dark", "Dark", float("-inf")),
]
PATCH = 0.16  # patch side as a fraction of the jaw width (landmark 0 to 16)
HIGHLIGHT, SHADOW = 250, 25  # 8-bit channel levels of dropped pixels
TRIM = (10.0, 90.0)  # percentiles of L* kept


def ita_from_lab(lightness: float | np.ndarray, b: float | np.ndarray) -> float | np.ndarray:
    """ITA° from CIELAB L* (0-100) and b*; arrays work element-wise."""
    ita = np.degrees(np.arctan2(np.asarray(lightness, np.float64) - 50.0, np.asarray(b, np.float64)))
    return float(ita) if np.ndim(ita) == 0 else ita


def ita_category(ita: float) -> str:
    """Code of the ITA category: very_light (>55), light (41-55], intermediate (28-41], tan (10-28],
    brown (−30-10], dark (≤−30)."""
    for code, _, lower in ITA_CATEGORIES:
        if ita > lower:
            return code
    return ITA_CATEGORIES[-1][0]


def skin_patches(landmarks: np.ndarray) -> list[tuple[float, float, float]]:
    """``(centre_x, centre_y, side)`` of the left cheek, right cheek and forehead patches."""
    p = np.asarray(landmarks, np.float64)
    side = PATCH * float(np.linalg.norm(p[16] - p[0]))
    left_cheek = p[[41, 31, 2]].mean(axis=0)
    right_cheek = p[[46, 35, 14]].mean(axis=0)
    brows = p[[19, 24]].mean(axis=0)
    up = p[27] - p[8]  # chin to nose root: "up" along the face, whatever the roll
    up /= max(np.linalg.norm(up), 1e-6)
    forehead = brows + up * side * 1.0
    return [(float(c[0]), float(c[1]), side) for c in (left_cheek, right_cheek, forehead)]


def skin_pixels(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The (N, 3) uint8 RGB pixels of the three patches (clipped to the image), pooled; big patches
    are sampled on a grid of at most ~48 × 48 pixels each."""
    h, w = rgb.shape[:2]
    chunks = []
    for cx, cy, side in skin_patches(landmarks):
        half = max(side / 2, 1.0)
        step = max(1, int(side // 48))
        x0, x1 = int(max(round(cx - half), 0)), int(min(round(cx + half), w))
        y0, y1 = int(max(round(cy - half), 0)), int(min(round(cy + half), h))
        if x1 > x0 and y1 > y0:
            chunks.append(rgb[y0:y1:step, x0:x1:step].reshape(-1, 3))
    return np.concatenate(chunks) if chunks else np.zeros((0, 3), np.uint8)


def measure_skin_tone(rgb: np.ndarray, landmarks: np.ndarray) -> tuple[float | None, str | None]:
    """``(ita, category)`` of the face with these landmarks; ``(None, None)`` without usable skin."""
    pixels = skin_pixels(rgb, landmarks)
    keep = (pixels.max(axis=1) < HIGHLIGHT) & (pixels.max(axis=1) > SHADOW)
    pixels = pixels[keep]
    if len(pixels) < 16:
        return None, None
    lab = rgb2lab(pixels.reshape(-1, 1, 3)).reshape(-1, 3)
    low, high = np.percentile(lab[:, 0], TRIM)
    lab = lab[(lab[:, 0] >= low) & (lab[:, 0] <= high)]
    ita = ita_from_lab(float(np.median(lab[:, 0])), float(np.median(lab[:, 2])))
    return ita, ita_category(ita)
