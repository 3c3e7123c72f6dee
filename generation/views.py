"""Pages for subjects: list and create, upload selfies with per-file results, delete, files."""

from __future__ import annotations

import mimetypes

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from generation.forms import GeneratorTrainingForm, SubjectForm
from generation.models import PhotoStatus
from generation.selectors import (
    generation_job_get,
    generator_version_get,
    generator_version_list,
    headshot_get,
    photo_get,
    subject_get,
    subject_list,
)
from generation.services import photos_upload, subject_create, subject_delete
from hfplatform.accounts.roles import ENGINEERS, READERS, has_role, role_required
from hfplatform.errors import ApplicationError, NotFound, add_error_to_form
from hfplatform.jobs.models import Job


def _subject_or_404(request: HttpRequest, subject_id: int):
    return _found(subject_get, user=request.user, subject_id=subject_id)


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
    job = (Job.objects.filter(pk=job_id, kind__in=("photo_analysis", "generation")).first()
           if str(job_id).isdigit() else None)
    from generation.forms import GenerationForm
    from generation.generator_services import generator_active
    from generation.selectors import subject_headshots

    return render(request, "generation/subject_detail.html", {
        "subject": subject, "photos": photos, "job": job,
        "pending": any(p.status == PhotoStatus.PENDING for p in photos),
        "generations": subject_headshots(subject=subject)[:20],
        "generation_form": GenerationForm(), "active_generator": generator_active(),
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
    photo = _found(photo_get, user=request.user, photo_id=photo_id)
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


# --- Generator pages -----------------------------------------------------------------------------


@require_POST
@role_required(*ENGINEERS)
def subject_generate_page(request: HttpRequest, subject_id: int) -> HttpResponse:
    from generation.forms import GenerationForm
    from generation.generator_services import generation_job_create

    subject = _subject_or_404(request, subject_id)
    form = GenerationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        return redirect("generation:subject", subject_id=subject.pk)
    try:
        created = generation_job_create(subject=subject, created_by=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("generation:subject", subject_id=subject.pk)
    messages.success(request, f"Generating {created.candidates} headshots (job {created.job_id}).")
    return redirect(f"/subjects/{subject.pk}/?job={created.job_id}")


@role_required(*READERS)
def generator_versions_page(request: HttpRequest, training_form: GeneratorTrainingForm | None = None
                            ) -> HttpResponse:
    return render(request, "generation/generator_versions.html", {
        "versions": generator_version_list(), "can_manage": has_role(request.user, ENGINEERS),
        "training_form": training_form or GeneratorTrainingForm()})


@require_POST
@role_required(*ENGINEERS)
def generator_training_page(request: HttpRequest) -> HttpResponse:
    from generation.training_services import generator_training_start

    form = GeneratorTrainingForm(request.POST)
    if form.is_valid():
        values = dict(form.cleaned_data)
        parent = values.pop("parent")
        try:
            job = generator_training_start(
                started_by=request.user, parent=parent.name if parent else None,
                **{**values, "prediction_type": values["prediction_type"] or None})
        except ApplicationError as exc:
            add_error_to_form(form, exc)
        else:
            messages.success(request, f"Training {values['name']}.")
            return redirect("jobs:detail", job.pk)
    return generator_versions_page(request, training_form=form)


@require_POST
@role_required(*ENGINEERS)
def generator_activate_page(request: HttpRequest, name: str) -> HttpResponse:
    from generation.generator_services import generator_version_activate

    try:
        version = generator_version_activate(version=generator_version_get(name=name))
    except (ApplicationError, NotFound) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{version.name} is now the active generator.")
    return redirect("generation:versions")


def _found(selector, **lookup):
    """A selector's row, or the 404 page with its reason."""
    try:
        return selector(**lookup)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _private_png(name: str) -> FileResponse:
    response = FileResponse(default_storage.open(name, "rb"), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@role_required(*READERS)
def generator_grid_file(request: HttpRequest, name: str) -> FileResponse:
    version = _found(generator_version_get, name=name)
    if not version.sample_grid:
        raise Http404("This version has no sample grid.")
    return _private_png(version.sample_grid.name)


@role_required(*READERS)
def headshot_image(request: HttpRequest, headshot_id: int) -> FileResponse:
    return _private_png(_found(headshot_get, headshot_id=headshot_id).image.name)


@role_required(*ENGINEERS)
def generation_input_image(request: HttpRequest, generation_id: int) -> FileResponse:
    found = _found(generation_job_get, generation_id=generation_id)
    if not found.input_image:
        raise Http404("No input image yet.")
    return _private_png(found.input_image.name)
