"""Corpus photos whose roles the face-pipeline tests rely on (checked by eye and by the pipeline)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

CACHE_DIR = Path(__file__).resolve().parents[3] / "var" / "cache"

GOOD = "000012.jpg"  # near-frontal, sharp, well lit: accepted
OTHER = "000013.jpg"  # another person (different gender), accepted
FRONTAL = ("000010.jpg", "000012.jpg", "000013.jpg", "000018.jpg", "000019.jpg")
TURNED = "000227.jpg"  # a real three-quarter-to-profile view (yaw ~50°)


def decode(jpeg: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))
