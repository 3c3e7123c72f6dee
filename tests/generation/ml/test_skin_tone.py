"""ITA° skin tone: the formula, the six categories, and patches of known CIELAB colour."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.color import lab2rgb

from generation.ml import ITA_CATEGORIES, ita_category, ita_from_lab, measure_skin_tone
from generation.ml.skin_tone import skin_patches
from tests.factories.images import GOOD

# One skin-like colour per category: (code, target ITA°, b*); L* = 50 + b* · tan(ITA).
TARGETS = [("very_light", 62.0, 14.0), ("light", 48.0, 16.0), ("intermediate", 34.0, 18.0),
           ("tan", 19.0, 20.0), ("brown", -10.0, 22.0), ("dark", -42.0, 18.0)]


def srgb_of_lab(lightness: float, a: float, b: float) -> np.ndarray:
    rgb = lab2rgb(np.array([[[lightness, a, b]]]))[0, 0]
    assert ((rgb > 0.001) & (rgb < 0.999)).all(), "colour outside the sRGB gamut"
    return np.round(rgb * 255).astype(np.uint8)


def test_ita_formula():
    assert ita_from_lab(50.0, 20.0) == pytest.approx(0.0)
    assert ita_from_lab(60.0, 10.0) == pytest.approx(45.0)
    assert ita_from_lab(40.0, 10.0) == pytest.approx(-45.0)
    assert ita_from_lab(70.0, 15.0) == pytest.approx(math.degrees(math.atan(20 / 15)))
    values = ita_from_lab(np.array([60.0, 40.0]), np.array([10.0, 10.0]))
    assert values == pytest.approx([45.0, -45.0])


def test_categories_and_their_bounds():
    codes = [code for code, _, _ in ITA_CATEGORIES]
    assert codes == ["very_light", "light", "intermediate", "tan", "brown", "dark"]
    bounds = [lower for _, _, lower in ITA_CATEGORIES]
    assert bounds[:5] == [55, 41, 28, 10, -30]
    assert bounds == sorted(bounds, reverse=True)
    cases = {70: "very_light", 55.01: "very_light", 55: "light", 41.5: "light", 41: "intermediate",
             28: "tan", 10: "brown", 0: "brown", -29.9: "brown", -30: "dark", -80: "dark"}
    for ita, code in cases.items():
        assert ita_category(ita) == code, ita


@pytest.mark.parametrize(("code", "target", "b"), TARGETS)
def test_patches_of_known_colour_give_their_category(corpus_images_by_name, analyzer, code, target, b):
    """The real landmarks of a corpus face over an image filled with one known Lab colour."""
    landmarks = analyzer.analyze(corpus_images_by_name[GOOD]).landmarks
    lightness = 50.0 + b * math.tan(math.radians(target))
    colour = srgb_of_lab(lightness, 12.0, b)
    image = np.empty((218, 178, 3), np.uint8)
    image[:] = colour
    ita, category = measure_skin_tone(image, landmarks)
    assert category == code
    assert ita == pytest.approx(target, abs=1.0)


def test_specular_highlights_and_dark_hair_do_not_move_the_estimate(corpus_images_by_name, analyzer):
    landmarks = analyzer.analyze(corpus_images_by_name[GOOD]).landmarks
    image = np.empty((218, 178, 3), np.uint8)
    image[:] = srgb_of_lab(62.0, 12.0, 18.0)
    clean, _ = measure_skin_tone(image, landmarks)
    # A third of the pixels blown-out glints, a fifth dark hair: far more than a median can shrug off.
    draw = np.random.default_rng(3).random(image.shape[:2])
    speckled = image.copy()
    speckled[draw < 0.33] = 255
    speckled[draw > 0.8] = (20, 12, 8)
    noisy, _ = measure_skin_tone(speckled, landmarks)
    assert noisy == pytest.approx(clean, abs=0.5)


def test_patches_sit_on_the_cheeks_and_forehead(corpus_images_by_name, analyzer):
    landmarks = analyzer.analyze(corpus_images_by_name[GOOD]).landmarks
    (lx, ly, side), (rx, ry, _), (_fx, fy, _) = skin_patches(landmarks)
    assert lx < landmarks[30, 0] < rx  # cheeks either side of the nose
    assert landmarks[40, 1] < ly < landmarks[48, 1]
    assert landmarks[47, 1] < ry < landmarks[54, 1]
    assert fy + side / 2 < landmarks[19:25, 1].min()  # forehead patch entirely above the brows
    assert 10 < side < 40


def test_a_darker_photo_reads_a_lower_ita(corpus_images_by_name, analyzer):
    rgb = corpus_images_by_name[GOOD]
    analysis = analyzer.analyze(rgb)
    dimmer, _ = measure_skin_tone((rgb * 0.7).astype(np.uint8), analysis.landmarks)
    assert analysis.ita is not None
    assert analysis.ita_category in {c for c, _, _ in ITA_CATEGORIES}
    assert dimmer < analysis.ita - 5


def test_no_skin_in_view_gives_none():
    landmarks = np.full((68, 2), -500.0) + np.arange(68)[:, None]  # a face entirely outside the image
    assert measure_skin_tone(np.zeros((100, 100, 3), np.uint8), landmarks) == (None, None)
