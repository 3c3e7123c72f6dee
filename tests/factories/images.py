"""Real photos and image helpers: where the face corpus and the metric weights are cached, the corpus
photos whose roles the tests rely on (checked by eye and by the face pipeline), decoding, the
degradations the metrics must notice (blur, JPEG, noise) and folders of PNGs."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

REPO = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO / "var" / "cache"  # the corpus wheel and the fetched weight files
TORCH_HOME = REPO / "var" / "torch"  # hub/checkpoints/alexnet-owt-7be5be79.pth for LPIPS

GOOD = "000012.jpg"  # near-frontal, sharp, well lit: accepted
OTHER = "000013.jpg"  # another person (different gender), accepted
FRONTAL = ("000010.jpg", "000012.jpg", "000013.jpg", "000018.jpg", "000019.jpg")
TURNED = "000227.jpg"  # a real three-quarter-to-profile view (yaw ~50°)


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
