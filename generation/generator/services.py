"""Writes of the generator: versions (register, activate), generation jobs and their headshots, and
the sample grid of a version. Training is in ``generation.generator.training``.

``generation.ml`` does the numeric work (no Django); this module picks rows, turns files into
arrays and arrays back into files and rows.
"""

from __future__ import annotations

import json
import random
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse

from generation.faces.selectors import accepted_photo, accepted_photos, photo_crop
from generation.generator.options import (
    DEFAULT_CANDIDATES,
    DEFAULT_ETA,
    DEFAULT_GUIDANCE,
    DEFAULT_STEPS,
    ETA_SAMPLERS,
    MAX_CANDIDATES,
    MAX_ETA,
    MAX_GUIDANCE,
    MAX_STEPS,
    MIN_ETA,
    MIN_GUIDANCE,
)
from generation.generator.ranking import candidate_ranker
from generation.generator.selectors import generator_active, heldout_photos
from generation.generator.studio import stages_request, studio_apply
from generation.ml.options import SAMPLERS
from generation.models import (
    GenerationJob,
    GeneratorStatus,
    GeneratorVersion,
    Headshot,
    SourcePhoto,
    Subject,
    SubjectSource,
)
from generation.models.generator import GeneratorActivation
from hfplatform.audit.services import audit_record
from hfplatform.errors import ApplicationError, Conflict
from hfplatform.imaging import encode_image
from hfplatform.jobs.models import Job
from hfplatform.jobs.progress import JobProgress
from hfplatform.jobs.registry import job_kind
from hfplatform.jobs.services import job_create


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def generator_files(version: GeneratorVersion) -> Path:
    path = Path(version.files_dir)
    return path if path.is_absolute() else Path(settings.BASE_DIR) / path


@lru_cache(maxsize=4)
def _load(files_dir: str, stamp: float, device: str) -> tuple[Any, Any, Any, dict]:
    from generation.ml.generator import load_generator

    unet, config, scheduler_config, meta = load_generator(Path(files_dir), device=device)
    return unet.float(), config, scheduler_config, meta  # a shipped checkpoint may be stored in fp16


def generator_load(version: GeneratorVersion) -> tuple[Any, Any, Any, dict]:
    """(unet, config, scheduler_config, meta) of a version, cached per process."""
    path = generator_files(version)
    if not path.exists():
        raise ApplicationError(f"The files of generator {version.name} are missing ({path}).",
                               code="generator_files_missing")
    return _load(str(path), path.stat().st_mtime, _device())


def check_sampling(*, candidates: int, steps: int, guidance: float, max_steps: int = MAX_STEPS) -> None:
    """The sampling settings every request for images checks (generation jobs, evaluations)."""
    if not 1 <= candidates <= MAX_CANDIDATES:
        raise ApplicationError(f"candidates must be between 1 and {MAX_CANDIDATES}.",
                               code="invalid_candidates")
    if not 1 <= steps <= max_steps:
        raise ApplicationError(f"steps must be between 1 and {max_steps}.", code="invalid_steps")
    if not MIN_GUIDANCE <= guidance <= MAX_GUIDANCE:
        raise ApplicationError(f"guidance must be between {MIN_GUIDANCE:g} and {MAX_GUIDANCE:g}.",
                               code="invalid_guidance")


def check_spread(*, guidance: float, guidance_max: float | None, eta: float, sampler: str) -> None:
    """How a request may spread its candidates: ``guidance_max`` (None: no spread) within the guidance
    bounds and not below ``guidance``; ``eta`` from 0 to 1, above 0 only with a sampler that takes it."""
    if guidance_max is not None:
        if not MIN_GUIDANCE <= guidance_max <= MAX_GUIDANCE:
            raise ApplicationError(f"guidance_max must be between {MIN_GUIDANCE:g} and {MAX_GUIDANCE:g}.",
                                   code="invalid_guidance_max")
        if guidance_max < guidance:
            raise ApplicationError(f"guidance_max ({guidance_max:g}) must not be below guidance "
                                   f"({guidance:g}).", code="invalid_guidance_max")
    if not MIN_ETA <= eta <= MAX_ETA:
        raise ApplicationError(f"eta must be between {MIN_ETA:g} and {MAX_ETA:g}.", code="invalid_eta")
    if eta > 0 and sampler not in ETA_SAMPLERS:
        raise ApplicationError(f"eta above 0 needs the {' or '.join(ETA_SAMPLERS)} sampler, not {sampler}: "
                               "it is the stochasticity of DDIM.", code="eta_needs_ddim")


def candidate_guidances(*, guidance: float, guidance_max: float | None, candidates: int) -> list[float]:
    """The guidance of each candidate: all ``guidance`` without ``guidance_max``, else spread evenly
    from ``guidance`` (candidate 0) to ``guidance_max`` (the last one), rounded to 6 decimals (what is
    sampled is what each headshot records)."""
    if guidance_max is None or guidance_max == guidance or candidates < 2:
        return [guidance] * candidates
    step = (guidance_max - guidance) / (candidates - 1)
    return [round(guidance + step * i, 6) for i in range(candidates - 1)] + [guidance_max]


# --- Versions -------------------------------------------------------------------------------------


@transaction.atomic
def generator_version_activate(*, version: GeneratorVersion, activated_by: Any = None) -> GeneratorVersion:
    """Make ``version`` (a candidate, or a retired version brought back) the one active generator;
    the previous active one is retired. Each change is recorded as a ``GeneratorActivation``."""
    version = GeneratorVersion.objects.select_for_update().get(pk=version.pk)
    if version.status == GeneratorStatus.ACTIVE:
        return version
    previous = GeneratorVersion.objects.select_for_update().filter(status=GeneratorStatus.ACTIVE).first()
    if previous is not None:
        GeneratorVersion.objects.filter(pk=previous.pk).update(status=GeneratorStatus.RETIRED)
    version.status = GeneratorStatus.ACTIVE
    version.save(update_fields=["status"])
    GeneratorActivation.objects.create(activated=version, retired=previous, activated_by=activated_by)
    audit_record(action="generator.activate", target=version, actor=activated_by,
                 summary=f"{version.name} active" + (f", {previous.name} retired" if previous else ""),
                 detail={"retired": previous.name if previous else None})
    return version


def _dataset_info(path: Path) -> dict[str, Any]:
    """``dataset.json`` beside a checkpoint trained elsewhere (``generation.ml.ship`` writes it):
    its held-out people by corpus reference (stable across databases) and its parent's name."""
    info_file = path / "dataset.json"
    return json.loads(info_file.read_text()) if info_file.exists() else {}


def generator_version_register(
    *, name: str, files_dir: str | Path, created_by: Any = None, parent: GeneratorVersion | None = None,
    notes: str = "", training_job: Job | None = None, activate: bool = False,
    heldout: list[Subject] | None = None,
) -> GeneratorVersion:
    """Record a generator written by ``save_generator`` (its config and dataset fingerprint come
    from the files themselves), optionally making it the active version. A checkpoint trained
    elsewhere names its held-out people and its parent version in a ``dataset.json`` beside it."""
    if GeneratorVersion.objects.filter(name=name).exists():
        raise Conflict(f"A generator named {name!r} already exists.", code="generator_exists")
    probe = GeneratorVersion(name=name, files_dir=str(files_dir))
    _, config, _, meta = generator_load(probe)
    info = _dataset_info(generator_files(probe))
    if heldout is None:
        heldout = list(Subject.objects.filter(source=SubjectSource.CORPUS,
                                              source_ref__in=info.get("heldout_refs", [])))
    if parent is None and info.get("parent"):
        parent = GeneratorVersion.objects.filter(name=info["parent"]).first()
    with transaction.atomic():
        version = GeneratorVersion.objects.create(
            name=name, files_dir=str(files_dir), parent=parent, created_by=created_by,
            image_size=config.image_size, training_config=meta,
            dataset_fingerprint=str(meta.get("fingerprint", ""))[:64],
            heldout_subjects=[s.pk for s in heldout], notes=notes,
            training_job=training_job,
        )
        if activate:
            version = generator_version_activate(version=version, activated_by=created_by)
    return version


# --- Generation -----------------------------------------------------------------------------------


def _png(array: np.ndarray) -> ContentFile:
    return ContentFile(encode_image(array, "PNG"))


def casual_input(*, photo: SourcePhoto, size: int) -> np.ndarray:
    """What the generator is given: the aligned crop of the subject's selfie. Corpus subjects
    have studio portraits, not selfies, so their largest crop is made casual by the seeded
    degradations (the code that makes the training pairs, seeded by the photo id) and then aligned
    again by its own landmarks, as the face pipeline aligns a real selfie (``simulated_selfie``)."""
    if photo.subject.source != SubjectSource.CORPUS:
        return photo_crop(photo, size)
    from generation.ml.selfie import simulated_selfie

    big = max(int(s) for s in photo.aligned_crops)
    casual, _ = simulated_selfie(photo_crop(photo, big), seed=photo.pk, size=size)
    return casual


def generation_job_create(
    *, subject: Subject, created_by: Any, version: GeneratorVersion | None = None,
    candidates: int = DEFAULT_CANDIDATES, seed: int | None = None, steps: int = DEFAULT_STEPS,
    guidance: float = DEFAULT_GUIDANCE, sampler: str = "ddim", keep: int | None = None, enqueue: bool = True,
    guidance_max: float | None = None, eta: float = DEFAULT_ETA, stages: list[Any] | None = None,
) -> GenerationJob:
    """Validate a request for candidates and enqueue the job that makes them. ``keep`` k: best-of-n,
    the active ranking model (the reward app's) ranks the candidates and only the top k are kept.
    ``guidance_max`` spreads the candidates' guidance evenly from ``guidance`` to it and ``eta`` > 0
    samples with stochastic DDIM (:func:`candidate_guidances`; docs/generator.md), so the candidates
    of one job differ enough for a reviewer to tell a pair apart. ``stages``: the studio stages
    applied to every candidate (None: ``STUDIO_DEFAULT_STAGES``, [] none; docs/studio.md)."""
    check_sampling(candidates=candidates, steps=steps, guidance=guidance)
    stages = stages_request(stages)
    if sampler not in SAMPLERS:
        raise ApplicationError(f"sampler must be one of {', '.join(SAMPLERS)}.", code="invalid_sampler")
    check_spread(guidance=guidance, guidance_max=guidance_max, eta=eta, sampler=sampler)
    if guidance_max == guidance:
        guidance_max = None
    ranked_by = None
    if keep is not None:
        if not 1 <= keep <= candidates:
            raise ApplicationError("keep must be between 1 and the number of candidates.",
                                   code="invalid_keep")
        ranked_by = candidate_ranker().active()
    version = version or generator_active()
    if version is None:
        raise ApplicationError("No generator version is active yet.", code="no_active_generator")
    if version.status == GeneratorStatus.RETIRED:
        raise ApplicationError(f"Generator {version.name} is retired.", code="generator_retired")
    photo = accepted_photo(subject=subject, size=version.image_size)
    seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    with transaction.atomic():
        job = job_create(
            kind="generation", started_by=created_by, enqueue=enqueue,
            params={"subject_id": subject.pk, "version": version.name},
            title=f"{candidates} headshots of {subject.display_name} ({version.name})",
        )
        return GenerationJob.objects.create(
            subject=subject, source_photo=photo, generator_version=version, candidates=candidates,
            seed=seed, steps=steps, guidance=guidance, guidance_max=guidance_max, sampler=sampler,
            eta=eta, job=job, created_by=created_by, keep=keep, ranked_by=ranked_by, stages=stages,
        )


def headshot_images(*, request: GenerationJob, progress: JobProgress | None = None) -> tuple[
        np.ndarray, list[np.ndarray]]:
    """The casual input and the generated candidates (uint8 arrays). Candidate i uses seed
    ``seed + i`` and guidance ``candidate_guidances(...)[i]``, so each one can be regenerated alone, bit
    for bit, on the same machine."""
    from generation.ml.generator import sample, to_tensor, to_uint8

    unet, config, scheduler_config, _ = generator_load(request.generator_version)
    casual = casual_input(photo=request.source_photo, size=config.image_size)
    guidances = candidate_guidances(guidance=request.guidance, guidance_max=request.guidance_max,
                                    candidates=request.candidates)
    outputs: list[np.ndarray] = []
    chunk = 4  # part of what a candidate is: regenerating bit for bit needs the same batches
    for start in range(0, request.candidates, chunk):
        seeds = [request.seed + i for i in range(start, min(request.candidates, start + chunk))]
        batch = to_tensor(np.stack([casual] * len(seeds)), device=unet.device)
        outputs.extend(to_uint8(sample(unet, scheduler_config, batch, steps=request.steps,
                                       guidance=guidances[start:start + len(seeds)], seeds=seeds,
                                       sampler=request.sampler, eta=request.eta)))
        if progress:
            progress.step(len(outputs), request.candidates,
                          f"{len(outputs)} of {request.candidates} candidates")
    return casual, outputs


def _generation_links(result: dict[str, Any]) -> list[tuple[str, str]]:
    request = GenerationJob.objects.filter(pk=result.get("generation_job")).select_related("subject").first()
    if request is None:
        return []
    count = len(result.get("headshots", []))
    return [(f"{count} headshots of {request.subject.display_name}",
             reverse("generation:subject", args=[request.subject_id]))]


@job_kind("generation", resumable=True, title="Generate headshots", links=_generation_links)
def headshots_generate(*, job: Job, progress: JobProgress) -> dict[str, Any]:
    """Sample every candidate first, rank them (on the generator's output), run the studio stages,
    then store files and rows in one transaction: a failed or killed job leaves no half-written
    headshots visible (a retry starts again)."""
    request = GenerationJob.objects.select_related(
        "subject", "source_photo__subject", "generator_version").get(job=job)
    if request.headshots.exists():
        return {"headshots": list(request.headshots.values_list("pk", flat=True))}
    casual, images = headshot_images(request=request, progress=progress)
    guidances = candidate_guidances(guidance=request.guidance, guidance_max=request.guidance_max,
                                    candidates=len(images))
    scores, ranks = [None] * len(images), [None] * len(images)
    kept = set(range(len(images)))
    if request.keep and request.ranked_by:
        ranking = candidate_ranker().rank(name=request.ranked_by, images=images, keep=request.keep,
                                          reference=photo_crop(request.source_photo, images[0].shape[0]))
        scores, ranks, kept = ranking.scores, ranking.ranks, set(ranking.kept)
        progress.log(f"{request.ranked_by} kept {len(kept)} of {len(images)} candidates")
    finals, records = studio_apply(
        images, photo=request.source_photo, stages=request.stages,
        report=lambda done, total: progress.update(message=f"studio stages: {done} of {total} candidates"))
    if request.stages:
        from generation.ml.studio.pipeline import stages_summary

        progress.log(f"studio stages: {stages_summary(records[0])}")
    written: list[str] = []
    try:
        with transaction.atomic():
            request.input_image.save(f"job-{request.pk}/input.png", _png(casual), save=True)
            written.append(request.input_image.name)
            ids = []
            for i, image in enumerate(images):
                headshot = Headshot(
                    generation_job=request, subject=request.subject,
                    source_photo=request.source_photo, generator_version=request.generator_version,
                    candidate_index=i, seed=request.seed + i, steps=request.steps,
                    guidance=guidances[i], sampler=request.sampler, eta=request.eta, reward_score=scores[i],
                    reward_rank=ranks[i], kept=i in kept, stages=records[i],
                )
                headshot.image.save(f"job-{request.pk}/candidate-{i:02d}.png", _png(finals[i]), save=False)
                written.append(headshot.image.name)
                if request.stages:
                    headshot.raw_image.save(f"job-{request.pk}/candidate-{i:02d}-raw.png", _png(image),
                                            save=False)
                    written.append(headshot.raw_image.name)
                headshot.save()
                ids.append(headshot.pk)
    except BaseException:
        for name in written:
            default_storage.delete(name)
        raise
    progress.log(f"stored {len(ids)} headshots")
    return {"headshots": ids, "generation_job": request.pk, "version": request.generator_version.name}


def generator_sample_grid(*, version: GeneratorVersion, subjects: int = 6, seed: int = 1234) -> str:
    """A picture of what a version does: casual inputs, generated headshots and the clean crops
    of up to ``subjects`` held-out people (or any people when none are held out)."""
    from generation.ml.generator import sample, to_tensor, to_uint8

    unet, config, scheduler_config, _ = generator_load(version)
    size = config.image_size
    photos = (heldout_photos(version=version, size=size, limit=subjects) if version.heldout_subjects
              else accepted_photos(subjects=Subject.objects.all(), size=size, limit=subjects))
    if not photos:
        raise ApplicationError("No subject has an accepted photo to show.", code="no_accepted_photo")
    casual = [casual_input(photo=p, size=size) for p in photos]
    clean = [photo_crop(p, size) for p in photos]
    out = sample(unet, scheduler_config, to_tensor(np.stack(casual), device=unet.device), steps=25,
                 guidance=1.0, seeds=[seed + i for i in range(len(photos))], sampler="ddim")
    generated = to_uint8(out)
    rows = [np.concatenate(row, axis=1) for row in (casual, list(generated), clean)]
    grid = np.concatenate(rows, axis=0)
    if version.sample_grid:
        version.sample_grid.delete(save=False)
    version.sample_grid.save(f"{version.name}.png", _png(grid), save=True)
    return version.sample_grid.name
