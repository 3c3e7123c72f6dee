"""What every studio stage shares: the face it works on, the two ways a stage declines, and the
masks it builds from 68 landmarks. Plain NumPy/OpenCV; no Django.

A stage is a function ``stage(rgb, face, **params) -> rgb``: ``rgb`` is an (H, W, 3) uint8 image in
the aligned frame of the generator (the face at ``generation.ml.align.CANONICAL``), ``face`` says
where the face is in that image. A stage returns a new uint8 image (it may change the size: the
pipeline scales ``face`` to match) and is deterministic for equal inputs and parameters.

A stage that cannot run raises ``StageUnavailable`` (an optional package or system library is
missing) or ``StageSkipped`` (this image lacks what the stage needs, e.g. landmarks); the pipeline
records the reason on the headshot and goes on with the image unchanged. It never fails silently.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPOSITORY = Path(__file__).resolve().parents[3]
#: The shipped generator's dataset.json: its held-out people are left out of every studio model's
#: training data (super-resolution, colour profile) and are the people studio figures are measured on.
HELDOUT_SOURCE = REPOSITORY / "generation" / "checkpoints" / "headshot-v3" / "dataset.json"

# dlib's 68-point layout (iBUG 300-W): jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, mouth 48-67.
JAW = slice(0, 17)
BROWS = slice(17, 27)


class StageUnavailable(Exception):
    """The stage cannot run on this machine (a package or system library is missing)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StageSkipped(Exception):
    """The stage cannot run on this image (e.g. no landmarks); the image passes on unchanged."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Param:
    """One parameter of a stage: a number in [minimum, maximum] or one of ``choices``."""

    default: float | int | str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    help: str = ""


@dataclass(frozen=True)
class Stage:
    """A studio stage as the pipeline knows it. ``version`` changes whenever the same input and
    parameters would give a different output (a headshot records it to regenerate bit for bit)."""

    name: str
    version: str
    apply: Callable[..., np.ndarray]
    summary: str
    params: dict[str, Param] = field(default_factory=dict)
    #: Checks that span parameters (e.g. a colour the preset needs); raises ValueError.
    check: Callable[[dict[str, Any]], None] | None = None


@dataclass(frozen=True)
class FaceContext:
    """Where the face is in the image a stage gets: 68 (x, y) landmarks in pixels (None when the
    face pipeline found none), the face box (left, top, right, bottom) and the head pose in degrees."""

    landmarks: np.ndarray | None = None
    box: tuple[float, float, float, float] | None = None
    yaw: float | None = None
    pitch: float | None = None
    roll: float | None = None

    def scaled(self, factor_x: float, factor_y: float | None = None) -> FaceContext:
        """The same face in an image resized by ``factor_x`` (and ``factor_y``, default the same)."""
        fy = factor_x if factor_y is None else factor_y
        landmarks = (None if self.landmarks is None
                     else np.asarray(self.landmarks, np.float64) * [factor_x, fy])
        box = None if self.box is None else (self.box[0] * factor_x, self.box[1] * fy,
                                             self.box[2] * factor_x, self.box[3] * fy)
        return FaceContext(landmarks=landmarks, box=box, yaw=self.yaw, pitch=self.pitch, roll=self.roll)

    def require_landmarks(self, stage: str) -> np.ndarray:
        """The (68, 2) landmarks, or ``StageSkipped`` saying that ``stage`` needs them."""
        if self.landmarks is None:
            raise StageSkipped(f"{stage} needs the face's 68 landmarks and this image has none")
        points = np.asarray(self.landmarks, np.float64)
        if points.shape != (68, 2) or not np.isfinite(points).all():
            raise StageSkipped(f"{stage} needs 68 finite (x, y) landmarks, got shape {points.shape}")
        return points


def face_region_mask(shape: tuple[int, int], landmarks: np.ndarray, forehead: float = 0.5) -> np.ndarray:
    """(H, W) bool: the face from the jaw line up to above the brows. The forehead is not among the
    landmarks; it is extended by ``forehead`` × the brow-to-chin height above the brows."""
    points = np.asarray(landmarks, np.float64)
    jaw, brows = points[JAW], points[BROWS]
    chin = points[8]
    lift = (brows.mean(axis=0) - chin) * forehead
    outline = np.vstack([jaw, (brows + lift)[::-1]])
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(outline).astype(np.int32)], 1)
    return mask.astype(bool)


def as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """Check that ``image`` is (H, W, 3) uint8; return it C-contiguous."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got {image.shape} {image.dtype}")
    return np.ascontiguousarray(image)


def heldout_refs(source: Path = HELDOUT_SOURCE) -> list[str]:
    """The corpus file names a shipped generator held out (``heldout_refs`` of its dataset.json)."""
    return sorted(json.loads(Path(source).read_text())["heldout_refs"])


def repository_path(path: Path) -> str:
    """``path`` relative to the repository when it is inside it (for commands and records)."""
    resolved = Path(path).resolve()
    return str(resolved.relative_to(REPOSITORY)) if resolved.is_relative_to(REPOSITORY) else str(path)
