"""Fixtures for monitoring: a tiny generator version over a few corpus people."""

from __future__ import annotations

import pytest

from tests.generation.conftest import tiny_generator


@pytest.fixture
def engineer(make_user):
    return make_user("ml_engineer")


@pytest.fixture
def corpus_subjects(db):
    from generation.faces.services import face_corpus_import
    from generation.models import Subject

    face_corpus_import(limit=12)
    # Only people whose photo passed the face gates count as held out (some corpus photos do not).
    return list(Subject.objects.filter(photos__status="accepted", photos__aligned_crops__has_key="64")
                .distinct().order_by("pk"))


@pytest.fixture
def version(corpus_subjects, tmp_path, engineer):
    from generation.generator.services import generator_version_register

    return generator_version_register(name="tiny-m", files_dir=tiny_generator(tmp_path / "g"),
                                      heldout=corpus_subjects[:5])


@pytest.fixture
def ready_subject(engineer):
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile

    from generation.faces.services import photos_analyze, photos_upload, subject_create
    from generation.ml import corpus_photos, corpus_wheel

    subject = subject_create(owner=engineer, display_name="Ada", consent_given=True)
    face = next(corpus_photos(corpus_wheel(settings.FACE_CORPUS_CACHE), limit=1))[1]
    photos, _ = photos_upload(subject=subject, uploaded_by=engineer,
                              files=[SimpleUploadedFile("me.jpg", face)])
    photos_analyze(photo_ids=[photos[0].pk])
    return subject
