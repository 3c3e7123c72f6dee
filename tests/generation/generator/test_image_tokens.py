"""The generator's image URLs the API hands out (a headshot's ``image_url``, a generation's input, a
version's sample grid) open with the API token, under the same role rule as with a session."""

from __future__ import annotations

import pytest

from generation.generator.services import (
    generation_job_create,
    generator_sample_grid,
    generator_version_register,
)
from hfplatform.jobs.services import job_run
from tests.factories.generation import tiny_generator

pytestmark = pytest.mark.django_db

READERS = {"ml_engineer", "auditor", "admin"}
ENGINEERS = {"ml_engineer", "admin"}


@pytest.fixture
def headshot(tmp_path, ready_subject, engineer):
    version = generator_version_register(name="tiny-a", files_dir=tiny_generator(tmp_path / "a"),
                                         activate=True)
    request = generation_job_create(subject=ready_subject, created_by=engineer, candidates=1, seed=7,
                                    steps=2, enqueue=False)
    job_run(job_id=request.job_id)
    generator_sample_grid(version=version, subjects=1)
    return request.headshots.get()


@pytest.mark.parametrize("role", ["ml_engineer", "auditor", "admin", "reviewer", "photographer"])
def test_image_urls_with_a_token(api_client_for, headshot, role):
    client = api_client_for(role)
    image_url = api_client_for("ml_engineer").get(f"/api/headshots/{headshot.pk}/").json()["image_url"]
    for url, allowed in [(image_url, READERS), ("/generator/tiny-a/grid.png", READERS),
                         (f"/generations/{headshot.generation_job_id}/input.png", ENGINEERS)]:
        response = client.get(url)
        if role in allowed:
            assert response.status_code == 200, url
            assert response["Content-Type"] == "image/png"
            assert b"".join(response.streaming_content)[:4] == b"\x89PNG"
        else:
            assert response.status_code == 403, url
            assert response.json()["code"] == "forbidden"
            assert "This page is for" in response.json()["detail"]


def test_bad_token_missing_image_and_no_token(api_client_for, client, headshot):
    urls = [f"/headshots/{headshot.pk}/image/", "/generator/tiny-a/grid.png",
            f"/generations/{headshot.generation_job_id}/input.png"]
    bad = api_client_for(None)
    bad.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")
    for url in urls:
        refused = bad.get(url)
        assert refused.status_code == 401
        assert refused.json()["detail"] == "Invalid token."
        assert "/login/" in client.get(url)["Location"]  # no token, no session: the login page as before
    missing = api_client_for("ml_engineer").get("/headshots/999999/image/")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
