"""Writes of generator training: the training set from stored crops (held out by identity), its
export for training elsewhere, and the training job (from scratch or fine-tuning a parent)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from generation.generator.options import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_HELDOUT_FRACTION,
    DEFAULT_IMAGE_SIZE,
    MAX_TRAINING_STEPS,
)
from generation.generator.services import generator_files, generator_version_register
from generation.ml.options import PREDICTION_TYPES, TRAINING_PREDICTION_TYPE
from generation.models import GeneratorVersion, PhotoStatus, SourcePhoto, Subject
from hfplatform.errors import ApplicationError
from hfplatform.jobs.models import Job
from hfplatform.jobs.progress import JobProgress
from hfplatform.jobs.registry import job_kind
from hfplatform.jobs.services import job_create

MIN_TRAINING_PHOTOS = 8


def training_photos(*, image_size: int) -> list[SourcePhoto]:
    """Accepted photos with an aligned crop of ``image_size`` and an identity embedding, one per
    subject (the earliest), in a stable order."""
    photos = (SourcePhoto.objects.filter(status=PhotoStatus.ACCEPTED, embedding__isnull=False)
              .filter(aligned_crops__has_key=str(image_size)).order_by("subject_id", "created_at"))
    first: dict[int, SourcePhoto] = {}
    for photo in photos:
        first.setdefault(photo.subject_id, photo)
    return list(first.values())


def crop_size_for(image_size: int) -> int:
    """Training pairs are degraded at the largest stored crop size (as casual photos are taken at
    full resolution) and then shrunk to the generator's size."""
    return max(s for s in settings.FACE_ALIGN_SIZES if s >= image_size)


def training_set_build(
    *, image_size: int, heldout_fraction: float = DEFAULT_HELDOUT_FRACTION, seed: int = 0,
    heldout: list[int] | None = None,
) -> tuple[np.ndarray, list[Subject], list[Subject], list[str | None]]:
    """(training crops N×S×S×3 uint8 at the largest crop size, training subjects, held-out
    subjects, the measured skin-tone group of each training crop's photo). Photos of the same
    person (by dlib embedding) fall on one side only, so held-out people are never seen.
    ``heldout`` (subject ids, a parent version's held-out people) keeps exactly those people out
    instead of drawing a new split, so a fine-tuned version is judged on people neither it nor its
    parent has seen."""
    from generation.ml.train import split_by_identity, split_keeping_heldout

    image_size = crop_size_for(image_size)
    photos = training_photos(image_size=image_size)
    if len(photos) < MIN_TRAINING_PHOTOS:
        raise ApplicationError(
            f"Training needs at least {MIN_TRAINING_PHOTOS} accepted photos with {image_size}px "
            f"crops; there are {len(photos)}. Import the corpus first (import_face_corpus).",
            code="too_few_photos")
    embeddings = np.asarray([p.embedding for p in photos], dtype=np.float32)
    if heldout is None:
        train_idx, heldout_idx = split_by_identity(embeddings, heldout_fraction=heldout_fraction,
                                                   seed=seed)
    else:
        heldout_ids = set(heldout)
        held = np.array([p.subject_id in heldout_ids for p in photos], dtype=bool)
        train_idx, heldout_idx = split_keeping_heldout(embeddings, held)
    crops = []
    for i in train_idx:
        with default_storage.open(photos[i].aligned_crops[str(image_size)], "rb") as stored:
            crops.append(np.asarray(Image.open(stored).convert("RGB")))
    return (np.stack(crops), [photos[i].subject for i in train_idx],
            [photos[i].subject for i in heldout_idx], [photos[i].skin_tone_measured for i in train_idx])


def training_set_export(*, out: Path, image_size: int, heldout_fraction: float = DEFAULT_HELDOUT_FRACTION,
                        seed: int = 0, parent: str | None = None) -> dict[str, Any]:
    """Write the training split as ``out`` (npz with ``images``) and ``out.json`` (held-out
    subjects by corpus reference, counts, fingerprint), for training on another machine with
    ``python -m generation.ml.train``. Register the result with ``generator_register``. With
    ``parent`` (a version name) the split keeps that version's held-out people out, as a fine-tuning
    job does, for a run with ``--init-from`` its files."""
    from generation.ml.train import dataset_fingerprint

    heldout_ids = None
    if parent is not None:
        version = GeneratorVersion.objects.filter(name=parent).first()
        if version is None:
            raise ApplicationError(f"No generator version named {parent!r}.", code="unknown_parent")
        heldout_ids = list(version.heldout_subjects)
    images, train_subjects, heldout, _ = training_set_build(
        image_size=image_size, heldout_fraction=heldout_fraction, seed=seed, heldout=heldout_ids)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, images=images)
    info = {"images": len(images), "crop_size": images.shape[1], "image_size": image_size, "seed": seed,
            "parent": parent,
            "heldout_refs": [s.source_ref or f"subject:{s.pk}" for s in heldout],
            "training_refs": [s.source_ref or f"subject:{s.pk}" for s in train_subjects],
            "images_fingerprint": dataset_fingerprint(images, {"image_size": image_size})}
    Path(f"{out}.json").write_text(json.dumps(info, indent=2))
    return info


def _parent_config(parent: GeneratorVersion) -> dict[str, Any]:
    info = generator_files(parent) / "generator.json"
    if not info.exists():
        raise ApplicationError(f"The files of generator {parent.name} are missing ({info.parent}).",
                               code="generator_files_missing")
    return json.loads(info.read_text())["config"]


def generator_training_start(*, started_by: Any, name: str, steps: int, minutes: float | None = None,
                             batch_size: int = DEFAULT_BATCH_SIZE, image_size: int | None = None,
                             prediction_type: str | None = None, seed: int = 0, activate: bool = False,
                             parent: str | None = None, group_balance: float = 0.0,
                             enqueue: bool = True) -> Job:
    """Queue a training job. With ``parent`` (a version name) the new version fine-tunes that one:
    it starts from its weights, keeps its architecture and prediction type, and keeps its held-out
    people out of training; ``image_size`` may grow it to another aligned crop size (the same network
    at that size, ``GeneratorConfig.at_size``). ``group_balance`` (0 to 1) evens out the measured skin-tone
    groups in the batches (``generation.ml.train.group_balance_weights``; 0: uniform, 1: every group
    equally often); the shares it gives are recorded in the job's result and the version's notes."""
    if GeneratorVersion.objects.filter(name=name).exists():
        raise ApplicationError(f"A generator named {name!r} already exists.", code="generator_exists")
    if parent is not None:
        parent_version = GeneratorVersion.objects.filter(name=parent).first()
        if parent_version is None:
            raise ApplicationError(f"No generator version named {parent!r} to fine-tune.",
                                   code="unknown_parent", extra={"fields": {"parent": ["unknown version"]}})
        config = _parent_config(parent_version)
        if prediction_type is not None and prediction_type != config["prediction_type"]:
            raise ApplicationError(
                f"prediction_type must be the parent's ({config['prediction_type']!r}) when fine-tuning "
                f"{parent}.", code="invalid_prediction_type",
                extra={"fields": {"prediction_type": [f"the parent's is {config['prediction_type']!r}"]}})
        if image_size is not None and image_size != config["image_size"]:
            from generation.ml.generator import GeneratorConfig  # torch and diffusers: only when growing

            try:
                GeneratorConfig.from_dict(config).at_size(image_size)
            except ValueError as exc:
                raise ApplicationError(f"{parent} cannot grow to {image_size} px: {exc}.",
                                       code="invalid_image_size",
                                       extra={"fields": {"image_size": [str(exc)]}}) from None
        image_size = config["image_size"] if image_size is None else image_size
        prediction_type = config["prediction_type"]
    image_size = DEFAULT_IMAGE_SIZE if image_size is None else image_size
    prediction_type = TRAINING_PREDICTION_TYPE if prediction_type is None else prediction_type
    if not 1 <= steps <= MAX_TRAINING_STEPS:
        raise ApplicationError(f"steps must be between 1 and {MAX_TRAINING_STEPS:,}.", code="invalid_steps")
    if image_size not in settings.FACE_ALIGN_SIZES:
        raise ApplicationError(f"image_size must be one of the aligned crop sizes "
                               f"{settings.FACE_ALIGN_SIZES}.", code="invalid_image_size")
    if not 0.0 <= group_balance <= 1.0:
        raise ApplicationError("group_balance must be between 0 and 1.", code="invalid_group_balance",
                               extra={"fields": {"group_balance": [
                                   "Between 0 (uniform) and 1 (every group equally often)."]}})
    if prediction_type not in PREDICTION_TYPES:
        raise ApplicationError(f"prediction_type must be one of {', '.join(PREDICTION_TYPES)}.",
                               code="invalid_prediction_type")
    params = {"name": name, "steps": steps, "minutes": minutes, "batch_size": batch_size,
              "image_size": image_size, "prediction_type": prediction_type, "seed": seed,
              "activate": activate, "parent": parent, "group_balance": group_balance}
    title = f"Train generator {name} ({steps} steps{f', from {parent}' if parent else ''})"
    return job_create(kind="generator_training", started_by=started_by, params=params, title=title,
                      enqueue=enqueue)


def _training_links(result: dict[str, Any]) -> list[tuple[str, str]]:
    name = result.get("version")
    if not name:
        return []
    return [(f"Generator version {name}", reverse("generation:versions") + f"#version-{name}")]


@job_kind("generator_training", resumable=True, title="Train generator", links=_training_links)
def generator_train(*, job: Job, progress: JobProgress) -> dict[str, Any]:
    """Train on the stored crops, checkpointing as it goes (a retry resumes from the last
    checkpoint), then register the result as a candidate (or active) version."""
    from generation.ml.generator import GeneratorConfig
    from generation.ml.train import TrainConfig, group_balance_weights, group_shares, train

    p = job.params
    parent = GeneratorVersion.objects.get(name=p["parent"]) if p.get("parent") else None
    images, train_subjects, heldout, groups = training_set_build(
        image_size=p["image_size"], seed=p["seed"],
        heldout=list(parent.heldout_subjects) if parent is not None else None)
    if parent is not None:
        parent_config = GeneratorConfig.from_dict(_parent_config(parent))
        gen_config = parent_config.at_size(p["image_size"])
        grown = parent_config.image_size != gen_config.image_size
    else:
        gen_config = GeneratorConfig(image_size=p["image_size"], prediction_type=p["prediction_type"])
        grown = False
    train_config = TrainConfig(steps=p["steps"], batch_size=p["batch_size"], seed=p["seed"],
                               max_minutes=p.get("minutes"), degrade_size=images.shape[1],
                               init_from=str(generator_files(parent)) if parent is not None else None)
    out_dir = Path(settings.GENERATOR_ROOT) / f"job-{job.pk}"
    progress.log(f"{len(images)} training subjects, {len(heldout)} held out; writing {out_dir}")
    balance = float(p.get("group_balance") or 0.0)
    weights = group_balance_weights(groups, balance) if balance else None
    shares = {"photos": group_shares(groups), "draws": group_shares(groups, weights)}
    if weights is not None:
        progress.log("skin-tone groups, share of photos → share of draws: " + ", ".join(
            f"{g} {shares['photos'][g]:.2f} → {shares['draws'][g]:.2f}" for g in shares["photos"]))

    def report(step: int, total: int, loss: float) -> None:
        progress.step(step, total, f"step {step} of {total}, loss {loss:.4f}")

    result = train(images, out_dir, gen_config, train_config, progress=report, sample_weights=weights)
    version = generator_version_register(
        name=p["name"], files_dir=str(result["final"]), created_by=job.started_by,
        training_job=job, activate=p.get("activate", False), heldout=heldout, parent=parent,
        notes=(f"Trained by job {job.pk}: {result['steps']} steps on {len(train_subjects)} subjects"
               + (f", fine-tuned from {parent.name}" if parent is not None else "")
               + (f" and grown to {gen_config.image_size} px" if grown else "")
               + (f"; skin-tone groups balanced at {balance}" if balance else "") + "."),
    )
    progress.log(f"registered generator {version.name} ({version.status})")
    return {"version": version.name, "steps": result["steps"],
            "loss_curve": result["loss_curve"][-500:], "seconds_per_step": result.get("seconds_per_step"),
            "group_balance": balance, "group_shares": shares}
