"""Generator versions, generation jobs and headshots, with a tiny real UNet and real photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.db import IntegrityError, transaction
from PIL import Image

from generation.generator.services import (
    generation_job_create,
    generator_version_activate,
    generator_version_register,
    headshot_images,
)
from generation.models import GeneratorStatus, GeneratorVersion, Headshot
from hfplatform.errors import ApplicationError
from hfplatform.jobs.models import JobStatus
from hfplatform.jobs.services import job_run
from tests.factories.generation import tiny_generator

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(tmp_path):
    return generator_version_register(name="tiny-a", files_dir=tiny_generator(tmp_path / "a"),
                                      activate=True)


def test_register_reads_the_files_and_one_version_stays_active(version, tmp_path):
    assert version.status == GeneratorStatus.ACTIVE
    assert version.image_size == 64
    assert version.dataset_fingerprint == "tiny-0"
    second = generator_version_register(name="tiny-b", files_dir=tiny_generator(tmp_path / "b", 1))
    assert second.status == GeneratorStatus.CANDIDATE
    generator_version_activate(version=second)
    version.refresh_from_db()
    assert version.status == GeneratorStatus.RETIRED
    assert GeneratorVersion.objects.filter(status=GeneratorStatus.ACTIVE).get() == second
    with pytest.raises(IntegrityError), transaction.atomic():
        GeneratorVersion.objects.filter(pk=version.pk).update(status=GeneratorStatus.ACTIVE)


def test_a_retired_version_can_be_activated_again_and_every_activation_is_recorded(version, tmp_path,
                                                                                   make_user):
    from generation.models.generator import GeneratorActivation

    engineer = make_user("ml_engineer")
    second = generator_version_register(name="tiny-b", files_dir=tiny_generator(tmp_path / "b", 1),
                                        created_by=engineer, activate=True)
    version.refresh_from_db()
    assert version.status == GeneratorStatus.RETIRED
    back = generator_version_activate(version=version, activated_by=engineer)
    assert back.status == GeneratorStatus.ACTIVE
    second.refresh_from_db()
    assert second.status == GeneratorStatus.RETIRED
    generator_version_activate(version=version)  # already active: nothing changes, nothing recorded
    history = [(a.activated.name, a.retired.name if a.retired else None, a.activated_by)
               for a in GeneratorActivation.objects.order_by("id")]
    assert history == [("tiny-a", None, None), ("tiny-b", "tiny-a", engineer), ("tiny-a", "tiny-b", engineer)]
    record = GeneratorActivation.objects.first()
    with pytest.raises(ValueError, match="append-only"):
        record.save()


def test_register_refuses_missing_files_and_duplicates(version, tmp_path):
    with pytest.raises(ApplicationError, match="already exists"):
        generator_version_register(name="tiny-a", files_dir=tmp_path)
    with pytest.raises(ApplicationError, match="missing"):
        generator_version_register(name="nothing", files_dir=tmp_path / "nope")


def test_generation_job_makes_candidates_that_regenerate_bit_for_bit(version, ready_subject,
                                                                     engineer, settings):
    request = generation_job_create(subject=ready_subject, created_by=engineer, candidates=3,
                                    seed=42, steps=4, enqueue=False)
    job = job_run(job_id=request.job_id)
    assert job.status == JobStatus.SUCCEEDED, job.error
    headshots = list(request.headshots.order_by("candidate_index"))
    assert [h.seed for h in headshots] == [42, 43, 44]
    assert all(h.generator_version == version and h.steps == 4 for h in headshots)
    stored = [np.asarray(Image.open(Path(settings.MEDIA_ROOT) / h.image.name)) for h in headshots]
    assert stored[0].shape == (64, 64, 3)
    assert not np.array_equal(stored[0], stored[1])  # different seeds, different candidates
    _, again = headshot_images(request=request)
    assert all(np.array_equal(a, b) for a, b in zip(stored, again, strict=True))
    folder = Path(settings.MEDIA_ROOT) / ready_subject.media_folder / "generated"
    assert len(list(folder.rglob("*.png"))) == 4  # input + 3 candidates


def test_bad_generation_requests(version, ready_subject, subject, engineer, make_user, tmp_path):
    from generation.faces.services import subject_create

    empty = subject_create(owner=engineer, display_name="No photos", consent_given=True)
    for kwargs, code in [({"candidates": 0}, "invalid_candidates"),
                         ({"candidates": 17}, "invalid_candidates"), ({"steps": 0}, "invalid_steps"),
                         ({"guidance": 11}, "invalid_guidance"),
                         ({"sampler": "euler"}, "invalid_sampler")]:
        with pytest.raises(ApplicationError) as caught:
            generation_job_create(subject=ready_subject, created_by=engineer, **kwargs)
        assert caught.value.code == code
    with pytest.raises(ApplicationError) as caught:
        generation_job_create(subject=empty, created_by=engineer)
    assert caught.value.code == "no_accepted_photo"
    second = generator_version_register(name="tiny-c", files_dir=tiny_generator(tmp_path / "c"),
                                        activate=True)
    version.refresh_from_db()
    with pytest.raises(ApplicationError) as caught:
        generation_job_create(subject=ready_subject, created_by=engineer, version=version)
    assert caught.value.code == "generator_retired"
    GeneratorVersion.objects.filter(pk=second.pk).update(status=GeneratorStatus.CANDIDATE)
    with pytest.raises(ApplicationError) as caught:
        generation_job_create(subject=ready_subject, created_by=engineer)
    assert caught.value.code == "no_active_generator"


def test_a_failing_job_leaves_no_headshots_or_files(version, ready_subject, engineer, settings,
                                                    monkeypatch):
    from django.core.files.storage import default_storage

    request = generation_job_create(subject=ready_subject, created_by=engineer, candidates=3,
                                    seed=1, steps=2, enqueue=False)
    real_save, saved = default_storage.save, []

    def flaky_save(name, content, max_length=None):
        if len(saved) == 2:  # the disk fills up after the input and one candidate
            raise OSError("No space left on device")
        saved.append(name)
        return real_save(name, content, max_length=max_length)

    monkeypatch.setattr(default_storage, "save", flaky_save)
    job = job_run(job_id=request.job_id)
    assert job.status == JobStatus.FAILED
    assert "No space left" in job.error
    assert not Headshot.objects.exists()
    folder = Path(settings.MEDIA_ROOT) / ready_subject.media_folder / "generated"
    assert not list(folder.rglob("*.png"))
