"""Fixtures for monitoring: a tiny generator version over a few corpus people."""

from __future__ import annotations

import pytest

from tests.factories.generation import tiny_generator


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
