"""Small image helpers shared by the apps (Pillow, and Django's file storage for stored images)."""

from __future__ import annotations

import io
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps

#: Pillow's decompression-bomb guard: larger images raise instead of being decoded.
Image.MAX_IMAGE_PIXELS = 40_000_000

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def thumbnail_jpeg(source: BinaryIO, size: int, *, quality: int = 85) -> bytes:
    """A JPEG thumbnail fitting ``size``×``size``, upright (EXIF orientation applied), RGB, with no
    metadata kept. Raises ``PIL.UnidentifiedImageError`` / ``OSError`` for unreadable input."""
    with Image.open(source) as image:
        image.draft("RGB", (size, size))  # JPEG: decode at a reduced scale, much faster
        image = ImageOps.exif_transpose(image)
        image = image.convert("RGB")
        image.thumbnail((size, size), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()


def encode_image(array: np.ndarray, fmt: str = "PNG", *, quality: int = 90) -> bytes:
    """An H×W×3 uint8 array as PNG or JPEG bytes (no metadata)."""
    out = io.BytesIO()
    Image.fromarray(array).save(out, format=fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return out.getvalue()


def stored_rgb(name: str, size: int | None = None) -> np.ndarray:
    """A stored image (default storage) as an H×W×3 uint8 array, resized (Lanczos) to
    ``size``×``size`` when given and different."""
    from django.core.files.storage import default_storage

    with default_storage.open(name, "rb") as stored:
        image = Image.open(stored).convert("RGB")
    if size and image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(image)
