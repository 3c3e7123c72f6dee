"""Writes for jobs: create-and-enqueue, run, cancel, and recovery after a dead worker."""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from hfplatform.accounts.roles import ENGINEERS, is_owner_or_has_role
from hfplatform.audit.services import audit_record
from hfplatform.errors import ApplicationError, Conflict
from hfplatform.jobs.models import ACTIVE_STATUSES, Job, JobStatus
from hfplatform.jobs.progress import JobInterrupted, JobProgress
from hfplatform.jobs.registry import get_job_kind

logger = logging.getLogger(__name__)


def worker_identity() -> str:
    """``host:pid:thread`` of the code running now; stored on the job it claims."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


# --- Create and enqueue ---------------------------------------------------------------------------


@transaction.atomic
def job_create(
    *, kind: str, started_by: Any, params: dict[str, Any] | None = None, title: str = "",
    enqueue: bool = True,
) -> Job:
    """Store a queued job and enqueue it once the surrounding transaction commits. With
    ``enqueue=False`` the caller runs it itself (``job_run``), e.g. a management command."""
    try:
        job_kind = get_job_kind(kind)
    except LookupError as exc:
        raise ApplicationError(str(exc), code="unknown_job_kind") from None
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind,
            title=title or job_kind.title,
            params=params or {},
            started_by=started_by if started_by and started_by.is_authenticated else None,
        )
        audit_record(action="job.start", target=job, actor=job.started_by,
                     summary=f"job {job.pk}: {job.title}", detail={"kind": kind})
    if enqueue:
        transaction.on_commit(lambda: job_enqueue(job_id=job.pk))
    return job


def job_enqueue(*, job_id: int) -> None:
    """Hand the job to huey. Safe to repeat: the task claims a job only while it is queued."""
    from hfplatform.jobs.tasks import job_run_task

    Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(enqueued_at=timezone.now())
    job_run_task(job_id)


# --- Run ------------------------------------------------------------------------------------------


def _claim(job_id: int, worker: str) -> Job | None:
    now = timezone.now()
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.status != JobStatus.QUEUED:
        return None
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING,
        worker=worker,
        heartbeat_at=now,
        started_at=job.started_at or now,
        attempts=job.attempts + 1,
    )
    if not claimed:  # another worker got there first
        return None
    job.refresh_from_db()
    return job


def job_run(*, job_id: int, worker: str | None = None) -> Job | None:
    """Run a queued job to its end. Returns the job, or None when it was not ours to run."""
    worker = worker or worker_identity()
    job = _claim(job_id, worker)
    if job is None:
        logger.info("job %s not claimed (not queued any more)", job_id)
        return None
    progress = JobProgress(job, worker)
    mine = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, worker=worker)
    try:
        kind = get_job_kind(job.kind)
        if job.attempts > 1:
            progress.log(f"attempt {job.attempts}: resuming")
        result = kind.handler(job=job, progress=progress) or {}
    except JobInterrupted:
        logger.info("job %s interrupted (cancelled or recovered)", job.pk)
    except Exception as exc:
        if isinstance(exc, ApplicationError):
            error = exc.message
        else:
            logger.exception("job %s failed", job.pk)
            error = f"{type(exc).__name__}: {exc}"
            progress.log(traceback.format_exc(limit=6).strip().splitlines()[-1])
        mine.update(
            status=JobStatus.FAILED, error=error, finished_at=timezone.now(),
            log_tail=progress.log_tail, message=progress.message,
        )
    else:
        mine.update(
            status=JobStatus.SUCCEEDED, progress=100, result=result, finished_at=timezone.now(),
            log_tail=progress.log_tail, message=progress.message or "Done",
            heartbeat_at=timezone.now(),
        )
    job.refresh_from_db()
    return job


# --- Cancel ---------------------------------------------------------------------------------------


def job_cancel(*, job: Job, by: Any) -> Job:
    """Cancel a queued or running job; a running handler stops at its next progress report."""
    if not is_owner_or_has_role(by, job.started_by_id, ENGINEERS):
        raise PermissionDenied("Only the person who started a job or an ML engineer can cancel it.")
    line = f"{timezone.now():%H:%M:%S} cancelled by {by.get_username()}"
    updated = Job.objects.filter(pk=job.pk, status__in=ACTIVE_STATUSES).update(
        status=JobStatus.CANCELLED,
        finished_at=timezone.now(),
        message="Cancelled",
        log_tail=(job.log_tail + "\n" + line).strip(),
    )
    job.refresh_from_db()
    if not updated:
        raise Conflict(f"Job {job.pk} has already finished ({job.status}).", code="job_finished")
    audit_record(action="job.cancel", target=job, actor=by, summary=f"job {job.pk}: {job.title}")
    return job


# --- Recovery -------------------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worker_is_dead(job: Job, *, on_startup: bool, stale_before: Any) -> bool:
    """A running job's worker is dead when its process is gone from this host, or (any host) its
    heartbeat is older than JOB_STALE_AFTER_SECONDS."""
    if job.heartbeat_at is None or job.heartbeat_at < stale_before:
        return True
    host, _, rest = job.worker.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        # At start-up nothing of ours is running yet: the row is from an earlier process that had
        # the same pid. Later, a row naming this process is one of our own threads at work.
        return on_startup
    return not _pid_alive(pid)


def jobs_recover(*, on_startup: bool = False) -> dict[str, int]:
    """Settle jobs whose worker died: resume resumable ones, fail the others; re-enqueue queued
    jobs whose queue message was lost. Runs when a consumer starts and every minute after."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    counts = {"resumed": 0, "failed": 0, "requeued": 0}

    for job in Job.objects.filter(status=JobStatus.RUNNING):
        if not _worker_is_dead(job, on_startup=on_startup, stale_before=stale_before):
            continue
        mine = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, worker=job.worker)
        try:
            resumable = get_job_kind(job.kind).resumable
        except LookupError:
            resumable = False
        stamp = f"{now:%H:%M:%S}"
        if resumable and job.attempts < settings.JOB_MAX_ATTEMPTS:
            line = f"{stamp} worker {job.worker} stopped; resuming from the last checkpoint"
            if mine.update(
                status=JobStatus.QUEUED, worker="", message="Resuming after the worker stopped",
                log_tail=(job.log_tail + "\n" + line).strip(),
            ):
                job_enqueue(job_id=job.pk)
                counts["resumed"] += 1
        else:
            reason = "the worker running it stopped (killed or crashed) before it finished"
            if resumable:
                reason += f"; gave up after {job.attempts} attempts"
            if mine.update(
                status=JobStatus.FAILED, finished_at=now, error=reason[0].upper() + reason[1:],
                message="Failed", log_tail=(job.log_tail + f"\n{stamp} {reason}").strip(),
            ):
                counts["failed"] += 1

    lost = Job.objects.filter(status=JobStatus.QUEUED, created_at__lt=stale_before).exclude(
        enqueued_at__gte=stale_before
    )
    for job_id in lost.values_list("pk", flat=True):
        job_enqueue(job_id=job_id)
        counts["requeued"] += 1
    if any(counts.values()):
        logger.warning("job recovery: %s", counts)
    return counts
