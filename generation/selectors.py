"""Reads for subjects and photos, limited to what the user may see."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from django.db.models import Count, Q, QuerySet

from generation.models import (
    GenerationJob,
    GeneratorVersion,
    Headshot,
    PhotoStatus,
    SourcePhoto,
    Subject,
)
from hfplatform.accounts.roles import ENGINEERS, has_role
from hfplatform.errors import NotFound


def subject_list(*, user: Any) -> QuerySet[Subject]:
    subjects = Subject.objects.annotate(
        photo_count=Count("photos"),
        accepted_count=Count("photos", filter=Q(photos__status=PhotoStatus.ACCEPTED)),
    )
    if not has_role(user, ENGINEERS):
        subjects = subjects.filter(owner=user)
    return subjects


def subject_get(*, user: Any, subject_id: int) -> Subject:
    subject = Subject.objects.filter(pk=subject_id).first()
    if subject is None or not (subject.owner_id == user.pk or has_role(user, ENGINEERS)):
        raise NotFound(f"No subject with id {subject_id}.")
    return subject


def photo_get(*, user: Any, photo_id: int) -> SourcePhoto:
    photo = SourcePhoto.objects.select_related("subject").filter(pk=photo_id).first()
    if photo is None or not (photo.subject.owner_id == user.pk or has_role(user, ENGINEERS)):
        raise NotFound(f"No photo with id {photo_id}.")
    return photo


def face_report_data() -> dict[str, Any]:
    """Pass and rejection counts, measured skin-tone categories and time per photo."""
    analysed = SourcePhoto.objects.exclude(status=PhotoStatus.PENDING)
    statuses = Counter(analysed.values_list("status", flat=True))
    reasons: Counter[str] = Counter()
    for row in analysed.filter(status=PhotoStatus.REJECTED).values_list("rejection_reasons", flat=True):
        reasons.update(row)
    categories = Counter(
        analysed.filter(status=PhotoStatus.ACCEPTED).values_list("skin_tone_measured", flat=True)
    )
    detect, total = [], []
    for timings in analysed.exclude(timings={}).values_list("timings", flat=True):
        if "detect" in timings:
            detect.append(timings["detect"])
        total.append(sum(timings.values()))

    def summary(values: list[float]) -> dict[str, float] | None:
        if not values:
            return None
        return {"mean": statistics.fmean(values), "median": statistics.median(values),
                "n": len(values)}

    return {
        "photos": sum(statuses.values()),
        "by_status": dict(statuses),
        "rejections": dict(reasons.most_common()),
        "skin_tone_measured": {k or "unmeasured": v for k, v in categories.items()},
        "detect_seconds": summary(detect),
        "analysis_seconds": summary(total),
    }


# --- Generator --------------------------------------------------------------------------------------


def generator_version_list() -> QuerySet:
    return GeneratorVersion.objects.select_related("parent")


def generator_version_get(*, name: str) -> GeneratorVersion:
    version = GeneratorVersion.objects.filter(name=name).first()
    if version is None:
        raise NotFound(f"No generator version named {name!r}.")
    return version


def generation_job_get(*, generation_id: int) -> GenerationJob:
    found = GenerationJob.objects.select_related("job", "generator_version").filter(pk=generation_id).first()
    if found is None:
        raise NotFound(f"No generation job with id {generation_id}.")
    return found


def headshot_get(*, headshot_id: int) -> Headshot:
    """A headshot whose generation job finished; half-written ones do not exist for readers."""
    found = (Headshot.objects.select_related("generator_version", "generation_job__job")
             .filter(pk=headshot_id, generation_job__job__status="succeeded").first())
    if found is None:
        raise NotFound(f"No headshot with id {headshot_id}.")
    return found


def subject_headshots(*, subject: Subject) -> QuerySet:
    return (GenerationJob.objects.filter(subject=subject).select_related("job", "generator_version")
            .prefetch_related("headshots").order_by("-created_at"))
