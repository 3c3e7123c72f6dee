"""The agreement maths on hand-built matrices (no database)."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest

from hfplatform.ml.stats import wilson_interval
from review.agreement import (
    PAIRWISE_CODES,
    RATING_SCALE,
    Consensus,
    consensus,
    detection_rate,
    krippendorff_alpha,
    pairwise_alpha,
    pairwise_codes,
    reliability_matrix,
    reliability_score,
    shrunk_share,
)

NAN = np.nan
# 3 reviewers × 6 items; item 5 answered by one reviewer only.
DISAGREE = np.array([
    [1, 2, 3, 4, 5, NAN],
    [1, 3, 3, 4, 2, 2],
    [2, 2, 1, 5, 5, NAN],
])


def test_perfect_agreement_gives_alpha_one():
    values = np.array([[1, 2, 3, 4, 5], [1, 2, 3, 4, 5], [1, 2, 3, NAN, 5]])
    alpha = krippendorff_alpha(values, "ordinal", RATING_SCALE)
    assert alpha.value == pytest.approx(1.0)
    assert (alpha.n_items, alpha.n_reviewers, alpha.unavailable) == (5, 3, None)
    assert alpha.text == "1.000"


def test_disagreement_matches_the_krippendorff_package_on_the_same_matrix():
    ordinal = krippendorff_alpha(DISAGREE, "ordinal", RATING_SCALE)
    expected = krippendorff.alpha(reliability_data=DISAGREE, level_of_measurement="ordinal")
    assert ordinal.value == pytest.approx(expected)
    assert 0 < ordinal.value < 0.9
    assert ordinal.n_items == 5  # the item with a single answer carries no agreement information
    nominal = krippendorff_alpha(DISAGREE, "nominal")
    assert nominal.value == pytest.approx(
        krippendorff.alpha(reliability_data=DISAGREE, level_of_measurement="nominal"))
    assert nominal.value < ordinal.value  # nominal counts 3 vs 4 as a full disagreement


def test_pairwise_choices_use_the_nominal_level():
    winners = [["a", "b", "tie", "a"], ["a", "b", "a", "a"], ["b", "b", "tie", "a"]]
    values = np.array([pairwise_codes(row) for row in winners], dtype=float)
    alpha = krippendorff_alpha(values, "nominal", sorted(PAIRWISE_CODES.values()))
    assert alpha.value == pytest.approx(krippendorff.alpha(reliability_data=values,
                                                           level_of_measurement="nominal"))


@pytest.mark.parametrize(("values", "reason"), [
    (np.array([[1.0, 2.0, 3.0]]), "fewer than 2 reviewers"),
    (np.empty((0, 0)), "fewer than 2 reviewers"),
    (np.array([[1, NAN, 3], [NAN, 2, NAN]]), "no item was answered by 2 or more reviewers"),
    (np.array([[4, 4, NAN], [4, 4, 4.0]]), "no variation: every answer is the same"),
])
def test_undefined_alpha_is_reported_with_a_reason(values, reason):
    alpha = krippendorff_alpha(values, "ordinal", RATING_SCALE)
    assert alpha.value is None
    assert alpha.unavailable == reason
    assert alpha.text == f"unavailable: {reason}"


def test_reliability_matrix_from_triples():
    matrix = reliability_matrix([("r2", 10, 3), ("r1", 10, 4), ("r1", 11, 5)])
    assert matrix.reviewers == ("r1", "r2")
    np.testing.assert_array_equal(matrix.values, [[4, 5], [3, NAN]])
    assert matrix.items == (10, 11)


def test_pair_alpha_only_for_pairs_with_enough_items_in_common():
    matrix = reliability_matrix([
        *[("x", i, v) for i, v in enumerate([1, 2, 3, 4])],
        *[("y", i, v) for i, v in enumerate([1, 2, 3, 5])],
        ("z", 0, 1), ("z", 1, 2),  # only 2 items in common with anyone
    ])
    pairs = pairwise_alpha(matrix, "ordinal", min_common=3, value_domain=RATING_SCALE)
    assert [(p.reviewer_a, p.reviewer_b, p.n_common) for p in pairs] == [("x", "y", 4)]
    expected = krippendorff.alpha(reliability_data=[[1, 2, 3, 4], [1, 2, 3, 5]],
                                  level_of_measurement="ordinal")
    assert pairs[0].alpha.value == pytest.approx(expected)
    assert len(pairwise_alpha(matrix, "ordinal", min_common=2)) == 3


def test_rating_consensus_is_within_one_of_the_others_median():
    # item 0: others of r0 are (3, 4) → median 3.5; r0 says 5 → off by 1.5 (disagrees)
    # item 1: others of r0 are (2, 2) → r0 says 3 → agrees; item 2: only r0 → ignored
    values = np.array([[5, 3, 1], [3, 2, NAN], [4, 2, NAN]])
    result = consensus(values, "rating")
    assert result[0] == Consensus(agree=1, n=2)
    assert result[0].share == 0.5
    # r1 item 0: others (5, 4) → 4.5, says 3 → off 1.5; item 1: others (3, 2) → 2.5, says 2 → agrees
    assert result[1] == Consensus(agree=1, n=2)
    assert result[2] == Consensus(agree=2, n=2)


def test_pairwise_consensus_is_the_majority_of_the_others():
    a, b, tie = PAIRWISE_CODES["a"], PAIRWISE_CODES["b"], PAIRWISE_CODES["tie"]
    values = np.array([[a, a, b], [a, b, NAN], [a, a, NAN], [b, NAN, NAN]], dtype=float)
    result = consensus(values, "pairwise")
    # r0: item 0 others (a, a, b) → a agrees; item 1 others (b, a) split → ignored; item 2 alone → ignored
    assert result[0] == Consensus(agree=1, n=1)
    assert result[3] == Consensus(agree=0, n=1)  # others all say a
    assert consensus(np.array([[tie], [NAN]]), "pairwise")[0] == Consensus(0, 0)
    assert Consensus(0, 0).share is None


def test_reliability_shrinks_towards_the_prior_and_rewards_gold():
    assert shrunk_share(0, 0) == 0.5
    assert shrunk_share(2, 2) == pytest.approx(4 / 6)
    perfect = reliability_score(gold_correct=3, gold_n=3, consensus_agree=10, consensus_n=10)
    wrong_gold = reliability_score(gold_correct=0, gold_n=3, consensus_agree=10, consensus_n=10)
    assert perfect == pytest.approx(0.5 * 5 / 7 + 0.5 * 12 / 14)
    assert wrong_gold == pytest.approx(0.5 * 2 / 7 + 0.5 * 12 / 14)
    assert 0 <= wrong_gold < perfect <= 1
    assert reliability_score(gold_correct=0, gold_n=0, consensus_agree=0, consensus_n=0) == 0.5
    # more evidence moves the score further from the prior
    more = reliability_score(gold_correct=30, gold_n=30, consensus_agree=10, consensus_n=10)
    assert more > perfect
    with pytest.raises(ValueError, match="successes"):
        reliability_score(gold_correct=4, gold_n=3, consensus_agree=0, consensus_n=0)


def test_wilson_interval_contains_the_rate_and_shrinks_with_n():
    low, high = wilson_interval(7, 10)
    assert low == pytest.approx(0.3968, abs=1e-4)  # textbook values for 7 of 10
    assert high == pytest.approx(0.8922, abs=1e-4)
    widths = []
    for n in (10, 100, 1000):
        figure = detection_rate(7 * n // 10, n)
        assert figure.rate == pytest.approx(0.7)
        assert figure.low < figure.rate < figure.high
        widths.append(figure.high - figure.low)
    assert widths[0] > widths[1] > widths[2]
    assert wilson_interval(0, 5)[0] == 0.0
    assert wilson_interval(5, 5)[1] == 1.0


def test_detection_rate_without_judgements_is_unavailable():
    figure = detection_rate(0, 0)
    assert figure.rate is None
    assert figure.as_dict()["unavailable"] == "no judgements"
