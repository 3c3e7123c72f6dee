"""Writes for monitoring: start a metric snapshot of a generator version, and the job that computes
it (image metrics on held-out people, human results, fairness by group, alerts).

The job samples ``candidates`` headshots per held-out person with the version's generator (as
``generation.report_services.generator_report`` does: the casual input of each person's accepted
photo, seed ``seed + subject id * 1000 + candidate``), then measures

* FID and KID against the held-out people's clean aligned crops (Inception features from
  ``monitoring.ml``; the reference crops are kept under ``METRICS_CACHE/snapshot-reference/`` so
  their features are cached between snapshots);
* LPIPS likeness (each output against that person's clean crop) and LPIPS diversity (between the
  candidates of one person);
* identity: dlib distance between the (upscaled) casual input and each output, and the share of
  outputs verified as the same person (a face not found counts as not verified);
* the mean reward score of the candidates when a reward model is given;
* the review results of the version's headshots (ratings per dimension, blind-test detection rate).

A metric whose weights are missing is stored as "unavailable: <reason>", never as a number.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from generation.generator_services import aligned_crop, casual_input, generation_source_photo, generator_load
from generation.models import GeneratorStatus, GeneratorVersion, PhotoStatus, SourcePhoto, Subject
from generation.report_services import IDENTITY_SIDE, MIN_REPORT_SUBJECTS, metric_backends, save_images
from hfplatform.errors import ApplicationError
from hfplatform.jobs.models import Job
from hfplatform.jobs.progress import JobProgress
from hfplatform.jobs.registry import job_kind
from hfplatform.jobs.services import job_create
from monitoring.alerts import alerts_evaluate
from monitoring.models import MetricSnapshot, SnapshotStatus

SMALL_N = 50  # FID/KID below this many images are flagged "small n"
MAX_CANDIDATES = 16
NOT_GIVEN = "not given"
UNMEASURED = "unmeasured"
SMALL_N_NOTE = ("small n: fewer than 50 images. FID is biased upwards at small n (compare FIDs only at "
                "equal n); KID, which is unbiased, is reported beside it.")


def _heldout_photos(version: GeneratorVersion, size: int) -> list[SourcePhoto]:
    photos = []
    for subject in Subject.objects.filter(pk__in=version.heldout_subjects or []).order_by("pk"):
        try:
            photos.append(generation_source_photo(subject=subject, size=size))
        except ApplicationError:
            continue
    return photos


def _check_heldout(version: GeneratorVersion, size: int) -> list[SourcePhoto]:
    photos = _heldout_photos(version, size)
    if len(photos) < MIN_REPORT_SUBJECTS:
        raise ApplicationError(
            f"A snapshot needs at least {MIN_REPORT_SUBJECTS} held-out people with an accepted photo; "
            f"{version.name} has {len(photos)}.", code="too_few_heldout")
    return photos


@transaction.atomic
def metric_snapshot_start(*, generator_version: GeneratorVersion, started_by: Any,
                          reward_model: Any = None, candidates: int = 2, steps: int = 25, seed: int = 0,
                          enqueue: bool = True) -> MetricSnapshot:
    """Check the request, store a pending snapshot and queue its job."""
    if not 1 <= candidates <= MAX_CANDIDATES:
        raise ApplicationError(f"candidates must be between 1 and {MAX_CANDIDATES}.",
                               code="invalid_candidates")
    if not 1 <= steps <= 1000:
        raise ApplicationError("steps must be between 1 and 1000.", code="invalid_steps")
    _check_heldout(generator_version, generator_version.image_size)
    job = job_create(kind="metric_snapshot", started_by=started_by, enqueue=enqueue,
                     title=f"Metric snapshot of {generator_version.name}", params={})
    snapshot = MetricSnapshot.objects.create(
        generator_version=generator_version, reward_model=reward_model, candidates=candidates, steps=steps,
        seed=seed, job=job, started_by=job.started_by)
    job.params = {"snapshot": snapshot.pk}
    job.save(update_fields=["params"])
    return snapshot


# --- Human results --------------------------------------------------------------------------------


def _mean_value(name: str, values: list[float], extractor: str) -> dict[str, Any]:
    from monitoring.ml import MetricValue, bootstrap_interval

    if not values:
        return MetricValue.missing(name, "no answers yet", 0, extractor).to_json()
    return MetricValue(name=name, value=float(np.mean(values)), n=len(values), extractor=extractor,
                       interval=bootstrap_interval(values) if len(values) > 1 else None).to_json()


def human_results(version: GeneratorVersion) -> dict[str, Any]:
    """Review results of the version's headshots: mean rating per dimension (1-5), the pairwise win
    rate against other versions' headshots, and the share of blind-test judgements that spotted a
    generated headshot, each with n and a 95% interval."""
    from django.db.models import Q

    from review.models import BlindJudgement, Comparison, Rating

    ratings = Rating.objects.filter(headshot__generator_version=version)
    result: dict[str, Any] = {}
    rows = list(ratings.values_list("professionalism", "likeness", "appeal"))
    for index, dimension in enumerate(("professionalism", "likeness", "appeal")):
        result[f"rating_{dimension}"] = _mean_value(f"rating_{dimension}", [float(r[index]) for r in rows],
                                                    "review ratings 1-5")
    wins: list[float] = []
    pairs = Comparison.objects.filter(Q(item__headshot__generator_version=version)
                                      | Q(item__headshot_b__generator_version=version)).values_list(
        "winner", "item__headshot__generator_version_id", "item__headshot_b__generator_version_id")
    for winner, version_a, version_b in pairs:
        if (version_a == version.pk) == (version_b == version.pk):
            continue  # both sides (or neither) from this version: no information on the version
        ours = "a" if version_a == version.pk else "b"
        wins.append(0.5 if winner == "tie" else 1.0 if winner == ours else 0.0)
    result["pairwise_win_rate"] = _mean_value(
        "pairwise_win_rate", wins, "pairwise choices against other versions (tie = half a win)")
    blind = BlindJudgement.objects.filter(item__headshot__generator_version=version, is_generated=True)
    result["blind_detection_rate"] = _mean_value(
        "blind_detection_rate", [1.0 if c else 0.0 for c in blind.values_list("correct", flat=True)],
        "blind tests: share of generated headshots judged generated (50% = chance)")
    return result


# --- Fairness -------------------------------------------------------------------------------------

def _group_report(values: list[float], groups: list[str], *, name: str, higher_is_better: bool,
                  seed: int) -> dict[str, Any]:
    from monitoring.ml.fairness import group_report

    return group_report(values, groups, name=name, higher_is_better=higher_is_better, seed=seed)


FAIRNESS_METRICS = (
    # (per-image key, higher is better)
    ("identity_verified", True),
    ("identity_verified_to_portrait", True),
    ("identity_distance", False),
    ("lpips_likeness", False),
)
FAIRNESS_ATTRIBUTES = ("skin_tone", "age_band", "gender")


def fairness_report(per_image: list[dict[str, Any]], *, seed: int = 0) -> dict[str, Any]:
    """Group reports of each per-image metric by measured skin tone, age band and gender (labels
    "unmeasured" / "not given" are groups of their own), plus the face pipeline's rejection rate by
    measured skin tone over all source photos."""
    report: dict[str, Any] = {}
    for attribute in FAIRNESS_ATTRIBUTES:
        report[attribute] = {}
        for metric, higher in FAIRNESS_METRICS:
            rows = [r for r in per_image if r.get(metric) is not None]
            report[attribute][metric] = _group_report([float(r[metric]) for r in rows],
                                                      [r[attribute] for r in rows], name=metric,
                                                      higher_is_better=higher, seed=seed)
    report["pipeline"] = {"rejection_rate": pipeline_rejection_report(seed=seed)}
    return report


def pipeline_rejection_report(*, seed: int = 0) -> dict[str, Any]:
    """Share of analysed photos the face pipeline rejected, by measured skin tone (lower is better).
    Pending and failed analyses are left out. A photo whose skin tone could not be measured (no face
    found) is rejected by construction, so it is counted apart (``unmeasured``) instead of forming a
    group that would always look worst."""
    rows = SourcePhoto.objects.filter(status__in=[PhotoStatus.ACCEPTED, PhotoStatus.REJECTED]).values_list(
        "status", "skin_tone_measured")
    measured = [(status, tone) for status, tone in rows if tone]
    report = _group_report([1.0 if status == PhotoStatus.REJECTED else 0.0 for status, _ in measured],
                           [tone for _, tone in measured], name="rejection_rate", higher_is_better=False,
                           seed=seed)
    report["unmeasured"] = {"n": len(rows) - len(measured),
                            "rejected": sum(1 for status, tone in rows
                                            if not tone and status == PhotoStatus.REJECTED),
                            "note": "photos without a measurable skin tone (usually no face found)"}
    return report


# --- Alerts ---------------------------------------------------------------------------------------


def _active_figures(version: GeneratorVersion) -> tuple[dict[str, Any] | None, str]:
    if version.status == GeneratorStatus.ACTIVE:
        return None, ""
    active = (MetricSnapshot.objects.filter(generator_version__status=GeneratorStatus.ACTIVE,
                                            status=SnapshotStatus.DONE)
              .select_related("generator_version").first())
    return (active.figures, active.generator_version.name) if active else (None, "")


# --- The job --------------------------------------------------------------------------------------


def _sample(version: GeneratorVersion, photos: list[SourcePhoto], *, candidates: int, steps: int, seed: int,
            progress: JobProgress) -> tuple[int, list[np.ndarray], list[np.ndarray], list[list[np.ndarray]]]:
    from generation.ml.generator import sample, to_tensor, to_uint8

    unet, config, scheduler_config, _ = generator_load(version)
    size = config.image_size
    casual = [casual_input(photo=p, size=size) for p in photos]
    sets: list[list[np.ndarray]] = []
    for index, (photo, image) in enumerate(zip(photos, casual, strict=True)):
        seeds = [seed + photo.subject_id * 1000 + c for c in range(candidates)]
        batch = to_tensor(np.stack([image] * candidates), device=unet.device)
        sets.append(list(to_uint8(sample(unet, scheduler_config, batch, steps=steps, guidance=1.0,
                                         seeds=seeds))))
        progress.step(index + 1, len(photos) * 2, f"sampled {index + 1} of {len(photos)} people")
    clean = [aligned_crop(p, size) for p in photos]
    return size, clean, casual, sets


def _reference_folder(version: GeneratorVersion, photos: list[SourcePhoto], clean: list[np.ndarray]) -> Path:
    """The clean crops under METRICS_CACHE, written once, so the reference features stay cached."""
    from PIL import Image

    key = "-".join(str(p.pk) for p in photos)
    folder = Path(settings.METRICS_CACHE) / "snapshot-reference" / f"{version.name}-{len(photos)}"
    marker = folder / ".photos"
    if not marker.exists() or marker.read_text() != key:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()
        for photo, image in zip(photos, clean, strict=True):
            Image.fromarray(image).save(folder / f"{photo.pk:08d}.png")
        marker.write_text(key)
    return folder


@job_kind("metric_snapshot", title="Metric snapshot")
def metric_snapshot_run(*, job: Job, progress: JobProgress) -> dict[str, Any]:
    snapshot = MetricSnapshot.objects.select_related("generator_version", "reward_model").get(
        pk=job.params["snapshot"])
    try:
        return _compute(snapshot, progress)
    except Exception as exc:
        error = exc.message if isinstance(exc, ApplicationError) else f"{type(exc).__name__}: {exc}"
        MetricSnapshot.objects.filter(pk=snapshot.pk).update(status=SnapshotStatus.FAILED, error=error,
                                                             finished_at=timezone.now())
        raise


def _compute(snapshot: MetricSnapshot, progress: JobProgress) -> dict[str, Any]:
    import cv2

    from monitoring.ml import (
        MetricValue,
        bootstrap_interval,
        embedding_pair_distances,
        face_embeddings,
        fid_kid,
        mean_identity_distance,
        verification_rate,
    )
    from monitoring.ml.diversity import lpips_diversity
    from monitoring.ml.identity import SAME_PERSON_THRESHOLD

    version = snapshot.generator_version
    photos = _check_heldout(version, version.image_size)
    progress.log(f"{len(photos)} held-out people, {snapshot.candidates} candidates each, "
                 f"{snapshot.steps} steps")
    _, clean, casual, sets = _sample(version, photos, candidates=snapshot.candidates, steps=snapshot.steps,
                                        seed=snapshot.seed, progress=progress)
    outputs = [image for images in sets for image in images]
    if not outputs:
        raise ApplicationError(f"{version.name} generated no images: nothing to measure.", code="no_images")
    owner = [i for i, images in enumerate(sets) for _ in images]
    backends = metric_backends()
    figures: dict[str, Any] = {}
    notes: list[str] = []
    per_image: list[dict[str, Any]] = []
    for i, photo in enumerate(photos):
        subject = photo.subject
        for c in range(len(sets[i])):
            per_image.append({
                "subject": subject.pk, "photo": photo.pk, "candidate": c,
                "skin_tone": photo.skin_tone_measured or UNMEASURED,
                "age_band": subject.age_band or NOT_GIVEN, "gender": subject.gender or NOT_GIVEN})

    with tempfile.TemporaryDirectory() as tmp:
        if "inception" in backends:
            fid, kid = fid_kid(save_images(outputs, Path(tmp) / "generated"),
                               _reference_folder(version, photos, clean),
                               cache_dir=Path(settings.METRICS_CACHE), extractor=backends["inception"])
        else:
            reason = backends["inception_missing"]
            fid = MetricValue.missing("fid", reason, len(outputs), "inception")
            kid = MetricValue.missing("kid", reason, len(outputs), "inception")
    for name, value in (("fid", fid), ("kid", kid)):
        figures[name] = value.to_json()
        figures[name]["small_n"] = len(outputs) < SMALL_N
        figures[name]["reference_n"] = len(clean)
    if len(outputs) < SMALL_N:
        notes.append(SMALL_N_NOTE)
    progress.update(60, "FID and KID measured")

    if "lpips" in backends:
        likeness = backends["lpips"].lpips_images(outputs, [clean[o] for o in owner])
        figures["lpips_likeness"] = MetricValue(
            name="lpips_likeness", value=float(np.mean(likeness)), n=len(likeness),
            extractor="lpips alex v0.1",
            interval=bootstrap_interval(likeness) if len(likeness) > 1 else None).to_json()
        for row, value in zip(per_image, likeness, strict=True):
            row["lpips_likeness"] = float(value)
        figures["lpips_diversity"] = lpips_diversity(backends["lpips"], sets, seed=snapshot.seed).to_json()
    else:
        reason = backends["lpips_missing"]
        figures["lpips_likeness"] = MetricValue.missing("lpips_likeness", reason, len(outputs)).to_json()
        figures["lpips_diversity"] = MetricValue.missing("lpips_diversity", reason).to_json()
    progress.update(75, "LPIPS measured")

    def big(x: np.ndarray) -> np.ndarray:
        return cv2.resize(x, (IDENTITY_SIDE, IDENTITY_SIDE), interpolation=cv2.INTER_CUBIC)

    # Against the casual input (what production has) and against the person's own clean portrait
    # (who they are: the input's degradations do not count against the output).
    names = {"to_input": ("identity_distance", "identity_verification_rate", "identity_verified"),
             "to_portrait": ("identity_distance_to_portrait", "identity_verification_rate_to_portrait",
                             "identity_verified_to_portrait")}
    try:  # each image embedded once; a person's references are shared by their candidates
        references = {"to_input": face_embeddings([big(x) for x in casual]),
                      "to_portrait": face_embeddings([big(x) for x in clean])}
        embedded = face_embeddings([big(x) for x in outputs])
    except Exception as exc:  # dlib model files missing or broken
        references, reason = {}, f"identity model unavailable: {exc}"
    for reference, (distance_name, rate_name, row_name) in names.items():
        if reference not in references:
            figures[distance_name] = MetricValue.missing(distance_name, reason, len(outputs)).to_json()
            figures[rate_name] = MetricValue.missing(rate_name, reason, len(outputs)).to_json()
            continue
        distances = embedding_pair_distances([references[reference][o] for o in owner], embedded)
        figures[distance_name] = mean_identity_distance(distances, name=distance_name).to_json()
        figures[rate_name] = verification_rate(distances, name=rate_name).to_json()
        for row, d in zip(per_image, distances, strict=True):
            row[distance_name] = d
            row[row_name] = 1.0 if d is not None and d < SAME_PERSON_THRESHOLD else 0.0
    progress.update(85, "identity measured")

    if snapshot.reward_model is not None:
        from reward.services import candidates_rank, reference_crop

        scores: list[float] = []
        for photo, images in zip(photos, sets, strict=True):
            reference = reference_crop(photo, images[0].shape[0])
            scores += candidates_rank(version=snapshot.reward_model, images=images, reference=reference,
                                      keep=len(images))[0]
        figures["reward_score"] = _mean_value("reward_score", scores,
                                              f"reward model {snapshot.reward_model.name}")

    human = human_results(version)
    fairness = fairness_report(per_image, seed=snapshot.seed)
    active, active_name = _active_figures(version)
    alerts = alerts_evaluate(figures=figures, fairness=fairness, active_figures=active,
                             active_name=active_name)
    notes.append(f"Identity: outputs and casual inputs upscaled to {IDENTITY_SIDE} px for dlib; a face not "
                 "found counts as not verified. Fairness groups with n < 5 are shown but not compared.")
    MetricSnapshot.objects.filter(pk=snapshot.pk).update(
        status=SnapshotStatus.DONE, figures=figures, human=human, fairness=fairness, alerts=alerts,
        per_image=per_image, notes=notes, finished_at=timezone.now(), error="")
    progress.log(f"{len(outputs)} images measured; {len(alerts)} alert(s)")
    return {"snapshot": snapshot.pk, "images": len(outputs), "people": len(photos), "alerts": len(alerts)}
