"""Tiny real review data: subjects with an accepted photo, headshots drawn with Pillow (as the
generator would have stored them), real-portrait subjects for the blind test, and campaigns."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from hfplatform.demo import portrait_sketch

SIZE = 64


def _png(image: Image.Image) -> ContentFile:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG")
    return ContentFile(out.getvalue())


@dataclass
class ReviewWorld:
    engineer: Any
    version: Any
    subjects: list = field(default_factory=list)
    headshots: list = field(default_factory=list)  # all, in creation order
    by_subject: dict = field(default_factory=dict)  # subject id -> its headshots
    portraits: list = field(default_factory=list)  # corpus SourcePhotos (real portraits)


def _accepted_photo(subject, seed: int, owner):
    from generation.models import PhotoStatus, SourcePhoto

    photo = SourcePhoto.objects.create(subject=subject, uploaded_by=owner, original_name=f"p{seed}.png",
                                       status=PhotoStatus.ACCEPTED)
    image = portrait_sketch(seed, 256)
    photo.image.save(f"photo-{seed}.png", _png(image), save=False)
    crop = image.resize((SIZE, SIZE))
    name = f"{subject.media_folder}/crops/crop-{seed}-{SIZE}.png"
    from django.core.files.storage import default_storage

    photo.aligned_crops = {str(SIZE): default_storage.save(name, _png(crop))}
    photo.save()
    return photo


@pytest.fixture
def review_world(db, make_user) -> Callable[..., ReviewWorld]:
    """``review_world(subjects=3, per_subject=4, portraits=4)`` builds the rows and files."""

    def build(subjects: int = 3, per_subject: int = 4, portraits: int = 4, owner=None) -> ReviewWorld:
        from generation.models import (
            GenerationJob,
            GeneratorStatus,
            GeneratorVersion,
            Headshot,
            Subject,
            SubjectSource,
        )
        from hfplatform.jobs.models import Job

        engineer = make_user("ml_engineer")
        version = GeneratorVersion.objects.create(name=f"v-test-{engineer.pk}", files_dir="/nonexistent",
                                                  image_size=SIZE, status=GeneratorStatus.CANDIDATE)
        world = ReviewWorld(engineer=engineer, version=version)
        for s in range(subjects):
            subject = Subject.objects.create(display_name=f"Person {s}", owner=owner or engineer,
                                             consent_given_at=timezone.now(), consent_version="test")
            photo = _accepted_photo(subject, seed=1000 * (engineer.pk % 7) + s, owner=engineer)
            job = Job.objects.create(kind="generation", status="succeeded", started_by=engineer)
            request = GenerationJob.objects.create(
                subject=subject, source_photo=photo, generator_version=version, candidates=per_subject,
                seed=s, steps=5, guidance=1.0, job=job)
            heads = []
            for c in range(per_subject):
                head = Headshot(generation_job=request, subject=subject, source_photo=photo,
                                generator_version=version, candidate_index=c, seed=s * 100 + c, steps=5,
                                guidance=1.0, sampler="ddim")
                head.image.save(f"h-{s}-{c}.png", _png(portrait_sketch(s * 100 + c, SIZE)), save=False)
                head.save()
                heads.append(head)
            world.subjects.append(subject)
            world.headshots += heads
            world.by_subject[subject.pk] = heads
        for p in range(portraits):
            person = Subject.objects.create(display_name=f"Corpus {p}", consent_given_at=timezone.now(),
                                            consent_version="corpus", source=SubjectSource.CORPUS,
                                            source_ref=f"test-{engineer.pk}-{p}")
            world.portraits.append(_accepted_photo(person, seed=5000 + p, owner=engineer))
        return world

    return build


@pytest.fixture
def make_campaign(review_world) -> Callable[..., Any]:
    """``make_campaign(world, task_kinds=["rating"], **settings)`` over the world's generator version."""

    def make(world: ReviewWorld, task_kinds=("rating",), **options: Any):
        from review.services import campaign_create

        options.setdefault("gold_rate", 0.0)
        return campaign_create(created_by=world.engineer, name="Test campaign", task_kinds=list(task_kinds),
                               generator_version=world.version, **options)

    return make
