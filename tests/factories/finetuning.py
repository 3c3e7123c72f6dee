"""Tiny generators and preference data for the LoRA, Diffusion-DPO and RAFT tests (plain PyTorch)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812

TINY_ATTENTION = {"image_size": 32, "block_out_channels": (16, 32), "layers_per_block": 1,
                  "attention_resolutions": (16,), "norm_num_groups": 8, "prediction_type": "sample"}


def tiny_unet(seed: int = 0, **overrides: Any):
    """``(unet in eval mode, GeneratorConfig, scheduler config)``: an untrained 32-px generator with
    self-attention on its 16-px level (~180 k parameters), predicting the clean image."""
    from generation.ml.generator import GeneratorConfig, build_unet, scheduler_config

    torch.manual_seed(seed)
    config = GeneratorConfig(**{**TINY_ATTENTION, **overrides})
    return build_unet(config).eval(), config, scheduler_config(config)


def smooth_images(n: int, seed: int, size: int = 32) -> torch.Tensor:
    """n smooth random colour images N×3×size×size in [-0.6, 0.6] (upsampled 4×4 noise)."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand((n, 3, 4, 4), generator=g) * 1.2 - 0.6
    return F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)


def brightness_pairs(n: int, seed: int, size: int = 32, gap: float = 0.35):
    """``DpoPairs`` where the winner is the brighter of two versions of one image and the condition is
    a darkened copy (a 'casual selfie')."""
    from reward.ml.dpo import DpoPairs

    base = smooth_images(n, seed, size)
    return DpoPairs(winner=(base + gap).clamp(-1, 1), loser=(base - gap).clamp(-1, 1),
                    condition=(base * 0.7 - 0.1).clamp(-1, 1), weight=torch.ones(n))


def brightness(images: torch.Tensor) -> list[float]:
    """Mean brightness of each image in [-1, 1] (a stand-in reward)."""
    return images.float().mean(dim=(1, 2, 3)).tolist()


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run tiny models on one thread: their ops are too small to split, and on a busy 2-core machine
    two threads per process made each step ~10× slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
