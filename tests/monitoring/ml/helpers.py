"""Paths and image degradations shared by the metric tests."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

REPO = Path(__file__).resolve().parents[3]
CACHE_DIR = REPO / "var" / "cache"  # the corpus wheel and the fetched weight files
TORCH_HOME = REPO / "var" / "torch"  # hub/checkpoints/alexnet-owt-7be5be79.pth for LPIPS

GOOD = "000012.jpg"  # near-frontal, sharp corpus photo (see tests/generation/ml/helpers.py)
OTHER = "000013.jpg"  # another person


def decode(jpeg: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))


def blur(rgb: np.ndarray, sigma: float) -> np.ndarray:
    if sigma == 0:
        return rgb
    return np.asarray(Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(sigma)))


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=quality)
    return decode(out.getvalue())


def noise(rgb: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    if sigma == 0:
        return rgb
    noisy = rgb + np.random.default_rng(seed).normal(0, sigma, rgb.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def save_pngs(images: list[np.ndarray], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, rgb in enumerate(images):
        Image.fromarray(rgb).save(folder / f"{i:04d}.png")
    return folder
