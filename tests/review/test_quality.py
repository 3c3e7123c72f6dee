"""Agreement, reviewer quality and blind detection from real answers given through the services."""

from __future__ import annotations

import json
import re

import krippendorff
import numpy as np
import pytest

from review.agreement import reliability_score
from review.models import Comparison, Rating
from review.quality import (
    blind_detection,
    campaign_agreement,
    rating_means_by_role,
    reviewer_pseudonym,
    reviewer_quality,
)
from review.services import assignment_next, rating_submit
from tests.factories.review import answer_all, gold_wrong, honest

DIMENSIONS = ("professionalism", "likeness", "appeal", "pairwise")


@pytest.fixture
def answered(review_world, make_campaign, make_user):
    """A rating + pairwise campaign with gold items, answered in full by three reviewers: two careful
    ones (one a photographer) and one who agrees with them but gets every gold item wrong."""
    world = review_world(subjects=2, per_subject=3, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating", "pairwise"], overlap=3, gold_rate=0.2)
    careful, photographer, careless = make_user("reviewer"), make_user("photographer"), make_user("reviewer")
    done = {
        careful: answer_all(campaign, careful, honest, time_spent_ms=1200),
        photographer: answer_all(campaign, photographer, honest, time_spent_ms=2000),
        careless: answer_all(campaign, careless, gold_wrong, time_spent_ms=400),
    }
    return campaign, done


def _by_pseudonym(rows):
    return {row["reviewer"]: row for row in rows}


def _gold(answers):
    return [a for a in answers if a.item.is_gold]


def test_identical_regular_answers_agree_perfectly(answered):
    campaign, _ = answered
    agreement = campaign_agreement(campaign)
    dims = {d["name"]: d for d in agreement["dimensions"]}
    assert tuple(dims) == DIMENSIONS
    for name in DIMENSIONS:
        assert dims[name]["alpha"] == pytest.approx(1.0), name
        assert dims[name]["n_items"] == 6  # gold items left out; 6 headshots, 6 pairs
        assert dims[name]["n_reviewers"] == 3
        assert [p["n_common"] for p in dims[name]["pairs"]] == [6, 6, 6]
        assert all(p["alpha"] == pytest.approx(1.0) for p in dims[name]["pairs"])
    assert dims["pairwise"]["level"] == "nominal"
    assert dims["appeal"]["level"] == "ordinal"
    assert agreement["thresholds"] == {"tentative": 0.667, "reliable": 0.8}


def test_reviewer_figures_and_gold_wrong_lowers_reliability(answered):
    campaign, done = answered
    careful, photographer, careless = done
    rows = _by_pseudonym(reviewer_quality(campaign))
    assert set(rows) == {reviewer_pseudonym(u.pk) for u in done}
    for user, answers in done.items():
        row = rows[reviewer_pseudonym(user.pk)]
        gold = _gold(answers)
        assert row["items_done"] == len(answers) == 12 + len(gold)
        assert row["gold_answered"] == len(gold) >= 2
        # every regular item: 3 dimensions + 6 pairs, each compared with the two others who agree
        assert (row["consensus_n"], row["consensus_agreement"]) == (6 * 3 + 6, 1.0)
    assert rows[reviewer_pseudonym(careful.pk)]["role"] == "reviewer"
    assert rows[reviewer_pseudonym(photographer.pk)]["role"] == "photographer"
    assert rows[reviewer_pseudonym(careful.pk)]["median_time_ms"] == 1200
    assert rows[reviewer_pseudonym(careless.pk)]["median_time_ms"] == 400
    good, bad = rows[reviewer_pseudonym(careful.pk)], rows[reviewer_pseudonym(careless.pk)]
    assert good["gold_accuracy"] == 1.0
    assert bad["gold_accuracy"] == 0.0
    assert bad["reliability"] < good["reliability"]
    assert good["reliability"] == pytest.approx(reliability_score(
        gold_correct=good["gold_answered"], gold_n=good["gold_answered"], consensus_agree=24, consensus_n=24))
    assert bad["reliability"] == pytest.approx(reliability_score(
        gold_correct=0, gold_n=bad["gold_answered"], consensus_agree=24, consensus_n=24))
    assert reviewer_quality(campaign)[-1]["reviewer"] == bad["reviewer"]  # least reliable last


def test_pseudonyms_hide_who_the_reviewers_are(answered, settings):
    campaign, done = answered
    dumped = json.dumps([campaign_agreement(campaign), reviewer_quality(campaign)], default=str)
    for user in done:
        pseudonym = reviewer_pseudonym(user.pk)
        assert re.fullmatch(r"r-[0-9a-f]{10}", pseudonym)
        assert pseudonym in dumped
        assert user.username not in dumped
        assert pseudonym != f"r-{user.pk}"
    assert "reviewer_id" not in dumped
    assert "username" not in dumped
    first = next(iter(done))
    before = reviewer_pseudonym(first.pk)
    assert reviewer_pseudonym(first.pk) == before  # stable
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    assert reviewer_pseudonym(first.pk) != before  # keyed by SECRET_KEY


def test_disagreement_alpha_matches_krippendorff_on_stored_answers(review_world, make_campaign, make_user):
    world = review_world(subjects=2, per_subject=3, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating", "pairwise"], overlap=3)
    reviewers = [make_user("reviewer") for _ in range(3)]

    def contrary(assignment):
        """Reverses the careful professionalism score, shifts appeal by two steps, often says tie."""
        item = assignment.item
        if item.kind == "pairwise":
            return {"winner": "tie" if item.headshot_id % 3 else "b"}
        score = honest(assignment)["appeal"]
        return {"professionalism": 6 - score, "likeness": 3, "appeal": 1 + (score + 1) % 5}

    answer_all(campaign, reviewers[0], honest)
    answer_all(campaign, reviewers[1], honest)
    answer_all(campaign, reviewers[2], contrary)
    dims = {d["name"]: d for d in campaign_agreement(campaign)["dimensions"]}
    for name in ("professionalism", "appeal"):
        matrix = _matrix(Rating.objects.filter(campaign=campaign).values_list("reviewer_id", "item_id", name))
        expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="ordinal")
        assert dims[name]["alpha"] == pytest.approx(expected)
        assert dims[name]["alpha"] < 0.2
    codes = {"a": 0, "b": 1, "tie": 2}
    winners = Comparison.objects.filter(campaign=campaign).values_list("reviewer_id", "item_id", "winner")
    matrix = _matrix((r, i, codes[w]) for r, i, w in winners)
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    assert dims["pairwise"]["alpha"] == pytest.approx(expected)
    careful = _by_pseudonym(reviewer_quality(campaign))[reviewer_pseudonym(reviewers[0].pk)]
    contrarian = _by_pseudonym(reviewer_quality(campaign))[reviewer_pseudonym(reviewers[2].pk)]
    assert contrarian["consensus_agreement"] < careful["consensus_agreement"]
    assert contrarian["gold_accuracy"] is None
    assert contrarian["gold_answered"] == 0


def _matrix(triples):
    triples = list(triples)
    reviewers = sorted({r for r, _, _ in triples})
    items = sorted({i for _, i, _ in triples})
    matrix = np.full((len(reviewers), len(items)), np.nan)
    for r, i, v in triples:
        matrix[reviewers.index(r), items.index(i)] = v
    return matrix


def test_alpha_is_unavailable_with_one_reviewer_or_no_shared_item(review_world, make_campaign, make_user):
    world = review_world(subjects=1, per_subject=3, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1)
    first = make_user("reviewer")
    assignment = assignment_next(campaign=campaign, reviewer=first)
    rating_submit(reviewer=first, assignment_id=assignment.pk, **honest(assignment))
    dims = {d["name"]: d for d in campaign_agreement(campaign)["dimensions"]}
    assert dims["appeal"]["alpha"] is None
    assert dims["appeal"]["text"] == "unavailable: fewer than 2 reviewers"
    answer_all(campaign, make_user("reviewer"), honest)  # the other items, one answer each (overlap 1)
    dims = {d["name"]: d for d in campaign_agreement(campaign)["dimensions"]}
    assert dims["appeal"]["unavailable"] == "no item was answered by 2 or more reviewers"
    assert dims["pairwise"]["unavailable"] == "fewer than 2 reviewers"
    assert all(d["pairs"] == [] for d in dims.values())


def test_blind_detection_by_truth_and_role(review_world, make_campaign, make_user):
    world = review_world(subjects=2, per_subject=3, portraits=2)
    campaign = make_campaign(world, task_kinds=["blind"], overlap=2)
    says_ai, says_studio = make_user("reviewer"), make_user("photographer")
    answer_all(campaign, says_ai, lambda a: {"answer": "ai", "confidence": 4})
    answer_all(campaign, says_studio, lambda a: {"answer": "studio", "confidence": 2})
    blind = blind_detection(campaign)
    overall = blind["overall"]
    assert (overall["correct"], overall["n"]) == (8, 16)  # 6 generated + 2 real, each judged twice
    assert overall["rate"] == 0.5
    assert overall["low"] < 0.5 < overall["high"]
    assert (blind["by_truth"]["generated"]["rate"], blind["by_truth"]["generated"]["n"]) == (0.5, 12)
    assert (blind["by_truth"]["real"]["rate"], blind["by_truth"]["real"]["n"]) == (0.5, 4)
    assert blind["by_role"]["reviewer"]["rate"] == 6 / 8  # says "ai": right on every generated image
    assert blind["by_role"]["photographer"]["rate"] == 2 / 8
    for figure in (*blind["by_truth"].values(), *blind["by_role"].values()):
        assert figure["low"] <= figure["rate"] <= figure["high"]


def test_blind_detection_without_judgements(review_world, make_campaign):
    campaign = make_campaign(review_world(subjects=1, per_subject=2, portraits=1), task_kinds=["blind"])
    blind = blind_detection(campaign)
    assert blind["overall"]["rate"] is None
    assert blind["overall"]["unavailable"] == "no judgements"


def test_photographer_and_reviewer_means_are_apart_and_weighted(review_world, make_campaign, make_user,
                                                                 settings):
    world = review_world(subjects=1, per_subject=4, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=2, gold_rate=0.25)
    low = answer_all(campaign, make_user("reviewer"),
                     lambda a: {"professionalism": 2, "likeness": 2, "appeal": 1 if a.item.is_gold else 2})
    high = answer_all(campaign, make_user("photographer"),
                      lambda a: {"professionalism": 4, "likeness": 5, "appeal": 1 if a.item.is_gold else 4})
    assert any(a.item.is_gold for a in low + high)  # gold answers exist and are left out of the means
    settings.REVIEW_PHOTOGRAPHER_WEIGHT = 3
    means = rating_means_by_role(campaign)
    assert means["photographer_weight"] == 3.0
    assert means["roles"]["reviewer"] == {"n": 4, "professionalism": 2.0, "likeness": 2.0, "appeal": 2.0}
    assert means["roles"]["photographer"] == {"n": 4, "professionalism": 4.0, "likeness": 5.0, "appeal": 4.0}
    assert means["weighted"]["n"] == 8
    assert means["weighted"]["professionalism"] == pytest.approx((2 + 3 * 4) / 4)
    assert means["weighted"]["likeness"] == pytest.approx((2 + 3 * 5) / 4)
    del settings.REVIEW_PHOTOGRAPHER_WEIGHT
    assert rating_means_by_role(campaign)["photographer_weight"] == 2.0


def test_consensus_agreement_is_leave_one_out_and_per_kind(review_world, make_campaign, make_user):
    """The outside team's case: reviewers who agree on ratings but not on choices. Pooled over kinds
    their agreement looked high while pairwise alpha was about 0; per kind it says so."""
    world = review_world(subjects=2, per_subject=3, portraits=2)
    campaign = make_campaign(world, task_kinds=["rating", "pairwise", "blind"], overlap=3)
    reviewers = [make_user("reviewer") for _ in range(3)]

    def contrary(side):
        def policy(assignment):
            item = assignment.item
            if item.kind == "pairwise":
                return {"winner": side if side != "mixed" else ("a" if item.headshot_id % 2 else "b")}
            return honest(assignment)
        return policy

    for reviewer, side in zip(reviewers, ("a", "b", "mixed"), strict=True):
        answer_all(campaign, reviewer, contrary(side))
    rows = _by_pseudonym(reviewer_quality(campaign))
    dims = {d["name"]: d for d in campaign_agreement(campaign)["dimensions"]}
    assert dims["pairwise"]["alpha"] < 0.1
    first = rows[reviewer_pseudonym(reviewers[0].pk)]
    kinds = first["by_kind"]
    assert (kinds["rating"]["consensus_agreement"], kinds["rating"]["consensus_n"]) == (1.0, 6 * 3)
    assert (kinds["blind"]["consensus_agreement"], kinds["blind"]["consensus_n"]) == (1.0, 8)
    # r0 always says a, r1 always b: where r2 sides with r1 the others' majority is b (r0 disagrees);
    # where r2 says a the others split and the item is left out. Never does r0's own vote count.
    assert kinds["pairwise"]["consensus_agreement"] == 0.0
    assert kinds["pairwise"]["consensus_n"] > 0
    assert first["consensus_agreement"] > 0.8  # pooled over kinds: the misleading figure
    assert first["reliability_pairwise"] < 0.5 < first["reliability_rating"]
    assert {row["simulated"] for row in rows.values()} == {False}
