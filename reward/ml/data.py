"""Preference pairs as the reward model sees them: two headshots of one person and that person's photo.

Services turn review rows (pairwise choices, ratings that differ by a margin) into
:class:`PreferenceExample` objects; everything under ``reward.ml`` works on these. No Django.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class PreferenceExample:
    """Reviewers preferred ``chosen`` to ``rejected``; both are headshots generated for one subject.

    Images are H×W×3 uint8 RGB arrays of any size (the processor resizes them to the model's side).
    """

    chosen: np.ndarray  # the headshot preferred
    rejected: np.ndarray  # the other headshot of the pair
    reference: np.ndarray  # the subject's source crop: lets the model judge likeness
    weight: float = 1.0  # reviewer reliability × role weight; pairs are sampled in proportion to it
    margin: float = 0.0  # how clearly chosen won; TRL's margin when RewardTrainConfig.use_margin
    group: str = ""  # e.g. the subject's skin-tone category, for per-group evaluation
    dimension: str = "overall"  # "overall", "professionalism", "likeness", "appeal"
    chosen_id: int | None = None  # the headshots' ids: votes on the same two headshots form one item,
    rejected_id: int | None = None  # whose majority is the consensus (``reward.ml.evaluate``)
    person: int | None = None  # whose headshots these are (evaluation counts people, not pairs)

    def __post_init__(self) -> None:
        for name in ("chosen", "rejected", "reference"):
            image = np.asarray(getattr(self, name))
            if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
                raise ValueError(f"{name} must be an H×W×3 uint8 image, got {image.dtype} {image.shape}")
            setattr(self, name, image)
        if not (np.isfinite(self.weight) and self.weight >= 0):
            raise ValueError(f"weight must be a finite number ≥ 0, got {self.weight}")
        if not np.isfinite(self.margin):
            raise ValueError(f"margin must be finite, got {self.margin}")


def resize_images(images: np.ndarray, side: int) -> np.ndarray:
    """uint8 images (H×W×3 or N×H×W×3, any H and W) → uint8 at side×side, same leading shape.

    Shrinking averages pixel areas (``cv2.INTER_AREA``, as the generator's data pipeline does);
    enlarging is bicubic. A non-square image is stretched: headshots and crops here are square.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim not in (3, 4) or images.shape[-1] != 3:
        raise ValueError(f"expected uint8 H×W×3 or N×H×W×3 images, got {images.dtype} {images.shape}")
    if images.shape[-3:-1] == (side, side):
        return images
    if images.ndim == 3:
        return _resize(images, side)
    out = np.empty((len(images), side, side, 3), np.uint8)
    for i, image in enumerate(images):
        out[i] = _resize(image, side)
    return out


def _resize(image: np.ndarray, side: int) -> np.ndarray:
    shrink = side < min(image.shape[:2])
    return cv2.resize(np.ascontiguousarray(image), (side, side),
                      interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
