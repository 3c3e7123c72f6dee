"""Fixtures for the generation app: photo files as a browser would upload them."""

from __future__ import annotations

import pytest

from hfplatform.demo import portrait_sketch
from tests.factories.generation import upload_of


@pytest.fixture
def sketch_upload():
    return lambda name="sketch.jpg", seed=1: upload_of(portrait_sketch(seed, 256), name)
