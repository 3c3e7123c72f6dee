"""Pages for jobs: the list (with the thumbnails form for engineers) and a live job page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from hfplatform.accounts.roles import (
    ENGINEERS,
    READERS,
    has_role,
    is_owner_or_has_role,
    role_required,
)
from hfplatform.errors import ApplicationError
from hfplatform.jobs.kinds import DEFAULT_THUMBNAIL_SIZE, thumbnails_job_start
from hfplatform.jobs.models import JobStatus
from hfplatform.jobs.registry import job_kinds
from hfplatform.jobs.selectors import job_get, job_links, job_list, job_result_summary
from hfplatform.queries import SEARCH_MAX_LENGTH
from hfplatform.views import first_rows, found_or_404, page_search

#: Rows the jobs page shows; narrower filters find older jobs.
JOBS_SHOWN = 100


@role_required(*READERS)
def job_list_page(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    if status not in (None, *JobStatus.values):
        status = None
    kinds = job_kinds()
    kind = request.GET.get("kind") or None
    if kind not in kinds:
        kind = None
    search = page_search(request)
    shown, matching = first_rows(job_list(user=request.user, status=status, kind=kind, search=search),
                                 JOBS_SHOWN)
    return render(request, "jobs/list.html", {
        "jobs": shown, "matching": matching,
        "status": status, "statuses": JobStatus.choices, "kind": kind,
        "kinds": sorted((name, entry.title or name) for name, entry in kinds.items()),
        "search": search, "search_max": SEARCH_MAX_LENGTH, "can_start": has_role(request.user, ENGINEERS),
    })


@login_required
def job_detail_page(request: HttpRequest, job_id: int) -> HttpResponse:
    job = found_or_404(job_get, user=request.user, job_id=job_id)
    can_cancel = not job.is_finished and is_owner_or_has_role(
        request.user, job.started_by_id, ENGINEERS
    )
    return render(request, "jobs/detail.html", {"job": job, "can_cancel": can_cancel, "links": job_links(job),
                                                "summary": job_result_summary(job)})


@require_POST
@role_required(*ENGINEERS)
def thumbnails_start_page(request: HttpRequest) -> HttpResponse:
    try:
        size = int(request.POST.get("size") or DEFAULT_THUMBNAIL_SIZE)
        job = thumbnails_job_start(
            folder=request.POST.get("folder", ""), size=size, started_by=request.user
        )
    except (ApplicationError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", "size must be a whole number of pixels."))
        return redirect("jobs:list")
    messages.success(request, f"Started job {job.pk}: {job.title}.")
    return redirect("jobs:detail", job_id=job.pk)
