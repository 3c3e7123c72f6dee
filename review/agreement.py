"""Agreement between reviewers and how much to trust each one: plain Python and NumPy, no Django.

Everything works on a *reliability matrix*: one row per reviewer, one column per item, the answer
as a number and ``NaN`` where the reviewer did not answer the item. Ratings are the 1–5 scores of
one dimension; pairwise choices are coded with :data:`PAIRWISE_CODES` ("a", "b", "tie").

Krippendorff's alpha comes from the ``krippendorff`` package (ordinal for the 1–5 scales, nominal
for pairwise choices). Where alpha is undefined — fewer than two reviewers, no item answered by two
of them, or every answer the same — the result says so in words instead of a number.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import krippendorff
import numpy as np

from hfplatform.ml.stats import wilson_interval
from review.options import SCORES

Level = Literal["ordinal", "nominal"]

#: Pairwise winners as numbers for the nominal alpha (the numbers carry no order).
PAIRWISE_CODES: dict[str, int] = {"a": 0, "b": 1, "tie": 2}
#: The 1–5 rating scale, the value domain of the ordinal alpha.
RATING_SCALE: tuple[int, ...] = tuple(SCORES)
#: Krippendorff's guidance: ≥ 0.8 reliable, ≥ 0.667 enough for tentative conclusions only.
ALPHA_TENTATIVE = 0.667
ALPHA_RELIABLE = 0.8


# --- Reliability matrix ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReliabilityMatrix:
    """Answers as a reviewers × items array (NaN = not answered), with the row and column keys."""

    values: np.ndarray
    reviewers: tuple[Hashable, ...]
    items: tuple[Hashable, ...]


def reliability_matrix(answers: Iterable[tuple[Hashable, Hashable, float]]) -> ReliabilityMatrix:
    """Build the matrix from ``(reviewer, item, value)`` triples; rows and columns in sorted key order
    (keys of one type: ids or names).

    A reviewer answers an item at most once; a repeated (reviewer, item) keeps the last value."""
    triples = list(answers)
    reviewers = tuple(sorted({r for r, _, _ in triples}))
    items = tuple(sorted({i for _, i, _ in triples}))
    row = {r: n for n, r in enumerate(reviewers)}
    col = {i: n for n, i in enumerate(items)}
    values = np.full((len(reviewers), len(items)), np.nan)
    for reviewer, item, value in triples:
        values[row[reviewer], col[item]] = float(value)
    return ReliabilityMatrix(values=values, reviewers=reviewers, items=items)


def pairwise_codes(winners: Iterable[str]) -> list[int]:
    """Pairwise winners ("a", "b", "tie") as the numbers the nominal alpha uses."""
    return [PAIRWISE_CODES[w] for w in winners]


# --- Krippendorff's alpha -------------------------------------------------------------------------


@dataclass(frozen=True)
class Alpha:
    """Krippendorff's alpha, or why there is none.

    ``value`` is None exactly when ``unavailable`` gives the reason. ``n_items`` counts the items
    answered by at least two reviewers (only those carry information about agreement) and
    ``n_reviewers`` the reviewers with an answer on such an item."""

    value: float | None
    n_items: int
    n_reviewers: int
    level: Level
    unavailable: str | None = None

    @property
    def text(self) -> str:
        return f"{self.value:.3f}" if self.value is not None else f"unavailable: {self.unavailable}"


def _pairable(values: np.ndarray) -> np.ndarray:
    """The columns (items) answered by at least two rows (reviewers)."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"a reliability matrix is 2-D (reviewers × items), got shape {values.shape}")
    return values[:, (~np.isnan(values)).sum(axis=0) >= 2]


def krippendorff_alpha(values: np.ndarray, level: Level,
                       value_domain: Sequence[float] | None = None) -> Alpha:
    """Krippendorff's alpha of a reviewers × items matrix at ``level`` ("ordinal" or "nominal").

    ``value_domain`` lists every possible value (for ordinal data, in order; e.g. 1–5); by default
    the values that occur. Items answered by a single reviewer are left out (they carry no
    information about agreement and do not change alpha)."""
    data = _pairable(values)
    rows = data[(~np.isnan(data)).any(axis=1)]
    n_items, n_reviewers = data.shape[1], rows.shape[0]

    def unavailable(reason: str) -> Alpha:
        return Alpha(None, n_items, n_reviewers, level, reason)

    if np.asarray(values).shape[0] < 2:
        return unavailable("fewer than 2 reviewers")
    if n_items == 0:
        return unavailable("no item was answered by 2 or more reviewers")
    if np.unique(rows[~np.isnan(rows)]).size < 2:
        return unavailable("no variation: every answer is the same")
    with np.errstate(invalid="ignore", divide="ignore"):
        value = float(krippendorff.alpha(reliability_data=rows, level_of_measurement=level,
                                         value_domain=None if value_domain is None else list(value_domain)))
    if not np.isfinite(value):
        return unavailable("alpha is undefined for these answers")
    return Alpha(value, n_items, n_reviewers, level)


@dataclass(frozen=True)
class PairAlpha:
    """Alpha between two reviewers over the items both answered."""

    reviewer_a: Hashable
    reviewer_b: Hashable
    n_common: int
    alpha: Alpha


def pairwise_alpha(matrix: ReliabilityMatrix, level: Level, min_common: int = 3,
                   value_domain: Sequence[float] | None = None) -> list[PairAlpha]:
    """Alpha for every pair of reviewers with at least ``min_common`` items in common.

    A pair whose common answers never vary still appears, with alpha unavailable."""
    answered = ~np.isnan(matrix.values)
    pairs = []
    for a, b in itertools.combinations(range(len(matrix.reviewers)), 2):
        common = answered[a] & answered[b]
        if int(common.sum()) < min_common:
            continue
        sub = matrix.values[[a, b]][:, common]
        pairs.append(PairAlpha(matrix.reviewers[a], matrix.reviewers[b], int(common.sum()),
                               krippendorff_alpha(sub, level, value_domain)))
    return pairs


# --- Consensus with the other reviewers ----------------------------------------------------------


@dataclass(frozen=True)
class Consensus:
    """How often one reviewer agreed with the others: ``agree`` of ``n`` comparable answers."""

    agree: int
    n: int

    @property
    def share(self) -> float | None:
        return self.agree / self.n if self.n else None

    def __add__(self, other: Consensus) -> Consensus:
        return Consensus(self.agree + other.agree, self.n + other.n)


def _majority(values: np.ndarray) -> float | None:
    """The single most frequent value, or None when two values tie for most frequent."""
    counts = Counter(values.tolist()).most_common()
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        return None
    return counts[0][0]


def consensus(matrix: ReliabilityMatrix | np.ndarray, kind: Literal["rating", "pairwise", "blind"],
              tolerance: float = 1.0) -> list[Consensus]:
    """Per reviewer (row), agreement with the OTHER reviewers of each item they answered: the
    consensus is leave-one-out, the reviewer's own answer never counts towards it. Give one kind of
    answer per matrix (one rating dimension, pairwise choices or blind answers), never a mix.

    Rating: an answer agrees when it is within ``tolerance`` (±1 by default) of the median of the
    others' answers on that item. Pairwise and blind (nominal codes): an answer agrees when it
    equals the majority of the others; an item where the others split evenly has no majority and is
    left out. Items nobody else answered are left out."""
    values = matrix.values if isinstance(matrix, ReliabilityMatrix) else np.asarray(matrix, dtype=float)
    results = []
    for r in range(values.shape[0]):
        agree = n = 0
        for col in np.flatnonzero(~np.isnan(values[r])):
            others = np.delete(values[:, col], r)
            others = others[~np.isnan(others)]
            if others.size == 0:
                continue
            if kind == "rating":
                n += 1
                agree += abs(values[r, col] - float(np.median(others))) <= tolerance
            else:
                majority = _majority(others)
                if majority is None:
                    continue
                n += 1
                agree += values[r, col] == majority
        results.append(Consensus(int(agree), n))
    return results


# --- Reliability score ----------------------------------------------------------------------------


def shrunk_share(successes: int, n: int, prior: float = 0.5, strength: float = 4.0) -> float:
    """``(successes + strength·prior) / (n + strength)``: the posterior mean of a share under a
    Beta(strength·prior, strength·(1 − prior)) prior. With n = 0 it is the prior."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    return (successes + strength * prior) / (n + strength)


def reliability_score(*, gold_correct: int, gold_n: int, consensus_agree: int, consensus_n: int,
                      gold_weight: float = 0.5, prior: float = 0.5, strength: float = 4.0) -> float:
    """A reviewer's reliability in [0, 1] from gold accuracy and consensus agreement.

    Each share is shrunk towards ``prior`` as if the reviewer had also given ``strength`` answers
    at the prior rate, so a handful of answers cannot give 0 or 1::

        G = (gold_correct    + strength·prior) / (gold_n      + strength)
        C = (consensus_agree + strength·prior) / (consensus_n + strength)
        reliability = gold_weight · G + (1 − gold_weight) · C

    Gold answers are known to be right, consensus only says "like the others"; both count half by
    default. A reviewer with no gold and no overlapping answers scores exactly ``prior``."""
    if not 0 <= gold_weight <= 1:
        raise ValueError(f"gold_weight must be in [0, 1], got {gold_weight}")
    gold = shrunk_share(gold_correct, gold_n, prior, strength)
    agreement = shrunk_share(consensus_agree, consensus_n, prior, strength)
    return gold_weight * gold + (1 - gold_weight) * agreement


# --- Blind-test detection rate --------------------------------------------------------------------


@dataclass(frozen=True)
class DetectionRate:
    """Share of correct blind judgements with its Wilson interval; rate None when n is 0."""

    correct: int
    n: int
    rate: float | None
    low: float | None
    high: float | None
    level: float = 0.95

    @property
    def unavailable(self) -> str | None:
        return None if self.n else "no judgements"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "unavailable": self.unavailable}


def detection_rate(correct: int, n: int, level: float = 0.95) -> DetectionRate:
    """How often judges told generated from real correctly (0.5 = chance), with a Wilson interval."""
    if n == 0:
        return DetectionRate(0, 0, None, None, None, level)
    low, high = wilson_interval(correct, n, level)
    return DetectionRate(correct, n, correct / n, low, high, level)
