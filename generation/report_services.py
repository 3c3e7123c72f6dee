"""The generator quality report: on held-out people, is a generated headshot closer to the studio
portraits than the casual photo it came from, and is it still the same person?

Rows: the casual inputs themselves, the generated headshots (conditional sampling at the chosen
classifier-free guidance, 1 by default),
and the SDEdit baseline (the same network run unconditionally from the noised casual photo).
Columns: FID and KID against the held-out clean portraits, LPIPS to each person's own clean
portrait (with a 95% bootstrap interval), mean dlib identity distance to the input, and the share
of outputs dlib still verifies as the input's person. Nothing is reported without its weights:
a metric whose weights are missing says "unavailable: <reason>".
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from django.conf import settings
from PIL import Image

from generation.generator_services import (
    aligned_crop,
    casual_input,
    generation_source_photo,
    generator_load,
)
from generation.models import GeneratorVersion, Subject
from hfplatform.errors import ApplicationError

MIN_REPORT_SUBJECTS = 4
IDENTITY_SIDE = 256  # outputs are upscaled before face detection: HOG misses 64 px faces


def metric_backends() -> dict[str, Any]:
    from monitoring.ml import InceptionFeatures, LpipsMetric, WeightsUnavailable, inception_path

    backends: dict[str, Any] = {}
    cache = Path(settings.METRICS_CACHE)
    try:
        backends["inception"] = InceptionFeatures(inception_path(cache, allow_fetch=False))
    except WeightsUnavailable as exc:
        backends["inception_missing"] = str(exc)
    try:
        backends["lpips"] = LpipsMetric(Path(settings.TORCH_HOME))
    except WeightsUnavailable as exc:
        backends["lpips_missing"] = str(exc)
    return backends


def save_images(images: list[np.ndarray], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{i:04d}.png")
    return folder


def _row(name: str, outputs: list[np.ndarray], clean: list[np.ndarray], inputs: list[np.ndarray],
         clean_folder: Path, work: Path, backends: dict[str, Any]) -> dict[str, Any]:
    from monitoring.ml import MetricValue, bootstrap_interval, fid_kid, identity_distances, verification_rate

    row: dict[str, Any] = {}
    if "inception" in backends:
        fid, kid = fid_kid(save_images(outputs, work / name), clean_folder, cache_dir=work / "features",
                           extractor=backends["inception"])
    else:
        reason = backends["inception_missing"]
        fid, kid = MetricValue.missing("fid", reason), MetricValue.missing("kid", reason)
    row["fid"], row["kid"] = fid.to_json(), kid.to_json()
    if "lpips" in backends:
        values = backends["lpips"].lpips_images(outputs, clean)
        row["lpips_to_clean"] = MetricValue(
            name="lpips_to_clean", value=float(values.mean()), n=len(values),
            extractor="lpips alex v0.1", interval=bootstrap_interval(values)).to_json()
    else:
        row["lpips_to_clean"] = MetricValue.missing("lpips_to_clean", backends["lpips_missing"]).to_json()
    big = [cv2.resize(x, (IDENTITY_SIDE, IDENTITY_SIDE), interpolation=cv2.INTER_CUBIC) for x in outputs]
    sources = [cv2.resize(x, (IDENTITY_SIDE, IDENTITY_SIDE), interpolation=cv2.INTER_CUBIC) for x in inputs]
    distances = identity_distances(sources, big)
    found = [d for d in distances if d is not None]
    row["identity_distance"] = MetricValue(
        name="identity_distance", value=float(np.mean(found)) if found else None, n=len(found),
        extractor="dlib resnet 128-D", interval=bootstrap_interval(found) if len(found) > 1 else None,
        unavailable=None if found else "unavailable: no face found in any pair").to_json()
    row["verified_share"] = verification_rate(distances).to_json()
    return row


def generator_report(*, version: GeneratorVersion, subjects: int | None = None, steps: int = 25,
                     seed: int = 0, guidance: float = 1.0,
                     report: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Compute the report on the version's held-out people and store it on the version."""
    from generation.ml.generator import sample, sdedit, to_tensor, to_uint8

    say = report or (lambda message: None)
    unet, config, scheduler_config, _ = generator_load(version)
    size = config.image_size
    people = Subject.objects.filter(pk__in=version.heldout_subjects).order_by("pk")
    photos = []
    for subject in people:
        try:
            photos.append(generation_source_photo(subject=subject, size=size))
        except ApplicationError:
            continue
    photos = photos[:subjects] if subjects else photos
    if len(photos) < MIN_REPORT_SUBJECTS:
        raise ApplicationError(
            f"The report needs at least {MIN_REPORT_SUBJECTS} held-out people with an accepted photo; "
            f"{version.name} has {len(photos)}.", code="too_few_heldout")
    if not 0.0 <= guidance <= 10.0:
        raise ApplicationError("guidance must be between 0 and 10.", code="invalid_guidance")
    say(f"{len(photos)} held-out people, {size} px, {steps} sampler steps, guidance {guidance:g}")
    clean = [aligned_crop(p, size) for p in photos]
    casual = [casual_input(photo=p, size=size) for p in photos]
    condition = to_tensor(np.stack(casual), device=unet.device)
    seeds = [seed + p.subject_id for p in photos]
    generated, baseline = [], []
    for start in range(0, len(photos), 16):
        part = slice(start, start + 16)
        generated += list(to_uint8(sample(unet, scheduler_config, condition[part], steps=steps,
                                          guidance=guidance, seeds=seeds[part])))
        baseline += list(to_uint8(sdedit(unet, scheduler_config, condition[part], strength=0.5,
                                         steps=steps, seeds=seeds[part])))
        say(f"sampled {min(start + 16, len(photos))} of {len(photos)}")
    backends = metric_backends()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clean_folder = save_images(clean, work / "clean")
        rows = {}
        # The casual row's identity is measured against the clean portrait (it *is* the input).
        for name, outputs, reference in (("casual_input", casual, clean), ("generated", generated, casual),
                                         ("sdedit_baseline", baseline, casual)):
            rows[name] = _row(name, outputs, clean, reference, clean_folder, work, backends)
            say(f"measured {name}")
    figures = {
        "version": version.name, "people": len(photos), "image_size": size, "steps": steps,
        "seed": seed, "guidance": guidance, "rows": rows,
        "notes": ("FID is biased at small n; read KID beside it. LPIPS and identity compare each "
                  "output with that person's own clean portrait / casual input (the casual row: with "
                  "the clean portrait). Faces are upscaled "
                  f"to {IDENTITY_SIDE} px for dlib."),
    }
    version.report = figures
    version.save(update_fields=["report"])
    return figures
