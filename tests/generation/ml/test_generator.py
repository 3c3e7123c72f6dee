"""The conditional diffusion generator on a tiny real UNet: loss, gradients, seeded sampling, CFG,
SDEdit, and a save → load round trip through plain diffusers."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from diffusers import DDPMScheduler, UNet2DModel

from generation.ml.degrade import degrade
from generation.ml.generator import (
    EMA,
    PREDICTION_TYPES,
    GeneratorConfig,
    build_unet,
    load_generator,
    make_scheduler,
    predicted_clean,
    sample,
    save_generator,
    scheduler_config,
    sdedit,
    to_tensor,
    to_uint8,
    training_loss,
)
from tests.factories.images import FRONTAL

TINY = {"image_size": 32, "block_out_channels": (32, 64), "layers_per_block": 1,
        "attention_resolutions": (16,), "norm_num_groups": 8}


@pytest.fixture(scope="module")
def pairs(corpus_images_by_name) -> tuple[torch.Tensor, torch.Tensor]:
    """(clean, casual) B×3×32×32 in [-1, 1] from 4 real CelebA photos (centre crops, resized)."""
    import cv2

    clean = []
    for name in (*FRONTAL, "000227.jpg")[:4]:
        rgb = corpus_images_by_name[name]
        h, w = rgb.shape[:2]
        top = (h - w) // 2
        clean.append(cv2.resize(rgb[top:top + w], (32, 32), interpolation=cv2.INTER_AREA))
    casual = [degrade(c, seed=i) for i, c in enumerate(clean)]
    return to_tensor(np.stack(clean)), to_tensor(np.stack(casual))


@pytest.fixture
def unet() -> UNet2DModel:
    torch.manual_seed(0)
    return build_unet(GeneratorConfig(**TINY)).eval()


def test_default_config_is_a_small_64px_unet():
    config = GeneratorConfig()
    net = build_unet(config)
    params = sum(p.numel() for p in net.parameters())
    assert 4e6 <= params <= 7.5e6  # ≤ 30 MB in fp32
    assert net.config.in_channels == 6
    assert net.config.out_channels == 3
    assert net.config.sample_size == 64
    assert net.config.down_block_types == ("DownBlock2D", "DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D")
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in net.modules())  # PEFT LoRA friendly
    assert GeneratorConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ValueError, match="prediction_type"):
        GeneratorConfig(prediction_type="noise")


@pytest.mark.parametrize("prediction_type", PREDICTION_TYPES)
def test_training_loss_is_finite_and_one_step_updates_every_parameter(pairs, prediction_type):
    clean, casual = pairs
    torch.manual_seed(1)
    config = GeneratorConfig(**TINY, prediction_type=prediction_type)
    net = build_unet(config).train()
    scheduler = make_scheduler(scheduler_config(config), "ddpm")
    assert scheduler.config.prediction_type == prediction_type
    before = {name: p.detach().clone() for name, p in net.named_parameters()}
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3)
    loss = training_loss(net, scheduler, clean, casual, torch.Generator().manual_seed(0), cond_dropout=0.5)
    assert torch.isfinite(loss)
    assert loss.ndim == 0
    loss.backward()
    optimizer.step()
    unchanged = [name for name, p in net.named_parameters() if torch.equal(p, before[name])]
    assert not unchanged, f"parameters not updated by one step: {unchanged[:5]}"


def test_training_loss_repeats_with_the_same_generator(pairs, unet):
    clean, casual = pairs
    scheduler = make_scheduler(scheduler_config(GeneratorConfig(**TINY)), "ddpm")
    a = training_loss(unet, scheduler, clean, casual, torch.Generator().manual_seed(3))
    b = training_loss(unet, scheduler, clean, casual, torch.Generator().manual_seed(3))
    c = training_loss(unet, scheduler, clean, casual, torch.Generator().manual_seed(4))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("prediction_type", PREDICTION_TYPES)
def test_predicted_clean_inverts_each_target(pairs, prediction_type):
    """Given the exact target as the UNet's output, the implied clean image is the clean image."""
    clean, _ = pairs
    scheduler = make_scheduler(scheduler_config(GeneratorConfig(**TINY, prediction_type=prediction_type)))
    noise = torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))
    t = torch.tensor([0, 250, 500, 900])
    noisy = scheduler.add_noise(clean, noise, t)
    target = {"epsilon": noise, "v_prediction": scheduler.get_velocity(clean, noise, t), "sample": clean}
    x0 = predicted_clean(scheduler, noisy, target[prediction_type], t)
    assert torch.allclose(x0, clean, atol=1e-3)
    wrong = predicted_clean(scheduler, noisy, torch.zeros_like(clean), t)
    assert (wrong - clean).abs().mean() > 0.05


def test_perceptual_term_is_added_to_the_loss_and_reaches_the_unet(pairs, unet):
    """The perceptual distance sees the predicted clean image and the target; its gradient trains the UNet."""
    clean, casual = pairs
    scheduler = make_scheduler(scheduler_config(GeneratorConfig(**TINY, prediction_type="sample")), "ddpm")
    seen = []

    def distance(a, b):  # mean absolute error per image: a simple differentiable distance
        seen.append((a, b))
        return (a - b).abs().flatten(1).mean(1)

    plain = training_loss(unet, scheduler, clean, casual, torch.Generator().manual_seed(6))
    with_term = training_loss(unet, scheduler, clean, casual, torch.Generator().manual_seed(6),
                              perceptual=distance, perceptual_weight=2.0)
    (predicted, target), = seen
    assert torch.equal(target, clean)
    assert predicted.shape == clean.shape
    assert float(predicted.min()) >= -1
    assert float(predicted.max()) <= 1
    assert torch.allclose(with_term, plain + 2.0 * distance(predicted, clean).mean())
    assert torch.equal(training_loss(unet, scheduler, clean, casual, torch.Generator().manual_seed(6),
                                     perceptual=distance, perceptual_weight=0.0), plain)
    with_term.backward()
    grad_with = unet.conv_out.weight.grad.clone()
    unet.zero_grad()
    training_loss(unet, scheduler, clean, casual, torch.Generator().manual_seed(6)).backward()
    assert not torch.allclose(grad_with, unet.conv_out.weight.grad)


def test_condition_dropout_zeroes_the_condition(pairs, unet):
    """With cond_dropout 1 the casual photo cannot matter; with 0 it does."""
    clean, casual = pairs
    scheduler = make_scheduler(scheduler_config(GeneratorConfig(**TINY)), "ddpm")

    def loss(cond, dropout):
        return training_loss(unet, scheduler, clean, cond, torch.Generator().manual_seed(5), dropout)

    assert torch.equal(loss(casual, 1.0), loss(-casual, 1.0))
    assert not torch.equal(loss(casual, 0.0), loss(-casual, 0.0))


@pytest.mark.parametrize("sampler", ["ddim", "dpm"])
def test_sample_is_seeded_bit_for_bit_and_seeds_differ(pairs, unet, sampler):
    _, casual = pairs
    config = scheduler_config(GeneratorConfig(**TINY))
    a = sample(unet, config, casual, steps=6, seeds=[0, 1, 2, 3], sampler=sampler)
    b = sample(unet, config, casual, steps=6, seeds=[0, 1, 2, 3], sampler=sampler)
    c = sample(unet, config, casual, steps=6, seeds=[10, 11, 12, 13], sampler=sampler)
    assert a.shape == casual.shape
    assert a.dtype == torch.float32
    assert a.min() >= -1
    assert a.max() <= 1
    assert torch.equal(a, b)
    for i in range(4):
        assert not torch.equal(a[i], c[i])
    # one candidate alone regenerates from its seed (up to float rounding of a different batch size)
    alone = sample(unet, config, casual[2:3], steps=6, seeds=[2], sampler=sampler)
    assert torch.allclose(alone, a[2:3], atol=1e-3)


def test_guidance_runs_and_changes_the_result(pairs, unet):
    _, casual = pairs
    config = scheduler_config(GeneratorConfig(**TINY))
    plain = sample(unet, config, casual, steps=5, seeds=[0, 1, 2, 3])
    guided = sample(unet, config, casual, steps=5, seeds=[0, 1, 2, 3], guidance=3.0)
    assert torch.isfinite(guided).all()
    assert not torch.allclose(plain, guided)
    assert torch.equal(guided, sample(unet, config, casual, steps=5, seeds=[0, 1, 2, 3], guidance=3.0))
    with pytest.raises(ValueError, match="seeds"):
        sample(unet, config, casual, steps=5, seeds=[0])


def test_sdedit_starts_from_the_casual_photo(pairs, unet):
    _, casual = pairs
    config = scheduler_config(GeneratorConfig(**TINY))
    light = sdedit(unet, config, casual, strength=0.2, steps=10, seeds=[0, 1, 2, 3])
    heavy = sdedit(unet, config, casual, strength=1.0, steps=10, seeds=[0, 1, 2, 3])
    assert light.shape == casual.shape
    assert torch.equal(light, sdedit(unet, config, casual, strength=0.2, steps=10, seeds=[0, 1, 2, 3]))
    # an untrained UNet: the less noise is added, the more of the photo survives
    assert (light - casual).abs().mean() < (heavy - casual).abs().mean()
    assert torch.isfinite(sdedit(unet, config, casual, strength=0.5, steps=6, seeds=[0, 1, 2, 3],
                                 sampler="dpm")).all()


def test_save_then_load_in_plain_diffusers_gives_identical_outputs(tmp_path, pairs, unet):
    _, casual = pairs
    config = GeneratorConfig(**TINY)
    out = save_generator(unet, config, tmp_path / "gen", {"steps": 7, "fingerprint": "abc"})
    assert (out / "unet" / "diffusion_pytorch_model.safetensors").is_file()
    plain = UNet2DModel.from_pretrained(out / "unet", low_cpu_mem_usage=False).eval()
    plain_scheduler = DDPMScheduler.from_pretrained(out / "scheduler")
    assert plain_scheduler.config.prediction_type == config.prediction_type
    t = torch.tensor(500)
    x = torch.cat([torch.zeros_like(casual), casual], dim=1)
    with torch.no_grad():
        assert torch.equal(plain(x, t).sample, unet(x, t).sample)

    loaded, loaded_config, sched, meta = load_generator(out)
    assert loaded_config == config
    assert meta["steps"] == 7
    assert meta["fingerprint"] == "abc"
    seeds = [4, 5, 6, 7]
    assert torch.equal(sample(loaded, sched, casual, steps=4, seeds=seeds),
                       sample(unet, scheduler_config(config), casual, steps=4, seeds=seeds))


def test_a_half_precision_copy_loads_as_fp32(tmp_path, unet):
    config = GeneratorConfig(**TINY)
    out = save_generator(unet, config, tmp_path / "gen")
    build_unet(config).half().save_pretrained(out / "unet", safe_serialization=True)  # shipped in fp16
    assert load_generator(out)[0].dtype == torch.float32
    assert load_generator(out, dtype=torch.bfloat16)[0].dtype == torch.bfloat16


def test_ema_moves_towards_the_model():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 4)
    ema = EMA(model, decay=0.9)
    with torch.no_grad():
        model.weight.add_(1.0)
    distance = float((ema.model.weight - model.weight).abs().mean())
    ema.update(model, step=100)
    assert float((ema.model.weight - model.weight).abs().mean()) == pytest.approx(0.9 * distance, rel=1e-5)
    assert not ema.model.weight.requires_grad


def test_uint8_round_trip():
    images = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    x = to_tensor(images)
    assert x.shape == (2, 3, 8, 8)
    assert x.min() >= -1
    assert x.max() <= 1
    assert np.array_equal(to_uint8(x), images)
