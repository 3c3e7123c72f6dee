"""Best-of-n: a generation job can keep only the top k of its n candidates by a ranking model.

The generation app knows this interface only. The reward app registers its implementation at
start-up (as apps register job kinds), so generation imports nothing from the apps above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from hfplatform.errors import ApplicationError


@dataclass(frozen=True)
class Ranking:
    """Per candidate: its score and rank (1 = best), and the indices of the top k kept."""

    scores: list[float]
    ranks: list[int]
    kept: list[int]


class CandidateRanker(Protocol):
    def active(self) -> str:
        """The name of the model that ranks new jobs; ApplicationError when there is none."""

    def rank(self, *, name: str, images: list[np.ndarray], reference: np.ndarray, keep: int) -> Ranking:
        """Score ``images`` (H×W×3 uint8) of one person against their ``reference`` crop."""


_ranker: CandidateRanker | None = None


def register_candidate_ranker(ranker: CandidateRanker) -> None:
    global _ranker
    _ranker = ranker


def candidate_ranker() -> CandidateRanker:
    if _ranker is None:
        raise ApplicationError("Keeping the top k needs a ranking model, and no app provides one.",
                               code="no_candidate_ranker")
    return _ranker
