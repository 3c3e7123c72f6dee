"""Casual-selfie degradations: seeded, bit-for-bit repeatable, each step visible on real aligned faces."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from generation.ml.degrade import DEGRADATIONS, NAMES, degradation_params, degrade, degrade_step
from tests.factories.images import FRONTAL


@pytest.fixture(scope="module")
def faces(corpus_images_by_name, analyzer) -> list[np.ndarray]:
    """Three real near-frontal CelebA faces aligned to 64×64 by the face pipeline."""
    from generation.ml import align_face

    out = []
    for name in FRONTAL[:3]:
        result = analyzer.analyze(corpus_images_by_name[name])
        out.append(align_face(corpus_images_by_name[name], result.landmarks, 64))
    return out


def sharpness(image: np.ndarray) -> float:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float64)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())


def test_same_seed_same_output_bit_for_bit(faces):
    for face in faces:
        for seed in (0, 1, 12345):
            a, b = degrade(face, seed), degrade(face.copy(), seed)
            assert a.dtype == np.uint8
            assert a.shape == face.shape
            assert np.array_equal(a, b)


def test_different_seeds_differ(faces):
    outputs = [degrade(faces[0], seed) for seed in range(6)]
    for i in range(len(outputs)):
        for j in range(i + 1, len(outputs)):
            assert not np.array_equal(outputs[i], outputs[j])


def test_input_is_not_modified(faces):
    face = faces[0].copy()
    degrade(face, 3)
    assert np.array_equal(face, faces[0])


def test_degraded_photos_are_far_from_clean_and_less_sharp(faces):
    for face in faces:
        outs = [degrade(face, seed) for seed in range(8)]
        assert np.mean([mse(o, face) for o in outs]) > 100  # ~10 grey levels RMS at least
        # lower resolution, blur and JPEG win over added noise on average
        assert np.median([sharpness(o) for o in outs]) < sharpness(face) * 1.5


@pytest.mark.parametrize("name", NAMES)
def test_each_step_alone_changes_the_photo(faces, name):
    face = faces[1]
    changed = [mse(degrade(face, seed, only=[name]), face) for seed in range(4)]
    assert min(changed) > 1.0, f"{name} left the photo (nearly) unchanged: {changed}"
    assert list(degradation_params(7, only=[name])) == [name]


def test_blur_and_low_res_reduce_sharpness_noise_raises_it(faces):
    face = faces[2]
    base = sharpness(face)
    assert sharpness(degrade(face, 2, only=["low_res"])) < base * 0.8
    assert sharpness(degrade(face, 2, only=["motion_blur"])) < base * 0.9
    assert sharpness(degrade(face, 2, only=["noise"])) > base


def test_colour_cast_shifts_the_channel_balance(faces):
    face = faces[0].astype(np.float64)
    shifts = []
    for seed in range(6):
        out = degrade(faces[0], seed, only=["colour_cast"]).astype(np.float64)
        ratio_before = face[..., 0].mean() / face[..., 2].mean()
        shifts.append(abs(out[..., 0].mean() / out[..., 2].mean() - ratio_before))
    assert max(shifts) > 0.05


def test_strength_zero_is_nearly_clean_and_strength_scales_the_damage(faces):
    face = faces[0]
    steps = [n for n in NAMES if n != "jpeg"]  # JPEG at quality 100 still rounds a little
    assert np.array_equal(degrade(face, 5, strength=0.0, only=steps), face)
    weak = np.mean([mse(degrade(face, s, strength=0.3), face) for s in range(6)])
    strong = np.mean([mse(degrade(face, s, strength=1.0), face) for s in range(6)])
    assert weak < strong


def test_switching_one_step_off_keeps_the_others_parameters():
    full = degradation_params(11, only=NAMES)
    fewer = degradation_params(11, only=[n for n in NAMES if n != "noise"])
    assert "noise" not in fewer
    assert all(fewer[name] == full[name] for name in fewer)


def test_registry_lists_names_and_ranges():
    assert len(DEGRADATIONS) == 7
    assert set(NAMES) == {"framing", "lighting", "colour_cast", "motion_blur", "low_res", "noise", "jpeg"}
    for step in DEGRADATIONS:
        assert 0 < step.probability <= 1
        for identity, low, high in step.params.values():
            assert low <= high
            assert isinstance(identity, float)


def test_rejects_bad_input(faces):
    with pytest.raises(ValueError, match="uint8"):
        degrade(faces[0].astype(np.float32), 0)
    with pytest.raises(ValueError, match="unknown"):
        degrade(faces[0], 0, only=["sepia"])


def test_one_step_with_chosen_parameters_is_the_step_degrade_applies(faces):
    """``degrade_step`` is the damage a studio stage is measured against: the same pixels as
    ``degrade(only=[step])`` with that step's drawn parameters."""
    for step in NAMES:
        params = degradation_params(5, only=[step])[step]
        assert np.array_equal(degrade_step(faces[0], step, params), degrade(faces[0], 5, only=[step]))
    warm = degrade_step(faces[0], "colour_cast", {"temperature": 0.3, "tint": 0.0}).astype(float)
    assert warm[..., 0].mean() > faces[0][..., 0].mean() + 5  # warmer: more red, less blue
    assert warm[..., 2].mean() < faces[0][..., 2].mean() - 5
    with pytest.raises(ValueError, match="unknown degradation step 'blur'"):
        degrade_step(faces[0], "blur", {})
