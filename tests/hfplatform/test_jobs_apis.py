"""Jobs over HTTP: who sees which job, bad input, cancel, the live job page."""

from __future__ import annotations

import pytest

from hfplatform.jobs.models import Job, JobStatus
from hfplatform.jobs.services import job_run
from tests.factories.jobs import write_photos

pytestmark = pytest.mark.django_db


def test_engineer_starts_a_job_and_reads_it(api_client_for):
    write_photos("shots", 3)
    engineer = api_client_for("ml_engineer")
    response = engineer.post("/api/jobs/thumbnails/", {"folder": "shots", "size": 40},
                             format="json")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert body["started_by"] == engineer.user.username
    job_run(job_id=body["id"])
    done = engineer.get(f"/api/jobs/{body['id']}/").json()
    assert done["status"] == "succeeded"
    assert done["progress"] == 100
    assert done["is_finished"] is True


@pytest.mark.parametrize(
    ("payload", "field_or_code"),
    [({"folder": "../x"}, "invalid_folder"), ({"folder": "shots", "size": "big"}, "size"),
     ({}, "folder"), ({"folder": "nowhere"}, "no_folder")],
)
def test_bad_job_requests_get_400_with_a_reason(api_client_for, payload, field_or_code):
    write_photos("shots", 1)
    response = api_client_for("ml_engineer").post("/api/jobs/thumbnails/", payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert field_or_code in (body["code"], *body.get("fields", {}))
    assert body["detail"]
    assert Job.objects.count() == 0


def test_unknown_job_is_404_json(api_client_for):
    response = api_client_for("auditor").get("/api/jobs/999999/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No job with id 999999.", "code": "not_found"}


def test_reviewer_cannot_see_someone_elses_job_but_auditor_can(api_client_for, make_user):
    job = Job.objects.create(kind="thumbnails", started_by=make_user("ml_engineer"))
    assert api_client_for("reviewer").get(f"/api/jobs/{job.pk}/").status_code == 404
    assert api_client_for("reviewer").get("/api/jobs/").json()["count"] == 0
    assert api_client_for("auditor").get(f"/api/jobs/{job.pk}/").status_code == 200
    assert api_client_for("auditor").get("/api/jobs/").json()["count"] == 1


def test_auditor_cannot_cancel_engineer_can(api_client_for, make_user):
    job = Job.objects.create(kind="thumbnails", started_by=make_user("ml_engineer"))
    refused = api_client_for("auditor").post(f"/api/jobs/{job.pk}/cancel/")
    assert refused.status_code == 403
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED
    ok = api_client_for("ml_engineer").post(f"/api/jobs/{job.pk}/cancel/")
    assert ok.status_code == 200
    assert ok.json()["status"] == "cancelled"
    again = api_client_for("ml_engineer").post(f"/api/jobs/{job.pk}/cancel/")
    assert again.status_code == 409
    assert "already finished" in again.json()["detail"]


def test_job_list_filters_by_status(api_client_for):
    client = api_client_for("ml_engineer")
    Job.objects.create(kind="thumbnails", status=JobStatus.FAILED)
    Job.objects.create(kind="thumbnails")
    assert client.get("/api/jobs/?status=failed").json()["count"] == 1


def test_job_page_for_starter_and_readers_only(client_for, make_user):
    engineer = make_user("ml_engineer")
    job = Job.objects.create(kind="thumbnails", title="Thumbs", started_by=engineer)
    assert client_for("auditor").get(f"/jobs/{job.pk}/").status_code == 200
    client_for(None).logout()
    assert client_for("reviewer").get(f"/jobs/{job.pk}/").status_code == 404
    client_for(None).force_login(engineer)
    page = client_for(None).get(f"/jobs/{job.pk}/")
    assert page.status_code == 200
    assert b'id="job-cancel"' in page.content  # the starter may cancel
    assert f'data-job-url="/api/jobs/{job.pk}/"'.encode() in page.content


def test_thumbnails_form_errors_are_shown_not_500(client_for):
    client = client_for("ml_engineer")
    response = client.post("/jobs/thumbnails/", {"folder": "../../etc", "size": "64"}, follow=True)
    assert response.status_code == 200
    assert b"relative path inside the media library" in response.content
    response = client.post("/jobs/thumbnails/", {"folder": "x", "size": "abc"}, follow=True)
    assert b"whole number of pixels" in response.content
    assert Job.objects.count() == 0


def test_openapi_schema_lists_every_api_route(client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = set(schema.json()["paths"])
    assert {"/api/auth/token/", "/api/me/", "/api/jobs/", "/api/jobs/{job_id}/",
            "/api/jobs/{job_id}/cancel/", "/api/jobs/thumbnails/", "/api/subjects/",
            "/api/subjects/{subject_id}/", "/api/subjects/{subject_id}/photos/",
            "/api/photos/{photo_id}/"} <= paths


def test_swagger_ui_is_served_locally_without_a_cdn(client):
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()


def test_healthz_reports_database_and_queue(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "queue": "ok"}


@pytest.mark.django_db
def test_a_finished_job_links_to_what_it_made_and_reads_as_words(client_for, api_client_for, make_user):
    engineer = make_user("ml_engineer")
    job = Job.objects.create(kind="metric_snapshot", status="succeeded", started_by=engineer, progress=100,
                             title="Metric snapshot",
                             result={"snapshot": 7, "images": 24, "fid": 82.41234, "stopped_early": False,
                                     "loss_curve": [[i, 1.0 / (i + 1)] for i in range(50)]})
    body = api_client_for("auditor").get(f"/api/jobs/{job.pk}/").json()
    assert body["links"] == [{"label": "Snapshot #7", "url": "/monitoring/snapshots/7/"}]
    assert ["Fid", "82.41"] in body["summary"]
    assert ["Loss curve", "50 values"] in body["summary"]
    page = client_for("auditor").get(f"/jobs/{job.pk}/").content.decode()
    assert '<a href="/monitoring/snapshots/7/">Snapshot #7</a>' in page
    summary = page.split('data-testid="job-summary">')[1].split("</dl>")[0]
    assert "<dt>Fid</dt><dd>82.41</dd>" in summary
    assert "<dt>Stopped early</dt><dd>no</dd>" in summary
    assert "<dt>Loss curve</dt><dd>50 values</dd>" in summary
    running = Job.objects.create(kind="metric_snapshot", status="running", started_by=engineer)
    assert api_client_for("auditor").get(f"/api/jobs/{running.pk}/").json()["links"] == []
    page = client_for("auditor").get(f"/jobs/{running.pk}/").content.decode()
    assert "No log lines yet: they appear as the job works." in page


def test_job_list_searches_title_kind_starter_and_id(api_client_for, make_user):
    alice, bob = make_user("ml_engineer", username="alice"), make_user("ml_engineer", username="bob")
    portraits = Job.objects.create(kind="thumbnails", title="Thumbnails of demo/portraits", started_by=alice)
    selfies = Job.objects.create(kind="thumbnails", title="Thumbnails of demo/selfies", started_by=bob)
    client = api_client_for("auditor")

    def found(query: str) -> list[int]:
        response = client.get(f"/api/jobs/?{query}")
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert found("search=PORTRAITS") == [portraits.pk]
    assert found("search=thumbnails+bob") == [selfies.pk]  # every word, each in any searched field
    assert found(f"search={selfies.pk}") == [selfies.pk]
    assert found("search=thumbnails") == [selfies.pk, portraits.pk]  # newest first
    assert found("search=thumbnails+nobody") == []
    assert found("search=alice&status=failed") == []
    too_long = client.get(f"/api/jobs/?search={'x' * 101}")
    assert too_long.status_code == 400
    assert "search" in too_long.json()["fields"]
    assert client.get("/api/jobs/?search=").status_code == 400  # an empty value is a value


def test_a_reviewer_searches_only_their_own_jobs(api_client_for, make_user):
    other = make_user("ml_engineer")
    Job.objects.create(kind="thumbnails", title="Thumbnails of demo/portraits", started_by=other)
    reviewer = api_client_for("reviewer")
    mine = Job.objects.create(kind="thumbnails", title="Thumbnails of my portraits", started_by=reviewer.user)
    assert [row["id"] for row in reviewer.get("/api/jobs/?search=portraits").json()["results"]] == [mine.pk]


def test_the_jobs_page_filters_by_words_status_and_kind(client_for, make_user):
    starter = make_user("ml_engineer", username="carol")
    Job.objects.create(kind="thumbnails", title="Thumbnails of demo/portraits", started_by=starter)
    Job.objects.create(kind="thumbnails", title="Thumbnails of demo/selfies", status=JobStatus.FAILED)
    client = client_for("auditor")
    page = client.get("/jobs/?search=carol").content.decode()
    assert "demo/portraits" in page
    assert "demo/selfies" not in page
    assert "1 job matches." in page
    assert 'value="carol"' in page  # the search stays in the box
    failed = client.get("/jobs/?status=failed&kind=thumbnails").content.decode()
    assert "demo/selfies" in failed
    assert "demo/portraits" not in failed
    none = client.get("/jobs/?search=nothing+like+this").content.decode()
    assert "No job matches these filters." in none
    ignored = client.get("/jobs/?kind=nope&status=bogus").content.decode()  # the page shows everything
    assert "demo/selfies" in ignored
    assert "demo/portraits" in ignored
