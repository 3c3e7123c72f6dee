"""Subjects and photos over HTTP: roles on real objects, bad input, per-file outcomes, purge."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from generation.models import SourcePhoto, Subject
from hfplatform.accounts.roles import Role
from tests.factories.generation import upload_of

pytestmark = pytest.mark.django_db
OTHERS = [Role.REVIEWER, Role.PHOTOGRAPHER, Role.AUDITOR]


@pytest.fixture
def photo(subject, engineer, sketch_upload):
    from generation.faces.services import photos_upload

    photos, _ = photos_upload(subject=subject, files=[sketch_upload()], uploaded_by=engineer)
    return photos[0]


def test_create_subject_with_consent(api_client_for):
    client = api_client_for("ml_engineer")
    response = client.post("/api/subjects/", {"display_name": "Ede", "consent_given": True,
                                              "gender": "woman"}, format="json")
    assert response.status_code == 201
    assert response.json()["gender"] == "woman"
    assert response.json()["age_band"] is None


@pytest.mark.parametrize(
    ("payload", "needle"),
    [({"display_name": "X", "consent_given": False}, "consent"),
     ({"display_name": "X"}, "consent_given"),
     ({"display_name": "X", "consent_given": True, "gender": "robot"}, "gender"),
     ({"display_name": "", "consent_given": True}, "display_name")],
)
def test_bad_subject_payloads_are_400(api_client_for, payload, needle):
    response = api_client_for("ml_engineer").post("/api/subjects/", payload, format="json")
    assert response.status_code == 400
    assert needle in response.json()["detail"]
    assert Subject.objects.count() == 0


@pytest.mark.parametrize("role", OTHERS)
def test_other_roles_cannot_touch_subjects_or_photos(api_client_for, client_for, subject, photo,
                                                     role):
    api = api_client_for(role)
    assert api.get(f"/api/subjects/{subject.pk}/").status_code == 403
    assert api.delete(f"/api/subjects/{subject.pk}/").status_code == 403
    assert api.get(f"/api/photos/{photo.pk}/").status_code == 403
    upload = SimpleUploadedFile("x.jpg", b"x")
    response = api.post(f"/api/subjects/{subject.pk}/photos/", {"photos": [upload]}, format="multipart")
    assert response.status_code == 403
    page = client_for(role)
    for url in (f"/subjects/{subject.pk}/", f"/photos/{photo.pk}/file/original/"):
        assert page.get(url).status_code == 403
    for url in (f"/subjects/{subject.pk}/delete/", f"/subjects/{subject.pk}/photos/"):
        assert page.post(url).status_code == 403
    assert Subject.objects.filter(pk=subject.pk).exists()


def test_anonymous_gets_401_and_login_redirects(client, subject, photo):
    from rest_framework.test import APIClient

    assert APIClient().get(f"/api/photos/{photo.pk}/").status_code == 401
    response = client.get(f"/photos/{photo.pk}/file/original/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_upload_batch_over_the_api(api_client_for, subject, django_capture_on_commit_callbacks):
    from hfplatform.demo import portrait_sketch

    client = api_client_for("ml_engineer")
    files = [upload_of(portrait_sketch(1, 200), "a.png", "PNG"), SimpleUploadedFile("b.jpg", b"")]
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"/api/subjects/{subject.pk}/photos/", {"photos": files}, format="multipart")
    assert response.status_code == 202
    body = response.json()
    assert [p["status"] for p in body["photos"]] == ["pending", "rejected"]
    assert body["photos"][1]["rejections"][0]["code"] == "not_an_image"
    assert body["photos"][1]["rejections"][0]["message"]  # plain words for the person
    assert body["job"]["url"] == f"/api/jobs/{body['job']['id']}/"


def test_upload_without_files_is_400(api_client_for, subject):
    client = api_client_for("ml_engineer")
    response = client.post(f"/api/subjects/{subject.pk}/photos/", {}, format="multipart")
    assert response.status_code == 400
    assert response.json()["code"] == "no_files"
    assert "at least one photo" in response.json()["detail"]


def test_unknown_subject_and_photo_are_404(api_client_for):
    client = api_client_for("ml_engineer")
    assert client.get("/api/subjects/424242/").json()["code"] == "not_found"
    assert client.get("/api/photos/424242/").status_code == 404


def test_original_is_served_to_engineers_only_through_the_view(client_for, photo):
    response = client_for("ml_engineer").get(f"/photos/{photo.pk}/file/original/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    assert client_for(None).get(f"/photos/{photo.pk}/file/nonsense/").status_code == 404


def test_delete_over_the_api_removes_every_file(api_client_for, subject, photo, settings,
                                                django_capture_on_commit_callbacks):
    folder = Path(settings.MEDIA_ROOT) / subject.media_folder
    assert folder.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for("ml_engineer").delete(f"/api/subjects/{subject.pk}/")
    assert response.status_code == 204
    assert not SourcePhoto.objects.exists()
    assert not folder.exists()
    assert [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()] == []
