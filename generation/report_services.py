"""The generator quality report: on held-out people, is a generated headshot closer to the studio
portraits than the casual photo it came from, and is it still the same person?

Rows: the casual inputs themselves, the generated headshots (conditional sampling at the chosen
classifier-free guidance, 1 by default),
and the SDEdit baseline (the same network run unconditionally from the noised casual photo).
Columns: FID and KID against the held-out clean portraits, LPIPS to each person's own clean
portrait (with a 95% bootstrap interval), and mean dlib identity distance and verified share twice:
against the casual input, and against the person's own clean portrait. The input is degraded: a
pair counts only where dlib finds the input's face (the casual row's own share is the most any
output can score against it), and even a perfect output (the clean portrait itself) is not always
verified against it; the report prints that figure and checks the targets. Nothing is reported
without its weights: a metric whose weights are missing says "unavailable: <reason>".
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


def _embed(images: list[np.ndarray]) -> list[np.ndarray | None]:
    """dlib embeddings of 64-px images, enlarged first (dlib's detector needs faces of ~80 px)."""
    from monitoring.ml import face_embeddings

    return face_embeddings([cv2.resize(x, (IDENTITY_SIDE, IDENTITY_SIDE), interpolation=cv2.INTER_CUBIC)
                            for x in images])


def _identity(outputs: list[np.ndarray | None], references: list[np.ndarray | None], name: str
              ) -> tuple[dict, dict]:
    """Mean dlib distance and verified share of each output against its reference (both embeddings)."""
    from monitoring.ml import embedding_pair_distances, mean_identity_distance, verification_rate

    distances = embedding_pair_distances(references, outputs)
    return (mean_identity_distance(distances, name=f"identity_distance_{name}").to_json(),
            verification_rate(distances, name=f"identity_verification_rate_{name}").to_json())


def _row(name: str, outputs: list[np.ndarray], clean: list[np.ndarray], clean_folder: Path, work: Path,
         backends: dict[str, Any], embedded: dict[str, list[np.ndarray | None]]) -> dict[str, Any]:
    """One row of the report; ``embedded`` holds the dlib embeddings of ``casual_input``, ``clean`` and
    ``name``."""
    from monitoring.ml import MetricValue, bootstrap_interval, fid_kid

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
    # Against the casual input (what the service has in production) and against the person's own
    # clean portrait (who they are: the input's degradations do not count against the output).
    mine = embedded[name]
    row["identity_distance"], row["verified_share"] = _identity(mine, embedded["casual_input"], "to_input")
    row["identity_distance_to_portrait"], row["verified_as_person"] = _identity(
        mine, embedded["clean"], "to_portrait")
    return row


def _targets(rows: dict[str, Any], ideal_vs_input: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets for the generated row, each with its value, goal and whether it is met."""
    generated, casual = rows["generated"], rows["casual_input"]

    def value(row: dict[str, Any], key: str) -> float | None:
        return row[key].get("value")

    def below(key: str) -> dict[str, Any]:
        ours, theirs = value(generated, key), value(casual, key)
        met = None if ours is None or theirs is None else ours < theirs
        return {"target": f"{key} below the casual inputs'", "value": ours, "goal": theirs, "met": met}

    def at_least(key: str, goal: float, note: str = "") -> dict[str, Any]:
        ours = value(generated, key)
        return {"target": f"{key} ≥ {goal:.0%}", "value": ours, "goal": goal,
                "met": None if ours is None else ours >= goal, "note": note}

    def share(x: float | None) -> str:
        return "—" if x is None else f"{x:.0%}"

    # A pair counts only where dlib finds the input's face: the casual row's own share is the most any
    # output can score against the input. A perfect restoration (the clean portrait) may score less.
    note = (f"against the casual input, whose face dlib finds in {share(value(casual, 'verified_share'))} "
            f"(the most any output can score); the clean portrait itself scores "
            f"{share(ideal_vs_input.get('value'))}")
    return [below("kid"), below("lpips_to_clean"), at_least("verified_as_person", 0.9),
            at_least("verified_share", 0.9, note)]


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
        # Each image is embedded once (dlib is the slow part of the identity columns).
        embedded = {"clean": _embed(clean), "casual_input": _embed(casual)}
        rows = {}
        for name, outputs in (("casual_input", casual), ("generated", generated),
                              ("sdedit_baseline", baseline)):
            if name not in embedded:
                embedded[name] = _embed(outputs)
            rows[name] = _row(name, outputs, clean, clean_folder, work, backends, embedded)
            say(f"measured {name}")
    # What a perfect restoration (the clean portrait itself) would score against the casual input.
    _, ideal_vs_input = _identity(embedded["clean"], embedded["casual_input"], "ideal_to_input")
    figures = {
        "version": version.name, "people": len(photos), "image_size": size, "steps": steps,
        "seed": seed, "guidance": guidance, "rows": rows, "ideal_verified_vs_input": ideal_vs_input,
        "targets": _targets(rows, ideal_vs_input),
        "notes": ("FID is biased at small n; read KID beside it. LPIPS compares each output with that "
                  "person's own clean portrait; identity is measured against the casual input (→input: "
                  "the casual row's own share is how often dlib finds its face at all) and against the "
                  "clean portrait (→person). A pair without a detected face counts as not verified. "
                  f"Faces are upscaled to {IDENTITY_SIDE} px for dlib."),
    }
    version.report = figures
    version.save(update_fields=["report"])
    return figures
