"""The one held-out evaluation of a generator version.

It takes the version's held-out people (``heldout_photos``: people never seen in training), samples
``candidates`` headshots per person from that person's casual input with one seed rule
(:func:`candidate_seed`) and one batching, and measures them against the people's clean portraits.
The generator report and the metric snapshot job both call it (as should anything that compares
versions), so the same version, people and seeds give the same images and the same figures under
the same names:

* ``fid``, ``kid``: against the held-out clean portraits (Inception; reference features cached);
* ``lpips_likeness``: LPIPS of each output to that person's own clean portrait, with a 95% interval;
* ``lpips_diversity``: LPIPS between the candidates of one person (2 or more candidates);
* ``identity_distance``, ``identity_verification_rate``: dlib, against the casual input (what the
  service has in production; a face dlib cannot find there counts as not verified);
* ``identity_distance_to_portrait``, ``identity_verification_rate_to_portrait``: against the person's
  own clean portrait (who they are: the input's damage does not count against the output);
* ``reward_score``: the mean score of a reward model, when one is given.

With ``baselines`` the same figures are measured for two reference rows: the casual inputs
themselves and the SDEdit baseline (the same network run unconditionally from the noised input).
A metric whose weights are missing is "unavailable: <reason>", never a number.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from PIL import Image

from generation.faces.selectors import accepted_photos, photo_crop
from generation.generator.options import DEFAULT_GUIDANCE, DEFAULT_STEPS, MAX_EVALUATION_STEPS
from generation.generator.selectors import heldout_photos
from generation.generator.services import casual_input, check_sampling, generator_load
from generation.models import GeneratorVersion, SourcePhoto, Subject
from hfplatform.errors import ApplicationError
from hfplatform.ml import MetricValue, bootstrap_interval

MIN_HELDOUT_PEOPLE = 4
SEED_STRIDE = 1000  # seeds of one person's candidates never reach the next person's
BATCH = 16  # images sampled at once; part of what an image is (same batches, same pixels)
IDENTITY_SIDE = 256  # outputs are upscaled before face detection: dlib's HOG misses 64 px faces
SMALL_N = 50  # FID/KID below this many images are flagged "small n"
NOT_GIVEN = "not given"
UNMEASURED = "unmeasured"
LPIPS_EXTRACTOR = "lpips alex v0.1"
SMALL_N_NOTE = ("small n: fewer than 50 images. FID is biased upwards at small n (compare FIDs only at "
                "equal n); KID, which is unbiased, is reported beside it.")
IDENTITY_NOTE = (f"Identity: outputs, inputs and portraits upscaled to {IDENTITY_SIDE} px for dlib; a pair "
                 "where dlib finds no face counts as not verified.")

Progress = Callable[[float, str], None]  # (percent done, message)


def candidate_seed(seed: int, subject_id: int, candidate: int) -> int:
    """The seed rule of every evaluation: candidate ``c`` of a person is seed + subject id × 1000 + c."""
    return seed + subject_id * SEED_STRIDE + candidate


@dataclass
class Evaluation:
    """What one evaluation produced: figures per row (``generated`` always), one row per generated
    image (person, candidate, groups and that image's figures), and the images themselves."""

    version: str
    settings: dict[str, Any]
    rows: dict[str, dict[str, Any]]
    per_image: list[dict[str, Any]]
    notes: list[str]
    photos: list[SourcePhoto] = field(repr=False)
    candidates: list[list[np.ndarray]] = field(repr=False)  # per person, in candidate order
    clean: list[np.ndarray] = field(repr=False)
    casual: list[np.ndarray] = field(repr=False)
    # With baselines: how often the clean portrait itself is verified against the casual input (the
    # most a perfect restoration could score there).
    portrait_vs_input: dict[str, Any] | None = None
    # Inception features of the generated images (per-image order) and of the reference portraits:
    # what the gate resamples for an interval of the KID difference. None without Inception.
    kid_features: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)


# --- Checks ---------------------------------------------------------------------------------------


def evaluation_photos(*, version: GeneratorVersion, people: int | None = None,
                      subjects: list[int] | None = None) -> list[SourcePhoto]:
    """The held-out photos an evaluation of ``version`` uses, or a 4xx when there are too few.
    ``subjects`` (ids) names the people instead of the version's own held-out list: the promotion
    gate evaluates two versions on the people both kept out of training."""
    if subjects is None:
        photos = heldout_photos(version=version, limit=people)
    else:
        photos = accepted_photos(subjects=Subject.objects.filter(pk__in=subjects), size=version.image_size,
                                 limit=people)
    if len(photos) < MIN_HELDOUT_PEOPLE:
        raise ApplicationError(
            f"An evaluation needs at least {MIN_HELDOUT_PEOPLE} held-out people with an accepted photo; "
            f"{version.name} has {len(photos)}.", code="too_few_heldout")
    return photos


def check_evaluation(*, candidates: int, steps: int, guidance: float) -> None:
    check_sampling(candidates=candidates, steps=steps, guidance=guidance, max_steps=MAX_EVALUATION_STEPS)


# --- Metric backends ------------------------------------------------------------------------------


def metric_backends() -> dict[str, Any]:
    """The Inception and LPIPS networks, or the reason each one is unavailable."""
    from hfplatform.ml import LpipsMetric, WeightsUnavailable, inception_path
    from monitoring.ml import InceptionFeatures

    backends: dict[str, Any] = {}
    try:
        weights = inception_path(Path(settings.METRICS_CACHE), allow_fetch=False)
        backends["inception"] = InceptionFeatures(weights)
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


def _reference_folder(version: GeneratorVersion, photos: list[SourcePhoto], clean: list[np.ndarray]) -> Path:
    """The clean portraits under METRICS_CACHE, written once, so their Inception features stay cached."""
    key = "-".join(str(p.pk) for p in photos)
    folder = Path(settings.METRICS_CACHE) / "heldout-reference" / f"{version.name}-{len(photos)}"
    marker = folder / ".photos"
    if not marker.exists() or marker.read_text() != key:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()
        for photo, image in zip(photos, clean, strict=True):
            Image.fromarray(image).save(folder / f"{photo.pk:08d}.png")
        marker.write_text(key)
    return folder


def _embed(images: list[np.ndarray]) -> list[np.ndarray | None]:
    """dlib embeddings, each image once, enlarged first (dlib's detector needs faces of ~80 px)."""
    import cv2

    from monitoring.ml import face_embeddings

    return face_embeddings([cv2.resize(x, (IDENTITY_SIDE, IDENTITY_SIDE), interpolation=cv2.INTER_CUBIC)
                            for x in images])


# --- Sampling -------------------------------------------------------------------------------------


def sample_candidates(version: GeneratorVersion, photos: list[SourcePhoto], casual: list[np.ndarray], *,
                      candidates: int, steps: int, seed: int, guidance: float, baselines: bool,
                      progress: Progress) -> tuple[list[list[np.ndarray]], list[np.ndarray]]:
    """Every person's candidates (and, with ``baselines``, one SDEdit image each), in fixed batches:
    the same images for the same inputs and seeds, whichever report asks."""
    from generation.ml.generator import sample, sdedit, to_tensor, to_uint8

    unet, _, scheduler_config, _ = generator_load(version)
    jobs = [(i, c) for i in range(len(photos)) for c in range(candidates)]  # person-major, as in the rows
    flat: list[np.ndarray] = []
    for start in range(0, len(jobs), BATCH):
        part = jobs[start:start + BATCH]
        condition = to_tensor(np.stack([casual[i] for i, _ in part]), device=unet.device)
        seeds = [candidate_seed(seed, photos[i].subject_id, c) for i, c in part]
        flat += list(to_uint8(sample(unet, scheduler_config, condition, steps=steps, guidance=guidance,
                                     seeds=seeds)))
        progress(50 * len(flat) / len(jobs), f"sampled {len(flat)} of {len(jobs)} images")
    sets = [flat[i * candidates:(i + 1) * candidates] for i in range(len(photos))]
    baseline: list[np.ndarray] = []
    if baselines:
        for start in range(0, len(photos), BATCH):
            part = range(start, min(start + BATCH, len(photos)))
            condition = to_tensor(np.stack([casual[i] for i in part]), device=unet.device)
            seeds = [candidate_seed(seed, photos[i].subject_id, 0) for i in part]
            baseline += list(to_uint8(sdedit(unet, scheduler_config, condition, strength=0.5, steps=steps,
                                             seeds=seeds)))
    return sets, baseline


# --- Figures --------------------------------------------------------------------------------------


def _identity_figures(name: str, distances: list[float | None]) -> tuple[dict, dict]:
    from monitoring.ml import mean_identity_distance, verification_rate

    return (mean_identity_distance(distances, name=f"identity_distance{name}").to_json(),
            verification_rate(distances, name=f"identity_verification_rate{name}").to_json())


@dataclass
class _Measure:
    """What every row is measured against: the people's clean portraits (as images, as the FID reference
    folder and as dlib embeddings), the casual inputs' embeddings, and the metric networks."""

    backends: dict[str, Any]
    clean: list[np.ndarray]
    reference: Path
    embedded: dict[str, list[np.ndarray | None]]  # "casual" and "clean", one per person
    work: Path


def _row_figures(label: str, outputs: list[np.ndarray], owner: list[int], measure: _Measure
                 ) -> tuple[dict[str, Any], dict[str, list], tuple[np.ndarray, np.ndarray] | None]:
    """The figures of one row of images (``owner[i]``: the person of image i), per-image values, and
    the Inception features of the images and of the reference (None without Inception)."""
    from monitoring.ml import embedding_pair_distances, fid_kid_features
    from monitoring.ml.identity import SAME_PERSON_THRESHOLD

    backends, clean = measure.backends, measure.clean
    figures: dict[str, Any] = {}
    per_image: dict[str, list] = {}
    features = None
    if "inception" in backends:
        fid, kid, features = fid_kid_features(save_images(outputs, measure.work / label), measure.reference,
                                              cache_dir=Path(settings.METRICS_CACHE),
                                              extractor=backends["inception"])
    else:
        reason = backends["inception_missing"]
        fid, kid = (MetricValue.missing(n, reason, len(outputs), "inception") for n in ("fid", "kid"))
    for metric in (fid, kid):
        figures[metric.name] = {**metric.to_json(), "small_n": len(outputs) < SMALL_N,
                                "reference_n": len(clean)}
    if "lpips" in backends:
        likeness = backends["lpips"].lpips_images(outputs, [clean[o] for o in owner])
        figures["lpips_likeness"] = MetricValue(
            name="lpips_likeness", value=float(np.mean(likeness)), n=len(likeness), extractor=LPIPS_EXTRACTOR,
            interval=bootstrap_interval(likeness) if len(likeness) > 1 else None).to_json()
        per_image["lpips_likeness"] = [float(v) for v in likeness]
    else:
        figures["lpips_likeness"] = MetricValue.missing("lpips_likeness", backends["lpips_missing"],
                                                        len(outputs)).to_json()
    embedded = measure.embedded
    mine = embedded["casual"] if label == "casual_input" else _embed(outputs)
    for suffix, reference in (("", "casual"), ("_to_portrait", "clean")):
        distances = embedding_pair_distances([embedded[reference][o] for o in owner], mine)
        figures[f"identity_distance{suffix}"], figures[f"identity_verification_rate{suffix}"] = \
            _identity_figures(suffix, distances)
        per_image[f"identity_distance{suffix}"] = distances
        per_image[f"identity_verified{suffix}"] = [
            1.0 if d is not None and d < SAME_PERSON_THRESHOLD else 0.0 for d in distances]
    return figures, per_image, features


def _diversity(backends: dict[str, Any], sets: list[list[np.ndarray]], seed: int) -> dict[str, Any]:
    if "lpips" not in backends:
        return MetricValue.missing("lpips_diversity", backends["lpips_missing"]).to_json()
    from monitoring.ml import lpips_diversity

    return lpips_diversity(backends["lpips"], sets, seed=seed).to_json()


def _reward_scores(reward_model: Any, photos: list[SourcePhoto], sets: list[list[np.ndarray]]) -> list[float]:
    from reward.scoring import candidates_rank

    scores: list[float] = []
    for photo, images in zip(photos, sets, strict=True):
        reference = photo_crop(photo, images[0].shape[0])
        scores += candidates_rank(version=reward_model, images=images, reference=reference,
                                  keep=len(images))[0]
    return scores


def heldout_evaluation(*, version: GeneratorVersion, people: int | None = None, candidates: int = 1,
                       steps: int = DEFAULT_STEPS, seed: int = 0, guidance: float = DEFAULT_GUIDANCE,
                       reward_model: Any = None, baselines: bool = False,
                       progress: Progress | None = None, subjects: list[int] | None = None) -> Evaluation:
    """Evaluate ``version`` on (the first ``people`` of) its held-out people, or of ``subjects`` when
    given; see the module docs."""
    say = progress or (lambda percent, message: None)
    check_evaluation(candidates=candidates, steps=steps, guidance=guidance)
    photos = evaluation_photos(version=version, people=people, subjects=subjects)
    size = version.image_size
    say(0, f"{len(photos)} held-out people, {candidates} candidate(s) each, {size} px, {steps} steps, "
           f"guidance {guidance:g}")
    casual = [casual_input(photo=p, size=size) for p in photos]
    clean = [photo_crop(p, size) for p in photos]
    sets, sdedit_images = sample_candidates(version, photos, casual, candidates=candidates, steps=steps,
                                            seed=seed, guidance=guidance, baselines=baselines, progress=say)
    slots = [(i, c) for i in range(len(photos)) for c in range(candidates)]  # (person, candidate) per image
    outputs = [sets[i][c] for i, c in slots]
    owner = [i for i, _ in slots]
    rows: dict[str, dict[str, Any]] = {}
    portrait_vs_input = None
    with tempfile.TemporaryDirectory() as tmp:
        measure = _Measure(backends=metric_backends(), clean=clean, work=Path(tmp),
                           reference=_reference_folder(version, photos, clean),
                           embedded={"casual": _embed(casual), "clean": _embed(clean)})
        rows["generated"], values, kid_features = _row_figures("generated", outputs, owner, measure)
        say(80, "generated headshots measured")
        if baselines:
            from monitoring.ml import embedding_pair_distances, verification_rate

            people_index = list(range(len(photos)))
            rows["casual_input"], *_ = _row_figures("casual_input", casual, people_index, measure)
            rows["sdedit_baseline"], *_ = _row_figures("sdedit_baseline", sdedit_images, people_index,
                                                       measure)
            distances = embedding_pair_distances(measure.embedded["casual"], measure.embedded["clean"])
            portrait_vs_input = verification_rate(
                distances, name="identity_verification_rate_portrait").to_json()
            say(90, "baselines measured")
    rows["generated"]["lpips_diversity"] = _diversity(measure.backends, sets, seed)
    if reward_model is not None:
        values["reward_score"] = _reward_scores(reward_model, photos, sets)
        rows["generated"]["reward_score"] = MetricValue(
            name="reward_score", value=float(np.mean(values["reward_score"])), n=len(outputs),
            extractor=f"reward model {reward_model.name}",
            interval=bootstrap_interval(values["reward_score"]) if len(outputs) > 1 else None).to_json()
    per_image = []
    for index, (person, candidate) in enumerate(slots):
        photo = photos[person]
        per_image.append({
            "subject": photo.subject_id, "photo": photo.pk, "candidate": candidate,
            "seed": candidate_seed(seed, photo.subject_id, candidate),
            "skin_tone": photo.skin_tone_measured or UNMEASURED,
            "age_band": photo.subject.age_band or NOT_GIVEN, "gender": photo.subject.gender or NOT_GIVEN,
            **{key: column[index] for key, column in values.items()}})
    notes = ([SMALL_N_NOTE] if len(outputs) < SMALL_N else []) + [IDENTITY_NOTE]
    say(100, f"{len(outputs)} images measured")
    return Evaluation(
        version=version.name, rows=rows, per_image=per_image, notes=notes, photos=photos, candidates=sets,
        clean=clean, casual=casual, portrait_vs_input=portrait_vs_input, kid_features=kid_features,
        settings={"people": len(photos), "candidates": candidates, "image_size": size, "steps": steps,
                  "seed": seed, "guidance": guidance, "seed_rule": "seed + subject id × 1000 + candidate",
                  "reward_model": reward_model.name if reward_model is not None else None})


def evaluation_reward_scores(evaluation: Evaluation, reward_model: Any) -> list[float]:
    """Scores of every image of ``evaluation`` by another reward model, in ``per_image`` order (the
    promotion gate scores both versions' images with the candidate's training reward model too)."""
    return _reward_scores(reward_model, evaluation.photos, evaluation.candidates)
