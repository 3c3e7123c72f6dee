"""Face detection, 68 landmarks and 128-D identity embeddings (dlib), plus an OpenCV Haar backend.

Detectors share one tiny protocol, ``detect(rgb) -> list[FaceBox]``, so the pipeline can swap them.
The dlib model files come from the ``face-recognition-models`` package, found by path (importing
that package fails without ``pkg_resources``); nothing is downloaded. Each model is loaded once per
process, on first use, and guarded by a lock because dlib objects are not documented thread-safe.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import dlib
import numpy as np

SAME_PERSON_THRESHOLD = 0.6  # dlib's ResNet: Euclidean distance below this ~ same person (LFW 99.38%)

# 68-point (iBUG 300-W) indices: jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, mouth 48-67.
LEFT_EYE = slice(36, 42)  # the eye on the image's left (the subject's right eye)
RIGHT_EYE = slice(42, 48)  # the eye on the image's right
MOUTH = slice(48, 60)  # outer lip contour


@dataclass(frozen=True)
class FaceBox:
    """A face rectangle in pixels (right/bottom exclusive) with the detector's confidence and name
    (``hog``, ``mmod``, ``haar``; scores of different detectors are not comparable)."""

    left: int
    top: int
    right: int
    bottom: int
    score: float = 0.0
    detector: str = ""

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def area(self) -> int:
        return max(self.width, 0) * max(self.height, 0)

    def to_rect(self) -> dlib.rectangle:
        return dlib.rectangle(self.left, self.top, self.right, self.bottom)


class Detector(Protocol):
    """Anything that finds faces in an HxWx3 uint8 RGB image."""

    def detect(self, rgb: np.ndarray) -> list[FaceBox]: ...


# --- Model files, loaded lazily once per process ------------------------------------------------------


def models_dir() -> Path:
    """Folder holding the dlib ``.dat`` files of the face-recognition-models package."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face-recognition-models is not installed (see requirements.txt)")
    return Path(spec.submodule_search_locations[0]) / "models"


@functools.cache
def _model(kind: str) -> tuple[object, threading.Lock]:
    files = {
        "landmarks": ("shape_predictor_68_face_landmarks.dat", dlib.shape_predictor),
        "embedding": ("dlib_face_recognition_resnet_model_v1.dat", dlib.face_recognition_model_v1),
        "mmod": ("mmod_human_face_detector.dat", dlib.cnn_face_detection_model_v1),
    }
    if kind == "hog":
        return dlib.get_frontal_face_detector(), threading.Lock()
    filename, load = files[kind]
    return load(str(models_dir() / filename)), threading.Lock()


def _as_rgb(rgb: np.ndarray) -> np.ndarray:
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 RGB image, got {rgb.shape} {rgb.dtype}")
    return np.ascontiguousarray(rgb)


def _shrink(rgb: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """The image scaled down so its long side is at most ``max_side``, and that scale."""
    scale = min(1.0, max_side / max(rgb.shape[:2]))
    if scale >= 1.0:
        return rgb, 1.0
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), scale


def _box(left: float, top: float, right: float, bottom: float, score: float, scale: float,
         detector: str) -> FaceBox:
    return FaceBox(round(left / scale), round(top / scale), round(right / scale), round(bottom / scale),
                   float(score), detector)


# --- Detectors ----------------------------------------------------------------------------------------


class DlibHogDetector:
    """dlib's HOG + linear SVM frontal detector (five filters: front, turned left/right, tilted).

    ``upsample``: how many times dlib doubles the image first; its window is 80 px, so it finds
    faces down to ~80 px at 0, ~40 px at 1. ``max_side``: big photos are first shrunk so their long
    side is at most this (phone photos would otherwise take seconds); boxes come back in the
    original pixels. ``threshold``: SVM score cut-off (dlib's default 0; higher = fewer, surer).
    """

    def __init__(self, upsample: int = 1, max_side: int = 640, threshold: float = 0.0) -> None:
        self.upsample, self.max_side, self.threshold = upsample, max_side, threshold

    def detect(self, rgb: np.ndarray) -> list[FaceBox]:
        small, scale = _shrink(_as_rgb(rgb), self.max_side)
        detector, lock = _model("hog")
        with lock:
            rects, scores, _ = detector.run(small, self.upsample, self.threshold)
        return [_box(r.left(), r.top(), r.right(), r.bottom(), s, scale, "hog")
                for r, s in zip(rects, scores, strict=True)]


class DlibCnnDetector:
    """dlib's MMOD CNN detector: finds more turned and small faces than HOG, ~10x slower on a CPU."""

    def __init__(self, upsample: int = 0, max_side: int = 640) -> None:
        self.upsample, self.max_side = upsample, max_side

    def detect(self, rgb: np.ndarray) -> list[FaceBox]:
        small, scale = _shrink(_as_rgb(rgb), self.max_side)
        detector, lock = _model("mmod")
        with lock:
            found = detector(small, self.upsample)
        return [_box(d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom(), d.confidence, scale,
                     "mmod") for d in found]


class HaarCascadeDetector:
    """OpenCV's bundled Viola-Jones cascade (``haarcascade_frontalface_default.xml``).

    Its boxes are larger than dlib's (they reach the hairline); each is mapped onto dlib's box
    convention (``box_scale`` of the side, shifted down by ``box_shift`` of it) so the 68-point
    predictor, trained on dlib boxes, places landmarks well. Score: the cascade's level weight.
    """

    def __init__(self, min_size: int = 40, neighbours: int = 5, scale_factor: float = 1.1,
                 max_side: int = 640, box_scale: float = 0.89, box_shift: float = 0.073) -> None:
        path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
        self.cascade = cv2.CascadeClassifier(str(path))
        if self.cascade.empty():
            raise RuntimeError(f"could not load the OpenCV Haar cascade {path}")
        self.min_size, self.neighbours, self.scale_factor = min_size, neighbours, scale_factor
        self.max_side, self.box_scale, self.box_shift = max_side, box_scale, box_shift
        self._lock = threading.Lock()

    def detect(self, rgb: np.ndarray) -> list[FaceBox]:
        small, scale = _shrink(_as_rgb(rgb), self.max_side)
        grey = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
        min_size = max(1, round(self.min_size * scale))
        with self._lock:
            rects, _, weights = self.cascade.detectMultiScale3(
                grey, scaleFactor=self.scale_factor, minNeighbors=self.neighbours,
                minSize=(min_size, min_size), outputRejectLevels=True)
        boxes = []
        for (x, y, w, h), weight in zip(rects, np.ravel(weights), strict=True):
            side = w * self.box_scale
            cx, cy = x + w / 2, y + h / 2 + self.box_shift * w
            boxes.append(_box(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2, weight, scale,
                              "haar"))
        return boxes


class CascadeDetector:
    """A fast detector first and a stronger one only when the first finds no face.

    The default pair is dlib's HOG, then its MMOD CNN at upsample 0. On the 999 corpus photos HOG
    finds no face in 35, and those are not spread evenly: 7 of the 28 darkest-toned faces against 5
    of the 300 lightest (tones estimated from MMOD's box); MMOD finds 34 of the 35, at about 15× HOG's
    cost, so the cascade pays that only on the 3.5% HOG misses (docs/face_pipeline.md,
    "Fairness by skin tone"). Boxes say which detector found them (``FaceBox.detector``).
    """

    def __init__(self, first: Detector | None = None, fallback: Detector | None = None) -> None:
        self.first = first if first is not None else DlibHogDetector()
        self.fallback = fallback if fallback is not None else DlibCnnDetector(upsample=0)

    def detect(self, rgb: np.ndarray) -> list[FaceBox]:
        return self.first.detect(rgb) or self.fallback.detect(rgb)


DETECTORS: dict[str, type] = {"cascade": CascadeDetector, "hog": DlibHogDetector, "mmod": DlibCnnDetector,
                              "haar": HaarCascadeDetector}


def make_detector(name: str) -> Detector:
    """A detector by its setting name (``cascade``, ``hog``, ``mmod``, ``haar``) with default options."""
    if name not in DETECTORS:
        raise ValueError(f"unknown face detector {name!r}; choose one of: {', '.join(DETECTORS)}")
    return DETECTORS[name]()


# --- Landmarks and identity ---------------------------------------------------------------------------


def face_landmarks(rgb: np.ndarray, box: FaceBox) -> np.ndarray:
    """The 68 iBUG landmarks of the face in ``box`` as a (68, 2) float array of (x, y) pixels."""
    predictor, lock = _model("landmarks")
    with lock:
        shape = predictor(_as_rgb(rgb), box.to_rect())
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def face_embedding(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """dlib's 128-D ResNet descriptor (float32) of the face with these landmarks."""
    points = [dlib.point(round(x), round(y)) for x, y in landmarks]
    xs, ys = landmarks[:, 0], landmarks[:, 1]
    rect = dlib.rectangle(round(xs.min()), round(ys.min()), round(xs.max()), round(ys.max()))
    shape = dlib.full_object_detection(rect, points)
    model, lock = _model("embedding")
    with lock:
        descriptor = model.compute_face_descriptor(_as_rgb(rgb), shape)
    return np.asarray(descriptor, dtype=np.float32)


def embedding_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two embeddings; below ``SAME_PERSON_THRESHOLD`` ~ same person."""
    return float(np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64)))


def eye_centres(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres (x, y) of the image-left and image-right eyes: the mean of each eye's 6 points."""
    return landmarks[LEFT_EYE].mean(axis=0), landmarks[RIGHT_EYE].mean(axis=0)


def mouth_centre(landmarks: np.ndarray) -> np.ndarray:
    """Centre (x, y) of the mouth: the mean of the 12 outer-lip points."""
    return landmarks[MOUTH].mean(axis=0)
