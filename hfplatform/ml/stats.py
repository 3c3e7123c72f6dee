"""Small statistics helpers shared by the metrics and the reports."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import sqrt
from statistics import NormalDist

import numpy as np


def bootstrap_interval(values: Sequence[float] | np.ndarray, stat: Callable[[np.ndarray], float] = np.mean,
                       n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile-bootstrap interval of ``stat(values)`` at ``level`` (e.g. 0.95 → 2.5 % and 97.5 %).

    Resamples ``values`` with replacement ``n_boot`` times (NumPy generator seeded with ``seed``, so
    the result is repeatable) and returns the two quantiles of the resampled statistic. The
    percentile bootstrap is rough at small n (it is too narrow below ~10-20 values); a single value
    gives a zero-width interval.
    """
    data = np.asarray(values, dtype=np.float64).ravel()
    if data.size == 0:
        raise ValueError("bootstrap_interval needs at least one value")
    if not np.isfinite(data).all():
        raise ValueError("bootstrap_interval got NaN or infinite values")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be positive, got {n_boot}")
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, data.size, size=(n_boot, data.size))
    stats = np.array([stat(data[row]) for row in indices], dtype=np.float64)
    tail = (1 - level) / 2
    low, high = np.quantile(stats, [tail, 1 - tail])
    return float(low), float(high)


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial share (keeps inside [0, 1], sensible at small n)::

        centre = (p + z²/2n) / (1 + z²/n)
        half   = z / (1 + z²/n) · sqrt(p(1 − p)/n + z²/4n²)
    """
    if n <= 0:
        raise ValueError("the Wilson interval needs n >= 1")
    if not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)
