"""Reads of the generator: versions, generation requests, headshots, and the held-out people a
version is evaluated on."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from generation.faces.selectors import accepted_photos
from generation.models import GenerationJob, GeneratorStatus, GeneratorVersion, Headshot, SourcePhoto, Subject
from hfplatform.errors import ApplicationError, NotFound
from hfplatform.jobs.models import JobStatus


def generator_active() -> GeneratorVersion | None:
    return GeneratorVersion.objects.filter(status=GeneratorStatus.ACTIVE).first()


def heldout_photos(*, version: GeneratorVersion, size: int | None = None,
                   limit: int | None = None) -> list[SourcePhoto]:
    """The photos a version is evaluated on: the newest accepted photo of each of its held-out
    people (people never seen in training), with a crop of ``size`` (the version's own by default),
    in subject order. Every evaluation (report, snapshot, sample grid) starts here."""
    people = Subject.objects.filter(pk__in=version.heldout_subjects or [])
    return accepted_photos(subjects=people, size=size or version.image_size, limit=limit)


def generator_version_list() -> QuerySet:
    return GeneratorVersion.objects.select_related("parent")


def generator_version_get(*, name: str) -> GeneratorVersion:
    version = GeneratorVersion.objects.filter(name=name).first()
    if version is None:
        raise NotFound(f"No generator version named {name!r}.")
    return version


def _generation_jobs() -> QuerySet[GenerationJob]:
    """Generation requests with their job, version and headshots (each with its version) in 3 queries."""
    return GenerationJob.objects.select_related("job", "generator_version").prefetch_related(
        Prefetch("headshots", queryset=Headshot.objects.select_related("generator_version")))


def generation_job_get(*, generation_id: int) -> GenerationJob:
    found = _generation_jobs().filter(pk=generation_id).first()
    if found is None:
        raise NotFound(f"No generation job with id {generation_id}.")
    return found


def generation_job_list(*, subject: int | None = None, version: str | None = None,
                        status: str | None = None) -> QuerySet[GenerationJob]:
    """Generation requests, newest first, optionally of one subject (id), one generator version (name)
    or whose job has one status (``JobStatus``; anything else is a 400 naming the allowed values)."""
    if status is not None and status not in JobStatus.values:
        raise ApplicationError(f"Unknown status {status!r}; choose one of: {', '.join(JobStatus.values)}.",
                               code="invalid", extra={"fields": {"status": [
                                   f"Choose one of: {', '.join(JobStatus.values)}."]}})
    jobs = _generation_jobs().order_by("-created_at", "-id")
    if subject is not None:
        jobs = jobs.filter(subject_id=subject)
    if version is not None:
        jobs = jobs.filter(generator_version__name=version)
    if status is not None:
        jobs = jobs.filter(job__status=status)
    return jobs


def headshot_get(*, headshot_id: int) -> Headshot:
    """A headshot whose generation job finished; half-written ones do not exist for readers."""
    found = (Headshot.objects.select_related("generator_version", "generation_job__job")
             .filter(pk=headshot_id, generation_job__job__status=JobStatus.SUCCEEDED).first())
    if found is None:
        raise NotFound(f"No headshot with id {headshot_id}.")
    return found


def subject_headshots(*, subject: Subject) -> QuerySet:
    return (GenerationJob.objects.filter(subject=subject).select_related("job", "generator_version")
            .prefetch_related("headshots").order_by("-created_at"))
