"""Best-of-n: rank a generation job's candidates by reward and keep the top k. Plain Python, no Django."""

from __future__ import annotations

import math
from collections.abc import Sequence


def rerank(scores: Sequence[float], keep: int) -> tuple[list[int], list[int]]:
    """``(ranks, kept)`` for candidates with rewards ``scores``.

    ``ranks[i]`` is candidate i's place, 1 for the highest reward; equal rewards keep candidate order
    (the lower index ranks first), so the result is deterministic. ``kept`` lists the indices of the
    ``keep`` best candidates, best first. Raises ``ValueError`` if ``keep`` is not in 1..len(scores)
    or a score is not a finite number.
    """
    values = [float(s) for s in scores]
    if not 1 <= keep <= len(values):
        raise ValueError(f"keep must be between 1 and the number of candidates ({len(values)}), got {keep}")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"scores must be finite numbers, got {values}")
    order = sorted(range(len(values)), key=lambda i: (-values[i], i))
    ranks = [0] * len(values)
    for place, index in enumerate(order, start=1):
        ranks[index] = place
    return ranks, order[:keep]
