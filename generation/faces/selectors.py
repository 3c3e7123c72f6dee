"""Reads of the face pipeline: subjects and photos (limited to what the user may see), a photo's
aligned crop as the array the models take, and the pipeline's pass/reject figures."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

import numpy as np
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet

from generation.models import PhotoStatus, SourcePhoto, Subject, SubjectSource
from hfplatform.accounts.roles import ENGINEERS, has_role
from hfplatform.errors import ApplicationError, NotFound
from hfplatform.imaging import stored_rgb


def subject_list(*, user: Any, photo_status: str | None = None, search: str = "",
                 source: str = "") -> QuerySet[Subject]:
    """Subjects the user may see, each with ``photo_count``, ``<status>_count`` for every photo
    status (``accepted_count``, ``rejected_count``, …) and ``cover_photo`` (the first accepted photo,
    for a thumbnail); with ``photo_status``, only subjects with at least one photo in that status
    (anything else is a 400 naming the allowed values); ``search`` matches the name or corpus
    reference, ``source`` is ``upload`` or ``corpus``."""
    if photo_status is not None and photo_status not in PhotoStatus.values:
        raise ApplicationError(
            f"Unknown photo status {photo_status!r}; choose one of: {', '.join(PhotoStatus.values)}.",
            code="invalid", extra={"fields": {"photo_status": [
                f"Choose one of: {', '.join(PhotoStatus.values)}."]}})
    subjects = Subject.objects.annotate(
        photo_count=Count("photos"),
        **{f"{status}_count": Count("photos", filter=Q(photos__status=status))
           for status in PhotoStatus.values},
        cover_photo=Min("photos__pk", filter=Q(photos__status=PhotoStatus.ACCEPTED)),
    )
    if not has_role(user, ENGINEERS):
        subjects = subjects.filter(owner=user)
    if search.strip():
        subjects = subjects.filter(Q(display_name__icontains=search.strip())
                                   | Q(source_ref__icontains=search.strip()))
    if source:
        if source not in SubjectSource.values:
            raise ApplicationError(
                f"Unknown source {source!r}; choose one of: {', '.join(SubjectSource.values)}.",
                code="invalid", extra={"fields": {"source": ["Unknown source."]}})
        subjects = subjects.filter(source=source)
    if photo_status is not None:
        in_status = SourcePhoto.objects.filter(subject=OuterRef("pk"), status=photo_status)
        subjects = subjects.filter(Exists(in_status))
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


def accepted_photos(*, subjects: QuerySet[Subject], size: int, limit: int | None = None) -> list[SourcePhoto]:
    """Each subject's newest accepted photo with an aligned crop of ``size``, in subject order;
    subjects without one are left out. One query."""
    photos = (SourcePhoto.objects.filter(subject__in=subjects, status=PhotoStatus.ACCEPTED,
                                         aligned_crops__has_key=str(size))
              .select_related("subject").order_by("subject_id", "-created_at", "-id"))
    newest: dict[int, SourcePhoto] = {}
    for photo in photos:
        newest.setdefault(photo.subject_id, photo)
    found = list(newest.values())
    return found[:limit] if limit is not None else found


def accepted_photo(*, subject: Subject, size: int) -> SourcePhoto:
    """The subject's newest accepted photo with a crop of ``size``, or a 4xx saying what to do."""
    found = accepted_photos(subjects=Subject.objects.filter(pk=subject.pk), size=size)
    if not found:
        raise ApplicationError(
            f"{subject.display_name} has no accepted photo with a {size}×{size} aligned crop yet: "
            "upload a selfie that passes the checks first.", code="no_accepted_photo")
    return found[0]


def photo_crop(photo: SourcePhoto, size: int | None = None) -> np.ndarray:
    """The photo's aligned face crop as the H×W×3 uint8 array the models take: the stored crop of
    ``size`` when there is one, else the largest crop resized (Lanczos); ``size`` None: the largest.
    A photo with no face found has no crop: its thumbnail (or original) stands in."""
    crops = photo.aligned_crops or {}
    if size is not None and str(size) in crops:
        return stored_rgb(crops[str(size)])
    if crops:
        return stored_rgb(crops[max(crops, key=int)], size)
    return stored_rgb((photo.thumbnail or photo.image).name, size)


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


def face_audit_rows(*, by: str = "measured") -> list[Any]:
    """``AuditRow``s of every analysed photo (accepted or rejected; pending and failed left out) by
    the measured skin tone (``by="measured"``; a photo without a found face is ``unknown``) or by the
    subject's self-reported one (``by="self_reported"``; subjects who gave none are left out)."""
    from generation.ml.face_audit import UNKNOWN, AuditRow

    if by not in ("measured", "self_reported"):
        raise ValueError(f"by must be 'measured' or 'self_reported', not {by!r}")
    photos = SourcePhoto.objects.filter(status__in=[PhotoStatus.ACCEPTED, PhotoStatus.REJECTED])
    if by == "self_reported":
        photos = photos.exclude(subject__skin_tone_self_reported__isnull=True)
    rows = []
    for status, reasons, measured, reported, faces, timings in photos.values_list(
            "status", "rejection_reasons", "skin_tone_measured", "subject__skin_tone_self_reported",
            "face_count", "timings"):
        group = reported if by == "self_reported" else (measured or UNKNOWN)
        source = "self_reported" if by == "self_reported" else ("measured" if measured else "unknown")
        rows.append(AuditRow(group, status == PhotoStatus.ACCEPTED, tuple(reasons or ()), bool(faces),
                             float(sum((timings or {}).values())), source))
    return rows
