"""Background replacement without a model: a trimap from the 68 landmarks, GrabCut, closed-form matting.

1. ``trimap``: the face region of the landmarks (``base.face_region_mask``, eroded) plus a band of
   hair above the brows and the neck below the chin are certain foreground; the top corners and far
   sides (outside the head ellipse grown by a margin, above the mouth) are certain background; the
   rest is unknown. Probable foreground inside the unknown part: the head ellipse and a trapezoid
   from the jaw down (neck, collar, long hair, shoulders), so the bottom is never certain
   background. The fractions below are of the face width W (jaw point 0 to 16) and of the
   brow-to-chin height H; the aligned frame is level, so the shapes are axis-aligned.
   With the default ``matte="hair-aware"`` the hair's colours, sampled beside both temples and above
   the forehead (only colours seen in two of those places: a wall beside one temple is not hair),
   are followed out from there: what is coloured like them and joined to them is taken out of the
   certain background and made probable foreground (``_spare_hair``), so long hair beside the face
   or in a corner is not taught to GrabCut as background. Where that would take most of the certain
   background the wall has the hair's colours, and the geometry decides.
2. OpenCV ``grabCut`` (colour GMMs + graph cut, ``GRABCUT_ITERATIONS`` rounds, RNG seeded) turns
   that into a hard person mask; only its pieces that touch the certain foreground are kept.
3. A narrow unknown band (``BAND`` × the image side each way) around the GrabCut edge gets its alpha
   from pymatting's closed-form matting (Levin et al. 2008) and its foreground colours from
   ``estimate_foreground_ml`` (so the old background does not tint hair edges); the alpha is then
   feathered with a Gaussian and the person composited onto a studio ``backdrop``. Pixels of the
   certain foreground are copied unchanged.

Limits: no learned notion of "person"; everything outside the certain regions rests on GrabCut's
colour models, which fail where hair or clothes share the background's colours. In the tight
aligned frame (the jaw spans ~70% of the width, the chin near the bottom) the certain background is
little more than the top corners: where hair fills all of them, the hair-aware trimap falls back to
the geometry and the hair is cut; dark hair on a dark wall keeps strips of wall; hair coloured like
part of a busy wall keeps that part; scarves and collars in the bottom corners come and go. Fine
hair (flyaways, curls on a busy background) is cut or keeps a halo no wider than the band. At 64 px
the band is 2 px and edges are coarse. Without landmarks the geometry comes from the face box.
Deterministic: same input and parameters, same bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import cv2
import numpy as np

from generation.ml.studio.base import (
    JAW,
    FaceContext,
    Param,
    Stage,
    StageSkipped,
    StageUnavailable,
    as_rgb_uint8,
    face_region_mask,
)

MIN_SIDE = 64
# Trimap geometry, fractions of the face width W and the brow-to-chin height H.
FACE_ERODE = 0.04  # the landmark face region, eroded by 0.04 W, is certain foreground
HAIR_HALF_WIDTH, HAIR_HEIGHT = 0.30, 0.65  # certain: half-ellipse ±0.30 W wide, 0.65 H above the brows
NECK_HALF_WIDTH, NECK_LENGTH = 0.18, 0.40  # certain: the neck, ±0.18 W, from the chin 0.40 H down
HEAD_HALF_WIDTH, HEAD_TOP = 0.58, 0.90  # probable: ellipse ±0.58 W (ears, hair), top 0.90 H above brows
SHOULDER_RISE = 0.25  # probable: a trapezoid from 0.25 H above the chin to the bottom, widening
SHOULDER_TOP, SHOULDER_BOTTOM = 0.60, 1.40  # from ±0.60 W to ±1.40 W (neck, collar, hair, shoulders)
MARGIN = 0.15  # certain background: outside the head ellipse grown by 0.15 W,
BACKGROUND_FLOOR = 0.30  # and above the mouth (0.30 H above the chin): below it, hair and shoulders
TEMPLE_GAP, TEMPLE_WIDTH, TEMPLE_RISE = 0.02, 0.10, 0.30  # hair samples beside the face: 0.02-0.10 W
# outside its outline, from 0.30 H above the brows down to the eyes
# Hair-coloured background: certain-background pixels coloured like the hair band and joined to it.
HAIR_SAMPLES_MIN = 50  # fewer hair pixels than that (a tiny or bald head): the geometry decides alone
HAIR_PLACES = (1, 2, 3)  # left temple, right temple, above the forehead
HAIR_PLACE_MIN = 10  # samples a place needs to count
HAIR_CLUSTERS, HAIR_SUPPORT = 3, 0.10  # k-means colours; a colour is hair when ≥ 10% of two places have it
HAIR_LIKE_SPREAD, HAIR_LIKE_FLOOR = 2.0, 8.0  # within 2× the hair's own median ΔE76 to its colours, ≥ 8
HAIR_GROW = 0.02  # what is hair-like is grown by 2% of the side (the mixed pixels of its edge)
HAIR_LIKE_MAX_SHARE = 0.6  # more of the certain background than that hair-like: the wall has the
# hair's colours, so colour cannot tell them apart and the geometry decides
# Refinement.
GRABCUT_ITERATIONS = 5
BAND = 0.015  # matting band: ±1.5% of the image side around the GrabCut edge (±4 px at 256)
FEATHER_REFERENCE = 256  # ``feather`` is a Gaussian sigma in pixels of a 256-px image

PRESETS = {"grey": (128, 128, 128), "dark": (50, 52, 56)}  # neutral mid grey; charcoal
GRADIENT_LIGHT, GRADIENT_DARK = 200.0, 96.0  # grey levels behind the head and in the far corners
BACKDROPS = ("grey", "gradient", "dark", "colour")
MATTES = ("hair-aware", "geometry")


# --- Trimap -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Regions:
    certain_fg: np.ndarray  # (H, W) bool
    probable_fg: np.ndarray
    certain_bg: np.ndarray
    hair: np.ndarray  # (H, W) int: where the hair's colours are sampled, by place (HAIR_PLACES), 0 elsewhere


def _ellipse(shape: tuple[int, int], centre: tuple[float, float], axes: tuple[float, float]) -> np.ndarray:
    ys, xs = np.mgrid[: shape[0], : shape[1]].astype(np.float64)
    return ((xs - centre[0]) / max(axes[0], 1e-6)) ** 2 + ((ys - centre[1]) / max(axes[1], 1e-6)) ** 2 <= 1


def _regions(image_shape: tuple[int, ...], face: FaceContext) -> _Regions:
    shape = (int(image_shape[0]), int(image_shape[1]))
    if face.landmarks is not None:
        points = face.require_landmarks("background")
        jaw = points[JAW]
        cx, width = (jaw[0, 0] + jaw[-1, 0]) / 2, float(np.linalg.norm(jaw[-1] - jaw[0]))
        brow_y, chin_y = points[17:27, 1].mean(), points[8, 1]
        face_mask = face_region_mask(shape, points)
    elif face.box is not None:  # dlib's box spans about brows to chin; its inscribed ellipse is skin
        left, top, right, bottom = face.box
        cx, width, brow_y, chin_y = (left + right) / 2, right - left, top, bottom
        face_mask = _ellipse(shape, (cx, (top + bottom) / 2), (0.42 * width, 0.45 * (bottom - top)))
    else:
        raise StageSkipped("background needs the face's landmarks or at least its box; this image has none")
    height = chin_y - brow_y
    if width < 4 or height < 4:
        raise StageSkipped(f"background needs a face of a few pixels at least, got {width:.1f}×{height:.1f}")
    radius = max(1, round(FACE_ERODE * width))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    certain = cv2.erode(face_mask.astype(np.uint8), kernel).astype(bool)
    ys, xs = np.mgrid[: shape[0], : shape[1]]
    hair = _ellipse(shape, (cx, brow_y), (HAIR_HALF_WIDTH * width, HAIR_HEIGHT * height)) & (ys <= brow_y)
    neck = (np.abs(xs - cx) <= NECK_HALF_WIDTH * width) & (ys >= chin_y - 0.1 * height)  # overlaps the chin
    neck &= ys <= chin_y + NECK_LENGTH * height
    certain |= hair | neck
    if not certain.any():
        raise StageSkipped("background found no part of the face inside the image")

    top = brow_y - HEAD_TOP * height
    head_centre, head_axes = (cx, (top + chin_y) / 2), (HEAD_HALF_WIDTH * width, (chin_y - top) / 2)
    start = chin_y - SHOULDER_RISE * height
    below = np.clip((ys - start) / max(shape[0] - start, 1.0), 0, 1)
    half = (SHOULDER_TOP + (SHOULDER_BOTTOM - SHOULDER_TOP) * below) * width
    shoulders = (ys >= start) & (np.abs(xs - cx) <= half)
    probable = (_ellipse(shape, head_centre, head_axes) | shoulders) & ~certain
    grown = (head_axes[0] + MARGIN * width, head_axes[1] + MARGIN * width)
    floor = chin_y - BACKGROUND_FLOOR * height
    background = ~_ellipse(shape, head_centre, grown) & (ys < floor) & ~certain
    temples = _grow(face_mask, TEMPLE_WIDTH * width) & ~_grow(face_mask, TEMPLE_GAP * width)
    eye_y = points[36:48, 1].mean() if face.landmarks is not None else brow_y + 0.2 * height
    temples &= (ys >= brow_y - TEMPLE_RISE * height) & (ys <= eye_y)
    places = np.zeros(shape, np.int8)
    places[temples & (xs < cx)] = 1
    places[temples & (xs >= cx)] = 2
    places[hair & ~temples] = 3
    places[face_mask] = 0
    return _Regions(certain, probable, background, places)


def _grow(mask: np.ndarray, radius: float) -> np.ndarray:
    r = max(1, round(radius))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)


def _hair_colours(samples: np.ndarray, places: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(K, 3) CIELAB colours of the hair and which samples have them: k-means (``HAIR_CLUSTERS``,
    seeded) over the samples, keeping the colours found in at least two of the places sampled (left
    temple, right temple, above the forehead; ``HAIR_SUPPORT`` of each place's samples): a wall seen
    beside one temple of a short-haired person is not hair. None when fewer than two places have
    samples to compare or no colour is shared."""
    counted = [place for place in HAIR_PLACES if (places == place).sum() >= HAIR_PLACE_MIN]
    if len(counted) < 2:
        return None
    cv2.setRNGSeed(0)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, labels, centres = cv2.kmeans(samples.astype(np.float32), HAIR_CLUSTERS, None, criteria, 3,
                                    cv2.KMEANS_PP_CENTERS)
    labels = labels.ravel()
    kept = [k for k in range(HAIR_CLUSTERS)
            if sum((labels[places == place] == k).mean() >= HAIR_SUPPORT for place in counted) >= 2]
    return (centres[kept].astype(np.float64), np.isin(labels, kept)) if kept else None


def _spare_hair(rgb: np.ndarray, regions: _Regions) -> _Regions:
    """The regions with the hair-coloured part of the certain background made probable foreground.

    The hair's colours come from beside both temples and above the forehead (``_hair_colours``); a
    pixel is hair-like within ``HAIR_LIKE_SPREAD`` × the samples' own median distance to them (ΔE76,
    at least ``HAIR_LIKE_FLOOR``). What is hair-like and joined to the samples through hair-like
    pixels, grown by ``HAIR_GROW``, leaves the certain background: long hair falling beside the face
    or filling a corner is then left to GrabCut's colour models instead of being taught to them as
    background. When that would take most of the certain background, the wall shares the hair's
    colours and the regions stay as the geometry drew them."""
    lab = _lab(rgb)
    sampled = regions.hair > 0
    samples = lab[sampled]
    if len(samples) < HAIR_SAMPLES_MIN or not regions.certain_bg.any():
        return regions
    colours = _hair_colours(samples, regions.hair[sampled])
    if colours is None:
        return regions
    centres, of_hair = colours

    def distance(colours: np.ndarray) -> np.ndarray:
        return np.linalg.norm(colours[:, None, :] - centres[None], axis=2).min(axis=1)

    limit = max(HAIR_LIKE_FLOOR, HAIR_LIKE_SPREAD * float(np.median(distance(samples[of_hair]))))
    like = distance(lab.reshape(-1, 3)).reshape(lab.shape[:2]) <= limit
    _, labels = cv2.connectedComponents(like.astype(np.uint8), connectivity=4)
    seeds = np.zeros_like(sampled)
    seeds[sampled] = of_hair
    joined = np.unique(labels[seeds & like])
    hair_like = np.isin(labels, joined[joined > 0])
    spared = _grow(hair_like, HAIR_GROW * max(rgb.shape[:2])) & ~regions.certain_fg
    if (spared & regions.certain_bg).sum() > HAIR_LIKE_MAX_SHARE * regions.certain_bg.sum():
        return regions
    return replace(regions, probable_fg=regions.probable_fg | spared, certain_bg=regions.certain_bg & ~spared)


def trimap(shape: tuple[int, ...], face: FaceContext, rgb: np.ndarray | None = None) -> np.ndarray:
    """(H, W) uint8: 255 certain foreground, 0 certain background, 128 unknown (see the module doc).
    Without landmarks the face box is used; with neither, ``StageSkipped``. With the image ``rgb``,
    hair-coloured background joined to the hair is unknown too (``_spare_hair``)."""
    regions = _regions(shape, face)
    if rgb is not None:
        regions = _spare_hair(as_rgb_uint8(rgb), regions)
    out = np.full(regions.certain_fg.shape, 128, np.uint8)
    out[regions.certain_fg] = 255
    out[regions.certain_bg] = 0
    return out


# --- Matting ----------------------------------------------------------------------------------------


def _pymatting():
    try:
        import pymatting
    except ImportError as exc:  # pymatting or numba missing, or numba built for another numpy
        raise StageUnavailable(f"background needs pymatting for closed-form matting: {exc}") from exc
    return pymatting


def _grabcut(rgb: np.ndarray, regions: _Regions) -> np.ndarray:
    """(H, W) bool: GrabCut's person mask, only the pieces touching the certain foreground."""
    mask = np.full(rgb.shape[:2], cv2.GC_PR_BGD, np.uint8)
    mask[regions.probable_fg] = cv2.GC_PR_FGD
    mask[regions.certain_bg] = cv2.GC_BGD
    mask[regions.certain_fg] = cv2.GC_FGD
    if not np.isin(mask, (cv2.GC_BGD, cv2.GC_PR_BGD)).any():
        raise StageSkipped("background found no background around the person (the head fills the image)")
    cv2.setRNGSeed(0)  # the GMMs start from k-means with OpenCV's global RNG
    models = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(rgb, mask, None, *models, GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
    person = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    _, labels = cv2.connectedComponents(person, connectivity=8)
    keep = np.unique(labels[regions.certain_fg & (labels > 0)])
    return np.isin(labels, keep) & (person > 0)


def _matte(rgb: np.ndarray, face: FaceContext, matte: str = "hair-aware",
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Alpha (H, W) float, foreground colours (H, W, 3) float 0..1 and the certain foreground."""
    if matte not in MATTES:
        raise ValueError(f"unknown matte {matte!r}; choose one of {', '.join(MATTES)}")
    rgb = as_rgb_uint8(rgb)
    if min(rgb.shape[:2]) < MIN_SIDE:
        raise StageSkipped(f"background needs an image of at least {MIN_SIDE} px a side, got {rgb.shape[:2]}")
    pymatting = _pymatting()
    regions = _regions(rgb.shape, face)
    if matte == "hair-aware":
        regions = _spare_hair(rgb, regions)
    person = _grabcut(rgb, regions)
    radius = max(2, round(BAND * max(rgb.shape[:2])))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    inner = cv2.erode(person.astype(np.uint8), kernel).astype(bool)
    outer = cv2.dilate(person.astype(np.uint8), kernel).astype(bool)
    known = np.full(person.shape, 0.5)
    known[inner | regions.certain_fg] = 1.0
    known[~outer | regions.certain_bg] = 0.0
    image = rgb / 255.0
    if not (known == 0).any():
        raise StageSkipped("background found no background around the person (the face fills the image)")
    alpha = pymatting.estimate_alpha_cf(image, known)
    foreground = pymatting.estimate_foreground_ml(image, alpha)
    foreground[alpha >= 1.0] = image[alpha >= 1.0]
    return alpha, foreground, regions.certain_fg


def background_mask(rgb: np.ndarray, face: FaceContext, matte: str = "hair-aware") -> np.ndarray:
    """(H, W) float alpha of the person, 0 (background) .. 1 (person), before feathering."""
    return _matte(rgb, face, matte)[0]


# --- Backdrops --------------------------------------------------------------------------------------


def parse_colour(colour: str) -> tuple[int, int, int]:
    """``"#rrggbb"`` → (r, g, b); ``ValueError`` for anything else."""
    if not isinstance(colour, str) or not re.fullmatch(r"#[0-9a-fA-F]{6}", colour.strip()):
        raise ValueError(f"backdrop colour must be a hex colour like '#8899aa', got {colour!r}")
    value = colour.strip()
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def backdrop(preset: str, size: int | tuple[int, int], colour: str | None = None) -> np.ndarray:
    """An (H, W, 3) uint8 studio backdrop: ``grey`` (mid grey), ``dark`` (charcoal), ``gradient``
    (light grey behind the head, at 38% of the height, to darker corners) or ``colour`` (flat
    ``colour``, ``"#rrggbb"``). ``size`` is the side of a square or (height, width)."""
    h, w = (size, size) if isinstance(size, int) else size
    rgb = parse_colour(colour) if colour else None  # a given colour is checked whatever the preset
    if preset == "colour":
        if rgb is None:
            raise ValueError("backdrop 'colour' needs a colour '#rrggbb'")
        return np.broadcast_to(np.array(rgb, np.uint8), (h, w, 3)).copy()
    if preset in PRESETS:
        return np.broadcast_to(np.array(PRESETS[preset], np.uint8), (h, w, 3)).copy()
    if preset != "gradient":
        raise ValueError(f"unknown backdrop {preset!r}; choose one of {', '.join(BACKDROPS)}")
    ys, xs = np.mgrid[:h, :w]
    r = np.hypot((xs + 0.5) / w - 0.5, ((ys + 0.5) / h - 0.38) * 0.8) / 0.6
    level = GRADIENT_LIGHT - (GRADIENT_LIGHT - GRADIENT_DARK) * np.clip(r, 0, 1) ** 1.6
    return np.repeat(np.rint(level).astype(np.uint8)[..., None], 3, axis=2)


_render_backdrop = backdrop  # ``replace_background``'s keyword of the same name hides it there


# --- The stage --------------------------------------------------------------------------------------


def replace_background(rgb: np.ndarray, face: FaceContext, *, backdrop: str = "gradient", colour: str = "",
                       feather: float = 2.0, matte: str = "hair-aware") -> np.ndarray:
    """The person on a studio backdrop (see ``backdrop``), same size, uint8. ``feather`` blurs the
    alpha edge (Gaussian sigma in pixels of a 256-px image, scaled with the size). ``matte``:
    ``hair-aware`` (hair-coloured background joined to the hair is left to GrabCut, see
    ``_spare_hair``) or ``geometry`` (the landmark shapes alone decide what is certain background)."""
    if not 0 <= feather <= 8:
        raise ValueError(f"feather must lie in [0, 8], got {feather}")
    backdrop_rgb = _render_backdrop(backdrop, rgb.shape[:2], colour or None) / 255.0
    alpha, foreground, certain = _matte(rgb, face, matte)
    sigma = feather * max(rgb.shape[:2]) / FEATHER_REFERENCE
    if sigma > 0:
        alpha = cv2.GaussianBlur(alpha, (0, 0), sigma)
    alpha = alpha[..., None]
    out = np.rint((alpha * foreground + (1 - alpha) * backdrop_rgb) * 255)
    out = np.clip(out, 0, 255).astype(np.uint8)
    out[certain] = rgb[certain]
    return out


def check_params(params: dict) -> None:
    """A request's parameters, checked before any job runs: the colour (and that ``colour`` has one)."""
    backdrop(params.get("backdrop", "gradient"), 1, params.get("colour") or None)


STAGE = Stage(
    name="background",
    version="2",
    apply=replace_background,
    summary="Puts the person on a studio backdrop: landmark trimap, GrabCut, closed-form matting.",
    params={
        "backdrop": Param("gradient", choices=BACKDROPS, help="studio backdrop preset"),
        "colour": Param("", help="#rrggbb for backdrop=colour"),
        "feather": Param(2.0, 0.0, 8.0, help="edge softening, Gaussian sigma in px at 256 px"),
        "matte": Param("hair-aware", choices=MATTES,
                       help="hair-aware keeps long hair; geometry where the wall has the hair's colours"),
    },
    check=check_params,
)


# --- Metrics (pure NumPy) ---------------------------------------------------------------------------


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(rgb, np.float64)[..., :3] @ np.array([0.299, 0.587, 0.114])


def background_flatness(rgb: np.ndarray, alpha: np.ndarray, backdrop: np.ndarray | None = None) -> float:
    """Standard deviation of luminance (0..255) over the background (``alpha < 0.05``); lower is
    flatter. With ``backdrop`` (the image it should match) it is taken of the difference to it, so
    a gradient backdrop scores 0 when reproduced exactly. NaN when there is no background."""
    region = np.asarray(alpha) < 0.05
    if not region.any():
        return float("nan")
    lum = _luminance(rgb) if backdrop is None else _luminance(rgb) - _luminance(backdrop)
    return float(lum[region].std())


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    padded = np.pad(mask, radius)
    h, w = mask.shape
    out = np.zeros_like(mask)
    for dy in range(2 * radius + 1):
        for dx in range(2 * radius + 1):
            if (dy - radius) ** 2 + (dx - radius) ** 2 <= radius**2:
                out |= padded[dy : dy + h, dx : dx + w]
    return out


def edge_error(alpha: np.ndarray, true_alpha: np.ndarray, radius: int = 3) -> float:
    """Mean absolute alpha error in the band within ``radius`` px of the true edge (its fractional
    pixels and the border of ``true_alpha >= 0.5``): an SAD over the unknown region, per pixel."""
    alpha, true_alpha = np.asarray(alpha, np.float64), np.asarray(true_alpha, np.float64)
    hard = true_alpha >= 0.5
    border = np.zeros_like(hard)
    border[:-1] |= hard[:-1] != hard[1:]
    border[:, :-1] |= hard[:, :-1] != hard[:, 1:]
    band = _dilate(border | ((true_alpha > 0.01) & (true_alpha < 0.99)), radius)
    return float(np.abs(alpha - true_alpha)[band].mean()) if band.any() else 0.0
