"""``GET /api/generation/jobs/``: generation requests newest first, paginated like ``/api/jobs/``,
filtered by subject, generator version and job status (an unknown status is a 400 naming the allowed
ones); engineers and auditors read, ``POST`` is unchanged."""

from __future__ import annotations

import pytest

from generation.models import GenerationJob, GeneratorVersion
from hfplatform.jobs.models import Job, JobStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(review_world):
    """Three subjects with one succeeded job each (3 headshots), and a queued and a failed job of the
    first subject from another version."""
    built = review_world(subjects=3, per_subject=3, portraits=0)
    other = GeneratorVersion.objects.create(name="v-other", files_dir="/nonexistent", image_size=64)
    first = built.subjects[0]
    photo = built.by_subject[first.pk][0].source_photo
    for status in ("queued", "failed"):
        job = Job.objects.create(kind="generation", status=status, started_by=built.engineer)
        GenerationJob.objects.create(subject=first, source_photo=photo, generator_version=other, candidates=2,
                                     seed=1, steps=5, guidance=1.0, job=job)
    return built


def _ids(body) -> list[int]:
    return [row["id"] for row in body["results"]]


def test_newest_first_and_paginated_like_the_job_list(api_client_for, world):
    auditor = api_client_for("auditor")
    everything = auditor.get("/api/generation/jobs/").json()
    assert set(everything) == set(auditor.get("/api/jobs/").json()) == {"count", "next", "previous",
                                                                        "results"}
    newest_first = list(GenerationJob.objects.order_by("-created_at", "-id").values_list("pk", flat=True))
    assert everything["count"] == 5
    assert _ids(everything) == newest_first
    page = auditor.get("/api/generation/jobs/?limit=2&offset=2").json()
    assert _ids(page) == newest_first[2:4]
    assert "offset=4" in page["next"]
    assert page["previous"]
    done = next(r for r in everything["results"] if r["status"] == "succeeded")
    assert len(done["headshots"]) == 3  # the same rows as GET /api/generation/jobs/{id}/
    assert done == auditor.get(f"/api/generation/jobs/{done['id']}/").json()
    assert all(r["headshots"] == [] for r in everything["results"] if r["status"] != "succeeded")


def test_filters(api_client_for, world):
    engineer = api_client_for("ml_engineer")
    first = world.subjects[0]

    def ids(query: str) -> set[int]:
        response = engineer.get(f"/api/generation/jobs/?{query}")
        assert response.status_code == 200, response.json()
        return set(_ids(response.json()))

    of_first = set(GenerationJob.objects.filter(subject=first).values_list("pk", flat=True))
    assert ids(f"subject={first.pk}") == of_first
    assert len(of_first) == 3
    assert ids("version=v-other") == set(GenerationJob.objects.filter(generator_version__name="v-other")
                                         .values_list("pk", flat=True))
    assert ids(f"version={world.version.name}&subject={first.pk}") == {
        world.by_subject[first.pk][0].generation_job_id}
    assert ids("status=queued") == set(GenerationJob.objects.filter(job__status="queued")
                                       .values_list("pk", flat=True))
    assert len(ids("status=succeeded")) == 3
    assert ids("status=cancelled") == set()
    assert ids("version=no-such-version") == set()


@pytest.mark.parametrize(("query", "field"), [("status=done", "status"), ("subject=x", "subject")])
def test_bad_filters_are_a_400(api_client_for, world, query, field):
    response = api_client_for("ml_engineer").get(f"/api/generation/jobs/?{query}")
    assert response.status_code == 400
    body = response.json()
    assert field in body["fields"]
    if field == "status":
        assert all(status in body["detail"] for status in JobStatus.values)


def test_a_page_of_jobs_costs_a_fixed_number_of_queries(api_client_for, world,
                                                        django_assert_max_num_queries):
    auditor = api_client_for("auditor")
    auditor.get("/api/generation/jobs/")  # warm up (the token, the roles)
    with django_assert_max_num_queries(6):
        assert auditor.get("/api/generation/jobs/").status_code == 200


@pytest.mark.parametrize(("role", "read", "write"), [
    ("ml_engineer", 200, 400), ("admin", 200, 400), ("auditor", 200, 403), ("reviewer", 403, 403),
    ("photographer", 403, 403), (None, 401, 401)])
def test_who_reads_and_who_writes(api_client_for, role, read, write):
    client = api_client_for(role)
    assert client.get("/api/generation/jobs/").status_code == read
    assert client.post("/api/generation/jobs/", {}, format="json").status_code == write
