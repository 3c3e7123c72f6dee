"""The monitoring routes of one snapshot for every role (the other monitoring routes are rows of the
access matrix, ``tests/factories/access.py``, run by tests/hfplatform/test_access.py)."""

from __future__ import annotations

import pytest

from hfplatform.accounts.roles import Role

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
