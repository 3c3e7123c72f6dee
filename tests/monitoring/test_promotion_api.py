"""The promotion gate's API, page and refusals without running an evaluation: roles (engineers start
and promote, only admins override, auditors read), unknown or already active versions, a judge that is
the candidate's training reward model, no judge, never evaluated, and the comparison page's access."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from hfplatform.accounts.roles import Role
from monitoring.models import PromotionDecision

pytestmark = pytest.mark.django_db
R, P, E, A, ADM = Role.REVIEWER, Role.PHOTOGRAPHER, Role.ML_ENGINEER, Role.AUDITOR, Role.ADMIN
READ = {E, A, ADM}


@pytest.fixture
def versions():
    from generation.models import GeneratorVersion

    active = GeneratorVersion.objects.create(name="v-active", files_dir="/nonexistent", status="active",
                                             heldout_subjects=[])
    candidate = GeneratorVersion.objects.create(
        name="v-cand", files_dir="/nonexistent", parent=active,
        training_config={"reward_model": {"name": "rm-train"}})
    return active, candidate


@pytest.fixture
def refused_decision(versions):
    active, candidate = versions
    path = default_storage.save("subjects/x/promotions/job-1/candidate-0.png", ContentFile(b"\x89PNG fake"))
    judge = {"name": "judge_reward", "label": "Judge reward (rm-judge)", "kind": "judge",
             "higher_is_better": True, "baseline": 0.3, "candidate": 0.3, "difference": 0.0,
             "interval": [-0.01, 0.01], "n": 5, "tolerance": None, "tolerance_kind": "absolute",
             "unavailable": None, "note": "", "verdict": "fail"}
    return PromotionDecision.objects.create(
        candidate=candidate, baseline=active, judge_name="rm-judge", figures={"judge_reward": judge},
        per_person=[{"subject": 1, "seeds": [1000], "input": path, "baseline": [path], "candidate": [path],
                     "skin_tone": "light", "judge": {"baseline": 0.3, "candidate": 0.3}}],
        outcome="refused", reasons=["The judge does not show an improvement."],
        gate_settings={"people": 1, "candidates": 1, "seed": 0, "steps": 2, "guidance": 1.0})


def test_unknown_candidate_is_404(api_client_for):
    client = api_client_for(E)
    for suffix, method in (("evaluations/", "post"), ("decisions/", "get"), ("promote/", "post")):
        response = getattr(client, method)(f"/api/generator/versions/no-such/{suffix}", {}, format="json")
        assert response.status_code == 404, suffix
        assert response.json()["detail"]


def test_an_active_version_is_refused(api_client_for, versions, make_user):
    from reward.models import PreferenceDataset, RewardModelVersion

    dataset = PreferenceDataset.objects.create(name="d", campaigns=[], fingerprint="f" * 64, counts={})
    RewardModelVersion.objects.create(name="rm-judge", dataset=dataset, dataset_fingerprint="f" * 64,
                                      dimension="overall", status="candidate", files_dir="/x")
    client = api_client_for(E)
    response = client.post("/api/generator/versions/v-active/evaluations/", {"judge": "rm-judge"},
                           format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "already_active"
    response = client.post("/api/generator/versions/v-active/promote/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "already_active"


def test_the_training_reward_model_cannot_judge_and_a_judge_is_required(api_client_for, versions):
    from reward.models import PreferenceDataset, RewardModelVersion

    dataset = PreferenceDataset.objects.create(name="d", campaigns=[], fingerprint="f" * 64, counts={})
    RewardModelVersion.objects.create(name="rm-train", dataset=dataset, dataset_fingerprint="f" * 64,
                                      dimension="overall", status="candidate", files_dir="/x")
    client = api_client_for(E)
    response = client.post("/api/generator/versions/v-cand/evaluations/", {"judge": "rm-train"},
                           format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "judge_is_training_reward"
    assert "trained against" in response.json()["detail"]
    response = client.post("/api/generator/versions/v-cand/evaluations/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "judge_required"
    assert "Name a judge" in response.json()["detail"]
    assert client.post("/api/generator/versions/v-cand/evaluations/", {"judge": "nobody"},
                       format="json").status_code == 404


def test_a_judge_on_the_training_dataset_is_noted_and_too_few_shared_people_refused(versions, engineer):
    from hfplatform.errors import ApplicationError
    from monitoring.promotion import judge_notes, promotion_gate_start
    from reward.models import PreferenceDataset, RewardModelVersion

    _, candidate = versions
    dataset = PreferenceDataset.objects.create(name="d", campaigns=[], fingerprint="f" * 64, counts={})
    for name in ("rm-train", "rm-judge"):
        RewardModelVersion.objects.create(name=name, dataset=dataset, dataset_fingerprint="f" * 64,
                                          dimension="overall", status="candidate", files_dir="/x")
    judge = RewardModelVersion.objects.get(name="rm-judge")
    notes = judge_notes(candidate=candidate, judge=judge)
    assert len(notes) == 1
    assert notes[0].startswith("judge not independent")
    with pytest.raises(ApplicationError) as refused:
        promotion_gate_start(candidate=candidate, judge=judge, started_by=engineer, enqueue=False)
    assert refused.value.code == "heldout_overlap_too_small"
    assert refused.value.status_code == 400


def test_never_evaluated_is_409_and_only_admins_override(api_client_for, versions):
    response = api_client_for(E).post("/api/generator/versions/v-cand/promote/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "not_evaluated"
    assert response.json()["reasons"]
    response = api_client_for(E).post("/api/generator/versions/v-cand/promote/",
                                      {"override_reason": "I like it"}, format="json")
    assert response.status_code == 403
    assert "admin" in response.json()["detail"]
    # Even an admin cannot override what was never evaluated against the active version.
    response = api_client_for(ADM).post("/api/generator/versions/v-cand/promote/",
                                        {"override_reason": "ship it"}, format="json")
    assert response.status_code == 409


def test_a_refused_decision_is_409_with_reasons_and_an_admin_override_is_recorded(api_client_for, versions,
                                                                                  refused_decision):
    from generation.models import GeneratorVersion
    from generation.models.generator import GeneratorActivation

    response = api_client_for(E).post("/api/generator/versions/v-cand/promote/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["reasons"] == ["The judge does not show an improvement."]
    assert GeneratorVersion.objects.get(name="v-cand").status == "candidate"
    admin = api_client_for(ADM)
    response = admin.post("/api/generator/versions/v-cand/promote/",
                          {"override_reason": "Reviewers preferred it in the blind test."}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["promoted"] is True
    assert body["override_reason"] == "Reviewers preferred it in the blind test."
    assert body["decided_by"] == admin.user.username
    refused_decision.refresh_from_db()
    assert refused_decision.promoted
    assert refused_decision.outcome == "refused"  # the gate's verdict stays as it was
    activation = GeneratorActivation.objects.first()
    assert (activation.activated.name, activation.retired.name) == ("v-cand", "v-active")
    assert activation.activated_by == admin.user
    # Now active: promoting again is refused.
    assert admin.post("/api/generator/versions/v-cand/promote/", {}, format="json").status_code == 409


def test_decisions_are_append_only(refused_decision):
    refused_decision.reasons = ["changed"]
    with pytest.raises(ValueError, match="append-only"):
        refused_decision.save()


@pytest.mark.parametrize("role", [*Role, None])
def test_decisions_read_and_start_by_role(api_client_for, refused_decision, role):
    client = api_client_for(role)
    response = client.get("/api/generator/versions/v-cand/decisions/")
    assert response.status_code == (401 if role is None else 200 if role in READ else 403)
    if response.status_code == 200:
        [row] = response.json()
        assert (row["candidate"], row["baseline"], row["outcome"]) == ("v-cand", "v-active", "refused")
        assert row["figures"]["judge_reward"]["interval"] == [-0.01, 0.01]
    start = client.post("/api/generator/versions/v-cand/evaluations/", {}, format="json")
    assert start.status_code == (401 if role is None else 400 if role in {E, ADM} else 403)
    promote = client.post("/api/generator/versions/v-cand/promote/", {}, format="json")
    assert promote.status_code == (401 if role is None else 409 if role in {E, ADM} else 403)


@pytest.mark.parametrize("role", [*Role, None])
def test_comparison_page_and_images_by_role(client_for, refused_decision, role):
    client = client_for(role)
    expected = 302 if role is None else 200 if role in READ else 403
    response = client.get(f"/monitoring/promotions/{refused_decision.pk}/")
    assert response.status_code == expected
    if expected == 200:
        text = response.content.decode()
        assert "The judge does not show an improvement." in text
        assert "[-0.0100, 0.0100]" in text
    image = client.get(f"/monitoring/promotions/{refused_decision.pk}/people/0/candidate-0.png")
    assert image.status_code == expected


def test_unknown_decision_or_image_is_404(client_for, refused_decision):
    client = client_for(A)
    assert client.get("/monitoring/promotions/999999/").status_code == 404
    page = f"/monitoring/promotions/{refused_decision.pk}/people"
    for missing in ("3/input.png", "0/other-0.png", "0/baseline-7.png"):
        assert client.get(f"{page}/{missing}").status_code == 404, missing
