"""Photo files the API hands out (``files`` of ``GET /api/photos/{id}/``) open with the API token,
for ML engineers and admins only, as with a session."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo(ready_subject):
    return ready_subject.photos.get()


def test_every_file_url_opens_with_an_engineers_token(api_client_for, photo):
    engineer = api_client_for("ml_engineer")
    files = engineer.get(f"/api/photos/{photo.pk}/").json()["files"]
    assert {"original", "overlay", "thumbnail"} <= set(files)
    assert any(name.startswith("aligned_") for name in files)
    for url in files.values():
        response = engineer.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("image/")
        assert response["Cache-Control"] == "private, max-age=3600"


@pytest.mark.parametrize(("role", "expected"), [
    ("admin", 200), ("auditor", 403), ("reviewer", 403), ("photographer", 403)])
def test_other_roles_with_a_token(api_client_for, photo, role, expected):
    response = api_client_for(role).get(f"/photos/{photo.pk}/file/original/")
    assert response.status_code == expected
    if expected == 403:
        assert response.json()["detail"] == "This page is for: ml_engineer"


def test_a_bad_token_is_a_401_and_no_token_the_login_page(api_client_for, client, photo):
    bad = api_client_for(None)
    bad.credentials(HTTP_AUTHORIZATION="Token nope")
    assert bad.get(f"/photos/{photo.pk}/file/original/").status_code == 401
    assert "/login/" in client.get(f"/photos/{photo.pk}/file/original/")["Location"]
    assert api_client_for("ml_engineer").get(f"/photos/{photo.pk}/file/nonsense/").status_code == 404
