"""The site's own error pages answer what a view raises, with DEBUG on as in production; routes that
do not exist keep Django's development page, and genuine crashes are not hidden in development."""

from __future__ import annotations

import pytest
from django.test import override_settings

from hfplatform.accounts.roles import Role


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize(("role", "path", "status"), [
    (Role.REVIEWER, "/jobs/999999/", 404),  # a real route, an object that is not there (or not theirs)
    (Role.ML_ENGINEER, "/reward/models/no-such-model/", 404),
    (Role.AUDITOR, "/monitoring/snapshots/999999/", 404),
    (Role.REVIEWER, "/subjects/", 403),  # a real route, not for this role
])
def test_a_view_error_is_the_site_page(client_for, role, path, status, debug):
    with override_settings(DEBUG=debug):
        response = client_for(role).get(path)
    assert response.status_code == status
    body = response.content.decode()
    assert 'data-testid="error-reason"' in body
    assert "URLconf" not in body
    assert "Traceback" not in body
    assert "DEBUG = True" not in body
    assert "text/html" in response["Content-Type"]


@pytest.mark.django_db
def test_the_api_answers_json_for_the_same_errors(api_client_for):
    with override_settings(DEBUG=True):
        response = api_client_for(Role.REVIEWER).get("/api/jobs/999999/")
    assert response.status_code == 404
    assert response.json()["detail"]


@pytest.mark.django_db
def test_an_unknown_address_keeps_the_development_page(client_for):
    with override_settings(DEBUG=True):
        response = client_for(Role.ML_ENGINEER).get("/no-such-page/")
    assert response.status_code == 404
    assert "URLconf" in response.content.decode()  # development only: lists the routes
    with override_settings(DEBUG=False):
        response = client_for(Role.ML_ENGINEER).get("/no-such-page/")
    assert 'data-testid="error-reason"' in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [True, False])
def test_a_route_opened_with_the_wrong_method_says_so_on_the_site_page(client_for, debug):
    with override_settings(DEBUG=debug):
        response = client_for(Role.ML_ENGINEER).get("/review/stage-comparisons/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "This address takes POST" in response.content.decode()
    assert 'data-testid="error-reason"' in response.content.decode()


@pytest.mark.django_db
def test_a_form_without_its_csrf_token_gets_the_site_403(make_user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(Role.ML_ENGINEER))
    response = client.post("/subjects/", {"display_name": "x"})
    assert response.status_code == 403
    assert "The form had expired" in response.content.decode()
    assert 'data-testid="error-reason"' in response.content.decode()


@pytest.mark.django_db
def test_limits_hit_before_a_view_runs_answer_json_with_the_limit(api_client_for, make_user, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from generation.models import Subject

    client = api_client_for(Role.ML_ENGINEER)
    subject = Subject.objects.create(display_name="Many files", owner=make_user(Role.ML_ENGINEER),
                                     consent_given_at=timezone.now(), consent_version="test")
    files = [SimpleUploadedFile(f"a{i}.jpg", b"x", content_type="image/jpeg")
             for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]
    response = client.post(f"/api/subjects/{subject.pk}/photos/", {"photos": files}, format="multipart")
    assert response.status_code == 400
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
    detail = f"At most {limit} files per request; send the rest in another request."
    assert response.json() == {"code": "too_many_files", "detail": detail}
    assert not subject.photos.exists()
    body = b'{"assignment": 1, "reason": "' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + b'"}'
    response = client.post("/api/review/skips/", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    response = client.post("/api/review/skips/", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


@pytest.mark.django_db
def test_numbers_beyond_64_bits_are_a_4xx_never_a_500(api_client_for, client_for):
    big = 10**25
    api = api_client_for(Role.ML_ENGINEER)
    refused = api.post("/api/reward/datasets/", {"name": "x", "campaigns": [big]}, format="json")
    assert refused.status_code == 400
    assert "campaigns" in refused.json()["fields"]
    assert api.get(f"/api/jobs/{big}/").status_code == 404
    assert api.post("/api/review/skips/", {"assignment": big}, format="json").status_code in (400, 404)
    assert client_for(Role.ML_ENGINEER).get(f"/jobs/{big}/").status_code == 404


@pytest.mark.django_db
def test_an_overflow_deep_in_a_view_is_the_request_s_fault(api_client_for, monkeypatch):
    """SQLite raises OverflowError for integers beyond 64 bits wherever they reach a query: a 400."""
    from hfplatform.jobs import apis

    def overflow(**kwargs):
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    monkeypatch.setattr(apis, "job_get", overflow)
    response = api_client_for(Role.ML_ENGINEER).get("/api/jobs/1/")
    assert response.status_code == 400
    assert response.json()["code"] == "out_of_range"


@pytest.mark.django_db
def test_job_list_filters_are_checked_and_the_page_is_documented(api_client_for):
    api = api_client_for(Role.ML_ENGINEER)
    bad = api.get("/api/jobs/?status=bogus")
    assert bad.status_code == 400
    assert bad.json()["fields"] == {"status": ["Unknown status."]}
    assert api.get("/api/jobs/?kind=nope").status_code == 400
    page = api.get("/api/jobs/?status=queued&kind=thumbnails").json()
    assert set(page) == {"count", "next", "previous", "results"}
    schema = api.get("/api/schema/?format=json").json()
    jobs = schema["paths"]["/api/jobs/"]["get"]
    assert jobs["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/PaginatedJobList")
    status = next(p for p in jobs["parameters"] if p["name"] == "status")
    assert "bogus" not in status["schema"]["enum"]
    assert "queued" in status["schema"]["enum"]
