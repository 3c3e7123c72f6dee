"""Pages for subjects: list and create, upload selfies with per-file results, delete, files."""

from __future__ import annotations

import mimetypes

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from generation.forms import SubjectForm
from generation.models import PhotoStatus
from generation.selectors import photo_get, subject_get, subject_list
from generation.services import photos_upload, subject_create, subject_delete
from hfplatform.accounts.roles import ENGINEERS, role_required
from hfplatform.errors import ApplicationError, NotFound
from hfplatform.jobs.models import Job


def _subject_or_404(request: HttpRequest, subject_id: int):
    try:
        return subject_get(user=request.user, subject_id=subject_id)
    except NotFound as exc:
        raise Http404(exc.message) from None


@role_required(*ENGINEERS)
def subject_list_page(request: HttpRequest) -> HttpResponse:
    form = SubjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        subject = subject_create(owner=request.user, **form.cleaned_data)
        messages.success(request, f"Created {subject.display_name}. Now upload a few selfies.")
        return redirect("generation:subject", subject_id=subject.pk)
    subjects = subject_list(user=request.user)[:200]
    return render(request, "generation/subject_list.html", {"form": form, "subjects": subjects})


@role_required(*ENGINEERS)
def subject_detail_page(request: HttpRequest, subject_id: int) -> HttpResponse:
    from generation.ml import REJECTION_MESSAGES

    subject = _subject_or_404(request, subject_id)
    photos = list(subject.photos.all())
    for photo in photos:
        photo.reasons = [REJECTION_MESSAGES.get(c, c) for c in photo.rejection_reasons]
    job_id = request.GET.get("job")
    job = Job.objects.filter(pk=job_id, kind="photo_analysis").first() if str(job_id).isdigit() else None
    return render(request, "generation/subject_detail.html", {
        "subject": subject, "photos": photos, "job": job,
        "pending": any(p.status == PhotoStatus.PENDING for p in photos),
    })


@require_POST
@role_required(*ENGINEERS)
def subject_upload_page(request: HttpRequest, subject_id: int) -> HttpResponse:
    subject = _subject_or_404(request, subject_id)
    try:
        photos, job = photos_upload(subject=subject, files=request.FILES.getlist("photos"),
                                    uploaded_by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("generation:subject", subject_id=subject.pk)
    refused = [p for p in photos if p.status == PhotoStatus.REJECTED]
    messages.info(request, f"Received {len(photos)} file(s): {len(photos) - len(refused)} being "
                           f"analysed, {len(refused)} refused.")
    url = f"/subjects/{subject.pk}/" + (f"?job={job.pk}" if job else "")
    return redirect(url)


@require_POST
@role_required(*ENGINEERS)
def subject_delete_page(request: HttpRequest, subject_id: int) -> HttpResponse:
    subject = _subject_or_404(request, subject_id)
    name = subject.display_name
    subject_delete(subject=subject)
    messages.success(request, f"Deleted {name} with all photos, crops and measurements.")
    return redirect("generation:subjects")


@role_required(*ENGINEERS)
def photo_file(request: HttpRequest, photo_id: int, kind: str) -> FileResponse:
    """Photos are personal data: served only through this role-checked view, never as media."""
    try:
        photo = photo_get(user=request.user, photo_id=photo_id)
    except NotFound as exc:
        raise Http404(exc.message) from None
    if kind in ("original", "overlay", "thumbnail"):
        field = {"original": photo.image, "overlay": photo.overlay, "thumbnail": photo.thumbnail}[kind]
        name = field.name if field else ""
    elif kind.startswith("aligned-"):
        name = photo.aligned_crops.get(kind.removeprefix("aligned-"), "")
    else:
        name = ""
    if not name or not default_storage.exists(name):
        raise Http404("No such file for this photo.")
    response = FileResponse(default_storage.open(name, "rb"),
                            content_type=mimetypes.guess_type(name)[0] or "application/octet-stream")
    response["Cache-Control"] = "private, max-age=3600"
    return response
