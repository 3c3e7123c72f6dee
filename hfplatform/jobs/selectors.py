"""Reads for jobs, filtered by what the user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from hfplatform.accounts.roles import READERS, has_role, is_owner_or_has_role
from hfplatform.errors import NotFound
from hfplatform.jobs.models import Job, JobStatus
from hfplatform.queries import text_search


def job_list(*, user: Any, status: str | None = None, kind: str | None = None,
             search: str | None = None) -> QuerySet[Job]:
    """Jobs the user may see: all of them for ML engineers, auditors and admins, else their own;
    ``status`` and ``kind`` filter when given (an unknown value, "" included, is a 400); ``search``
    keeps the jobs whose title, kind or starter's username hold every word (a number: the id)."""
    from hfplatform.errors import ApplicationError
    from hfplatform.jobs.registry import job_kinds

    if status is not None and status not in JobStatus.values:
        raise ApplicationError(f"Unknown status {status!r}; one of: {', '.join(JobStatus.values)}.",
                               code="invalid", extra={"fields": {"status": ["Unknown status."]}})
    if kind is not None and kind not in job_kinds():
        raise ApplicationError(f"Unknown job kind {kind!r}; one of: {', '.join(sorted(job_kinds()))}.",
                               code="invalid", extra={"fields": {"kind": ["Unknown job kind."]}})
    jobs = Job.objects.select_related("started_by")
    if not has_role(user, READERS):
        jobs = jobs.filter(started_by=user)
    if status:
        jobs = jobs.filter(status=status)
    if kind:
        jobs = jobs.filter(kind=kind)
    return text_search(jobs, search, ["title", "kind", "started_by__username"])


def job_get(*, user: Any, job_id: int) -> Job:
    """One job, or NotFound when it does not exist or is not the user's to see."""
    job = Job.objects.select_related("started_by").filter(pk=job_id).first()
    if job is None or not is_owner_or_has_role(user, job.started_by_id, READERS):
        raise NotFound(f"No job with id {job_id}.")
    return job


def job_links(job: Job) -> list[dict[str, str]]:
    """What a finished job made, as ``[{"label", "url"}]`` (its kind's ``links``; none while it runs
    or when the kind names none)."""
    from hfplatform.jobs.registry import get_job_kind

    if job.status != JobStatus.SUCCEEDED or not job.result:
        return []
    try:
        links = get_job_kind(job.kind).links
    except LookupError:
        return []
    return [{"label": label, "url": url} for label, url in (links(job.result) if links else [])]


#: Result entries too long for the page's summary (they stay in the raw result and the API).
LONG_RESULT = 8


def job_result_summary(job: Job) -> list[tuple[str, str]]:
    """The result for people: ``[(label, text)]``, short values as they are, lists and mappings by
    their size (the raw JSON stays one click away on the page, and whole in the API)."""
    rows = []
    for key, value in (job.result or {}).items():
        label = key.replace("_", " ").capitalize()
        if isinstance(value, bool):
            text = "yes" if value else "no"
        elif isinstance(value, float):
            text = f"{value:.4g}"
        elif isinstance(value, (int, str)):
            text = str(value)
        elif isinstance(value, list):
            text = (", ".join(map(str, value)) if len(value) <= LONG_RESULT and all(
                isinstance(v, (int, float, str)) for v in value) else f"{len(value)} values")
        elif isinstance(value, dict):
            text = f"{len(value)} entries"
        else:
            text = "—" if value is None else str(value)
        rows.append((label, text))
    return rows


#: How far back a failed job still asks for attention on the home page.
ATTENTION_DAYS = 7


def jobs_needing_attention(*, user: Any, limit: int = 5) -> list[Job]:
    """Jobs someone should look at: failed in the last ``ATTENTION_DAYS`` days, then running or queued
    ones (newest first), of those the user may see."""
    from datetime import timedelta

    from django.utils import timezone

    since = timezone.now() - timedelta(days=ATTENTION_DAYS)
    jobs = job_list(user=user)
    failed = list(jobs.filter(status=JobStatus.FAILED, created_at__gte=since).order_by("-created_at")[:limit])
    busy = list(jobs.filter(status__in=[JobStatus.RUNNING, JobStatus.QUEUED]).order_by("-created_at")[:limit])
    return (failed + busy)[:limit]
