"""Preference pairs from review answers, and dataset snapshots held out by subject."""

from __future__ import annotations

import pytest

from hfplatform.errors import ApplicationError
from review.models import Comparison
from review.quality import reviewer_reliabilities
from review.services import assignment_next, rating_submit
from review.simulation import campaign_simulate
from reward.models import PreferenceDataset, PreferencePair
from reward.selectors import preference_pairs
from reward.services import preference_dataset_create
from tests.factories.review import answer_all, compare_all, honest


def _rate_all(campaign, reviewer, score):
    while (held := assignment_next(campaign=campaign, reviewer=reviewer)) is not None:
        value = score(held.item.headshot)
        rating_submit(reviewer=reviewer, assignment_id=held.pk, professionalism=value, likeness=value,
                      appeal=value)


def test_comparisons_become_pairs_and_ties_stay_ties(review_world, make_campaign, make_user):
    world = review_world(subjects=2, per_subject=3, portraits=0)
    campaign = make_campaign(world, task_kinds=["pairwise"], overlap=2)
    first, second = make_user("reviewer"), make_user("photographer")
    compare_all(campaign, first, lambda item: "a")
    compare_all(campaign, second, lambda item: "tie" if item.headshot.candidate_index == 0 else "a")
    pairs = preference_pairs(campaigns=[campaign], keep_ties=True)
    overall = [p for p in pairs if p["dimension"] == "overall"]
    assert len(overall) == 2 * 6  # two reviewers × 3 pairs per subject × 2 subjects
    assert {p["dimension"] for p in pairs} == {"overall", "likeness"}  # the reason's dimension too
    for pair in overall:
        assert pair["chosen"] != pair["rejected"]
        assert sorted(pair["votes"]) in (["a", "a"], ["a", "tie"])
    ties = [p for p in overall if p["tie"]]
    assert ties
    assert all(p["weight"] > 0 for p in ties)
    dropped = preference_pairs(campaigns=[campaign], keep_ties=False)
    assert not any(p["tie"] for p in dropped)
    assert len([p for p in dropped if p["dimension"] == "overall"]) == 12 - len(ties)
    from review.quality import reviewer_reliability

    reliability = reviewer_reliability(campaign)
    weights = {round(p["weight"], 6) for p in overall}
    assert weights == {round(reliability[first.pk], 6), round(2.0 * reliability[second.pk], 6)}
    pairwise = reviewer_reliability(campaign, kind="pairwise")
    assert pairwise == reliability  # a pairwise-only campaign: the pairwise figures are all there is


def _lenient(assignment):
    """Rates every regular headshot two steps higher than a careful reviewer (at most 5) and every
    broken gold image 5 (fails rating gold); chooses between two headshots exactly like them."""
    item = assignment.item
    if item.kind == "rating":
        if item.is_gold:
            return {"professionalism": 5, "likeness": 5, "appeal": 5}
        return {name: min(5, score + 2) for name, score in honest(assignment).items()}
    return honest(assignment)


def test_pairs_are_weighted_by_the_reliability_of_their_kind(review_world, make_campaign, make_user):
    """A reviewer lenient on ratings (fails rating gold, far from the others' ratings) but accurate on
    pairwise choices keeps a high weight on their choices and a low one on their ratings."""
    world = review_world(subjects=3, per_subject=4, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating", "pairwise"], overlap=4, gold_rate=0.2,
                             pairs_per_job=6)
    careful = [make_user("reviewer") for _ in range(3)]
    lenient = make_user("reviewer")
    for user in careful:
        answer_all(campaign, user, honest)
    answer_all(campaign, lenient, _lenient)
    reliability = reviewer_reliabilities(campaign)
    rating, pairwise, overall = reliability["rating"], reliability["pairwise"], reliability["overall"]
    assert rating[lenient.pk] < 0.5 < min(rating[u.pk] for u in careful)
    assert pairwise[lenient.pk] == pytest.approx(pairwise[careful[0].pk])  # as accurate as the others
    assert pairwise[lenient.pk] > 0.8
    assert overall[lenient.pk] < pairwise[lenient.pk] - 0.1  # one pooled figure would have cut it

    pairs = preference_pairs(campaigns=[campaign], margin=0.5, keep_ties=True)
    comparisons = [p for p in pairs if p["source"] == "comparison" and p["dimension"] == "overall"]
    assert len(comparisons) == 4 * 18  # every reviewer's choice on each of the 18 pairs
    assert {round(p["weight"], 9) for p in comparisons} == {round(pairwise[u.pk], 9) for u in careful}
    assert all(p["weight"] == pytest.approx(pairwise[lenient.pk]) for p in comparisons)
    behind = [rating[u.pk] for u in careful] + [rating[lenient.pk]]  # every headshot has these 4 ratings
    rated = [p for p in pairs if p["source"] == "rating"]
    assert rated
    assert all(p["weight"] == pytest.approx(sum(behind) / 4) for p in rated)


def test_simulated_answers_can_be_left_out_of_the_pairs(review_world, make_campaign, make_user,
                                                        engineer_user):
    world = review_world(subjects=2, per_subject=3, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating", "pairwise"], overlap=4, gold_rate=0.2)
    people = [make_user("reviewer"), make_user("photographer")]
    for person in people:
        answer_all(campaign, person, honest)
    campaign_simulate(campaign=campaign, objective="sharpness", reviewers=2, noise=1.0, seed=1)
    human = Comparison.objects.filter(campaign=campaign, item__is_gold=False, reviewer__in=people).count()
    every = Comparison.objects.filter(campaign=campaign, item__is_gold=False).count()
    assert every == 2 * human == 4 * 6  # 6 pairs, 2 people and 2 simulated reviewers each

    def overall(pairs):
        return [p for p in pairs if p["source"] == "comparison" and p["dimension"] == "overall"]

    assert len(overall(preference_pairs(campaigns=[campaign], keep_ties=True))) == every
    without = preference_pairs(campaigns=[campaign], keep_ties=True, include_simulated=False)
    assert len(overall(without)) == human
    alone = reviewer_reliabilities(campaign, exclude_simulated=True)["pairwise"]
    assert set(alone) == {p.pk for p in people}  # reliability estimated among people only
    assert all(len(p["votes"]) == 2 for p in overall(without))  # only the people's votes
    kept = preference_dataset_create(name="with-sims", campaign_ids=[campaign.pk], created_by=engineer_user)
    left = preference_dataset_create(name="people-only", campaign_ids=[campaign.pk], created_by=engineer_user,
                                     include_simulated=False)
    assert kept.options["include_simulated"] is True
    assert left.options["include_simulated"] is False
    assert left.counts["pairs"] < kept.counts["pairs"]
    assert left.fingerprint != kept.fingerprint

def test_ratings_become_pairs_above_the_margin(review_world, make_campaign, make_user):
    world = review_world(subjects=1, per_subject=3, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1)
    scores = {0: 5, 1: 4, 2: 4}  # candidate index -> score
    _rate_all(campaign, make_user("reviewer"), lambda head: scores[head.candidate_index])
    pairs = [p for p in preference_pairs(campaigns=[campaign], margin=0.5) if p["dimension"] == "appeal"]
    heads = world.by_subject[world.subjects[0].pk]
    expected = {(heads[0].pk, heads[1].pk), (heads[0].pk, heads[2].pk)}
    assert {(p["chosen"], p["rejected"]) for p in pairs} == expected
    assert all(p["margin"] == pytest.approx(1.0) for p in pairs)
    assert not [p for p in preference_pairs(campaigns=[campaign], margin=1.5) if p["dimension"] == "appeal"]


def test_dataset_is_held_out_by_subject_and_fingerprinted(review_world, make_campaign, make_user,
                                                          engineer_user):
    world = review_world(subjects=4, per_subject=3, portraits=0)
    campaign = make_campaign(world, task_kinds=["pairwise"], overlap=1)
    compare_all(campaign, make_user("reviewer"), lambda item: "a")
    dataset = preference_dataset_create(name="first", campaign_ids=[campaign.pk], created_by=engineer_user,
                                        test_share=0.25)
    pairs = PreferencePair.objects.filter(dataset=dataset)
    train = set(pairs.filter(split="train").values_list("subject_id", flat=True))
    test = set(pairs.filter(split="test").values_list("subject_id", flat=True))
    assert len(test) == 1
    assert len(train) == 3
    assert not train & test
    assert dataset.counts["pairs"] == pairs.count() == 24  # 12 overall + 12 likeness
    assert dataset.counts["subjects"] == {"train": 3, "test": 1}
    again = preference_dataset_create(name="second", campaign_ids=[campaign.pk], created_by=engineer_user,
                                      test_share=0.25)
    assert again.fingerprint == dataset.fingerprint
    assert len(dataset.fingerprint) == 64


def test_bad_dataset_requests_store_nothing(review_world, make_campaign, engineer_user):
    world = review_world(subjects=1, per_subject=2, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1)
    with pytest.raises(ApplicationError, match="no answers"):
        preference_dataset_create(name="empty", campaign_ids=[campaign.pk], created_by=engineer_user)
    with pytest.raises(ApplicationError, match="Unknown campaign"):
        preference_dataset_create(name="ghost", campaign_ids=[987654], created_by=engineer_user)
    assert not PreferenceDataset.objects.exists()


def test_export_in_chosen_rejected_format(review_world, make_campaign, make_user, engineer_user, tmp_path):
    from datasets import load_from_disk
    from django.core.management import CommandError, call_command

    world = review_world(subjects=3, per_subject=3, portraits=0)
    campaign = make_campaign(world, task_kinds=["pairwise"], overlap=1)
    compare_all(campaign, make_user("reviewer"), lambda item: "b")
    dataset = preference_dataset_create(name="exported", campaign_ids=[campaign.pk], created_by=engineer_user)
    call_command("export_preferences", dataset="exported", out=tmp_path / "hf")
    loaded = load_from_disk(str(tmp_path / "hf"))
    assert set(loaded) == {"train", "test"}
    assert len(loaded["train"]) + len(loaded["test"]) == dataset.counts["pairs"]
    row = loaded["train"][0]
    assert {"chosen", "rejected", "reference", "margin", "weight"} <= set(row)
    assert row["chosen"].size == (64, 64)
    pair = PreferencePair.objects.get(dataset=dataset, chosen_id=row["chosen_id"],
                                      rejected_id=row["rejected_id"], dimension=row["dimension"])
    assert pair.split == "train"
    assert not set(loaded["train"]["subject_id"]) & set(loaded["test"]["subject_id"])
    with pytest.raises(CommandError, match="no preference dataset"):
        call_command("export_preferences", dataset="nope", out=tmp_path / "x")
