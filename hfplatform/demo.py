"""Demo media drawn with Pillow, so a fresh install has images to run the thumbnails job on.

The face corpus (``generation.ml.corpus``) supplies real photos; these are the zero-download fallback.
"""

from __future__ import annotations

import io
import random

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw

DEMO_FOLDER = "demo/photos"


def portrait_sketch(seed: int, size: int = 512) -> Image.Image:
    """A simple head-and-shoulders drawing: background, shoulders, face, eyes, mouth."""
    rng = random.Random(seed)
    bg = tuple(rng.randint(120, 220) for _ in range(3))
    skin = rng.choice([(241, 194, 167), (224, 172, 138), (198, 134, 94), (141, 85, 54), (92, 56, 38)])
    image = Image.new("RGB", (size, size), bg)
    draw = ImageDraw.Draw(image)
    s = size / 512
    cloth = tuple(rng.randint(20, 120) for _ in range(3))
    draw.ellipse([60 * s, 380 * s, 452 * s, 700 * s], fill=cloth)
    draw.rectangle([216 * s, 330 * s, 296 * s, 400 * s], fill=skin)
    draw.ellipse([156 * s, 110 * s, 356 * s, 360 * s], fill=skin)
    hair = tuple(rng.randint(10, 90) for _ in range(3))
    draw.chord([150 * s, 95 * s, 362 * s, 260 * s], 180, 360, fill=hair)
    for x in (210, 302):
        draw.ellipse([(x - 14) * s, 215 * s, (x + 14) * s, 235 * s], fill=(250, 250, 250))
        draw.ellipse([(x - 6) * s, 219 * s, (x + 6) * s, 231 * s], fill=(40, 30, 20))
    draw.arc([216 * s, 280 * s, 296 * s, 320 * s], 20, 160, fill=(120, 40, 40), width=max(1, int(5 * s)))
    return image


def demo_photos_write(count: int = 6) -> int:
    """Write ``count`` demo portraits as JPEGs unless they exist; returns how many were written."""
    written = 0
    for i in range(count):
        name = f"{DEMO_FOLDER}/portrait-{i + 1:02d}.jpg"
        if default_storage.exists(name):
            continue
        buffer = io.BytesIO()
        portrait_sketch(seed=i).save(buffer, format="JPEG", quality=90)
        default_storage.save(name, ContentFile(buffer.getvalue()))
        written += 1
    return written
