"""Tiny real data for job tests: portraits drawn with Pillow, saved into the media library."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings

from hfplatform.demo import portrait_sketch


def write_photos(folder: str, count: int, *, size: int = 256, fmt: str = "JPEG") -> Path:
    """``count`` portrait images under MEDIA_ROOT/folder (drawn once, then copied)."""
    target = Path(settings.MEDIA_ROOT) / folder
    target.mkdir(parents=True, exist_ok=True)
    suffix = ".png" if fmt == "PNG" else ".jpg"
    first = target / f"photo-0000{suffix}"
    portrait_sketch(seed=1, size=size).save(first, format=fmt)
    for i in range(1, count):
        shutil.copyfile(first, target / f"photo-{i:04d}{suffix}")
    return target
