"""Activating reward models (``reward_model_activate``): a candidate or a retired model becomes active,
a failed or training one never; every change is recorded (``RewardModelActivation``) and shown on the
model's page and in its API detail."""

from __future__ import annotations

import pytest

from hfplatform.errors import Conflict
from reward.models import PreferenceDataset, RewardModelActivation, RewardModelVersion
from reward.services import reward_model_activate

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_model(db):
    dataset = PreferenceDataset.objects.create(name="d", campaigns=[], fingerprint="f" * 64, counts={})

    def make(name: str, status: str = "candidate") -> RewardModelVersion:
        return RewardModelVersion.objects.create(name=name, dataset=dataset, dataset_fingerprint="f" * 64,
                                                 dimension="overall", status=status, files_dir="/nonexistent")

    return make


def _statuses() -> dict[str, str]:
    return dict(RewardModelVersion.objects.values_list("name", "status"))


def test_activations_retire_the_previous_model_and_are_recorded(make_model, make_user):
    first, second = make_model("rm-a"), make_model("rm-b")
    alice, bob = make_user("ml_engineer"), make_user("admin")
    reward_model_activate(version=first, activated_by=alice)
    reward_model_activate(version=second, activated_by=bob)
    assert _statuses() == {"rm-a": "retired", "rm-b": "active"}
    again = reward_model_activate(version=first, activated_by=alice)  # a retired model comes back
    assert again.status == "active"
    assert _statuses() == {"rm-a": "active", "rm-b": "retired"}
    history = [(a.activated.name, a.retired.name if a.retired else None, a.activated_by)
               for a in RewardModelActivation.objects.order_by("id")]
    assert history == [("rm-a", None, alice), ("rm-b", "rm-a", bob), ("rm-a", "rm-b", alice)]
    assert all(a.created_at for a in RewardModelActivation.objects.all())
    reward_model_activate(version=first, activated_by=bob)  # already active: nothing changes
    assert RewardModelActivation.objects.count() == 3


@pytest.mark.parametrize("status", ["failed", "training"])
def test_a_failed_or_training_model_never_becomes_active(make_model, status):
    current = make_model("rm-a")
    reward_model_activate(version=current)
    refused = make_model("rm-b", status=status)
    with pytest.raises(Conflict) as caught:
        reward_model_activate(version=refused)
    assert caught.value.code == "not_a_candidate"
    assert status in caught.value.message
    assert _statuses() == {"rm-a": "active", "rm-b": status}
    assert RewardModelActivation.objects.count() == 1


def test_activations_are_append_only(make_model):
    reward_model_activate(version=make_model("rm-a"))
    record = RewardModelActivation.objects.get()
    record.activated_by = None
    with pytest.raises(ValueError, match="append-only"):
        record.save()


def test_the_api_detail_and_the_activate_endpoint(api_client_for, make_model):
    make_model("rm-a")
    make_model("rm-b")
    engineer = api_client_for("ml_engineer")
    assert engineer.post("/api/reward/models/rm-a/activate/").status_code == 200
    assert engineer.post("/api/reward/models/rm-b/activate/").status_code == 200
    back = engineer.post("/api/reward/models/rm-a/activate/")
    assert back.status_code == 200
    assert back.json()["status"] == "active"
    detail = api_client_for("auditor").get("/api/reward/models/rm-b/").json()
    assert detail["status"] == "retired"
    assert [(a["activated"], a["retired"], a["activated_by"]) for a in detail["activations"]] == [
        ("rm-a", "rm-b", engineer.user.username), ("rm-b", "rm-a", engineer.user.username)]  # newest first
    assert all(a["created_at"] for a in detail["activations"])
    listed = engineer.get("/api/reward/models/").json()
    assert "activations" not in listed[0]  # the list is unchanged


def test_the_model_page_shows_the_history_and_offers_reactivation(client_for, make_model, make_user):
    first, second = make_model("rm-a"), make_model("rm-b")
    someone = make_user("ml_engineer", username="carol")
    reward_model_activate(version=first, activated_by=someone)
    reward_model_activate(version=second, activated_by=None)
    page = client_for("ml_engineer").get("/reward/models/rm-a/").content.decode()
    assert "Activation history" in page
    assert "carol" in page
    assert 'href="/reward/models/rm-b/"' in page
    assert "Make active again" in page
    posted = client_for("ml_engineer").post("/reward/models/rm-a/activate/")
    assert posted.status_code == 302
    assert _statuses() == {"rm-a": "active", "rm-b": "retired"}
    assert RewardModelActivation.objects.first().activated_by.username != "carol"  # the page's user
    auditor_page = client_for("auditor").get("/reward/models/rm-b/").content.decode()
    assert "Make active" not in auditor_page
    fresh = make_model("rm-c")
    assert "Never active yet" in client_for("auditor").get(f"/reward/models/{fresh.name}/").content.decode()
