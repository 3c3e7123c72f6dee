"""The face pipeline wired to rows and files, on real corpus photos."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image

from generation.faces.services import (
    face_corpus_import,
    photo_analysis_job,
    photos_analyze,
    photos_upload,
    subject_delete,
)
from generation.models import PhotoStatus, SourcePhoto, Subject
from hfplatform.jobs.progress import JobProgress
from hfplatform.jobs.services import _claim

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def corpus_faces() -> list[tuple[str, bytes]]:
    from generation.ml import corpus_photos, corpus_wheel

    return list(corpus_photos(corpus_wheel(settings.FACE_CORPUS_CACHE), limit=3))


@pytest.fixture
def uploaded(subject, engineer, corpus_faces, django_capture_on_commit_callbacks):
    files = [SimpleUploadedFile(name, data) for name, data in corpus_faces[:2]]
    files.append(SimpleUploadedFile("blank.png", _blank_png()))
    with django_capture_on_commit_callbacks(execute=False):
        photos, job = photos_upload(subject=subject, files=files, uploaded_by=engineer)
    return photos, job


def _blank_png() -> bytes:
    import io

    out = io.BytesIO()
    Image.new("RGB", (300, 300), (90, 90, 90)).save(out, format="PNG")
    return out.getvalue()


def test_analysis_job_stores_every_measure_and_file(uploaded, settings):
    photos, job = uploaded
    claimed = _claim(job.pk, "test-worker")
    result = photo_analysis_job(job=claimed, progress=JobProgress(claimed, "test-worker"))
    assert result["accepted"] == 2
    assert result["rejected"] == 1

    good = SourcePhoto.objects.get(pk=photos[0].pk)
    assert good.status == PhotoStatus.ACCEPTED
    assert good.face_count == 1
    left, top, right, bottom = good.face_box
    assert len(good.landmarks) == 68
    margin = 0.25 * (right - left)  # HOG boxes are tight: the jaw line may reach past them
    assert all(left - margin <= x <= right + margin and top - margin <= y <= bottom + margin
               for x, y in good.landmarks)
    assert good.eye_left[1] < good.landmarks[57][1]  # eyes above the lower lip
    assert set(good.head_pose) == {"yaw", "pitch", "roll"}
    assert len(good.embedding) == 128
    assert good.skin_tone_measured in {"very_light", "light", "intermediate", "tan", "brown", "dark"}
    assert good.ita is not None
    assert {"detect", "landmarks", "embedding"} <= set(good.timings)
    media = Path(settings.MEDIA_ROOT)
    for size in (64, 128):
        assert Image.open(media / good.aligned_crops[str(size)]).size == (size, size)
    assert Image.open(media / good.overlay.name).size == (good.width, good.height)

    blank = SourcePhoto.objects.get(pk=photos[2].pk)
    assert blank.status == PhotoStatus.REJECTED
    assert blank.rejection_reasons == ["no_face"]
    assert blank.aligned_crops == {}


def test_resume_skips_done_photos_and_one_crash_does_not_stop_the_batch(uploaded, settings):
    photos, _ = uploaded
    first = photos_analyze(photo_ids=[photos[0].pk])
    assert first["accepted"] == 1
    broken = photos[1]
    (Path(settings.MEDIA_ROOT) / broken.image.name).write_bytes(b"garbage now")
    counts = photos_analyze(photo_ids=[p.pk for p in photos])
    assert counts == {"accepted": 0, "rejected": 1, "failed": 1, "done_before": 1}
    failed = SourcePhoto.objects.get(pk=broken.pk)
    assert failed.status == PhotoStatus.FAILED
    assert failed.error


def test_reanalysis_replaces_derived_files(uploaded, settings, django_capture_on_commit_callbacks):
    from generation.faces.services import photo_analyze

    photo = uploaded[0][0]
    with django_capture_on_commit_callbacks(execute=True):
        photo = photo_analyze(photo=photo)
        photo = photo_analyze(photo=SourcePhoto.objects.get(pk=photo.pk))
    folder = Path(settings.MEDIA_ROOT) / Path(photo.image.name).parent
    referenced = {photo.image.name, photo.overlay.name, photo.thumbnail.name,
                  *photo.aligned_crops.values()}
    on_disk = {str(p.relative_to(settings.MEDIA_ROOT)) for p in folder.iterdir()}
    assert on_disk == referenced  # the first analysis's files are gone
    assert len(on_disk) == 5


def test_delete_after_analysis_leaves_no_file(uploaded, subject, settings,
                                              django_capture_on_commit_callbacks):
    photos_analyze(photo_ids=[p.pk for p in uploaded[0]])
    media = Path(settings.MEDIA_ROOT)
    assert len([p for p in media.rglob("*") if p.is_file()]) >= 10
    with django_capture_on_commit_callbacks(execute=True):
        subject_delete(subject=subject)
    assert [p for p in media.rglob("*") if p.is_file()] == []
    assert not SourcePhoto.objects.exists()


def test_corpus_import_is_idempotent_and_records_the_licence(capsys):
    counts = face_corpus_import(limit=2)
    assert counts["imported"] == 2
    assert counts["accepted"] + counts["rejected"] == 2
    again = face_corpus_import(limit=2)
    assert again["imported"] == 0
    assert again["already_there"] == 2
    assert Subject.objects.count() == 2
    subject = Subject.objects.first()
    assert "non-commercial" in subject.licence
    assert subject.source == "corpus"

    call_command("face_report")
    out = capsys.readouterr().out
    assert "Photos analysed: 2" in out
    assert "Face detection per photo: mean" in out
    assert "Very light" in out


def test_import_command_rejects_a_bad_limit():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--limit must be at least 1"):
        call_command("import_face_corpus", limit=0)


def test_exif_rotated_selfie_is_turned_upright_before_detection(corpus_faces, subject, engineer):
    """A phone stores the pixels sideways and says "rotate 90° clockwise" in EXIF; the face is
    only found if the orientation is applied first."""
    import io

    _, data = corpus_faces[0]
    sideways = Image.open(io.BytesIO(data)).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    sideways.save(out, format="JPEG", quality=95, exif=exif.tobytes())
    photos, _ = photos_upload(subject=subject, uploaded_by=engineer,
                              files=[SimpleUploadedFile("sideways.jpg", out.getvalue())])
    photos_analyze(photo_ids=[photos[0].pk])
    photo = SourcePhoto.objects.get(pk=photos[0].pk)
    assert (photo.width, photo.height) == (178, 218)  # upright again
    assert photo.status == PhotoStatus.ACCEPTED
    assert abs(photo.head_pose["roll"]) < 15
