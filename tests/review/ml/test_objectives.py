"""The objectives simulated reviewers judge by, on constructed images with known answers (no Django)."""

from __future__ import annotations

import numpy as np
import pytest

from hfplatform.demo import portrait_sketch
from review.ml.objectives import (
    MID_GREY,
    OBJECTIVES,
    exposure,
    face_size,
    noise_level,
    objective_doc,
    objective_get,
    rank_agreement,
    score_images,
    sharpness,
    skin_share,
    visibly_broken,
    warmth,
)
from tests.factories.images import blur, decode, noise


@pytest.fixture(params=["sketch", "photo"])
def portrait(request, corpus_face) -> np.ndarray:
    """A drawn head-and-shoulders portrait and a real corpus photo, both 128 × 128."""
    from PIL import Image

    if request.param == "sketch":
        return np.asarray(portrait_sketch(7, 128))
    return np.asarray(Image.fromarray(decode(corpus_face)).resize((128, 128)))


def _shift(rgb: np.ndarray, delta: float) -> np.ndarray:
    return np.clip(rgb.astype(float) + delta, 0, 255).astype(np.uint8)


def test_a_blurred_copy_is_less_sharp(portrait):
    values = [sharpness(blur(portrait, sigma)) for sigma in (0, 1, 2, 4)]
    assert values == sorted(values, reverse=True)
    assert values[-1] < 0.2 * values[0]


def test_a_darker_or_brighter_copy_is_further_from_mid_exposure():
    grey = np.full((32, 32, 3), int(MID_GREY), np.uint8)
    assert exposure(grey) == pytest.approx(1.0)
    assert exposure(np.zeros_like(grey)) == pytest.approx(0.0)
    assert exposure(np.full_like(grey, 255)) == pytest.approx(0.0)
    for delta in (40, 80):
        assert exposure(_shift(grey, -delta)) < exposure(_shift(grey, -delta / 2)) < 1.0
        assert exposure(_shift(grey, delta)) < exposure(_shift(grey, delta / 2)) < 1.0


def test_exposure_of_a_portrait_falls_as_it_leaves_mid_grey(portrait):
    # move the frame's mean onto mid-grey first, then darken and brighten it
    centred = _shift(portrait, MID_GREY - portrait.mean())
    best = exposure(centred)
    assert best > 0.9
    assert exposure(_shift(centred, -60)) < exposure(_shift(centred, -30)) < best
    assert exposure(_shift(centred, 60)) < exposure(_shift(centred, 30)) < best


def test_a_red_tinted_copy_is_warmer_and_a_blue_one_cooler(portrait):
    red = portrait.astype(float)
    red[:, :, 0] += 40
    blue = portrait.astype(float)
    blue[:, :, 2] += 40
    as_image = [np.clip(x, 0, 255).astype(np.uint8) for x in (red, blue)]
    assert warmth(as_image[0]) > warmth(portrait) > warmth(as_image[1])
    flat = np.zeros((20, 20, 3), np.uint8)
    flat[5:15, 5:15, 0] = 255  # pure red centre, black border: only the centre counts
    assert warmth(flat) == pytest.approx(1.0)


def test_a_tighter_crop_shows_a_bigger_face(corpus_face):
    """The 68-landmark face size on a real photo (HOG finds no face in a drawing)."""
    from PIL import Image

    photo = decode(corpus_face)
    h, w = photo.shape[:2]
    sizes = []
    for margin in (0, 20, 40):
        crop = photo[margin:h - margin, margin:w - margin]
        sizes.append(face_size(np.asarray(Image.fromarray(crop).resize((64, 64)))))
    assert 0 < sizes[0] < sizes[1] < sizes[2] <= 1
    assert face_size(np.full((64, 64, 3), 128, np.uint8)) == 0.0  # no face: none of the frame
    assert face_size(np.asarray(portrait_sketch(3, 128))) == 0.0


def test_a_tighter_crop_shows_more_skin():
    sketch = np.asarray(portrait_sketch(7, 128))
    assert skin_share(sketch[24:104, 24:104]) > skin_share(sketch) > 0
    assert skin_share(np.full((16, 16, 3), (40, 90, 200), np.uint8)) == 0.0  # no skin colour at all


def test_noise_level_tells_broken_images_from_intact_ones(portrait):
    assert noise_level(portrait) < 8
    assert not visibly_broken(portrait)
    broken = noise(portrait, 60, seed=1)
    assert noise_level(broken) > 25
    assert visibly_broken(broken)
    assert noise_level(np.full((10, 10, 3), 90, np.uint8)) == 0.0


def test_score_images_is_the_noiseless_truth(portrait):
    images = [blur(portrait, s) for s in (3, 0, 1)]
    scores = score_images(images, "sharpness")
    assert scores.dtype == np.float64
    assert list(scores) == [sharpness(i) for i in images]
    assert np.argsort(-scores).tolist() == [1, 2, 0]
    assert score_images(images, sharpness).tolist() == scores.tolist()
    assert rank_agreement(scores, [0, 2, 1]) == 1.0
    assert rank_agreement(-scores, [0, 2, 1]) == 0.0
    with pytest.raises(ValueError, match="every truth value"):
        rank_agreement(scores, [1, 1, 1])


def test_every_objective_is_named_documented_and_returns_a_float(portrait):
    assert set(OBJECTIVES) >= {"sharpness", "exposure", "warmth", "face_size", "skin_share"}
    for name, function in OBJECTIVES.items():
        assert objective_get(name) is function
        assert objective_doc(name)[:1].isupper()
        assert isinstance(function(portrait), float)
    assert OBJECTIVES["not_sharpness"](portrait) == -sharpness(portrait)
    with pytest.raises(ValueError, match="unknown objective 'beauty'; choose one of: sharpness"):
        objective_get("beauty")
    with pytest.raises(ValueError, match="H×W×3"):
        sharpness(np.zeros((4, 4, 4, 1), np.uint8))
