"""Diversity of a generator's candidates: mean LPIPS between candidates of the same subject.

A generation job produces several candidates per subject; if they are near-copies of each other the
reranker has nothing to choose from. ``lpips_diversity`` takes every unordered pair of candidates
within a subject's set, averages LPIPS over all pairs (0 = all identical, higher = more varied), and
puts a 95 % bootstrap interval over the per-subject mean LPIPS (subjects are the independent units).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np

from hfplatform.ml.stats import bootstrap_interval
from hfplatform.ml.values import MetricValue

if TYPE_CHECKING:
    from hfplatform.ml.lpips import LpipsMetric

NAME = "lpips_diversity"
EXTRACTOR = "lpips alex v0.1"


def lpips_diversity(metric: LpipsMetric, candidate_sets: Sequence[Sequence[np.ndarray]],
                    seed: int = 0) -> MetricValue:
    """Mean LPIPS over all pairs of candidates (HxWx3 uint8 RGB) of the same subject.

    Sets with fewer than 2 candidates are skipped. ``n`` is the number of pairs; the value weights
    every pair equally, the interval (seeded by ``seed``) resamples the per-subject means. Unavailable
    (with the reason) when no set has 2 candidates. Images of one set that differ in size are resized
    to the first one's size, as ``LpipsMetric.lpips_images`` does.
    """
    firsts: list[np.ndarray] = []
    seconds: list[np.ndarray] = []
    owners: list[int] = []
    for index, candidates in enumerate(candidate_sets):
        if len(candidates) < 2:
            continue
        for a, b in combinations(candidates, 2):
            firsts.append(a)
            seconds.append(b)
            owners.append(index)
    if not firsts:
        reason = f"no subject has 2 or more candidates ({len(candidate_sets)} set(s))"
        return MetricValue.missing(NAME, reason, 0, EXTRACTOR)
    distances = np.asarray(metric.lpips_images(firsts, seconds), dtype=np.float64)
    owner_ids = np.asarray(owners)
    per_subject = [distances[owner_ids == owner].mean() for owner in dict.fromkeys(owners)]
    return MetricValue(name=NAME, value=float(distances.mean()), n=len(distances), extractor=EXTRACTOR,
                       interval=bootstrap_interval(per_subject, seed=seed))
