"""Synthetic "casual selfie" degradations of clean aligned portraits (the generator's training input).

``degrade(clean, seed)`` turns one clean aligned crop into what a phone snapshot of the same person
could look like, by a seeded random combination of the steps below, applied in this (camera) order:

===========  ============================================================  ===========  ==================
name         what it does                                                  probability  ranges (strength 1)
===========  ============================================================  ===========  ==================
framing      off-centre crop: shift, scale, rotation; reflected border     0.7          see DEGRADATIONS
lighting     harsh side light: a linear gain gradient in a random          0.8
             direction, plus a vignette (applied in linear light)
colour_cast  white-balance shift: warm/cool (red vs blue) and green tint   0.8
motion_blur  a short straight blur kernel at a random angle                0.4
low_res      down-sampling (area) then up-sampling (bilinear)              0.6
noise        sensor noise: Gaussian luminance + low-frequency chroma       0.8
jpeg         heavy JPEG re-compression (always applied)                    1.0
===========  ============================================================  ===========  ==================

Lengths (shift, blur, noise grain) are fractions of the image side, so a 64 px and a 128 px crop get
the same look. ``strength`` (0..1+) scales every parameter from its identity value (0 → the clean
photo, except JPEG at quality 100; 1 → the ranges in ``DEGRADATIONS``). Every random number is drawn
from ``numpy.random.default_rng(seed)`` in a fixed order, whether or not a step is used, so the same
seed gives the same output bit for bit (OpenCV's resize, warp, filter and JPEG codec are deterministic),
and switching one step off with ``only=`` leaves the others' parameters unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

DEGRADE_VERSION = 1  # bump when the recipe changes (it is part of the training data fingerprint)


@dataclass(frozen=True)
class Degradation:
    """One step: its probability and, per parameter, ``(identity, low, high)`` at strength 1."""

    name: str
    probability: float
    params: dict[str, tuple[float, float, float]]
    doc: str


DEGRADATIONS: tuple[Degradation, ...] = (
    Degradation("framing", 0.7, {
        "shift_x": (0.0, -0.08, 0.08),  # fraction of the side
        "shift_y": (0.0, -0.08, 0.08),
        "scale": (1.0, 0.88, 1.15),
        "rotation": (0.0, -10.0, 10.0),  # degrees
    }, "off-centre framing: shift, scale and rotation, border filled by reflection"),
    Degradation("lighting", 0.8, {
        "gradient": (0.0, 0.3, 0.75),  # gain goes from 1 - g to 1 + g across the face
        "angle": (0.0, 0.0, 360.0),  # direction the light comes from, degrees (no identity)
        "vignette": (0.0, 0.0, 0.5),  # corner darkening
        "exposure": (1.0, 0.7, 1.25),  # overall gain
    }, "harsh side light: linear gain gradient + vignette + exposure, in linear light"),
    Degradation("colour_cast", 0.8, {
        "temperature": (0.0, -0.18, 0.18),  # + warm (more red, less blue), - cool
        "tint": (0.0, -0.08, 0.08),  # + green, - magenta
    }, "white-balance shift"),
    Degradation("motion_blur", 0.4, {
        "length": (0.0, 0.02, 0.07),  # kernel length, fraction of the side
        "angle": (0.0, 0.0, 180.0),
    }, "mild straight motion blur"),
    Degradation("low_res", 0.6, {
        "factor": (1.0, 1.5, 3.5),  # down-sampling factor
    }, "low resolution: area down-sampling, bilinear up-sampling"),
    Degradation("noise", 0.8, {
        "sigma": (0.0, 0.015, 0.06),  # luminance noise std, fraction of full scale
        "chroma": (0.0, 0.01, 0.04),  # colour noise std
    }, "sensor noise: Gaussian luminance + blotchy (2x2 cells) chroma noise"),
    Degradation("jpeg", 1.0, {
        "quality": (100.0, 12.0, 45.0),
    }, "heavy JPEG re-compression"),
)
NAMES: tuple[str, ...] = tuple(d.name for d in DEGRADATIONS)


def degradation_params(seed: int, strength: float = 1.0,
                       only: Iterable[str] | None = None) -> dict[str, dict[str, float]]:
    """The steps ``degrade(…, seed, strength, only)`` applies, in order, with their parameters."""
    chosen = None if only is None else set(only)
    if chosen is not None and not chosen <= set(NAMES):
        raise ValueError(f"unknown degradations {sorted(chosen - set(NAMES))}; known: {NAMES}")
    rng = np.random.default_rng(seed)
    out: dict[str, dict[str, float]] = {}
    for step in DEGRADATIONS:  # fixed draw order: one coin + one uniform per parameter, always
        coin = rng.random()
        values = {}
        for key, (identity, low, high) in step.params.items():
            u = rng.uniform(low, high)
            values[key] = u if key == "angle" else identity + strength * (u - identity)
        values["_seed"] = int(rng.integers(2**31))  # for the step's own noise
        if (chosen is None and coin < step.probability) or (chosen is not None and step.name in chosen):
            out[step.name] = values
    return out


def degrade(clean: np.ndarray, seed: int, strength: float = 1.0,
            only: Iterable[str] | None = None) -> np.ndarray:
    """A casual-selfie version (H×W×3 uint8, same shape) of a clean aligned portrait.

    ``only`` applies exactly the named steps (each with probability 1) instead of the random mix.
    """
    clean = np.asarray(clean)
    if clean.ndim != 3 or clean.shape[2] != 3 or clean.dtype != np.uint8:
        raise ValueError(f"expected an H×W×3 uint8 image, got {clean.shape} {clean.dtype}")
    image = clean.astype(np.float32) / 255.0
    for name, params in degradation_params(seed, strength, only).items():
        image = _APPLY[name](image, params)
    return _to_uint8(image)


def degrade_step(clean: np.ndarray, step: str, params: dict[str, float]) -> np.ndarray:
    """``clean`` (H×W×3 uint8) under one step of the recipe with chosen ``params`` (the keys
    ``degradation_params`` draws for that step): the known damage that measures a studio stage."""
    if step not in _APPLY:
        raise ValueError(f"unknown degradation step {step!r} (one of {', '.join(_APPLY)})")
    clean = np.asarray(clean)
    if clean.ndim != 3 or clean.shape[2] != 3 or clean.dtype != np.uint8:
        raise ValueError(f"expected an H×W×3 uint8 image, got {clean.shape} {clean.dtype}")
    return _to_uint8(_APPLY[step](clean.astype(np.float32) / 255.0, params))


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def _framing(image: np.ndarray, p: dict[str, float]) -> np.ndarray:
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2 - 0.5, h / 2 - 0.5), p["rotation"], p["scale"])
    matrix[:, 2] += (p["shift_x"] * w, p["shift_y"] * h)
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def _lighting(image: np.ndarray, p: dict[str, float]) -> np.ndarray:
    h, w = image.shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    x, y = (x + 0.5) / w * 2 - 1, (y + 0.5) / h * 2 - 1  # -1..1
    theta = np.deg2rad(p["angle"])
    along = (x * np.cos(theta) + y * np.sin(theta)) / np.sqrt(2)  # -1..1 across the diagonal
    gain = (1 + p["gradient"] * along) * (1 - p["vignette"] * (x**2 + y**2) / 2) * p["exposure"]
    linear = np.power(image, 2.2) * np.clip(gain, 0.05, None)[..., None]
    return np.power(np.clip(linear, 0, 1), 1 / 2.2).astype(np.float32)


def _colour_cast(image: np.ndarray, p: dict[str, float]) -> np.ndarray:
    t, g = p["temperature"], p["tint"]
    gains = np.array([1 + t - g / 2, 1 + g, 1 - t - g / 2], np.float32)
    return np.clip(image * gains, 0, 1)


def _motion_blur(image: np.ndarray, p: dict[str, float]) -> np.ndarray:
    length = p["length"] * max(image.shape[:2])
    if length < 1:
        return image
    size = int(np.ceil(length)) | 1  # odd
    kernel = np.zeros((size, size), np.float32)
    c = size // 2
    dx, dy = np.cos(np.deg2rad(p["angle"])) * length / 2, np.sin(np.deg2rad(p["angle"])) * length / 2
    cv2.line(kernel, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1.0, 1, cv2.LINE_AA)
    kernel /= kernel.sum()
    return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REFLECT_101)


def _low_res(image: np.ndarray, p: dict[str, float]) -> np.ndarray:
    h, w = image.shape[:2]
    small = (max(4, round(w / p["factor"])), max(4, round(h / p["factor"])))
    down = cv2.resize(image, small, interpolation=cv2.INTER_AREA)
    return cv2.resize(down, (w, h), interpolation=cv2.INTER_LINEAR)


def _noise(image: np.ndarray, p: dict[str, float]) -> np.ndarray:
    h, w = image.shape[:2]
    rng = np.random.default_rng(p["_seed"])
    luma = rng.standard_normal((h, w, 1), dtype=np.float32) * p["sigma"]
    ch, cw = (h + 1) // 2, (w + 1) // 2  # chroma noise in 2×2 cells, as from demosaicing
    chroma = rng.standard_normal((ch, cw, 3), dtype=np.float32) * p["chroma"]
    chroma = cv2.resize(chroma, (w, h), interpolation=cv2.INTER_LINEAR)
    chroma -= chroma.mean(axis=2, keepdims=True)  # colour only, no brightness
    shot = np.sqrt(np.clip(image, 0.02, 1))  # brighter pixels: a bit more noise (shot noise)
    return np.clip(image + (luma + chroma) * shot, 0, 1)


def _jpeg(image: np.ndarray, p: dict[str, float]) -> np.ndarray:
    quality = int(np.clip(round(p["quality"]), 1, 100))
    bgr = cv2.cvtColor(_to_uint8(image), cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


_APPLY = {
    "framing": _framing,
    "lighting": _lighting,
    "colour_cast": _colour_cast,
    "motion_blur": _motion_blur,
    "low_res": _low_res,
    "noise": _noise,
    "jpeg": _jpeg,
}
