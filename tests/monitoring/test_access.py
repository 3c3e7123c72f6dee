"""Every monitoring route for every role: the matrix rows of tests/hfplatform/test_access.py, and the
object routes against a real snapshot."""

from __future__ import annotations

import pytest

from hfplatform.accounts.roles import Role
from tests.hfplatform.test_access import MONITORING_API, MONITORING_PAGES, _cases

pytestmark = pytest.mark.django_db
R, P, E, A, ADM = Role.REVIEWER, Role.PHOTOGRAPHER, Role.ML_ENGINEER, Role.AUDITOR, Role.ADMIN
READ = {E, A, ADM}


@pytest.fixture
def snapshot(make_user):
    from generation.models import GeneratorVersion
    from monitoring.models import MetricSnapshot, SnapshotStatus

    version = GeneratorVersion.objects.create(name="v-access", files_dir="/nonexistent")
    kid = {"name": "kid", "value": 0.1, "n": 8, "extractor": "x", "unavailable": None, "interval": None}
    return MetricSnapshot.objects.create(generator_version=version, status=SnapshotStatus.DONE,
                                         figures={"kid": kid})


@pytest.mark.parametrize(("method", "path", "role", "expected"), list(_cases(MONITORING_PAGES)))
def test_page_access(client_for, method, path, role, expected):
    response = getattr(client_for(role), method)(path)
    assert response.status_code == expected
    if expected == 302 and role is None:
        assert "/login/" in response["Location"]


@pytest.mark.parametrize(("method", "path", "role", "expected"), list(_cases(MONITORING_API)))
def test_api_access(api_client_for, method, path, role, expected):
    response = getattr(api_client_for(role), method)(path, {}, format="json")
    assert response.status_code == expected
    if expected >= 400:
        assert response.json()["detail"]


@pytest.mark.parametrize("role", [*Role, None])
@pytest.mark.parametrize("suffix", ["", "export.csv", "export.json"])
def test_snapshot_pages(client_for, snapshot, role, suffix):
    response = client_for(role).get(f"/monitoring/snapshots/{snapshot.pk}/{suffix}")
    expected = 302 if role is None else 200 if role in READ else 403
    assert response.status_code == expected


@pytest.mark.parametrize("role", [*Role, None])
def test_snapshot_api(api_client_for, snapshot, role):
    response = api_client_for(role).get(f"/api/monitoring/snapshots/{snapshot.pk}/")
    expected = 401 if role is None else 200 if role in READ else 403
    assert response.status_code == expected


def test_unknown_snapshot_is_404(client_for, api_client_for):
    assert client_for(E).get("/monitoring/snapshots/999999/").status_code == 404
    assert api_client_for(A).get("/api/monitoring/snapshots/999999/").status_code == 404
