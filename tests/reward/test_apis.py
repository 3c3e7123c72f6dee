"""The reward API as a client script uses it: datasets name their held-out people (to evaluate on)."""

from __future__ import annotations

import pytest

from reward.models import PreferencePair
from reward.services import preference_dataset_create
from tests.factories.review import compare_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(review_world, make_campaign, make_user, engineer):
    world = review_world(subjects=4, per_subject=3, portraits=0)
    campaign = make_campaign(world, task_kinds=["pairwise"], overlap=1)
    compare_all(campaign, make_user("reviewer"), lambda item: "a")
    return preference_dataset_create(name="heldout", campaign_ids=[campaign.pk], created_by=engineer,
                                     test_share=0.5)


def test_a_dataset_lists_its_held_out_people(api_client_for, dataset):
    held_out = sorted(set(PreferencePair.objects.filter(dataset=dataset, split="test")
                          .values_list("subject_id", flat=True)))
    trained_on = set(PreferencePair.objects.filter(dataset=dataset, split="train")
                     .values_list("subject_id", flat=True))
    assert len(held_out) == 2
    assert not trained_on & set(held_out)
    auditor = api_client_for("auditor")
    detail = auditor.get(f"/api/reward/datasets/{dataset.pk}/").json()
    assert detail["heldout_subjects"] == held_out
    assert detail["heldout_count"] == 2 == dataset.counts["subjects"]["test"]
    listed = auditor.get("/api/reward/datasets/").json()
    assert [(d["id"], d["heldout_subjects"], d["heldout_count"]) for d in listed] == [
        (dataset.pk, held_out, 2)]


def test_a_new_dataset_says_its_held_out_people_and_none_when_nothing_is_held_out(
        api_client_for, dataset, make_campaign, make_user, review_world):
    world = review_world(subjects=2, per_subject=2, portraits=0)
    campaign = make_campaign(world, task_kinds=["pairwise"], overlap=1)
    compare_all(campaign, make_user("reviewer"), lambda item: "b")
    engineer = api_client_for("ml_engineer")
    created = engineer.post("/api/reward/datasets/", {"name": "all-train", "campaigns": [campaign.pk],
                                                      "test_share": 0}, format="json")
    assert created.status_code == 201, created.json()
    assert (created.json()["heldout_subjects"], created.json()["heldout_count"]) == ([], 0)
    listed = {d["name"]: d["heldout_count"] for d in engineer.get("/api/reward/datasets/").json()}
    assert listed == {"all-train": 0, "heldout": 2}


def test_the_list_reads_held_out_people_in_one_query(api_client_for, dataset, django_assert_max_num_queries):
    auditor = api_client_for("auditor")
    auditor.get("/api/reward/datasets/")  # warm up (the token, the roles)
    with django_assert_max_num_queries(4):
        assert auditor.get("/api/reward/datasets/").status_code == 200
