"""Generation data: photo files as a browser would upload them, and a tiny generator on disk."""

from __future__ import annotations

import io
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def upload_of(image: Image.Image, name: str, fmt: str = "JPEG") -> SimpleUploadedFile:
    out = io.BytesIO()
    image.save(out, format=fmt)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def tiny_generator(folder: Path, seed: int = 0, attention: bool = False) -> Path:
    """An untrained 64-px generator (two small UNet levels) saved into ``folder``; its files folder.
    ``attention``: self-attention on the 32-px level (what LoRA adapts by default)."""
    import torch

    from generation.ml.generator import GeneratorConfig, build_unet, save_generator

    torch.manual_seed(seed)
    config = GeneratorConfig(image_size=64, block_out_channels=(16, 32), layers_per_block=1,
                             attention_resolutions=(32,) if attention else (), norm_num_groups=8)
    return save_generator(build_unet(config), config, folder, {"fingerprint": f"tiny-{seed}"})
