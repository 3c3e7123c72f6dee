"""The face-analysis pipeline: one upright RGB photo in, one ``FaceAnalysis`` out.

detect all faces ─► drop weak extras ─► pick the largest ─► 68 landmarks ─► pose ─► quality measures ─► gates
                                                    └─► skin tone (ITA) ─► 128-D embedding

With no face only ``no_face`` is reported. With several, ``multiple_faces`` is reported and the
largest face is still analysed, so the person sees every other problem in one go.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from generation.ml.faces import (
    CascadeDetector,
    Detector,
    FaceBox,
    eye_centres,
    face_embedding,
    face_landmarks,
    mouth_centre,
)
from generation.ml.pose import head_pose
from generation.ml.quality import REJECTION_CODES, QualityThresholds, measure_quality, quality_rejections
from generation.ml.skin_tone import measure_skin_tone

STEPS = ("detect", "landmarks", "pose", "quality", "skin_tone", "embedding")
Point = tuple[float, float]


@dataclass
class FaceAnalysis:
    """Everything the pipeline learnt about one photo. Pixel coordinates are (x, y) in the photo."""

    width: int
    height: int
    face_count: int = 0
    box: FaceBox | None = None  # the analysed (largest) face
    boxes: list[FaceBox] = field(default_factory=list)  # every face found, largest first
    landmarks: np.ndarray | None = None  # (68, 2) float
    eye_left: Point | None = None  # centre of the eye on the image's left
    eye_right: Point | None = None
    mouth_centre: Point | None = None
    pose: dict[str, float] | None = None  # yaw, pitch, roll in degrees (see pose.py)
    embedding: np.ndarray | None = None  # (128,) float32, dlib ResNet
    quality: dict[str, float] = field(default_factory=dict)  # see quality.py; empty with no face
    rejections: list[str] = field(default_factory=list)  # codes, in REJECTION_CODES order
    ita: float | None = None
    ita_category: str | None = None
    timings: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STEPS, 0.0))  # seconds

    @property
    def accepted(self) -> bool:
        return not self.rejections

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (plain lists, floats and strings); the embedding is left out."""

        def box(b: FaceBox) -> dict[str, Any]:
            return {"left": b.left, "top": b.top, "right": b.right, "bottom": b.bottom,
                    "score": round(b.score, 4)}

        def point(p: Point | None) -> list[float] | None:
            return None if p is None else [round(float(p[0]), 2), round(float(p[1]), 2)]

        def numbers(d: dict[str, float] | None, digits: int) -> dict[str, float] | None:
            return None if d is None else {k: round(float(v), digits) for k, v in d.items()}

        return {
            "width": self.width,
            "height": self.height,
            "face_count": self.face_count,
            "box": None if self.box is None else box(self.box),
            "boxes": [box(b) for b in self.boxes],
            "landmarks": None if self.landmarks is None else np.round(self.landmarks, 2).tolist(),
            "eye_left": point(self.eye_left),
            "eye_right": point(self.eye_right),
            "mouth_centre": point(self.mouth_centre),
            "pose": numbers(self.pose, 2),
            "quality": numbers(self.quality, 4),
            "rejections": list(self.rejections),
            "accepted": self.accepted,
            "ita": None if self.ita is None else round(float(self.ita), 2),
            "ita_category": self.ita_category,
            "timings": numbers(self.timings, 5),
        }


class FaceAnalyzer:
    """Runs the pipeline. Holds no per-photo state, so one instance can serve every request.

    ``detector``: any ``Detector`` (default ``CascadeDetector()``: HOG, then MMOD when HOG finds none);
    ``thresholds``: the gates (default ``QualityThresholds()``); ``compute_embedding``: skip the
    slowest step when False.
    """

    def __init__(self, detector: Detector | None = None, thresholds: QualityThresholds | None = None,
                 compute_embedding: bool = True) -> None:
        self.detector = detector if detector is not None else CascadeDetector()
        self.thresholds = thresholds if thresholds is not None else QualityThresholds()
        self.compute_embedding = compute_embedding

    def analyze(self, rgb: np.ndarray) -> FaceAnalysis:
        """Analyse one upright HxWx3 uint8 RGB photo (the caller applies EXIF orientation)."""
        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 RGB image, got {rgb.shape} {rgb.dtype}")
        height, width = rgb.shape[:2]
        result = FaceAnalysis(width=width, height=height)
        clock = _Clock(result.timings)

        with clock("detect"):
            boxes = confident_faces(self.detector.detect(rgb), self.thresholds.min_relative_score)
        result.boxes, result.face_count = boxes, len(boxes)
        if not boxes:
            result.rejections = ["no_face"]
            return result
        box = result.box = boxes[0]

        with clock("landmarks"):
            landmarks = result.landmarks = face_landmarks(rgb, box)
        left, right = eye_centres(landmarks)
        result.eye_left, result.eye_right = _point(left), _point(right)
        result.mouth_centre = _point(mouth_centre(landmarks))
        with clock("pose"):
            result.pose = head_pose(landmarks, width, height)
        with clock("quality"):
            result.quality = measure_quality(rgb, box, landmarks, self.thresholds)
        failed = set(quality_rejections(result.quality, result.pose, self.thresholds))
        if len(boxes) > 1:
            failed.add("multiple_faces")
        result.rejections = [code for code in REJECTION_CODES if code in failed]
        with clock("skin_tone"):
            result.ita, result.ita_category = measure_skin_tone(rgb, landmarks)
        if self.compute_embedding:
            with clock("embedding"):
                result.embedding = face_embedding(rgb, landmarks)
        return result


def confident_faces(boxes: list[FaceBox], min_relative_score: float) -> list[FaceBox]:
    """Boxes scoring at least ``min_relative_score`` × the best score, largest first."""
    best = max((b.score for b in boxes), default=0.0)
    if best > 0:
        boxes = [b for b in boxes if b.score >= min_relative_score * best]
    return sorted(boxes, key=lambda b: (-b.area, -b.score))


def _point(p: np.ndarray) -> Point:
    return float(p[0]), float(p[1])


class _Clock:
    """``with clock("step"):`` adds the step's wall time (seconds) to ``timings[step]``."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings

    def __call__(self, step: str) -> _Clock:
        self.step = step
        return self

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.timings[self.step] += time.perf_counter() - self.start
