"""huey tasks for jobs: one task runs any job kind; hooks recover jobs of dead workers."""

from __future__ import annotations

from django.db import close_old_connections
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, on_startup

from hfplatform.jobs.services import job_run, jobs_recover


@db_task(name="jobs.run")
def job_run_task(job_id: int) -> None:
    job_run(job_id=job_id)


@on_startup()
def jobs_recover_on_startup() -> None:
    try:
        jobs_recover(on_startup=True)
    finally:
        close_old_connections()


@db_periodic_task(crontab(minute="*"), name="jobs.recover")
def jobs_recover_task() -> None:
    jobs_recover(on_startup=False)
