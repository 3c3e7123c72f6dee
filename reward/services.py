"""Writes of the reward app: preference-dataset snapshots, reward-model training as a job,
activation, and the best-of-n reranking that generation jobs call.

``reward.ml`` does the numeric work (no Django): this module turns rows into arrays and
``PreferenceExample``s, and results back into rows and files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from math import ceil
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from generation.faces.selectors import photo_crop
from generation.generator.ranking import Ranking
from generation.models import Headshot
from hfplatform.errors import ApplicationError, Conflict
from hfplatform.imaging import stored_rgb
from hfplatform.jobs.models import Job
from hfplatform.jobs.progress import JobProgress
from hfplatform.jobs.registry import job_kind
from hfplatform.jobs.services import job_create
from review.models import Campaign
from review.quality import photographer_weight
from reward.ml.options import MIN_PAIRS
from reward.models import (
    Dimension,
    PreferenceDataset,
    PreferencePair,
    RewardModelVersion,
    RewardStatus,
    Split,
)
from reward.options import DEFAULT_TEST_SHARE, HYPER
from reward.selectors import preference_pairs, reward_model_active

# --- Datasets -------------------------------------------------------------------------------------


def _split(subjects: set[int], test_share: float, seed: int) -> set[int]:
    """The held-out subjects: a seeded hash order, so the split is stable and never shares a person."""
    if len(subjects) < 2 or test_share <= 0:
        return set()
    ordered = sorted(subjects, key=lambda s: hashlib.sha256(f"{seed}:{s}".encode()).hexdigest())
    return set(ordered[: min(len(ordered) - 1, max(1, ceil(test_share * len(ordered))))])


def _fingerprint(pairs: list[dict]) -> str:
    rows = sorted((p["dimension"], p["chosen"], p["rejected"], p["tie"], round(p["weight"], 4), p["split"])
                  for p in pairs)
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


@transaction.atomic
def preference_dataset_create(*, name: str, campaign_ids: list[int], created_by: Any,
                              margin: float | None = None, keep_ties: bool | None = None,
                              test_share: float = DEFAULT_TEST_SHARE, seed: int = 0) -> PreferenceDataset:
    """Snapshot the campaigns' preference pairs with a split held out by subject."""
    name = slugify(name)
    if not name:
        raise ApplicationError("Give the dataset a name.", code="invalid",
                               extra={"fields": {"name": ["Required."]}})
    if PreferenceDataset.objects.filter(name=name).exists():
        raise Conflict(f"A dataset named {name} exists already.", code="dataset_exists")
    if not 0 <= test_share < 1:
        raise ApplicationError("test_share must be at least 0 and below 1.", code="invalid")
    campaigns = list(Campaign.objects.filter(pk__in=campaign_ids))
    missing = sorted(set(campaign_ids) - {c.pk for c in campaigns})
    if not campaign_ids or missing:
        raise ApplicationError(f"Unknown campaign(s): {missing}." if missing
                               else "Choose one or more campaigns.",
                               code="invalid", extra={"fields": {"campaigns": ["Unknown or missing."]}})
    pairs = preference_pairs(campaigns=campaigns, margin=margin, keep_ties=keep_ties)
    if not pairs:
        raise ApplicationError("These campaigns have no answers that make a preference pair yet.",
                               code="no_pairs")
    held_out = _split({p["subject"] for p in pairs}, test_share, seed)
    groups = dict(Headshot.objects.filter(pk__in={p["chosen"] for p in pairs})
                  .values_list("pk", "source_photo__skin_tone_measured"))
    for pair in pairs:
        pair["split"] = Split.TEST.value if pair["subject"] in held_out else Split.TRAIN.value
    options = {"margin": margin if margin is not None else settings.REWARD_RATING_MARGIN,
               "keep_ties": keep_ties if keep_ties is not None else settings.REWARD_KEEP_TIES,
               "test_share": test_share, "seed": seed,
               "photographer_weight": photographer_weight()}
    counts = {
        "pairs": len(pairs), "ties": sum(p["tie"] for p in pairs),
        "by_source": dict(Counter(p["source"] for p in pairs)),
        "by_dimension": dict(Counter(p["dimension"] for p in pairs)),
        "by_split": dict(Counter(p["split"] for p in pairs)),
        "subjects": {"train": len({p["subject"] for p in pairs} - held_out), "test": len(held_out)},
    }
    dataset = PreferenceDataset.objects.create(name=name, campaigns=sorted(campaign_ids), options=options,
                                               fingerprint=_fingerprint(pairs), counts=counts,
                                               created_by=created_by)
    PreferencePair.objects.bulk_create(
        PreferencePair(dataset=dataset, dimension=p["dimension"], source=p["source"], chosen_id=p["chosen"],
                       rejected_id=p["rejected"], subject_id=p["subject"], tie=p["tie"], weight=p["weight"],
                       margin=p["margin"], votes=p["votes"], campaign_id=p["campaign"], split=p["split"],
                       group=groups.get(p["chosen"]) or "")
        for p in pairs)
    return dataset


def _examples(pairs: list[PreferencePair], size: int) -> list[Any]:
    from reward.ml.data import PreferenceExample

    headshots = {h.pk: h for h in Headshot.objects.filter(
        pk__in={p.chosen_id for p in pairs} | {p.rejected_id for p in pairs}).select_related("source_photo")}
    images = {pk: stored_rgb(h.image.name, size) for pk, h in headshots.items()}
    references: dict[int, np.ndarray] = {}
    examples = []
    for pair in pairs:
        photo = headshots[pair.chosen_id].source_photo
        if photo.pk not in references:
            references[photo.pk] = photo_crop(photo, size)
        examples.append(PreferenceExample(chosen=images[pair.chosen_id], rejected=images[pair.rejected_id],
                                          reference=references[photo.pk], weight=pair.weight,
                                          margin=pair.margin, group=pair.group or "unknown",
                                          dimension=pair.dimension))
    return examples


# --- Training -------------------------------------------------------------------------------------


def _training_pairs(dataset: PreferenceDataset, dimension: str) -> tuple[list[PreferencePair], list]:
    pairs = list(dataset.pairs.filter(dimension=dimension).order_by("id"))
    decided = [p for p in pairs if not p.tie]
    train = [p for p in decided if p.split == Split.TRAIN]
    test = [p for p in decided if p.split == Split.TEST]
    if pairs and not decided:
        raise ApplicationError(f"Dataset {dataset.name} has only ties for {dimension}: nothing to learn "
                               "from.",
                               code="only_ties")
    if len(train) < MIN_PAIRS:
        raise ApplicationError(
            f"Dataset {dataset.name} has {len(train)} training pairs for {dimension}; at least "
            f"{MIN_PAIRS} are needed.", code="too_few_pairs")
    return train, test


def reward_training_start(*, dataset: PreferenceDataset, dimension: str, started_by: Any,
                          name: str | None = None, enqueue: bool = True, **hyper: Any) -> RewardModelVersion:
    """Validate a training request and enqueue the job; the version row says ``training`` until done."""
    if dimension not in Dimension.values:
        raise ApplicationError(f"Unknown dimension {dimension!r}; choose one of: "
                               f"{', '.join(Dimension.values)}.",
                               code="invalid", extra={"fields": {"dimension": ["Unknown dimension."]}})
    for key, value in hyper.items():
        low, high = HYPER.get(key, (None, None))
        if low is None:
            raise ApplicationError(f"Unknown hyper-parameter {key}.", code="invalid")
        if not low <= value <= high:
            raise ApplicationError(f"{key} must be between {low} and {high}.", code="invalid",
                                   extra={"fields": {key: ["Out of range."]}})
    _training_pairs(dataset, dimension)
    name = slugify(name or f"{dataset.name}-{dimension}-{RewardModelVersion.objects.count() + 1}")
    if RewardModelVersion.objects.filter(name=name).exists():
        raise Conflict(f"A reward model named {name} exists already.", code="reward_model_exists")
    with transaction.atomic():
        version = RewardModelVersion.objects.create(
            name=name, dataset=dataset, dataset_fingerprint=dataset.fingerprint, dimension=dimension,
            config=hyper, created_by=started_by, files_dir=str(Path(settings.REWARD_ROOT) / name))
        version.training_job = job_create(kind="reward_training", started_by=started_by, enqueue=enqueue,
                                          params={"version": name}, title=f"Train reward model {name}")
        version.save(update_fields=["training_job"])
    return version


def _human_ceiling(pairs: list[PreferencePair]) -> dict[str, Any]:
    from reward.ml.evaluate import human_ceiling

    seen: set[tuple] = set()
    votes = []
    for pair in pairs:
        key = (pair.chosen_id, pair.rejected_id) if pair.chosen_id < pair.rejected_id else (
            pair.rejected_id, pair.chosen_id)
        if pair.votes and key not in seen:
            seen.add(key)
            votes.append(pair.votes)
    return human_ceiling(votes)


@job_kind("reward_training", resumable=True, title="Train a reward model")
def reward_model_train(*, job: Job, progress: JobProgress) -> dict[str, Any]:
    """Train with TRL on the dataset's training pairs, evaluate on the held-out subjects' pairs.
    A failure marks the version failed (it can never become active); a restart resumes from the
    last checkpoint."""
    from reward.ml.evaluate import evaluate_reward
    from reward.ml.model import load_reward_model
    from reward.ml.train import RewardTrainConfig, train_reward_model

    version = RewardModelVersion.objects.select_related("dataset").get(name=job.params["version"])
    try:
        train_pairs, test_pairs = _training_pairs(version.dataset, version.dimension)
        size = Headshot.objects.get(pk=train_pairs[0].chosen_id).generator_version.image_size
        config = RewardTrainConfig(image_size=size, **version.config)
        progress.log(f"{len(train_pairs)} training pairs, {len(test_pairs)} held-out pairs, {size} px")
        curve: list[list[float]] = []
        evals: list[list[float]] = []

        def report(event: dict[str, Any]) -> None:
            if event.get("loss") is not None:
                curve.append([event["step"], round(float(event["loss"]), 5)])
            if event.get("eval_accuracy") is not None:
                evals.append([event["step"], round(float(event["eval_accuracy"]), 4)])
            if event.get("loss") is not None or event.get("eval_accuracy") is not None:
                progress.partial_result({"version": version.name, "loss_curve": curve[-500:],
                                         "eval_curve": evals[-200:]})
            progress.step(event["step"], event["max_steps"], f"step {event['step']} of {event['max_steps']}"
                          + (f", loss {event['loss']:.4f}" if event.get("loss") is not None else ""))

        out = Path(version.files_dir)
        result = train_reward_model(_examples(train_pairs, size), _examples(test_pairs, size), config, out,
                                    progress=report, resume=True)
        model = load_reward_model(out / "final")
        metrics = evaluate_reward(model, _examples(test_pairs, size)) if test_pairs else {
            "unavailable": "unavailable: no held-out pairs (every subject is in training)"}
        metrics["human_ceiling"] = _human_ceiling(test_pairs)
        metrics["training"] = {k: result[k] for k in ("steps", "train_pairs", "eval_pairs", "seconds")}
        RewardModelVersion.objects.filter(pk=version.pk).update(
            status=RewardStatus.CANDIDATE, metrics=metrics, files_dir=str(out / "final"))
    except Exception as exc:
        RewardModelVersion.objects.filter(pk=version.pk).update(status=RewardStatus.FAILED, error=str(exc))
        raise
    return {"version": version.name, "loss_curve": result["loss_curve"], "eval_curve": result["eval_curve"],
            "accuracy": metrics.get("accuracy")}


@transaction.atomic
def reward_model_activate(*, version: RewardModelVersion) -> RewardModelVersion:
    """Make a trained candidate the active reward model (the previous one is retired)."""
    version = RewardModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status == RewardStatus.ACTIVE:
        return version
    if version.status != RewardStatus.CANDIDATE:
        raise Conflict(f"Reward model {version.name} is {version.status}: only a trained candidate can "
                       "become "
                       "active.", code="not_a_candidate")
    RewardModelVersion.objects.filter(status=RewardStatus.ACTIVE).update(status=RewardStatus.RETIRED)
    version.status = RewardStatus.ACTIVE
    version.save(update_fields=["status"])
    return version


def reward_model_delete_files(version: RewardModelVersion) -> None:
    root = Path(settings.REWARD_ROOT) / version.name
    if root.is_dir():
        shutil.rmtree(root)


# --- Reranking ------------------------------------------------------------------------------------

_loaded: dict[str, Any] = {}


def reward_scorer(version: RewardModelVersion) -> Any:
    """The version's model, loaded once per process."""
    from reward.ml.model import load_reward_model

    if version.files_dir not in _loaded:
        path = Path(version.files_dir)
        if not path.exists():
            raise ApplicationError(f"The files of reward model {version.name} are missing ({path}).",
                                   code="reward_files_missing")
        _loaded[version.files_dir] = load_reward_model(path)
    return _loaded[version.files_dir]


def candidates_rank(*, version: RewardModelVersion, images: list[np.ndarray], reference: np.ndarray,
                    keep: int) -> tuple[list[float], list[int], list[int]]:
    """Best-of-n: (score, rank and kept-index list) of each candidate by the reward model."""
    from reward.ml.model import reward_scores
    from reward.ml.rerank import rerank

    scores = reward_scores(reward_scorer(version), np.stack(images), reference)
    ranks, kept = rerank(list(map(float, scores)), keep)
    return [float(s) for s in scores], ranks, kept


class RewardModelRanker:
    """Best-of-n for generation jobs (``generation.generator.ranking``): the active reward model ranks
    new jobs' candidates; a job records the model's name and is ranked by that model."""

    def active(self) -> str:
        version = reward_model_active()
        if version is None:
            raise ApplicationError("Keeping the top k needs an active reward model; train and activate one "
                                   "first.", code="no_active_reward_model")
        return version.name

    def rank(self, *, name: str, images: list[np.ndarray], reference: np.ndarray, keep: int) -> Ranking:
        version = RewardModelVersion.objects.filter(name=name).first()
        if version is None:
            raise ApplicationError(f"The reward model {name} that should rank these candidates is gone.",
                                   code="unknown_reward_model")
        return Ranking(*candidates_rank(version=version, images=images, reference=reference, keep=keep))
