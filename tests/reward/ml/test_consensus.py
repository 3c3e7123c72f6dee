"""The evaluation that tells a model that learnt from one that did not: accuracy against the consensus
of each item's votes, the reviewers' own ceiling, an objective's truth, paired comparison of two models
and rank correlation with ratings, on constructed votes whose truth is known."""

from __future__ import annotations

import numpy as np
import pytest

from reward.ml.data import PreferenceExample
from reward.ml.evaluate import (
    MIN_EVAL_PEOPLE,
    consensus_correct,
    evaluation_notes,
    human_ceiling,
    objective_correct,
    paired_difference,
    rating_correlation,
    vote_items,
)

GREY = np.zeros((8, 8, 3), np.uint8)


def image(level: int) -> np.ndarray:
    return np.full((8, 8, 3), level, np.uint8)


def noisy_votes(items: int, voters: int, flip: float, seed: int = 0):
    """``items`` pairs of headshots (2i better than 2i + 1, by brightness), each voted on by ``voters``
    reviewers who pick the better one except with probability ``flip``."""
    rng = np.random.default_rng(seed)
    examples, truth_correct_votes = [], 0
    for i in range(items):
        better, worse = 2 * i, 2 * i + 1
        images = {better: image(100 + i % 100), worse: image(50 + i % 50)}
        for _ in range(voters):
            right = rng.random() >= flip
            truth_correct_votes += right
            chosen, rejected = (better, worse) if right else (worse, better)
            examples.append(PreferenceExample(chosen=images[chosen], rejected=images[rejected],
                                              reference=GREY, chosen_id=chosen, rejected_id=rejected,
                                              person=i))
    return examples, truth_correct_votes


def truth_scores(examples):
    """The rewards of a model that knows the truth: the better (even id) headshot scores higher."""
    return {side: np.array([1.0 if getattr(e, f"{side}_id") % 2 == 0 else 0.0 for e in examples])
            for side in ("chosen", "rejected")}


def test_votes_on_the_same_two_headshots_form_one_item_whatever_the_order():
    examples, _ = noisy_votes(items=3, voters=3, flip=0.0)
    examples.append(PreferenceExample(chosen=image(51), rejected=image(101), reference=GREY,
                                      chosen_id=1, rejected_id=0))  # a dissenting vote on the first item
    items = vote_items(examples)
    assert [item.key for item in items] == [(0, 1), (2, 3), (4, 5)]
    assert items[0].wins == [3, 1]
    assert items[0].majority == 0
    assert sorted(items[0].votes) == ["a", "a", "a", "b"]
    assert vote_items([PreferenceExample(chosen=GREY, rejected=GREY, reference=GREY)]) is None


def test_consensus_tells_the_truth_better_than_single_votes():
    examples, correct_votes = noisy_votes(items=200, voters=5, flip=0.3)
    items = vote_items(examples)
    scores = truth_scores(examples)
    consensus = consensus_correct(items, scores)
    single_vote_accuracy = correct_votes / len(examples)
    # A model that knows the truth agrees with ~70 % of single votes but with ~84 % of majorities of 5.
    assert single_vote_accuracy == pytest.approx(0.7, abs=0.04)
    majority_right = sum(item.majority == 0 for item in items)
    assert consensus.mean() == pytest.approx(majority_right / len(items))
    assert consensus.mean() > single_vote_accuracy + 0.08
    # The reviewers' ceiling, computed the same way (a vote against the others' majority), is lower:
    # each vote is as noisy as any reviewer's.
    ceiling = human_ceiling([item.votes for item in items])
    assert ceiling["value"] < consensus.mean()
    assert ceiling["interval"][0] <= ceiling["value"] <= ceiling["interval"][1]
    # A model that learnt nothing scores at chance against the consensus.
    rng = np.random.default_rng(1)
    random_scores = {"chosen": rng.random(len(examples)), "rejected": rng.random(len(examples))}
    assert consensus_correct(items, random_scores).mean() == pytest.approx(0.5, abs=0.1)


def test_items_whose_votes_tie_are_not_scored():
    examples, _ = noisy_votes(items=1, voters=2, flip=0.0)
    examples[1] = PreferenceExample(chosen=image(50), rejected=image(100), reference=GREY, chosen_id=1,
                                    rejected_id=0)
    items = vote_items(examples)
    assert items[0].majority is None
    assert consensus_correct(items, truth_scores(examples)).size == 0


def test_objective_accuracy_against_the_noiseless_truth():
    examples, _ = noisy_votes(items=20, voters=3, flip=0.4)
    items = vote_items(examples)
    brightness = lambda im: float(im.mean())  # noqa: E731 - the objective the votes were noisy about
    assert objective_correct(items, examples, truth_scores(examples), brightness).tolist() == [1.0] * 20
    reversed_scores = {side: 1 - values for side, values in truth_scores(examples).items()}
    assert objective_correct(items, examples, reversed_scores, brightness).tolist() == [0.0] * 20


def test_paired_interval_separates_models_that_separate_intervals_do_not():
    rng = np.random.default_rng(0)
    a = (rng.random(60) < 0.75).astype(float)
    b = a.copy()
    b[np.flatnonzero(a)[:8]] = 0.0  # b gets 8 items wrong that a gets right, and nothing else differs
    result = paired_difference(a, b)
    assert result["difference"]["value"] == pytest.approx(8 / 60)
    assert result["difference"]["interval"][0] > 0  # the paired interval excludes no difference
    assert result["a"]["interval"][0] < result["b"]["interval"][1]  # the two separate ones overlap
    with pytest.raises(ValueError, match="same items"):
        paired_difference(a, b[:10])


def test_rank_correlation_with_mean_ratings_per_person():
    rng = np.random.default_rng(0)
    people = np.repeat(np.arange(10), 5)
    ratings = rng.uniform(1, 5, len(people))
    follows = rating_correlation(ratings + rng.normal(0, 0.1, len(people)), ratings, people)
    assert follows["value"] > 0.9
    assert follows["n"] == 10
    opposite = rating_correlation(-ratings, ratings, people)
    assert opposite["value"] == pytest.approx(-1.0)
    too_few = rating_correlation([1.0, 2.0], [3.0, 4.0], [7, 7])
    assert too_few["value"] is None
    assert too_few["reason"].startswith("unavailable")


def test_notes_say_when_there_are_too_few_people_or_items():
    assert evaluation_notes(MIN_EVAL_PEOPLE, 100, [0.8, 0.9]) == []
    notes = evaluation_notes(12, 20, [0.4, 0.8])
    assert len(notes) == 3
    assert "only 12 held-out people" in notes[0]
    assert "0.40 wide" in notes[2]
