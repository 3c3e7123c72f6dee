"""Reads for jobs, filtered by what the user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from hfplatform.accounts.roles import READERS, has_role, is_owner_or_has_role
from hfplatform.errors import NotFound
from hfplatform.jobs.models import Job


def job_list(*, user: Any, status: str | None = None, kind: str | None = None) -> QuerySet[Job]:
    """Jobs the user may see: all of them for ML engineers, auditors and admins, else their own."""
    jobs = Job.objects.select_related("started_by")
    if not has_role(user, READERS):
        jobs = jobs.filter(started_by=user)
    if status:
        jobs = jobs.filter(status=status)
    if kind:
        jobs = jobs.filter(kind=kind)
    return jobs


def job_get(*, user: Any, job_id: int) -> Job:
    """One job, or NotFound when it does not exist or is not the user's to see."""
    job = Job.objects.select_related("started_by").filter(pk=job_id).first()
    if job is None or not is_owner_or_has_role(user, job.started_by_id, READERS):
        raise NotFound(f"No job with id {job_id}.")
    return job
