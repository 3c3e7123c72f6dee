"""Review pages: campaign list, creation, progress, the reviewer's work page and its images.

The work page is one HTML shell; static/js/review.js asks ``/api/review/next/`` for each item and
posts answers to the same API the scripts use, so rating never reloads the page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from hfplatform.accounts.roles import ENGINEERS, READERS, has_role, role_required, signed_in_required
from hfplatform.errors import ApplicationError, NotFound
from hfplatform.queries import SEARCH_MAX_LENGTH
from hfplatform.views import LIST_LIMIT, first_rows, form_submit, found_or_404, page_search
from review.comparison_verdict import NotAComparison, comparison_verdict
from review.forms import CampaignForm
from review.guidelines import guidelines_html
from review.models import Campaign, CampaignStatus
from review.options import SCORES
from review.selectors import (
    assignment_for_image,
    assignment_image_png,
    campaign_get,
    campaign_list,
    campaign_progress,
    campaign_selection_view,
    reviewer_done_count,
    task_vocabulary,
)
from review.services import campaign_create, campaign_update, can_take


def _campaign_or_404(request: HttpRequest, campaign_id: int) -> Campaign:
    return found_or_404(campaign_get, campaign_id=campaign_id, user=request.user)


@login_required
def campaign_list_page(request: HttpRequest) -> HttpResponse:
    is_reader = has_role(request.user, READERS)
    status = request.GET.get("status") if is_reader else None  # the others see open campaigns only
    if status not in CampaignStatus.values:
        status = None
    search = page_search(request)
    campaigns, matching = first_rows(campaign_list(user=request.user, search=search, status=status),
                                     LIST_LIMIT)
    for campaign in campaigns:
        campaign.progress = campaign_progress(campaign)
        campaign.can_take = campaign.is_open and can_take(request.user, campaign)
        campaign.mine = reviewer_done_count(campaign=campaign, reviewer=request.user)
    return render(request, "review/campaign_list.html", {
        "campaigns": campaigns, "is_engineer": has_role(request.user, ENGINEERS), "is_reader": is_reader,
        "search": search, "search_max": SEARCH_MAX_LENGTH, "status": status,
        "statuses": CampaignStatus.choices, "filtered": bool(search or status),
        "matching": matching})


@role_required(*ENGINEERS)
def campaign_create_page(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None)

    def create(values: dict[str, Any]) -> Campaign:
        return campaign_create(created_by=request.user, **values)

    campaign = form_submit(form=form, service=create) if request.method == "POST" else None
    if campaign is not None:
        messages.success(request, f"Created campaign “{campaign.name}” with "
                                  f"{campaign.items.filter(is_gold=False).count()} items.")
        return redirect("review:campaign", campaign_id=campaign.pk)
    return render(request, "review/campaign_form.html", {"form": form})


@role_required(*READERS)
def campaign_detail_page(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_or_404(request, campaign_id)
    try:
        verdict = comparison_verdict(campaign)
    except NotAComparison:
        verdict = None
    return render(request, "review/campaign_detail.html", {
        "campaign": campaign, "progress": campaign_progress(campaign),
        "verdict": verdict.as_dict() if verdict else None,
        "selection": campaign_selection_view(campaign.selection),
        "guidelines_html": guidelines_html(campaign.guidelines),
        "is_engineer": has_role(request.user, ENGINEERS)})


@require_POST
@role_required(*ENGINEERS)
def campaign_status_page(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_or_404(request, campaign_id)
    wanted = request.POST.get("status", "")
    try:
        campaign_update(campaign=campaign, status=wanted)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Campaign {'closed' if wanted == 'closed' else 'reopened'}.")
    return redirect("review:campaign", campaign_id=campaign.pk)


@login_required
def work_page(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_or_404(request, campaign_id)
    if not can_take(request.user, campaign):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("This campaign is for: " + ", ".join(campaign.allowed_roles))
    anchors = campaign.scale_anchors or {}
    return render(request, "review/work.html", {
        "campaign": campaign, "vocabulary": task_vocabulary(),
        "anchors": [(str(n), anchors.get(str(n), "")) for n in SCORES],
        "guidelines_html": guidelines_html(campaign.guidelines),
        "done": reviewer_done_count(campaign=campaign, reviewer=request.user)})


@signed_in_required  # a session or an API token: /api/review/next/ hands these URLs out
def assignment_image(request: HttpRequest, assignment_id: int, side: str) -> HttpResponse:
    assignment = found_or_404(assignment_for_image, assignment_id=assignment_id, user=request.user)
    png = found_or_404(assignment_image_png, assignment=assignment, side=side)
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@role_required(*ENGINEERS)
def stage_comparison_page(request: HttpRequest) -> HttpResponse:
    """The "with vs without a stage" button of the generator versions page: start the job, follow it."""
    from generation.generator.selectors import generator_version_get
    from review.stage_comparison import stage_comparison_start

    try:
        people = int(request.POST.get("people") or 12)
        version = generator_version_get(name=request.POST.get("version", ""))
        job = stage_comparison_start(started_by=request.user, version=version,
                                     stage=request.POST.get("stage", ""), people=people)
    except ValueError:
        messages.error(request, "people: give a whole number.")
    except (ApplicationError, NotFound) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Generating with and without {job.params['stage']}; the campaign opens "
                                  "when the job is done.")
        return redirect("jobs:detail", job.pk)
    return redirect("generation:versions")
