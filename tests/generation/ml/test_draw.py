"""The landmark overlay for the UI draws where the analysis found things, on a copy."""

from __future__ import annotations

import numpy as np

from generation.ml import draw_landmarks
from generation.ml.draw import BOX, CENTRE, POINT
from tests.factories.images import GOOD


def colour_near(image: np.ndarray, x: float, y: float, colour, reach: int = 2) -> bool:
    x, y = round(x), round(y)
    window = image[max(y - reach, 0):y + reach + 1, max(x - reach, 0):x + reach + 1].astype(int)
    return bool((np.abs(window - colour).sum(axis=2) < 60).any())


def test_overlay_marks_box_landmarks_and_centres(corpus_images_by_name, analyzer):
    rgb = corpus_images_by_name[GOOD]
    analysis = analyzer.analyze(rgb)
    overlay = draw_landmarks(rgb, analysis)
    assert overlay.shape == rgb.shape
    assert overlay.dtype == np.uint8
    assert overlay is not rgb
    assert not np.shares_memory(overlay, rgb)
    box = analysis.box
    assert colour_near(overlay, (box.left + box.right) / 2, box.top, BOX)
    assert colour_near(overlay, box.left, (box.top + box.bottom) / 2, BOX)
    drawn = sum(colour_near(overlay, x, y, POINT, reach=1) for x, y in analysis.landmarks)
    assert drawn >= 60  # the centre crosses cover a few of the 68 points
    for centre in (analysis.eye_left, analysis.eye_right, analysis.mouth_centre):
        assert colour_near(overlay, *centre, CENTRE)
    changed = np.abs(overlay.astype(int) - rgb).sum(axis=2) > 0
    assert 0.02 < changed.mean() < 0.3  # marks, not a repaint


def test_no_face_gives_an_unchanged_copy(analyzer):
    blank = np.full((80, 80, 3), 50, np.uint8)
    overlay = draw_landmarks(blank, analyzer.analyze(blank))
    assert (overlay == blank).all()
    assert not np.shares_memory(overlay, blank)
