"""Every role against a real generator fine-tuning (the route is listed in
tests/hfplatform/test_access.py's COVERED_ELSEWHERE); the list and start routes are in the matrix."""

from __future__ import annotations

import pytest

from generation.models import GeneratorVersion
from hfplatform.accounts.roles import Role
from hfplatform.jobs.models import Job
from reward.models import GeneratorFineTuning, PreferenceDataset

R, P, E, A, ADM = Role.REVIEWER, Role.PHOTOGRAPHER, Role.ML_ENGINEER, Role.AUDITOR, Role.ADMIN


@pytest.fixture
def finetuning(db):
    parent = GeneratorVersion.objects.create(name="g-parent", files_dir="/nonexistent", image_size=64)
    dataset = PreferenceDataset.objects.create(name="d", campaigns=[], fingerprint="f" * 64, counts={})
    job = Job.objects.create(kind="generator_finetune", status="queued")
    return GeneratorFineTuning.objects.create(name="g-child", parent=parent, method="dpo", dataset=dataset,
                                              job=job, config={"lora": {"rank": 8}})


@pytest.mark.parametrize("role", [R, P, E, A, ADM, None], ids=str)
def test_detail_api(api_client_for, finetuning, role):
    response = api_client_for(role).get(f"/api/generator/finetunes/{finetuning.pk}/")
    expected = 401 if role is None else (200 if role in (E, A, ADM) else 403)
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["lineage"] == ["g-parent"]
        assert response.json()["status"] == "queued"
    else:
        assert response.json()["detail"]


def test_unknown_fine_tuning_is_a_404(api_client_for, db):
    response = api_client_for(E).get("/api/generator/finetunes/999999/")
    assert response.status_code == 404
    assert response.json()["detail"]
