"""Jobs through a real huey consumer process (Redis in CI), including a killed worker."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from hfplatform.accounts.services import token_for
from hfplatform.jobs.kinds import thumbnails_job_start
from hfplatform.jobs.models import Job, JobStatus
from tests.factories.consumer import Consumer, wait_for
from tests.factories.jobs import write_photos

pytestmark = [pytest.mark.consumer, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def consumers(tmp_path):
    started: list[Consumer] = []

    def start() -> Consumer:
        consumer = Consumer(tmp_path / f"consumer-{len(started)}.log")
        started.append(consumer)
        return consumer

    yield start
    for consumer in started:
        consumer.stop()


def _job(pk: int) -> Job:
    return Job.objects.get(pk=pk)


def test_job_finishes_on_a_real_consumer_and_the_api_shows_it(consumers, make_user, settings):
    engineer = make_user("ml_engineer")
    write_photos("shots", 12)
    consumer = consumers()
    job = thumbnails_job_start(folder="shots", size=48, started_by=engineer)
    wait_for(lambda: _job(job.pk).is_finished, what="the job to finish", consumer=consumer)

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=engineer)}")
    body = client.get(f"/api/jobs/{job.pk}/").json()
    assert body["status"] == "succeeded", body
    assert body["progress"] == 100
    assert body["started_by"] == engineer.username
    assert body["result"]["made"] == 12
    out = Path(settings.MEDIA_ROOT) / body["result"]["folder"]
    assert len(list(out.glob("*.jpg"))) == 12


def test_killed_worker_job_resumes_on_the_next_consumer(consumers, make_user, settings):
    engineer = make_user("ml_engineer")
    count = 300
    write_photos("big", count, size=1024, fmt="PNG")
    first = consumers()
    job = thumbnails_job_start(folder="big", size=64, started_by=engineer)
    wait_for(lambda: _job(job.pk).progress >= 10, what="10% progress", consumer=first)
    first.kill()

    stalled = _job(job.pk)
    assert stalled.status == JobStatus.RUNNING  # what a dead worker leaves behind
    assert stalled.progress < 100
    out = Path(settings.MEDIA_ROOT) / f"thumbnails/job-{job.pk}"
    written_before = len(list(out.glob("*.jpg")))
    assert 0 < written_before < count

    second = consumers()
    wait_for(lambda: _job(job.pk).is_finished, timeout=120, what="the resumed job",
             consumer=second)
    done = _job(job.pk)
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert done.attempts == 2
    assert done.result["kept"] >= written_before  # earlier work was not redone
    assert done.result["made"] + done.result["kept"] == count
    assert len(list(out.glob("*.jpg"))) == count  # each thumbnail exactly once
    assert "resuming" in done.log_tail


def test_consumer_start_fails_a_job_that_cannot_resume(consumers, make_user):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    job = Job.objects.create(
        kind="thumbnails", status=JobStatus.RUNNING, attempts=3, progress=50,
        params={"folder": "gone", "size": 32}, started_by=make_user("ml_engineer"),
        worker=f"{socket.gethostname()}:{child.pid}:Worker-1",
    )
    consumer = consumers()
    wait_for(lambda: _job(job.pk).status == JobStatus.FAILED, what="recovery at start-up",
             consumer=consumer)
    assert "gave up after 3 attempts" in _job(job.pk).error
