"""Subjects and uploads without the face models: consent, per-file outcomes, deletion purge."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from generation.faces.services import photos_upload, subject_create, subject_delete
from generation.models import PhotoStatus, SourcePhoto, Subject
from hfplatform.errors import ApplicationError
from hfplatform.jobs.models import Job

pytestmark = pytest.mark.django_db


def test_consent_is_required(engineer):
    with pytest.raises(ApplicationError, match="consent is required"):
        subject_create(owner=engineer, display_name="Bo", consent_given=False)
    assert Subject.objects.count() == 0


def test_demographics_are_optional_and_self_reported(engineer):
    quiet = subject_create(owner=engineer, display_name="Cy", consent_given=True)
    assert (quiet.age_band, quiet.gender, quiet.skin_tone_self_reported) == (None, None, None)
    told = subject_create(owner=engineer, display_name="Di", consent_given=True,
                          age_band="25_34", skin_tone_self_reported="brown")
    assert told.skin_tone_self_reported == "brown"
    assert told.consent_version


def test_a_batch_keeps_good_files_and_refused_ones_with_reasons(subject, engineer, sketch_upload,
                                                               django_capture_on_commit_callbacks):
    files = [
        sketch_upload("good.jpg"),
        SimpleUploadedFile("empty.jpg", b""),
        SimpleUploadedFile("notes.jpg", b"just some text"),
        sketch_upload("good2.jpg", seed=2),
    ]
    with django_capture_on_commit_callbacks(execute=False):
        photos, job = photos_upload(subject=subject, files=files, uploaded_by=engineer)
    statuses = {p.original_name: (p.status, p.rejection_reasons) for p in photos}
    assert statuses == {
        "good.jpg": (PhotoStatus.PENDING, []),
        "empty.jpg": (PhotoStatus.REJECTED, ["not_an_image"]),
        "notes.jpg": (PhotoStatus.REJECTED, ["not_an_image"]),
        "good2.jpg": (PhotoStatus.PENDING, []),
    }
    assert job.kind == "photo_analysis"
    assert job.params["photo_ids"] == [p.pk for p in photos if p.status == PhotoStatus.PENDING]
    assert job.started_by == engineer
    assert SourcePhoto.objects.filter(subject=subject).count() == 4


def test_all_refused_starts_no_job(subject, engineer):
    photos, job = photos_upload(subject=subject, files=[SimpleUploadedFile("a.png", b"x")],
                                uploaded_by=engineer)
    assert job is None
    assert photos[0].status == PhotoStatus.REJECTED
    assert Job.objects.count() == 0


def test_empty_and_oversized_batches_are_refused(subject, engineer, sketch_upload, settings):
    with pytest.raises(ApplicationError, match="at least one photo"):
        photos_upload(subject=subject, files=[], uploaded_by=engineer)
    settings.FACE_UPLOAD_MAX_FILES = 2
    with pytest.raises(ApplicationError, match="At most 2 photos"):
        photos_upload(subject=subject, files=[sketch_upload() for _ in range(3)],
                      uploaded_by=engineer)
    assert SourcePhoto.objects.count() == 0


def test_stored_original_has_no_exif_and_lives_under_the_subject(subject, engineer, settings):
    import io

    from PIL import Image

    from hfplatform.demo import portrait_sketch

    exif = Image.Exif()
    exif[0x010F] = "TellTaleCamera"
    out = io.BytesIO()
    portrait_sketch(3, 200).save(out, format="JPEG", exif=exif.tobytes())
    photos, _ = photos_upload(subject=subject, uploaded_by=engineer,
                              files=[SimpleUploadedFile("e.jpg", out.getvalue())])
    stored = Path(settings.MEDIA_ROOT) / photos[0].image.name
    assert stored.is_relative_to(Path(settings.MEDIA_ROOT) / subject.media_folder)
    assert b"TellTaleCamera" not in stored.read_bytes()


def test_delete_purges_rows_and_files(subject, engineer, sketch_upload, settings,
                                      django_capture_on_commit_callbacks):
    photos_upload(subject=subject, files=[sketch_upload(), sketch_upload("b.jpg")],
                  uploaded_by=engineer)
    media = Path(settings.MEDIA_ROOT)
    assert any(p.is_file() for p in (media / subject.media_folder).rglob("*"))
    with django_capture_on_commit_callbacks(execute=True):
        subject_delete(subject=subject)
    assert not SourcePhoto.objects.exists()
    assert not (media / subject.media_folder).exists()
