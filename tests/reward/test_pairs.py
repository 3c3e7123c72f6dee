"""Preference pairs from review answers, and dataset snapshots held out by subject."""

from __future__ import annotations

import pytest

from hfplatform.errors import ApplicationError
from review.services import assignment_next, rating_submit
from reward.models import PreferenceDataset, PreferencePair
from reward.selectors import preference_pairs
from reward.services import preference_dataset_create
from tests.factories.review import compare_all


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
