"""Pages of the generator: a subject's page (their photos beside their candidates, and the request
for more), versions and training, and the role-checked images (sample grids, headshots, inputs)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from generation.faces.views import private_file, subject_or_404
from generation.generator.forms import GenerationForm, GeneratorTrainingForm
from generation.generator.selectors import (
    generation_job_get,
    generator_active,
    generator_version_get,
    generator_version_list,
    headshot_get,
    subject_headshots,
)
from generation.generator.services import generation_job_create, generator_version_activate
from generation.generator.training import generator_training_start
from generation.models import PhotoStatus
from hfplatform.accounts.roles import ENGINEERS, READERS, has_role, role_required
from hfplatform.errors import ApplicationError, NotFound
from hfplatform.jobs.models import Job
from hfplatform.views import form_submit, found_or_404


@role_required(*ENGINEERS)
def subject_detail_page(request: HttpRequest, subject_id: int) -> HttpResponse:
    from generation.ml.quality import REJECTION_MESSAGES  # loads dlib: on use, not at start-up

    subject = subject_or_404(request, subject_id)
    photos = list(subject.photos.all())
    for photo in photos:
        photo.reasons = [REJECTION_MESSAGES.get(c, c) for c in photo.rejection_reasons]
    job_id = request.GET.get("job")
    job = (Job.objects.filter(pk=job_id, kind__in=("photo_analysis", "generation")).first()
           if str(job_id).isdigit() else None)
    return render(request, "generation/subject_detail.html", {
        "subject": subject, "photos": photos, "job": job,
        "pending": any(p.status == PhotoStatus.PENDING for p in photos),
        "generations": subject_headshots(subject=subject)[:20],
        "generation_form": GenerationForm(), "active_generator": generator_active(),
    })


@require_POST
@role_required(*ENGINEERS)
def subject_generate_page(request: HttpRequest, subject_id: int) -> HttpResponse:
    subject = subject_or_404(request, subject_id)
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
    from generation.generator.version_notes import version_notes
    from generation.ml.studio.pipeline import STAGE_ORDER

    versions = list(generator_version_list())
    notes = version_notes([v.name for v in versions])
    for version in versions:
        version.notes_from_apps = notes[version.name]
    return render(request, "generation/generator_versions.html", {
        "versions": versions, "can_manage": has_role(request.user, ENGINEERS),
        "active_version": generator_active(),
        "training_form": training_form or GeneratorTrainingForm(), "stage_names": STAGE_ORDER})


@require_POST
@role_required(*ENGINEERS)
def generator_training_page(request: HttpRequest) -> HttpResponse:
    form = GeneratorTrainingForm(request.POST)

    def start(values: dict[str, Any]) -> Job:
        parent = values.pop("parent")
        return generator_training_start(
            started_by=request.user, parent=parent.name if parent else None,
            **{**values, "prediction_type": values["prediction_type"] or None,
               "group_balance": values.get("group_balance") or 0.0})

    job = form_submit(form=form, service=start)
    if job is None:
        return generator_versions_page(request, training_form=form)
    messages.success(request, f"Training {form.cleaned_data['name']}.")
    return redirect("jobs:detail", job.pk)


@require_POST
@role_required(*ENGINEERS)
def generator_activate_page(request: HttpRequest, name: str) -> HttpResponse:
    try:
        version = generator_version_activate(version=generator_version_get(name=name),
                                             activated_by=request.user)
    except (ApplicationError, NotFound) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{version.name} is now the active generator.")
    return redirect("generation:versions")


def _private_png(file: FieldFile, *, missing: str) -> FileResponse:
    """A stored PNG for a role-checked page, or the 404 page saying ``missing`` when there is none."""
    if not file:
        raise Http404(missing)
    return private_file(file.name, content_type="image/png")


@role_required(*READERS)
def generator_grid_file(request: HttpRequest, name: str) -> FileResponse:
    version = found_or_404(generator_version_get, name=name)
    return _private_png(version.sample_grid, missing="This version has no sample grid.")


@role_required(*READERS)
def headshot_image(request: HttpRequest, headshot_id: int) -> FileResponse:
    headshot = found_or_404(headshot_get, headshot_id=headshot_id)
    return _private_png(headshot.image, missing="This headshot has no image.")


@role_required(*READERS)
def headshot_raw_image(request: HttpRequest, headshot_id: int) -> FileResponse:
    """The generator's output before the studio stages (the "before" of the subject page)."""
    headshot = found_or_404(headshot_get, headshot_id=headshot_id)
    return _private_png(headshot.raw_image, missing="No studio stage ran on this headshot.")


@role_required(*ENGINEERS)
def generation_input_image(request: HttpRequest, generation_id: int) -> FileResponse:
    found = found_or_404(generation_job_get, generation_id=generation_id)
    return _private_png(found.input_image, missing="No input image yet.")
