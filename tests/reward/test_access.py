"""Every role against a real preference dataset and reward-model version (routes listed in
tests/hfplatform/test_access.py's COVERED_ELSEWHERE)."""

from __future__ import annotations

import pytest

from hfplatform.accounts.roles import Role
from reward.models import PreferenceDataset, RewardModelVersion

R, P, E, A, ADM = Role.REVIEWER, Role.PHOTOGRAPHER, Role.ML_ENGINEER, Role.AUDITOR, Role.ADMIN
ROLES = [R, P, E, A, ADM, None]


@pytest.fixture
def version(db):
    dataset = PreferenceDataset.objects.create(name="d", campaigns=[], fingerprint="f" * 64, counts={})
    return RewardModelVersion.objects.create(name="rm-1", dataset=dataset, dataset_fingerprint="f" * 64,
                                             dimension="overall", status="candidate",
                                             files_dir="/nonexistent")


def _expected(role, allowed, ok, refused, anonymous):
    return anonymous if role is None else (ok if role in allowed else refused)


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_pages(client_for, version, role):
    client = client_for(role)
    page = client.get(f"/reward/models/{version.name}/")
    assert page.status_code == _expected(role, {E, A, ADM}, 200, 403, 302)
    activated = client.post(f"/reward/models/{version.name}/activate/")
    assert activated.status_code == _expected(role, {E, ADM}, 302, 403, 302)
    version.refresh_from_db()
    assert (version.status == "active") == (role in (E, ADM))


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_api(api_client_for, version, role):
    client = api_client_for(role)
    readers = _expected(role, {E, A, ADM}, 200, 403, 401)
    assert client.get(f"/api/reward/datasets/{version.dataset_id}/").status_code == readers
    assert client.get(f"/api/reward/models/{version.name}/").status_code == readers
    activated = client.post(f"/api/reward/models/{version.name}/activate/")
    assert activated.status_code == _expected(role, {E, ADM}, 200, 403, 401)


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_scores_api(api_client_for, version, role):
    """Scoring changes nothing: engineers and auditors may (here a 400: there is no headshot 1)."""
    response = api_client_for(role).post(f"/api/reward/models/{version.name}/scores/", {"headshots": [1]},
                                         format="json")
    assert response.status_code == _expected(role, {E, A, ADM}, 400, 403, 401)
    assert response.json()["detail"]


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_compare_api(api_client_for, version, role):
    """Comparing changes nothing: engineers and auditors may (here a 400: no other model was named)."""
    response = api_client_for(role).get(f"/api/reward/models/{version.name}/compare/")
    assert response.status_code == _expected(role, {E, A, ADM}, 400, 403, 401)
    assert response.json()["detail"]


def test_failed_model_never_becomes_active(api_client_for, version):
    version.status = "failed"
    version.save()
    response = api_client_for(E).post(f"/api/reward/models/{version.name}/activate/")
    assert response.status_code == 409
    assert "only a trained model (a candidate or a retired one)" in response.json()["detail"]
    version.refresh_from_db()
    assert version.status == "failed"
