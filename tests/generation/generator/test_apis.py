"""Generator and headshot endpoints and pages for every role, on a real version and headshot."""

from __future__ import annotations

import pytest

from generation.generator.services import generation_job_create, generator_version_register
from hfplatform.accounts.roles import Role
from hfplatform.jobs.services import job_run
from tests.factories.generation import tiny_generator

pytestmark = pytest.mark.django_db


@pytest.fixture
def headshot(tmp_path, ready_subject, engineer):
    generator_version_register(name="tiny-a", files_dir=tiny_generator(tmp_path / "a"), activate=True)
    request = generation_job_create(subject=ready_subject, created_by=engineer, candidates=2,
                                    seed=7, steps=2, enqueue=False)
    job_run(job_id=request.job_id)
    return request.headshots.first()


def test_engineer_requests_headshots_over_the_api(api_client_for, ready_subject, tmp_path,
                                                  django_capture_on_commit_callbacks):
    generator_version_register(name="tiny-a", files_dir=tiny_generator(tmp_path / "a"), activate=True)
    client = api_client_for("ml_engineer")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/api/generation/jobs/", {"subject": ready_subject.pk, "candidates": 2,
                                                         "steps": 3, "seed": 5}, format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["status"], body["headshots"], body["seed"]) == ("queued", [], 5)
    assert len(callbacks) == 1  # enqueued after commit
    job_run(job_id=body["job"])
    done = client.get(f"/api/generation/jobs/{body['id']}/").json()
    assert done["status"] == "succeeded"
    assert [h["seed"] for h in done["headshots"]] == [5, 6]
    one = client.get(f"/api/headshots/{done['headshots'][0]['id']}/").json()
    assert one["image_url"] == f"/headshots/{one['id']}/image/"
    assert one["generator_version"] == "tiny-a"


@pytest.mark.parametrize(
    ("payload", "needle"),
    [({"subject": 999999}, "No subject"), ({"subject": "x"}, "subject"),
     ({"candidates": 99}, "candidates"), ({"version": "nope"}, "No generator version")],
)
def test_bad_generation_requests_are_4xx(api_client_for, ready_subject, tmp_path, payload, needle):
    generator_version_register(name="tiny-a", files_dir=tiny_generator(tmp_path / "a"), activate=True)
    body = {"subject": ready_subject.pk, **payload}
    response = api_client_for("ml_engineer").post("/api/generation/jobs/", body, format="json")
    assert response.status_code in (400, 404)
    assert needle in response.json()["detail"]


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.PHOTOGRAPHER, Role.AUDITOR])
def test_roles_on_generator_routes(api_client_for, client_for, headshot, role):
    api, page = api_client_for(role), client_for(role)
    reader = role == Role.AUDITOR
    assert api.get(f"/api/headshots/{headshot.pk}/").status_code == (200 if reader else 403)
    assert api.get(f"/api/generation/jobs/{headshot.generation_job_id}/").status_code == (
        200 if reader else 403)
    assert page.get(f"/headshots/{headshot.pk}/image/").status_code == (200 if reader else 403)
    assert page.get("/generator/tiny-a/grid.png").status_code == (404 if reader else 403)
    assert api.post("/api/generator/versions/tiny-a/activate/").status_code == 403
    assert page.post("/generator/tiny-a/activate/").status_code == 403
    assert page.post(f"/subjects/{headshot.subject_id}/generate/").status_code == 403
    assert page.get(f"/generations/{headshot.generation_job_id}/input.png").status_code == 403


def test_engineer_pages_show_headshots(client_for, headshot):
    client = client_for("ml_engineer")
    page = client.get(f"/subjects/{headshot.subject_id}/")
    assert page.status_code == 200
    assert f"/headshots/{headshot.pk}/image/".encode() in page.content
    image = client.get(f"/headshots/{headshot.pk}/image/")
    assert image["Content-Type"] == "image/png"
    assert client.get(f"/generations/{headshot.generation_job_id}/input.png").status_code == 200
    assert b"tiny-a" in client.get("/generator/").content


def test_generate_form_errors_are_messages(client_for, headshot):
    client = client_for("ml_engineer")
    response = client.post(f"/subjects/{headshot.subject_id}/generate/",
                           {"candidates": "40", "steps": "25", "guidance": "1", "sampler": "ddim"},
                           follow=True)
    assert b"candidates" in response.content
    assert b"less than or equal to 16" in response.content


def test_training_form_on_the_generator_page(client_for, headshot):
    from generation.models import GeneratorVersion
    from hfplatform.jobs.models import Job

    auditor = client_for("auditor")  # one test client: log in as the auditor first
    assert b"generator-training-form" not in auditor.get("/generator/").content
    engineer = client_for("ml_engineer")
    assert b"generator-training-form" in engineer.get("/generator/").content
    # A parent of another prediction type is refused on the form; nothing is queued.
    refused = engineer.post("/generator/trainings/", {
        "name": "tiny-b", "parent": "tiny-a", "steps": "5", "batch_size": "2", "seed": "0",
        "prediction_type": "epsilon"})
    assert refused.status_code == 200
    assert b"the parent&#x27;s is &#x27;v_prediction&#x27;" in refused.content
    assert not Job.objects.filter(kind="generator_training").exists()
    started = engineer.post("/generator/trainings/", {
        "name": "tiny-b", "parent": "tiny-a", "steps": "5", "batch_size": "2", "seed": "0"})
    job = Job.objects.get(kind="generator_training")
    assert started.status_code == 302
    assert started["Location"] == f"/jobs/{job.pk}/"
    assert job.params["parent"] == "tiny-a"
    assert job.params["prediction_type"] == "v_prediction"  # the parent's, not the default
    assert job.started_by == engineer.user
    assert not GeneratorVersion.objects.filter(name="tiny-b").exists()  # registered when it is done


def test_a_training_request_grows_a_parent_to_128_px(api_client_for, headshot):
    from hfplatform.jobs.models import Job

    client = api_client_for("ml_engineer")
    refused = client.post("/api/generator/trainings/", {"name": "tiny-96", "parent": "tiny-a", "steps": 5,
                                                       "image_size": 96}, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_image_size"
    assert not Job.objects.filter(kind="generator_training").exists()
    started = client.post("/api/generator/trainings/", {"name": "tiny-128", "parent": "tiny-a", "steps": 5,
                                                       "image_size": 128}, format="json")
    assert started.status_code == 202, started.content
    job = Job.objects.get(kind="generator_training")
    assert (job.params["parent"], job.params["image_size"]) == ("tiny-a", 128)
