"""Job lifecycle in one process: create, run, progress, failure, cancel, recovery."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from PIL import Image

from hfplatform.errors import ApplicationError, Conflict
from hfplatform.jobs.kinds import thumbnails_job_start
from hfplatform.jobs.models import Job, JobStatus
from hfplatform.jobs.progress import JobInterrupted, JobProgress
from hfplatform.jobs.services import _claim, job_cancel, job_create, job_run, jobs_recover
from tests.factories.jobs import write_photos

pytestmark = pytest.mark.django_db


def test_job_is_enqueued_only_after_commit(engineer, django_capture_on_commit_callbacks):
    write_photos("shots", 2)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = thumbnails_job_start(folder="shots", size=64, started_by=engineer)
    assert job.status == JobStatus.QUEUED
    assert job.started_by == engineer
    assert len(callbacks) == 1  # the enqueue waits for the commit


def test_thumbnails_job_runs_to_success_with_progress_and_result(engineer, settings):
    write_photos("shots", 5, size=300)
    job = thumbnails_job_start(folder="shots", size=64, started_by=engineer)
    done = job_run(job_id=job.pk)
    assert done.status == JobStatus.SUCCEEDED
    assert done.progress == 100
    assert done.attempts == 1
    assert done.started_at <= done.finished_at
    assert done.result["made"] == 5
    assert done.result["unreadable"] == []
    assert "made 5" in done.log_tail
    out = Path(settings.MEDIA_ROOT) / done.result["folder"]
    sizes = {Image.open(p).size for p in out.iterdir()}
    assert sizes == {(64, 64)}


def test_unreadable_files_are_reported_not_fatal(engineer, settings):
    folder = write_photos("shots", 2)
    (folder / "broken.jpg").write_bytes(b"not really a jpeg")
    job = thumbnails_job_start(folder="shots", size=32, started_by=engineer)
    done = job_run(job_id=job.pk)
    assert done.status == JobStatus.SUCCEEDED
    assert done.result["unreadable"] == ["broken.jpg"]
    assert done.result["made"] == 2


def test_a_failing_job_is_marked_failed_with_the_reason(engineer, settings):
    folder = write_photos("shots", 2)
    job = thumbnails_job_start(folder="shots", size=32, started_by=engineer)
    for p in folder.iterdir():  # the folder is emptied before the worker gets to it
        p.unlink()
    folder.rmdir()
    done = job_run(job_id=job.pk)
    assert done.status == JobStatus.FAILED
    assert "No folder 'shots'" in done.error
    assert done.finished_at is not None


def test_a_job_runs_once_even_if_enqueued_twice(engineer):
    write_photos("shots", 1)
    job = thumbnails_job_start(folder="shots", size=32, started_by=engineer)
    assert job_run(job_id=job.pk).status == JobStatus.SUCCEEDED
    assert job_run(job_id=job.pk) is None  # the duplicate message finds nothing to claim
    assert Job.objects.get(pk=job.pk).attempts == 1


@pytest.mark.parametrize(
    ("folder", "size", "code"),
    [("../etc", 64, "invalid_folder"), ("/abs", 64, "invalid_folder"), ("", 64, "invalid_folder"),
     ("missing", 64, "no_folder"), ("shots", 8, "invalid_size"), ("shots", 5000, "invalid_size"),
     ("empty", 64, "no_images")],
)
def test_bad_thumbnail_requests_are_refused_and_store_nothing(engineer, settings, folder, size,
                                                              code):
    write_photos("shots", 1)
    (Path(settings.MEDIA_ROOT) / "empty").mkdir()
    with pytest.raises(ApplicationError) as caught:
        thumbnails_job_start(folder=folder, size=size, started_by=engineer)
    assert caught.value.code == code
    assert Job.objects.count() == 0


def test_unknown_job_kind_is_refused(engineer):
    with pytest.raises(ApplicationError, match="unknown job kind"):
        job_create(kind="teleport", started_by=engineer)


def test_cancel_stops_a_running_job_at_its_next_report(engineer):
    write_photos("shots", 1)
    job = thumbnails_job_start(folder="shots", size=32, started_by=engineer)
    claimed = _claim(job.pk, "host:1:w")
    progress = JobProgress(claimed, "host:1:w", min_interval=0)
    progress.update(10, "working")
    job_cancel(job=claimed, by=engineer)
    with pytest.raises(JobInterrupted):
        progress.update(20)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert job.progress == 10
    assert "cancelled by" in job.log_tail
    with pytest.raises(Conflict):
        job_cancel(job=job, by=engineer)


def test_only_the_starter_or_an_engineer_may_cancel(engineer, make_user):
    from django.core.exceptions import PermissionDenied

    write_photos("shots", 1)
    job = thumbnails_job_start(folder="shots", size=32, started_by=engineer)
    with pytest.raises(PermissionDenied):
        job_cancel(job=job, by=make_user("auditor"))
    assert job_cancel(job=job, by=make_user("ml_engineer")).status == JobStatus.CANCELLED


def test_progress_writes_are_throttled_but_flush_writes(engineer):
    write_photos("shots", 1)
    job = thumbnails_job_start(folder="shots", size=32, started_by=engineer)
    claimed = _claim(job.pk, "w")
    progress = JobProgress(claimed, "w", min_interval=3600)
    progress.update(5, force=True)
    progress.update(50)  # within the interval: kept in memory only
    assert Job.objects.get(pk=job.pk).progress == 5
    progress.flush()
    assert Job.objects.get(pk=job.pk).progress == 50


# --- recovery -------------------------------------------------------------------------------------


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _running(kind: str = "thumbnails", *, worker: str, heartbeat_age: float = 0, attempts: int = 1,
             params: dict | None = None) -> Job:
    return Job.objects.create(
        kind=kind, status=JobStatus.RUNNING, worker=worker, attempts=attempts,
        params=params or {"folder": "shots", "size": 32}, progress=40,
        started_at=timezone.now(), heartbeat_at=timezone.now() - timedelta(seconds=heartbeat_age),
    )


def test_job_of_a_dead_local_worker_is_resumed_when_resumable(django_capture_on_commit_callbacks):
    job = _running(worker=f"{socket.gethostname()}:{_dead_pid()}:Worker-1")
    counts = jobs_recover(on_startup=True)
    job.refresh_from_db()
    assert counts["resumed"] == 1
    assert job.status == JobStatus.QUEUED
    assert job.worker == ""
    assert "resuming" in job.log_tail


def test_non_resumable_job_of_a_dead_worker_is_failed():
    job = _running("retired-kind", worker=f"{socket.gethostname()}:{_dead_pid()}:Worker-1")
    assert jobs_recover(on_startup=True)["failed"] == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "stopped (killed or crashed)" in job.error
    assert job.finished_at is not None


def test_resumable_job_that_keeps_dying_gives_up(settings):
    job = _running(worker=f"{socket.gethostname()}:{_dead_pid()}:W",
                   attempts=settings.JOB_MAX_ATTEMPTS)
    jobs_recover(on_startup=True)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "gave up after 3 attempts" in job.error


def test_live_workers_are_left_alone():
    parent = _running(worker=f"{socket.gethostname()}:{os.getppid()}:W")  # alive, another process
    remote = _running(worker="other-host:123:W", heartbeat_age=5)  # recent heartbeat elsewhere
    mine = _running(worker=f"{socket.gethostname()}:{os.getpid()}:W")
    assert jobs_recover(on_startup=False) == {"resumed": 0, "failed": 0, "requeued": 0}
    for job in (parent, remote, mine):
        job.refresh_from_db()
        assert job.status == JobStatus.RUNNING
    # At consumer start-up a row naming our own pid is from an earlier process with that pid.
    jobs_recover(on_startup=True)
    mine.refresh_from_db()
    assert mine.status == JobStatus.QUEUED


def test_remote_worker_without_heartbeat_is_taken_as_dead(settings):
    job = _running(worker="other-host:123:W",
                   heartbeat_age=settings.JOB_STALE_AFTER_SECONDS + 1)
    assert jobs_recover()["resumed"] == 1
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED


def test_queued_job_whose_message_was_lost_is_enqueued_again(settings, engineer):
    long_ago = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS + 10)
    job = Job.objects.create(kind="thumbnails", params={"folder": "x", "size": 32})
    Job.objects.filter(pk=job.pk).update(created_at=long_ago, enqueued_at=long_ago)
    fresh = Job.objects.create(kind="thumbnails", params={"folder": "x", "size": 32},
                               enqueued_at=timezone.now())
    assert jobs_recover()["requeued"] == 1
    job.refresh_from_db()
    fresh.refresh_from_db()
    assert job.enqueued_at > long_ago


def test_a_running_job_can_show_a_partial_result(engineer):
    write_photos("shots", 1)
    job = thumbnails_job_start(folder="shots", size=32, started_by=engineer)
    claimed = _claim(job.pk, "host:1:w")
    progress = JobProgress(claimed, "host:1:w", min_interval=0)
    progress.partial_result({"loss_curve": [[1, 0.7], [2, 0.6]]})
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    assert job.result == {"loss_curve": [[1, 0.7], [2, 0.6]]}


def test_a_fresh_process_knows_every_job_kind():
    """What a consumer sees after django.setup(): every app's kinds, without any test importing them."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = ("import django, json; django.setup(); from hfplatform.jobs.registry import job_kinds; "
            "print(json.dumps(sorted(job_kinds())))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2],
                          env={**os.environ, "DJANGO_SETTINGS_MODULE": "hfplatform.settings"})
    assert done.returncode == 0, done.stderr[-2000:]
    kinds = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert {"thumbnails", "photo_analysis", "generation", "generator_training", "reward_training",
            "generator_finetune"} <= kinds
