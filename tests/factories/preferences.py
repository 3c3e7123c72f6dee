"""Review-like preference data with a known rule: reviewers prefer the sharper of two headshots.

Subjects are simple head-and-shoulders drawings (Pillow; each seed is a different "person": skin,
hair, clothes, background, face shape and position). A subject's reference is the drawing itself;
its headshots are the drawing shifted by a pixel or two, with a random brightness change and a
Gaussian blur of random radius. The rule picks the smaller radius as chosen; a share of pairs is
flipped, as real reviewers disagree.
"""

from __future__ import annotations

import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from reward.ml.data import PreferenceExample

SKIN = {"light": (241, 194, 167), "medium": (198, 134, 94), "dark": (92, 56, 38)}


def portrait(seed: int, size: int = 64) -> tuple[np.ndarray, str]:
    """A drawn head-and-shoulders portrait (size×size×3 uint8) and its skin-tone group."""
    rng = random.Random(seed)
    group = rng.choice(sorted(SKIN))
    skin = tuple(min(255, max(0, c + rng.randint(-12, 12))) for c in SKIN[group])
    s = 4 * size / 512  # drawn at 4× and shrunk: smooth edges, sharp at the final size
    big = 4 * size
    image = Image.new("RGB", (big, big), tuple(rng.randint(110, 230) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    dx, dy = rng.randint(-30, 30), rng.randint(-20, 20)
    wide, tall = rng.randint(-25, 25), rng.randint(-20, 20)
    draw.ellipse([(60 + dx) * s, (380 + dy) * s, (452 + dx) * s, 700 * s], fill=tuple(rng.randint(20, 140)
                                                                                        for _ in range(3)))
    draw.rectangle([(216 + dx) * s, (330 + dy) * s, (296 + dx) * s, (400 + dy) * s], fill=skin)
    face = [(156 + dx - wide) * s, (110 + dy - tall) * s, (356 + dx + wide) * s, (360 + dy + tall) * s]
    draw.ellipse(face, fill=skin)
    draw.chord([face[0] - 6 * s, face[1] - 15 * s, face[2] + 6 * s, (250 + dy) * s], 180, 360,
               fill=tuple(rng.randint(10, 100) for _ in range(3)))
    for x in (210 + dx, 302 + dx):
        draw.ellipse([(x - 16) * s, (215 + dy) * s, (x + 16) * s, (237 + dy) * s], fill=(250, 250, 250))
        draw.ellipse([(x - 7) * s, (219 + dy) * s, (x + 7) * s, (233 + dy) * s], fill=(40, 30, 20))
    draw.arc([(216 + dx) * s, (280 + dy) * s, (296 + dx) * s, (320 + dy) * s], 20, 160, fill=(120, 40, 40),
             width=max(1, round(6 * s)))
    return np.asarray(image.resize((size, size), Image.LANCZOS)), group


def headshot(reference: np.ndarray, radius: float, rng: np.random.Generator) -> np.ndarray:
    """A variant of ``reference``: shifted ±2 px, brightness ×[0.9, 1.1], then blurred by ``radius``."""
    shifted = np.roll(reference, tuple(rng.integers(-2, 3, size=2)), axis=(0, 1)).astype(np.float64)
    bright = np.clip(shifted * rng.uniform(0.9, 1.1), 0, 255).astype(np.uint8)
    return np.asarray(Image.fromarray(bright).filter(ImageFilter.GaussianBlur(float(radius))))


Drawn = tuple[np.ndarray, np.ndarray, float]  # (headshot, reference, blur radius)


def sharpness_pairs(subjects: range, pairs_per_subject: int, flip: float = 0.1, seed: int = 0,
                    size: int = 64) -> tuple[list[PreferenceExample], list[Drawn]]:
    """Pairs following the sharpness rule (``flip`` of them reversed) and every headshot drawn as
    ``(headshot, reference, blur radius)``."""
    rng = np.random.default_rng(seed)
    pairs, images = [], []
    for subject in subjects:
        reference, group = portrait(subject, size)
        for _ in range(pairs_per_subject):
            r1, r2 = (float(r) for r in rng.uniform(0.0, 2.5, size=2))
            a, b = headshot(reference, r1, rng), headshot(reference, r2, rng)
            images += [(a, reference, r1), (b, reference, r2)]
            chosen, rejected = (a, b) if r1 < r2 else (b, a)
            if rng.random() < flip:
                chosen, rejected = rejected, chosen
            pairs.append(PreferenceExample(chosen=chosen, rejected=rejected, reference=reference, group=group,
                                           margin=float(abs(r1 - r2))))
    return pairs, images
