"""Pages of the face pipeline: subjects (list and create), upload selfies with per-file results,
delete, and the role-checked photo files. The subject's own page shows their photos beside their
headshots, so it is composed one room up, in ``generation.generator.views``."""

from __future__ import annotations

import mimetypes

from django.contrib import messages
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from generation.faces.forms import SubjectForm
from generation.faces.selectors import photo_get, subject_get, subject_list
from generation.faces.services import photos_upload, subject_create, subject_delete
from generation.models import PhotoStatus, SubjectSource
from hfplatform.accounts.roles import ENGINEERS, role_required
from hfplatform.errors import ApplicationError
from hfplatform.views import found_or_404


def subject_or_404(request: HttpRequest, subject_id: int):
    """The subject if this user may see it, else the 404 page with its reason."""
    return found_or_404(subject_get, user=request.user, subject_id=subject_id)


def private_file(name: str, *, content_type: str) -> FileResponse:
    """A stored file for a role-checked page: photos and images are personal data, never public media,
    and only the browser that asked may cache them."""
    response = FileResponse(default_storage.open(name, "rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


SUBJECTS_PER_PAGE = 24


@role_required(*ENGINEERS)
def subject_list_page(request: HttpRequest) -> HttpResponse:
    form = SubjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        subject = subject_create(owner=request.user, **form.cleaned_data)
        messages.success(request, f"Created {subject.display_name}. Now upload a few selfies.")
        return redirect("generation:subject", subject_id=subject.pk)
    search, source = request.GET.get("q", "")[:100], request.GET.get("source", "")
    try:
        subjects = subject_list(user=request.user, search=search, source=source)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        search, source = "", ""
        subjects = subject_list(user=request.user)
    ordered = subjects.order_by("display_name", "pk")
    page = Paginator(ordered, SUBJECTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "generation/subject_list.html", {
        "form": form, "page": page, "subjects": page.object_list, "search": search, "source": source,
        "sources": SubjectSource.choices})


@require_POST
@role_required(*ENGINEERS)
def subject_upload_page(request: HttpRequest, subject_id: int) -> HttpResponse:
    subject = subject_or_404(request, subject_id)
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
    subject = subject_or_404(request, subject_id)
    name = subject.display_name
    subject_delete(subject=subject)
    messages.success(request, f"Deleted {name} with all photos, crops and measurements.")
    return redirect("generation:subjects")


@role_required(*ENGINEERS)
def photo_file(request: HttpRequest, photo_id: int, kind: str) -> FileResponse:
    """Photos are personal data: served only through this role-checked view, never as media."""
    photo = found_or_404(photo_get, user=request.user, photo_id=photo_id)
    if kind in ("original", "overlay", "thumbnail"):
        field = {"original": photo.image, "overlay": photo.overlay, "thumbnail": photo.thumbnail}[kind]
        name = field.name if field else ""
    elif kind.startswith("aligned-"):
        name = photo.aligned_crops.get(kind.removeprefix("aligned-"), "")
    else:
        name = ""
    if not name or not default_storage.exists(name):
        raise Http404("No such file for this photo.")
    return private_file(name, content_type=mimetypes.guess_type(name)[0] or "application/octet-stream")
