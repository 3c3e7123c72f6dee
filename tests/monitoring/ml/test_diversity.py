"""LPIPS diversity of candidate sets, on real CelebA photos with the converted AlexNet backbone."""

from __future__ import annotations

import numpy as np
import pytest

from monitoring.ml.diversity import lpips_diversity
from tests.factories.images import noise


def test_identical_candidates_are_at_zero(lpips_metric, corpus_images):
    sets = [[corpus_images[0]] * 3, [corpus_images[1]] * 2]
    value = lpips_diversity(lpips_metric, sets)
    assert value.available
    assert value.name == "lpips_diversity"
    assert value.extractor == "lpips alex v0.1"
    assert value.n == 3 + 1  # pairs: C(3, 2) + C(2, 2)
    assert abs(value.value) < 1e-6
    assert value.interval is not None
    assert abs(value.interval[0]) < 1e-6
    assert abs(value.interval[1]) < 1e-6


def test_diversity_grows_with_the_difference_between_candidates(lpips_metric, corpus_images):
    originals = list(corpus_images[:4])
    levels = []
    for sigma in (5, 20, 40):
        sets = [[p, noise(p, sigma, seed=1), noise(p, sigma, seed=2)] for p in originals]
        levels.append(lpips_diversity(lpips_metric, sets).value)
    different_people = lpips_diversity(lpips_metric, [list(corpus_images[4:8]),
                                                      list(corpus_images[8:12])]).value
    assert 0 < levels[0] < levels[1] < levels[2], levels
    assert different_people > levels[0]


def test_value_is_the_mean_over_pairs_and_interval_over_subjects(lpips_metric, corpus_images):
    sets = [list(corpus_images[0:3]), list(corpus_images[3:5]), [corpus_images[5]], []]
    value = lpips_diversity(lpips_metric, sets, seed=4)
    pairs = [(0, 1), (0, 2), (1, 2), (3, 4)]
    expected = lpips_metric.lpips_images([corpus_images[i] for i, _ in pairs],
                                         [corpus_images[j] for _, j in pairs])
    assert value.n == 4  # the one-candidate and empty sets are skipped
    assert value.value == pytest.approx(float(expected.mean()), rel=1e-5)
    per_subject = [expected[:3].mean(), expected[3]]
    low, high = value.interval
    assert min(per_subject) - 1e-6 <= low <= high <= max(per_subject) + 1e-6
    assert value.to_json()["interval"] == [low, high]


@pytest.mark.parametrize("sets", [[], [[]], [[np.zeros((64, 64, 3), dtype=np.uint8)]] * 3])
def test_no_pairs_is_unavailable(lpips_metric, sets):
    value = lpips_diversity(lpips_metric, sets)
    assert not value.available
    assert value.value is None
    assert value.n == 0
    assert value.unavailable.startswith("unavailable: no subject has 2 or more candidates")
    assert value.name == "lpips_diversity"
