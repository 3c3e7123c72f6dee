"""The conditional diffusion generator: casual selfie in, studio-style headshot of the same person out.

Palette / SR3-style image-to-image diffusion: a diffusers ``UNet2DModel`` sees the noisy target and the
casual photo stacked on the channel axis (6 channels in, 3 out) and learns to denoise the target. The
condition is replaced by zeros for ``cond_dropout`` of the training examples, so the same network is
also an unconditional model and sampling can use classifier-free guidance (CFG):
``pred = uncond + guidance · (cond − uncond)``. ``sdedit`` is the training-free baseline: noise the
casual photo part of the way and denoise it unconditionally.

Images are float tensors B×3×H×W in [-1, 1]. No Django. See docs/generator.md. ``sample``, ``sdedit``
and ``training_loss`` also take a ``peft.PeftModel`` (an unmerged LoRA adapter, ``generation.ml.lora``);
the samplers fold it into the weights while they run (``adapter_folded``), so it samples as fast as merged.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from diffusers import DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler, UNet2DModel

from generation.ml.lora import adapter_folded
from generation.ml.options import BETA_SCHEDULES, PREDICTION_TYPES, SAMPLERS

FORMAT_VERSION = 1


@dataclass
class GeneratorConfig:
    """The network and the diffusion process. Defaults: 6.67 M parameters, 26.7 MB in fp32."""

    image_size: int = 64  # square side in pixels
    block_out_channels: tuple[int, ...] = (32, 64, 128, 128)  # one UNet level each: 64, 32, 16, 8 px
    layers_per_block: int = 2  # ResNet blocks per level (up levels get one more)
    attention_resolutions: tuple[int, ...] = (16, 8)  # feature-map sides with self-attention
    attention_head_dim: int = 32
    norm_num_groups: int = 32  # GroupNorm groups; must divide every entry of block_out_channels
    dropout: float = 0.0
    prediction_type: str = "v_prediction"  # UNet target: "epsilon", "v_prediction" or "sample"; docs
    num_train_timesteps: int = 1000
    beta_schedule: str = "squaredcos_cap_v2"  # cosine (Nichol & Dhariwal); "linear" as in DDPM
    cond_dropout: float = 0.1  # share of training examples with the condition zeroed (enables CFG)
    ema_decay: float = 0.999  # weights EMA; warmed up as min(decay, (1 + step) / (10 + step))

    def __post_init__(self) -> None:
        self.block_out_channels = tuple(self.block_out_channels)
        self.attention_resolutions = tuple(self.attention_resolutions)
        if self.prediction_type not in PREDICTION_TYPES:
            raise ValueError(f"prediction_type must be one of {PREDICTION_TYPES}: {self.prediction_type!r}")
        if self.beta_schedule not in BETA_SCHEDULES:
            raise ValueError(f"beta_schedule must be one of {BETA_SCHEDULES}: {self.beta_schedule!r}")
        if self.image_size % 2 ** (len(self.block_out_channels) - 1):
            raise ValueError("image_size must be divisible by 2 ** (levels - 1)")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GeneratorConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def at_size(self, image_size: int) -> GeneratorConfig:
        """The same network at another square side: every level keeps its channels and its attention
        (the attention sides scale with the image), so this config's weights load into it unchanged.
        Growing a 64-px version to 128 px starts from its weights (``TrainConfig.init_from``)."""
        scaled = [side * image_size / self.image_size for side in self.attention_resolutions]
        if any(s != int(s) or s < 1 for s in scaled):
            raise ValueError(f"attention at {self.attention_resolutions} px does not scale from "
                             f"{self.image_size} to {image_size} px")
        return replace(self, image_size=image_size, attention_resolutions=tuple(int(s) for s in scaled))


def build_unet(config: GeneratorConfig) -> UNet2DModel:
    """A randomly initialised UNet: 6 channels in (noisy target ⊕ casual condition), 3 out."""
    sides = [config.image_size // 2**i for i in range(len(config.block_out_channels))]
    down = tuple("AttnDownBlock2D" if s in config.attention_resolutions else "DownBlock2D" for s in sides)
    up = tuple("AttnUpBlock2D" if s in config.attention_resolutions else "UpBlock2D" for s in reversed(sides))
    return UNet2DModel(
        sample_size=config.image_size,
        in_channels=6,
        out_channels=3,
        block_out_channels=config.block_out_channels,
        layers_per_block=config.layers_per_block,
        down_block_types=down,
        up_block_types=up,
        attention_head_dim=config.attention_head_dim,
        norm_num_groups=config.norm_num_groups,
        dropout=config.dropout,
    )


def scheduler_config(config: GeneratorConfig) -> dict[str, Any]:
    """The noise schedule, as a diffusers scheduler config (shared by training and every sampler)."""
    return {
        "num_train_timesteps": config.num_train_timesteps,
        "beta_schedule": config.beta_schedule,
        "prediction_type": config.prediction_type,
        "clip_sample": True,  # DDPM/DDIM clip the predicted clean image to [-1, 1]
        "timestep_spacing": "trailing",  # sampling starts at t = T - 1, where training saw pure noise
    }


def make_scheduler(config: dict[str, Any], sampler: str = "ddpm"):
    """A fresh diffusers scheduler for ``sampler``: "ddpm" (training), "ddim" (eta 0) or "dpm"
    (DPM-Solver++ 2M, multistep)."""
    config = {k: v for k, v in config.items() if not k.startswith("_")}
    if sampler == "ddpm":
        return DDPMScheduler(**config)
    if sampler == "ddim":
        return DDIMScheduler(**config)
    if sampler == "dpm":
        config.pop("clip_sample", None)
        return DPMSolverMultistepScheduler(**config)
    raise ValueError(f"sampler must be one of {SAMPLERS}, not {sampler!r}")


def predicted_clean(scheduler: DDPMScheduler, noisy: torch.Tensor, pred: torch.Tensor,
                    t: torch.Tensor) -> torch.Tensor:
    """The clean image implied by the UNet's output ``pred`` at timesteps ``t``, clipped to [-1, 1]."""
    alpha_bar = scheduler.alphas_cumprod.to(noisy.device)[t].view(-1, 1, 1, 1).to(noisy.dtype)
    a, s = alpha_bar.sqrt(), (1 - alpha_bar).sqrt()
    kind = scheduler.config.prediction_type
    if kind == "sample":
        x0 = pred
    elif kind == "v_prediction":
        x0 = a * noisy - s * pred
    elif kind == "epsilon":
        x0 = (noisy - s * pred) / a.clamp(min=1e-3)
    else:
        raise ValueError(f"unknown prediction_type {kind!r}")
    return x0.clamp(-1, 1)


Perceptual = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def training_loss(unet: UNet2DModel, scheduler: DDPMScheduler, clean: torch.Tensor, casual: torch.Tensor,
                  generator: torch.Generator | None = None, cond_dropout: float = 0.1,
                  perceptual: Perceptual | None = None, perceptual_weight: float = 0.0) -> torch.Tensor:
    """Mean squared error of the UNet's prediction on one batch (a scalar tensor).

    ``clean`` and ``casual`` are B×3×H×W in [-1, 1]. Noise, timesteps and the condition-dropout mask
    are drawn from ``generator`` (which must live on ``clean``'s device), or torch's global RNG.
    The target follows ``scheduler.config.prediction_type``. With ``perceptual`` (a differentiable
    distance per image pair, e.g. LPIPS) and a positive ``perceptual_weight``, the loss adds
    ``weight · mean perceptual(predicted clean image, clean)``: plain MSE regresses to the blurry mean
    of the plausible faces, and eyes and mouths are what a face embedding reads.
    """
    b, device = clean.shape[0], clean.device
    noise = torch.randn(clean.shape, generator=generator, device=device, dtype=clean.dtype)
    t = torch.randint(0, scheduler.config.num_train_timesteps, (b,), generator=generator, device=device)
    keep = torch.rand(b, generator=generator, device=device) >= cond_dropout
    cond = casual * keep.view(b, 1, 1, 1).to(casual.dtype)
    noisy = scheduler.add_noise(clean, noise, t)
    pred = unet(torch.cat([noisy, cond], dim=1), t).sample
    kind = scheduler.config.prediction_type
    if kind == "epsilon":
        target = noise
    elif kind == "v_prediction":
        target = scheduler.get_velocity(clean, noise, t)
    elif kind == "sample":
        target = clean
    else:
        raise ValueError(f"unknown prediction_type {kind!r}")
    loss = F.mse_loss(pred.float(), target.float())
    if perceptual is not None and perceptual_weight > 0:
        x0 = predicted_clean(scheduler, noisy.float(), pred.float(), t)
        loss = loss + perceptual_weight * perceptual(x0, clean.float()).mean()
    return loss


def initial_noise(seeds: list[int], shape: tuple[int, int, int], device: torch.device | str = "cpu"
                  ) -> torch.Tensor:
    """len(seeds)×C×H×W standard normal noise, one CPU generator per seed (the same on every device)."""
    noise = [torch.randn(shape, generator=torch.Generator("cpu").manual_seed(int(s))) for s in seeds]
    return torch.stack(noise).to(device)


def _denoise(unet: UNet2DModel, scheduler, x: torch.Tensor, cond: torch.Tensor, timesteps: torch.Tensor,
             guidance: float | torch.Tensor, eta: float = 0.0,
             step_noise: list[torch.Generator] | None = None) -> torch.Tensor:
    """The sampler loop. ``guidance`` is one scale for the batch or a B-vector (one per image);
    with ``eta`` > 0 (DDIM only) each step adds fresh noise, image i's drawn from ``step_noise[i]``."""
    dtype = unet.dtype
    plain = not isinstance(guidance, torch.Tensor) and guidance == 1.0
    if isinstance(guidance, torch.Tensor):
        guidance = guidance.view(-1, 1, 1, 1).to(x.device)
    if not plain:  # one forward pass for cond and uncond
        cond = torch.cat([cond, torch.zeros_like(cond)])
    cond = cond.to(dtype)
    for t in timesteps:
        model_in = scheduler.scale_model_input(x, t)
        if plain:
            out = unet(torch.cat([model_in.to(dtype), cond], dim=1), t).sample
        else:
            doubled = torch.cat([model_in, model_in]).to(dtype)
            out_cond, out_uncond = unet(torch.cat([doubled, cond], dim=1), t).sample.chunk(2)
            out = out_uncond + guidance * (out_cond - out_uncond)
        if eta:
            noise = torch.stack([torch.randn(x.shape[1:], generator=g) for g in step_noise or []]).to(x)
            x = scheduler.step(out.float(), t, x, eta=eta, variance_noise=noise).prev_sample
        else:
            x = scheduler.step(out.float(), t, x).prev_sample
    return x.clamp(-1, 1)


@torch.no_grad()
def sample(unet: UNet2DModel, scheduler_config: dict[str, Any], casual: torch.Tensor, *, steps: int = 25,
           guidance: float | Sequence[float] = 1.0, seeds: list[int], sampler: str = "ddim",
           eta: float = 0.0) -> torch.Tensor:
    """Headshots (B×3×H×W in [-1, 1], float32) for the casual photos ``casual`` (B×3×H×W in [-1, 1]).

    Image i starts from the noise of ``seeds[i]``; the same call repeats bit for bit on one machine.
    ``guidance`` 1 is the plain conditional model (one forward pass per step); otherwise CFG with the
    conditional and unconditional predictions from one doubled batch. ``guidance`` may be one scale
    per image (a sequence of B values: candidates spread over a guidance range).

    ``eta`` (DDIM only, 0 to 1) makes DDIM stochastic: 0 is deterministic DDIM (the default, exactly
    as without the argument), 1 has DDPM's variance. The noise each step adds to image i continues
    the random stream of ``seeds[i]`` (after its starting noise), so an image does not depend on the
    other images of its batch.
    """
    if len(seeds) != casual.shape[0]:
        raise ValueError(f"{casual.shape[0]} casual photos but {len(seeds)} seeds")
    if not 0.0 <= eta <= 1.0:
        raise ValueError(f"eta must be between 0 and 1, not {eta}")
    if eta and sampler != "ddim":
        raise ValueError(f"eta applies to the ddim sampler only, not {sampler!r}")
    if not isinstance(guidance, int | float):
        scales = [float(g) for g in guidance]
        if len(scales) != len(seeds):
            raise ValueError(f"{len(seeds)} seeds but {len(scales)} guidance scales")
        same = all(g == scales[0] for g in scales)
        guidance = scales[0] if same else torch.tensor(scales, dtype=torch.float32)
    scheduler = make_scheduler(scheduler_config, sampler)
    scheduler.set_timesteps(steps, device=casual.device)
    shape = tuple(casual.shape[1:])
    streams = None
    if eta:
        streams = [torch.Generator("cpu").manual_seed(int(s)) for s in seeds]
        start = torch.stack([torch.randn(shape, generator=g) for g in streams]).to(casual.device)
    else:
        start = initial_noise(seeds, shape, casual.device)
    x = start * scheduler.init_noise_sigma
    with adapter_folded(unet):
        return _denoise(unet, scheduler, x, casual.float(), scheduler.timesteps, guidance, eta, streams)


@torch.no_grad()
def sdedit(unet: UNet2DModel, scheduler_config: dict[str, Any], casual: torch.Tensor, *,
           strength: float = 0.5, steps: int = 25, seeds: list[int], sampler: str = "ddim") -> torch.Tensor:
    """The SDEdit baseline: noise ``casual`` to timestep ≈ strength·T and denoise it unconditionally
    (condition zeros) over the last ``round(strength · steps)`` of ``steps`` sampler steps."""
    if len(seeds) != casual.shape[0]:
        raise ValueError(f"{casual.shape[0]} casual photos but {len(seeds)} seeds")
    scheduler = make_scheduler(scheduler_config, sampler)
    scheduler.set_timesteps(steps, device=casual.device)
    start = steps - max(1, min(steps, round(strength * steps)))
    timesteps = scheduler.timesteps[start:]
    if hasattr(scheduler, "set_begin_index"):
        scheduler.set_begin_index(start)
    noise = initial_noise(seeds, tuple(casual.shape[1:]), casual.device)
    x = scheduler.add_noise(casual.float(), noise, timesteps[:1].repeat(casual.shape[0]))
    with adapter_folded(unet):
        return _denoise(unet, scheduler, x, torch.zeros_like(casual, dtype=torch.float32), timesteps, 1.0)


class EMA:
    """Exponential moving average of a model's weights (a frozen copy, updated after each step)."""

    def __init__(self, model: torch.nn.Module, decay: float = 0.999) -> None:
        self.decay = decay
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: torch.nn.Module, step: int) -> None:
        decay = min(self.decay, (1 + step) / (10 + step))
        ema_params = list(self.model.parameters())
        torch._foreach_lerp_(ema_params, [p.detach() for p in model.parameters()], 1 - decay)
        for ema_buffer, buffer in zip(self.model.buffers(), model.buffers(), strict=True):
            ema_buffer.copy_(buffer)


def save_generator(unet_ema: UNet2DModel, config: GeneratorConfig, out_dir: Path,
                   extra: dict[str, Any] | None = None) -> Path:
    """Write a generator loadable by ``load_generator`` (and plain diffusers) into ``out_dir``:

    ``unet/`` (config.json + diffusion_pytorch_model.safetensors, fp32), ``scheduler/scheduler_config.json``
    (a DDPMScheduler) and ``generator.json`` (our config, the scheduler config and ``extra``).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    unet = unet_ema if unet_ema.dtype == torch.float32 else copy.deepcopy(unet_ema).float()
    unet.save_pretrained(out_dir / "unet", safe_serialization=True)
    sched = scheduler_config(config)
    make_scheduler(sched, "ddpm").save_pretrained(out_dir / "scheduler")
    meta = {"format_version": FORMAT_VERSION, "config": config.to_dict(), "scheduler": sched, **(extra or {})}
    (out_dir / "generator.json").write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
    return out_dir


def _generator_meta(out_dir: Path) -> dict[str, Any]:
    return json.loads((Path(out_dir) / "generator.json").read_text())


def generator_config(out_dir: Path) -> GeneratorConfig:
    """The config of a saved generator, without loading its weights."""
    return GeneratorConfig.from_dict(_generator_meta(out_dir)["config"])


def load_generator(out_dir: Path, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
                   ) -> tuple[UNet2DModel, GeneratorConfig, dict[str, Any], dict[str, Any]]:
    """``(unet in eval mode on device, config, scheduler_config, meta)`` of a saved generator.

    The weights are cast to ``dtype`` (fp32 by default, also for a copy stored in fp16: CPUs run fp16
    convolutions several times slower; pass ``torch.float16``/``bfloat16`` for a GPU)."""
    out_dir = Path(out_dir)
    meta = _generator_meta(out_dir)
    unet = UNet2DModel.from_pretrained(out_dir / "unet", low_cpu_mem_usage=False, torch_dtype=dtype)
    unet = unet.to(device).eval()
    return unet, GeneratorConfig.from_dict(meta["config"]), meta["scheduler"], meta


def to_tensor(images, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 images N×H×W×3 (numpy or torch) → float32 N×3×H×W in [-1, 1]."""
    x = torch.as_tensor(images).to(device)
    return x.permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def to_uint8(images: torch.Tensor):
    """float N×3×H×W in [-1, 1] → numpy uint8 N×H×W×3."""
    x = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu().numpy()
