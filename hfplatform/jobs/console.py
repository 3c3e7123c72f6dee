"""Running jobs from management commands: a text progress bar, a job run in a thread while the bar
follows its row, and the user a command records as the one who started it."""

from __future__ import annotations

import threading
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, OutputWrapper
from django.db import connection

from hfplatform.jobs.models import Job
from hfplatform.jobs.services import job_run


def progress_bar(progress: int, width: int = 30) -> str:
    """``[#####.....]  50%``."""
    done = width * progress // 100
    return "[" + "#" * done + "." * (width - done) + f"] {progress:3d}%"


def bar_line(job: Job) -> str:
    """The bar and the job's message, drawn over the previous line (``\\r``)."""
    return f"\r{progress_bar(job.progress)} {job.message[:60]:<60}"


def _run_closing(job_id: int) -> None:
    """Run the job in this thread, then close the thread's own database connection."""
    try:
        job_run(job_id=job_id)
    finally:
        connection.close()


def job_run_with_bar(job: Job, out: OutputWrapper, *, poll: float = 2.0) -> Job:
    """Run ``job`` here (in a thread) and draw its progress on ``out`` every ``poll`` seconds; the
    finished row. If this process is killed, a consumer's recovery resumes or fails the job."""
    runner = threading.Thread(target=_run_closing, args=(job.pk,), daemon=True)
    runner.start()
    while runner.is_alive():
        runner.join(timeout=poll)
        job.refresh_from_db()
        out.write(bar_line(job), ending="")
        out.flush()
    job.refresh_from_db()
    out.write("")
    return job


def command_user(username: str | None) -> Any:
    """The user named ``username`` (None when no name is given); a CommandError when there is none."""
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user named {username!r} (`manage.py createuser`).")
    return user
