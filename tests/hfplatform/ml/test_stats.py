"""The percentile bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from hfplatform.ml.stats import bootstrap_interval


def test_interval_covers_the_mean_and_narrows_with_n():
    rng = np.random.default_rng(0)
    small, large = rng.normal(5, 2, 20), rng.normal(5, 2, 500)
    for values in (small, large):
        low, high = bootstrap_interval(values)
        assert low < values.mean() < high
        assert low < 5 < high
    width_small = np.subtract(*bootstrap_interval(small)[::-1])
    width_large = np.subtract(*bootstrap_interval(large)[::-1])
    assert width_large < width_small / 3  # ~ sqrt(500 / 20) = 5 times narrower
    assert width_small == pytest.approx(2 * 1.96 * small.std(ddof=1) / np.sqrt(20), rel=0.3)


def test_interval_is_repeatable_and_follows_level_and_stat():
    values = np.random.default_rng(1).exponential(1.0, 50)
    assert bootstrap_interval(values, seed=3) == bootstrap_interval(values, seed=3)
    wide, narrow = bootstrap_interval(values, level=0.95), bootstrap_interval(values, level=0.5)
    assert wide[0] < narrow[0] < narrow[1] < wide[1]
    low, high = bootstrap_interval(values, stat=np.median)
    assert low < np.median(values) < high


def test_degenerate_inputs():
    assert bootstrap_interval([2.5]) == (2.5, 2.5)
    with pytest.raises(ValueError, match="at least one"):
        bootstrap_interval([])
    with pytest.raises(ValueError, match="NaN"):
        bootstrap_interval([1.0, float("nan")])
    with pytest.raises(ValueError, match="level"):
        bootstrap_interval([1.0, 2.0], level=1.5)
