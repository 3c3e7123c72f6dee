"""Studio stages for generation jobs: checking a request's ``stages`` and running them on the
candidates of one job with what the face pipeline knows about the subject's photo.

``generation.ml.studio`` does the image work (no Django); this module turns a request into checked
stages (or a 400 that says why), and a stored photo into the ``FaceContext`` of the aligned frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from django.conf import settings

from generation.models import SourcePhoto
from hfplatform.errors import ApplicationError


def default_stages() -> list[str]:
    """The stages a job applies when its request names none (``STUDIO_DEFAULT_STAGES``)."""
    return list(settings.STUDIO_DEFAULT_STAGES)


def stages_request(stages: list[Any] | None) -> list[dict[str, Any]]:
    """A request's ``stages`` checked and made canonical (``generation.ml.studio.pipeline``); None is
    the default set. An unknown stage or a parameter out of range is an ``ApplicationError``."""
    from generation.ml.studio.pipeline import stages_check

    try:
        return stages_check(default_stages() if stages is None else stages)
    except ValueError as exc:
        raise ApplicationError(f"stages: {exc}.", code="invalid_stages",
                               extra={"fields": {"stages": [str(exc)]}}) from None


def headshot_face(photo: SourcePhoto, size: int) -> Any:
    """Where the subject's face is in a ``size`` × ``size`` image of the generator's aligned frame:
    the photo's 68 landmarks and box carried through the same alignment the generator's input had,
    and its head pose. Without landmarks the context is empty (stages that need them say so)."""
    from generation.ml.align import alignment_matrix, transform_points
    from generation.ml.studio.base import FaceContext

    pose = photo.head_pose or {}
    if not photo.landmarks:
        return FaceContext(yaw=pose.get("yaw"), pitch=pose.get("pitch"), roll=pose.get("roll"))
    landmarks = np.asarray(photo.landmarks, np.float64)
    matrix = alignment_matrix(landmarks, size)
    box = None
    if photo.face_box:
        left, top, right, bottom = photo.face_box
        corners = transform_points(matrix, [(left, top), (right, top), (left, bottom), (right, bottom)])
        box = (*corners.min(axis=0), *corners.max(axis=0))
    return FaceContext(landmarks=transform_points(matrix, landmarks), box=box, yaw=pose.get("yaw"),
                       pitch=pose.get("pitch"), roll=pose.get("roll"))


def studio_apply(images: list[np.ndarray], *, photo: SourcePhoto, stages: list[dict[str, Any]],
                 report: Callable[[int, int], None] | None = None
                 ) -> tuple[list[np.ndarray], list[list[dict[str, Any]]]]:
    """The candidates after ``stages`` and each one's stage records (the images unchanged and no
    records when ``stages`` is empty)."""
    if not stages:
        return images, [[] for _ in images]
    from generation.ml.studio.pipeline import stages_apply

    outputs, records = [], []
    for i, image in enumerate(images):
        out, record = stages_apply(image, headshot_face(photo, image.shape[0]), stages)
        outputs.append(out)
        records.append(record)
        if report:
            report(i + 1, len(images))
    return outputs, records
