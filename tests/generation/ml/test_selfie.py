"""A simulated selfie is aligned again by its own landmarks, as the face pipeline aligns a real one."""

from __future__ import annotations

import numpy as np
import pytest

from generation.ml import FaceAnalyzer, align_face
from generation.ml.degrade import degradation_params, degrade
from generation.ml.selfie import realign, simulated_selfie
from tests.factories.images import FRONTAL


@pytest.fixture(scope="module")
def crops(corpus_images_by_name) -> list[np.ndarray]:
    """128-px aligned crops of real frontal corpus photos (as the app stores them)."""
    analyzer = FaceAnalyzer()
    out = []
    for name in FRONTAL[:3]:
        analysis = analyzer.analyze(corpus_images_by_name[name])
        out.append(align_face(corpus_images_by_name[name], analysis.landmarks, 128))
    return out


def mean_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


def test_realign_undoes_an_off_centre_framing(crops):
    import cv2

    for i, clean in enumerate(crops):
        seed = next(s for s in range(100, 400)
                    if abs(degradation_params(s, only=["framing"])["framing"]["shift_x"]) > 0.05)
        framed = degrade(clean, seed, only=["framing"])
        small_clean = cv2.resize(clean, (64, 64), interpolation=cv2.INTER_AREA)
        small_framed = cv2.resize(framed, (64, 64), interpolation=cv2.INTER_AREA)
        aligned, found = realign(framed, 64)
        assert found, i
        assert aligned.shape == (64, 64, 3)
        assert aligned.dtype == np.uint8
        # Back in the canonical frame: far closer to the clean crop than the framed one is.
        assert mean_error(aligned, small_clean) < 0.5 * mean_error(small_framed, small_clean), i


def test_without_a_face_the_frame_is_used_as_it_is():
    grey = np.full((128, 128, 3), 120, np.uint8)
    image, found = realign(grey, 64)
    assert not found
    assert image.shape == (64, 64, 3)
    assert (image == 120).all()


def test_simulated_selfie_is_seeded_and_degraded(crops):
    clean = crops[0]
    a, found_a = simulated_selfie(clean, 11, 64)
    b, found_b = simulated_selfie(clean, 11, 64)
    c, _ = simulated_selfie(clean, 12, 64)
    assert found_a
    assert found_b
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    aligned, _ = realign(degrade(clean, 11), 64)
    assert np.array_equal(a, aligned)
