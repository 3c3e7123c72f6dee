"""Spreading the candidates of a generation job: a guidance range and stochastic DDIM (eta), on a tiny
real UNet; each headshot records the guidance and eta it was made with."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from generation.generator.services import (
    candidate_guidances,
    generation_job_create,
    generator_version_register,
    headshot_images,
)
from generation.ml.generator import initial_noise, load_generator, make_scheduler, sample
from hfplatform.errors import ApplicationError
from hfplatform.jobs.models import JobStatus
from hfplatform.jobs.services import job_run
from tests.factories.generation import tiny_generator


@pytest.fixture
def tiny(tmp_path):
    unet, _, scheduler_config, _ = load_generator(tiny_generator(tmp_path / "g"))
    casual = torch.rand(3, 3, 64, 64, generator=torch.Generator().manual_seed(3)) * 2 - 1
    return unet, scheduler_config, casual


def _plain_ddim(unet, scheduler_config, casual, seeds, steps):
    """Deterministic DDIM at guidance 1, written out step by step: what sampling did before eta."""
    scheduler = make_scheduler(scheduler_config, "ddim")
    scheduler.set_timesteps(steps)
    x = initial_noise(seeds, tuple(casual.shape[1:])) * scheduler.init_noise_sigma
    with torch.no_grad():
        for t in scheduler.timesteps:
            out = unet(torch.cat([scheduler.scale_model_input(x, t), casual], dim=1), t).sample
            x = scheduler.step(out.float(), t, x).prev_sample
    return x.clamp(-1, 1)


def test_eta_zero_is_bit_identical_to_deterministic_ddim(tiny):
    unet, config, casual = tiny
    reference = _plain_ddim(unet, config, casual, [5, 6, 7], steps=4)
    assert torch.equal(sample(unet, config, casual, steps=4, seeds=[5, 6, 7]), reference)
    assert torch.equal(sample(unet, config, casual, steps=4, seeds=[5, 6, 7], eta=0.0), reference)
    # one guidance per image, all the same, is the scalar path too
    assert torch.equal(sample(unet, config, casual, steps=4, seeds=[5, 6, 7], guidance=[1.0] * 3), reference)


def test_eta_adds_seeded_noise_of_each_image_own(tiny):
    unet, config, casual = tiny
    plain = sample(unet, config, casual, steps=4, seeds=[5, 6, 7])
    noisy = sample(unet, config, casual, steps=4, seeds=[5, 6, 7], eta=1.0)
    assert not torch.allclose(noisy, plain, atol=1e-3)  # same seeds, other images
    assert (noisy - plain).abs().mean() > 0.01
    assert torch.equal(noisy, sample(unet, config, casual, steps=4, seeds=[5, 6, 7], eta=1.0))
    alone = sample(unet, config, casual[1:2], steps=4, seeds=[6], eta=1.0)
    assert torch.allclose(alone[0], noisy[1], atol=1e-5)  # no dependence on the batch's other images
    half = sample(unet, config, casual, steps=4, seeds=[5, 6, 7], eta=0.5)
    assert (half - plain).abs().mean() < (noisy - plain).abs().mean()


def test_guidance_per_image_is_each_image_at_its_own_scale(tiny):
    unet, config, casual = tiny
    spread = sample(unet, config, casual, steps=3, seeds=[1, 2, 3], guidance=[1.0, 2.0, 4.0])
    for i, scale in enumerate([1.0, 2.0, 4.0]):
        alone = sample(unet, config, casual[i:i + 1], steps=3, seeds=[i + 1], guidance=scale)
        assert torch.allclose(spread[i], alone[0], atol=1e-4)
    assert not torch.allclose(spread[2], sample(unet, config, casual[2:], steps=3, seeds=[3])[0], atol=1e-3)


def test_sample_refuses_eta_out_of_range_or_with_another_sampler(tiny):
    unet, config, casual = tiny
    with pytest.raises(ValueError, match="between 0 and 1"):
        sample(unet, config, casual, steps=2, seeds=[1, 2, 3], eta=1.5)
    with pytest.raises(ValueError, match="ddim"):
        sample(unet, config, casual, steps=2, seeds=[1, 2, 3], eta=0.5, sampler="dpm")
    with pytest.raises(ValueError, match="guidance scales"):
        sample(unet, config, casual, steps=2, seeds=[1, 2, 3], guidance=[1.0, 2.0])


def test_candidate_guidances_spread_evenly():
    assert candidate_guidances(guidance=1.0, guidance_max=3.0, candidates=3) == [1.0, 2.0, 3.0]
    assert candidate_guidances(guidance=1.0, guidance_max=None, candidates=3) == [1.0, 1.0, 1.0]
    assert candidate_guidances(guidance=1.0, guidance_max=2.0, candidates=4) == [1.0, 1.333333, 1.666667, 2.0]
    assert candidate_guidances(guidance=2.0, guidance_max=5.0, candidates=1) == [2.0]


def _stored(headshots, settings) -> list[np.ndarray]:
    return [np.asarray(Image.open(Path(settings.MEDIA_ROOT) / h.image.name)) for h in headshots]


@pytest.mark.django_db
def test_a_spread_job_records_guidance_and_eta_per_headshot(tmp_path, ready_subject, engineer, settings):
    generator_version_register(name="tiny-a", files_dir=tiny_generator(tmp_path / "a"), activate=True)
    spread = generation_job_create(subject=ready_subject, created_by=engineer, candidates=3, seed=42, steps=4,
                                   guidance=1.0, guidance_max=3.0, eta=0.6, enqueue=False)
    plain = generation_job_create(subject=ready_subject, created_by=engineer, candidates=3, seed=42, steps=4,
                                  enqueue=False)
    for request in (spread, plain):
        job = job_run(job_id=request.job_id)
        assert job.status == JobStatus.SUCCEEDED, job.error
    spread_heads = list(spread.headshots.order_by("candidate_index"))
    plain_heads = list(plain.headshots.order_by("candidate_index"))
    assert [(h.seed, h.guidance, h.eta) for h in spread_heads] == [(42, 1.0, 0.6), (43, 2.0, 0.6),
                                                                   (44, 3.0, 0.6)]
    assert [(h.seed, h.guidance, h.eta) for h in plain_heads] == [(42, 1.0, 0.0), (43, 1.0, 0.0),
                                                                  (44, 1.0, 0.0)]
    assert (spread.guidance, spread.guidance_max, spread.eta) == (1.0, 3.0, 0.6)
    spread_images, plain_images = _stored(spread_heads, settings), _stored(plain_heads, settings)
    for a, b in zip(spread_images, plain_images, strict=True):  # same seeds, other pictures
        assert np.abs(a.astype(int) - b.astype(int)).mean() > 2
    _, again = headshot_images(request=spread)  # each still regenerates bit for bit
    assert all(np.array_equal(a, b) for a, b in zip(spread_images, again, strict=True))
    _, again = headshot_images(request=plain)
    assert all(np.array_equal(a, b) for a, b in zip(plain_images, again, strict=True))


@pytest.mark.django_db
@pytest.mark.parametrize(("kwargs", "code"), [
    ({"guidance": 2.0, "guidance_max": 1.5}, "invalid_guidance_max"),
    ({"guidance_max": 11.0}, "invalid_guidance_max"),
    ({"eta": 1.5}, "invalid_eta"),
    ({"eta": -0.1}, "invalid_eta"),
    ({"eta": 0.3, "sampler": "dpm"}, "eta_needs_ddim"),
])
def test_bad_spreads_are_refused(tmp_path, ready_subject, engineer, kwargs, code):
    generator_version_register(name="tiny-a", files_dir=tiny_generator(tmp_path / "a"), activate=True)
    with pytest.raises(ApplicationError) as caught:
        generation_job_create(subject=ready_subject, created_by=engineer, enqueue=False, **kwargs)
    assert caught.value.code == code
    assert caught.value.status_code == 400


@pytest.mark.django_db
def test_spread_over_the_api_and_its_errors(api_client_for, ready_subject, tmp_path):
    generator_version_register(name="tiny-a", files_dir=tiny_generator(tmp_path / "a"), activate=True)
    client = api_client_for("ml_engineer")
    base = {"subject": ready_subject.pk, "candidates": 2, "steps": 2, "seed": 9}
    for payload, needle in [({"guidance": 2, "guidance_max": 1}, "guidance_max"),
                            ({"eta": 0.5, "sampler": "dpm"}, "ddim"), ({"eta": 2}, "eta")]:
        response = client.post("/api/generation/jobs/", {**base, **payload}, format="json")
        assert response.status_code == 400, response.json()
        assert needle in response.json()["detail"]
    response = client.post("/api/generation/jobs/", {**base, "guidance": 1, "guidance_max": 2.5, "eta": 0.25},
                           format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["guidance"], body["guidance_max"], body["eta"]) == (1.0, 2.5, 0.25)
    job_run(job_id=body["job"])
    done = client.get(f"/api/generation/jobs/{body['id']}/").json()
    assert [(h["guidance"], h["eta"]) for h in done["headshots"]] == [(1.0, 0.25), (2.5, 0.25)]
    schema = client.get("/api/schema/?format=json").json()["components"]["schemas"]
    assert {"guidance_max", "eta"} <= set(schema["GenerationRequest"]["properties"])
    assert "eta" in schema["Headshot"]["properties"]


@pytest.mark.django_db
def test_the_subject_page_form_spreads_and_says_what_is_wrong(client_for, ready_subject, tmp_path):
    generator_version_register(name="tiny-a", files_dir=tiny_generator(tmp_path / "a"), activate=True)
    client = client_for("ml_engineer")
    form = {"candidates": "2", "steps": "2", "guidance": "1", "sampler": "dpm", "eta": "0.5"}
    response = client.post(f"/subjects/{ready_subject.pk}/generate/", form, follow=True)
    assert b"eta above 0 needs the ddim sampler" in response.content
    assert not ready_subject.generation_jobs.exists()
    response = client.post(f"/subjects/{ready_subject.pk}/generate/",
                           {**form, "sampler": "ddim", "guidance_max": "3", "eta": ""}, follow=True)
    created = ready_subject.generation_jobs.get()
    assert (created.guidance_max, created.eta) == (3.0, 0.0)
    assert b"guidance 1.0 to 3.0" in response.content
