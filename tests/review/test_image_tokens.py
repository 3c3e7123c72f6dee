"""The images ``GET /api/review/next/`` hands out open with the reviewer's API token: only for the
holder of the assignment (and readers), as with a session; a bad token is a JSON 401."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(review_world, make_campaign):
    world = review_world(subjects=2, per_subject=2, portraits=2)
    return make_campaign(world, task_kinds=["rating"], overlap=2)


def test_a_reviewer_script_loads_the_images_it_was_handed(api_client_for, campaign):
    reviewer = api_client_for("reviewer")
    task = reviewer.get(f"/api/review/next/?campaign={campaign.pk}").json()["assignment"]
    assert set(task["images"]) == {"headshot", "reference"}
    for url in task["images"].values():
        response = reviewer.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "image/png"
        assert response.content[:4] == b"\x89PNG"
    url = task["images"]["headshot"]
    other = api_client_for("reviewer").get(url)  # not the holder: as if it did not exist
    assert other.status_code == 404
    assert other.json()["code"] == "not_found"
    assert api_client_for("auditor").get(url).status_code == 200  # readers see every assignment
    bad = api_client_for(None)
    bad.credentials(HTTP_AUTHORIZATION="Token nope")
    refused = bad.get(url)
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == "Token"
    assert "/login/" in api_client_for(None).get(url)["Location"]
