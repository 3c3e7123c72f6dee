"""Best-of-n reranking on a trained reward model's scores."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from reward.ml.model import load_reward_model, reward_scores
from reward.ml.rerank import rerank
from tests.factories.preferences import headshot, portrait


def test_rerank_keeps_the_best_scored_candidates_in_order(trained):
    model = load_reward_model(trained.final)
    reference, _ = portrait(2024)  # a subject the model never saw
    rng = np.random.default_rng(1)
    radii = [1.8, 0.2, 2.4, 1.0, 0.0, 1.4, 2.0, 0.6]
    candidates = np.stack([headshot(reference, r, rng) for r in radii])
    scores = reward_scores(model, candidates, reference)

    ranks, kept = rerank(scores.tolist(), keep=3)
    assert kept == np.argsort(-scores, kind="stable")[:3].tolist()
    assert [ranks[i] for i in kept] == [1, 2, 3]
    assert sorted(ranks) == list(range(1, 9))
    assert all(scores[a] >= scores[b] for a, b in itertools.pairwise(kept))
    assert np.mean([radii[i] for i in kept]) < np.mean(radii)  # the trained model keeps sharper ones


def test_ties_go_to_the_lower_index():
    assert rerank([1.0, 2.0, 2.0, 0.5], keep=2) == ([3, 1, 2, 4], [1, 2])
    assert rerank([0.0, 0.0, 0.0], keep=3) == ([1, 2, 3], [0, 1, 2])


@pytest.mark.parametrize("keep", [0, -1, 4])
def test_keep_must_be_between_one_and_n(keep):
    with pytest.raises(ValueError, match="keep must be between 1 and the number of candidates"):
        rerank([0.1, 0.2, 0.3], keep=keep)


def test_nan_scores_are_refused():
    with pytest.raises(ValueError, match="finite"):
        rerank([0.1, float("nan")], keep=1)
