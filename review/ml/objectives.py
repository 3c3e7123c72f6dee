"""Measurable objectives simulated reviewers judge headshots by: plain NumPy (and ``generation.ml``),
no Django.

Each objective is a function ``image (H×W×3 uint8 RGB) → float`` where **higher means preferred**.
They are deliberately simple and documented, so a simulation's ground truth can be stated in one
line and recomputed anywhere: :func:`score_images` scores a list of images without noise; tests and
the reward evaluation use it as the truth a reward model should recover. ``face_size`` uses the
68-landmark face pipeline of ``generation.ml`` (``skin_share`` is its detector-free proxy); the
others are a few NumPy lines.

:func:`noise_level` is not an objective: it tells a visibly broken picture (the gold items' heavy
noise) from an intact one, so a simulated reviewer, like a person, sees a broken image as bad
whatever their objective.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from math import pi, sqrt

import numpy as np

Objective = Callable[[np.ndarray], float]

#: sRGB value of an 18 % reflectance grey card, the photographic "mid-grey" (0–255 scale).
MID_GREY = 118.0
#: Share of the frame's height and width (centred) that :func:`warmth` looks at.
CENTRE_SHARE = 0.5
#: An image whose estimated noise level (grey levels, :func:`noise_level`) exceeds this is broken.
BROKEN_NOISE = 20.0
#: :func:`face_size` enlarges smaller frames to this side before detection (HOG's window is 80 px).
DETECT_SIDE = 256


def _rgb(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] < 3:
        raise ValueError(f"an objective takes an H×W×3 image, got shape {array.shape}")
    if array.shape[0] < 3 or array.shape[1] < 3:
        raise ValueError(f"the image is too small to measure: {array.shape[:2]}")
    return array[:, :, :3].astype(np.float64)


def grey(image: np.ndarray) -> np.ndarray:
    """Luma (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B) as float64, 0–255."""
    rgb = _rgb(image)
    return rgb[:, :, 0] * 0.299 + rgb[:, :, 1] * 0.587 + rgb[:, :, 2] * 0.114


def laplacian(values: np.ndarray) -> np.ndarray:
    """The 4-neighbour Laplacian of a 2-D array on its interior ((H−2)×(W−2), no padding)."""
    return (values[:-2, 1:-1] + values[2:, 1:-1] + values[1:-1, :-2] + values[1:-1, 2:]
            - 4 * values[1:-1, 1:-1])


def sharpness(image: np.ndarray) -> float:
    """Sharpness: the variance of the Laplacian of the grey image (grey levels²).

    Fine detail and crisp edges give a large variance; blur removes the high frequencies and with
    them the variance. A blurred copy of an image always scores lower than the image."""
    return float(laplacian(grey(image)).var())


def exposure(image: np.ndarray, target: float = MID_GREY) -> float:
    """Exposure: how close the mean luminance is to photographic mid-grey ``target``, in [0, 1].

    ``1 − |mean luma − target| / room``, where room is ``target`` below it and ``255 − target`` above
    it: 1 for a frame whose mean is exactly mid-grey, falling linearly to 0 for an all-black or an
    all-white frame. A darker or brighter copy of a well-exposed image scores lower."""
    mean = float(grey(image).mean())
    room = target if mean < target else 255.0 - target
    return float(1.0 - abs(mean - target) / room)


def warmth(image: np.ndarray, centre_share: float = CENTRE_SHARE) -> float:
    """Warmth: the mean of red minus blue over the centre of the frame (the middle ``centre_share``
    of the height and of the width, where the face is), divided by 255, in [−1, 1].

    Positive for a warm (red/orange) cast, negative for a cool (blue) one; a red-tinted copy scores
    higher."""
    rgb = _rgb(image)
    h, w = rgb.shape[:2]
    dh, dw = max(1, round(h * centre_share / 2)), max(1, round(w * centre_share / 2))
    centre = rgb[h // 2 - dh: h // 2 + dh, w // 2 - dw: w // 2 + dw]
    return float((centre[:, :, 0] - centre[:, :, 2]).mean() / 255.0)


def skin_mask(image: np.ndarray) -> np.ndarray:
    """Pixels whose colour is skin-like: Cr in [133, 173] and Cb in [77, 127] (YCbCr, Chai & Ngan
    1999), a box that holds light to dark skin tones."""
    rgb = _rgb(image)
    r, g, b = rgb[:, :, 0], rgb[:, :, 1], rgb[:, :, 2]
    cr = 128.0 + 0.5 * r - 0.418688 * g - 0.081312 * b
    cb = 128.0 - 0.168736 * r - 0.331264 * g + 0.5 * b
    return (cr >= 133) & (cr <= 173) & (cb >= 77) & (cb <= 127)


def skin_share(image: np.ndarray) -> float:
    """Skin share: the share of the frame that is skin-coloured (:func:`skin_mask`), in [0, 1].

    A cheap, detector-free stand-in for :func:`face_size` that also works on drawings; it counts
    neck and hands, and a beige background inflates it (on real photos its rank correlation with
    the landmark face size is about 0.55)."""
    return float(skin_mask(image).mean())


@functools.cache
def _face_detector() -> object:
    from generation.ml.faces import DlibHogDetector  # dlib loads on the first use, not on import

    return DlibHogDetector()


def face_size(image: np.ndarray) -> float:
    """Face size: the share of the frame the face occupies, in [0, 1] (0 when no face is found).

    Measured with the face pipeline of ``generation.ml`` (dlib HOG detector and its 68 landmarks):
    the area of the landmarks' convex hull (brows to chin, ear to ear) over the frame's area, on the
    frame enlarged to at least 256 pixels so that HOG finds faces in 64-pixel headshots. The largest
    face counts. A tighter crop of the same portrait scores higher; about 40 ms per image."""
    import cv2

    from generation.ml.faces import face_landmarks

    rgb = np.ascontiguousarray(_rgb(image).astype(np.uint8))
    side = max(rgb.shape[:2])
    if side < DETECT_SIDE:
        size = (round(rgb.shape[1] * DETECT_SIDE / side), round(rgb.shape[0] * DETECT_SIDE / side))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC)
    boxes = _face_detector().detect(rgb)
    if not boxes:
        return 0.0
    box = max(boxes, key=lambda b: b.area)
    hull = cv2.convexHull(np.asarray(face_landmarks(rgb, box), dtype=np.float32))
    return float(min(1.0, cv2.contourArea(hull) / (rgb.shape[0] * rgb.shape[1])))


def noise_level(image: np.ndarray) -> float:
    """Estimated standard deviation of additive noise in grey levels (Immerkær 1996).

    ``σ = sqrt(π/2) / (6 (W−2)(H−2)) · Σ |I ∗ N|`` with ``N = [[1,−2,1],[−2,4,−2],[1,−2,1]]``, a mask
    that cancels smooth image structure (it is the difference of two Laplacians) and keeps noise.
    About 0–5 on clean photographs and drawings; the gold items' broken images carry σ = 60."""
    values = grey(image)
    h, w = values.shape
    mask = (values[:-2, :-2] - 2 * values[:-2, 1:-1] + values[:-2, 2:]
            - 2 * values[1:-1, :-2] + 4 * values[1:-1, 1:-1] - 2 * values[1:-1, 2:]
            + values[2:, :-2] - 2 * values[2:, 1:-1] + values[2:, 2:])
    return float(sqrt(pi / 2) * np.abs(mask).sum() / (6 * (w - 2) * (h - 2)))


def visibly_broken(image: np.ndarray, threshold: float = BROKEN_NOISE) -> bool:
    """True when the picture is visibly broken: its :func:`noise_level` exceeds ``threshold``."""
    return noise_level(image) > threshold


#: The objectives by name (what ``simulate_reviewers --objective`` accepts).
OBJECTIVES: dict[str, Objective] = {
    "sharpness": sharpness,
    "exposure": exposure,
    "warmth": warmth,
    "face_size": face_size,
    "skin_share": skin_share,
}


def _opposite(name: str, objective: Objective) -> Objective:
    def opposite(image: np.ndarray) -> float:
        return -objective(image)

    opposite.__doc__ = f"The opposite of {name}: minus its value (to test that a gate refuses it)."
    opposite.__name__ = f"not_{name}"
    return opposite


#: Each objective's opposite, ``not_<name>``: simulated reviewers who prefer, say, blur, so that a
#: generator fine-tuned on their answers is one the promotion gate must refuse.
OBJECTIVES.update({f"not_{name}": _opposite(name, objective) for name, objective in list(OBJECTIVES.items())})


def objective_get(name: str) -> Objective:
    """The objective called ``name``; ValueError naming the known ones otherwise."""
    try:
        return OBJECTIVES[name]
    except KeyError:
        raise ValueError(f"unknown objective {name!r}; choose one of: {', '.join(OBJECTIVES)}") from None


def objective_doc(name: str) -> str:
    """The first line of the objective's docstring: what it measures, in one sentence."""
    doc = objective_get(name).__doc__ or name
    return doc.strip().splitlines()[0]


def score_images(images: Iterable[np.ndarray], objective: str | Objective) -> np.ndarray:
    """The objective of every image, without noise or bias, as a float64 array (the ground truth)."""
    function = objective_get(objective) if isinstance(objective, str) else objective
    return np.array([function(image) for image in images], dtype=np.float64)


def rank_agreement(scores: Sequence[float], truth: Sequence[float]) -> float:
    """Share of pairs with different truth that ``scores`` order the same way (0.5 = chance)."""
    s, t = np.asarray(scores, dtype=float), np.asarray(truth, dtype=float)
    if s.shape != t.shape:
        raise ValueError(f"scores {s.shape} and truth {t.shape} differ in shape")
    i, j = np.triu_indices(len(t), k=1)
    differ = t[i] != t[j]
    if not differ.any():
        raise ValueError("every truth value is the same: nothing to order")
    return float((np.sign(s[i] - s[j]) == np.sign(t[i] - t[j]))[differ].mean())
