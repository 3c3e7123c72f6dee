"""Per-user limits on the API's expensive writes: job starts and uploads answer 429 with Retry-After
past the rate, reads are never counted, another user is not affected, and an empty rate turns a
scope off."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

def _start(client):
    return client.post("/api/jobs/thumbnails/", {"folder": "no-such-folder", "size": 64}, format="json")


def test_job_starts_are_limited_per_user(api_client_for, settings):
    settings.API_RATES = {**settings.API_RATES, "jobs": "3/minute"}
    engineer = api_client_for("ml_engineer")
    answers = [_start(engineer) for _ in range(3)]
    assert [a.status_code for a in answers] == [400, 400, 400]  # refused by the service, still counted
    throttled = _start(engineer)
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert 0 < int(throttled["Retry-After"]) <= 60
    for _ in range(5):  # reads are not limited
        assert engineer.get("/api/jobs/").status_code == 200
    assert _start(api_client_for("ml_engineer")).status_code == 400  # another engineer is not affected


def test_uploads_have_their_own_scope_and_an_empty_rate_is_off(api_client_for, settings, make_user):
    from django.utils import timezone

    from generation.models import Subject

    settings.API_RATES = {"uploads": "1/minute", "jobs": ""}
    engineer = api_client_for("ml_engineer")
    subject = Subject.objects.create(display_name="Rate", owner=make_user("ml_engineer"),
                                     consent_given_at=timezone.now(), consent_version="test")
    url = f"/api/subjects/{subject.pk}/photos/"
    assert engineer.post(url, {}, format="multipart").status_code == 400  # no files: counted
    assert engineer.post(url, {}, format="multipart").status_code == 429
    for _ in range(6):  # jobs: off
        assert _start(engineer).status_code == 400
