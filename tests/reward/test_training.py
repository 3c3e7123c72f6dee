"""Reward training through the platform: bad requests, the job on real review data, reranking."""

from __future__ import annotations

import pytest

from reward.models import PreferenceDataset, PreferencePair, RewardModelVersion
from tests.reward.test_pairs import _compare_all


@pytest.fixture
def tie_dataset(review_world, make_campaign, make_user, engineer_user):
    from reward.services import preference_dataset_create

    world = review_world(subjects=3, per_subject=4, portraits=0)
    campaign = make_campaign(world, task_kinds=["pairwise"], overlap=1)
    _compare_all(campaign, make_user("reviewer"), lambda item: "tie")
    return preference_dataset_create(name="ties", campaign_ids=[campaign.pk], created_by=engineer_user,
                                     keep_ties=True)


@pytest.mark.parametrize(("body", "code"), [
    ({"dimension": "sparkle"}, "invalid"),
    ({"dimension": "overall"}, "only_ties"),
    ({"dimension": "overall", "max_steps": 5}, "invalid"),
])
def test_bad_training_requests_are_refused_before_any_job(api_client_for, tie_dataset, body, code):
    response = api_client_for("ml_engineer").post("/api/reward/trainings/",
                                                  {"dataset": tie_dataset.pk, **body}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert not RewardModelVersion.objects.exists()


def test_too_few_pairs(api_client_for, tie_dataset):
    PreferencePair.objects.filter(dataset=tie_dataset).update(tie=False)
    pairs = PreferencePair.objects.filter(dataset=tie_dataset)
    pairs.exclude(pk__in=list(pairs.values_list("pk", flat=True)[:3])).delete()
    response = api_client_for("ml_engineer").post("/api/reward/trainings/",
                                                  {"dataset": tie_dataset.pk, "dimension": "overall"},
                                                  format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "too_few_pairs"
    assert PreferenceDataset.objects.count() == 1
