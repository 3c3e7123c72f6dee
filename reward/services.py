"""Writes of the reward app: preference-dataset snapshots, reward-model training as a job, and
activation. Scoring with a reward model (best-of-n, the scores endpoint) is in ``reward.scoring``.

``reward.ml`` does the numeric work (no Django): this module turns rows into arrays and
``PreferenceExample``s, and results back into rows and files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from dataclasses import asdict, dataclass
from math import ceil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.text import slugify

from generation.models import Headshot
from hfplatform.audit.services import audit_record
from hfplatform.errors import ApplicationError, Conflict, NotFound
from hfplatform.jobs.models import Job
from hfplatform.jobs.progress import JobProgress
from hfplatform.jobs.registry import job_kind
from hfplatform.jobs.services import job_create
from review.models import Campaign
from review.quality import photographer_weight
from reward.evaluation import rating_correlation
from reward.examples import preference_examples
from reward.ml.options import MIN_PAIRS, VALIDATION_SHARE, RewardTrainConfig
from reward.models import (
    Dimension,
    PreferenceDataset,
    PreferencePair,
    RewardModelActivation,
    RewardModelVersion,
    RewardStatus,
    Split,
)
from reward.options import DEFAULT_TEST_SHARE, HYPER
from reward.selectors import preference_pairs

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
                              test_share: float = DEFAULT_TEST_SHARE, seed: int = 0,
                              include_simulated: bool = True,
                              subjects: list[int] | None = None) -> PreferenceDataset:
    """Snapshot the campaigns' preference pairs with a split held out by subject.
    ``include_simulated`` False leaves simulated reviewers' answers out; ``subjects`` keeps only the
    pairs of those people (e.g. two datasets of one campaign on disjoint people); the options record
    both."""
    name = slugify(name)
    if not name:
        raise ApplicationError("Give the dataset a name with a letter or digit.", code="name_unusable",
                               extra={"fields": {"name": ["Required."]}})
    if PreferenceDataset.objects.filter(name=name).exists():
        raise Conflict(f"A dataset named {name} exists already.", code="dataset_exists")
    if not 0 <= test_share < 1:
        raise ApplicationError("test_share must be at least 0 and below 1.", code="invalid")
    campaigns = list(Campaign.objects.filter(pk__in=campaign_ids))
    missing = sorted(set(campaign_ids) - {c.pk for c in campaigns})
    if missing:
        raise NotFound(f"Unknown campaign(s): {missing}.", code="unknown_campaign",
                       extra={"fields": {"campaigns": ["Unknown."]}})
    if not campaign_ids:
        raise ApplicationError("Choose one or more campaigns.", code="invalid",
                               extra={"fields": {"campaigns": ["Required."]}})
    if subjects is not None and (not subjects or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in subjects)):
        raise ApplicationError("subjects must be a non-empty list of subject ids (or left out for everyone).",
                               code="invalid", extra={"fields": {"subjects": ["A non-empty list of ids."]}})
    pairs = preference_pairs(campaigns=campaigns, margin=margin, keep_ties=keep_ties,
                             include_simulated=include_simulated)
    if subjects is not None:
        people = set(subjects)
        pairs = [p for p in pairs if p["subject"] in people]
    if not pairs:
        raise ApplicationError("These campaigns have no answers that make a preference pair yet"
                               + (" for these people." if subjects is not None else "."), code="no_pairs")
    held_out = _split({p["subject"] for p in pairs}, test_share, seed)
    groups = dict(Headshot.objects.filter(pk__in={p["chosen"] for p in pairs})
                  .values_list("pk", "source_photo__skin_tone_measured"))
    for pair in pairs:
        pair["split"] = Split.TEST.value if pair["subject"] in held_out else Split.TRAIN.value
    options = {"margin": margin if margin is not None else settings.REWARD_RATING_MARGIN,
               "keep_ties": keep_ties if keep_ties is not None else settings.REWARD_KEEP_TIES,
               "test_share": test_share, "seed": seed,
               "photographer_weight": photographer_weight(), "include_simulated": include_simulated,
               "subjects": sorted(set(subjects)) if subjects is not None else None}
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


# --- Training -------------------------------------------------------------------------------------


@dataclass
class TrainingPairs:
    """A dataset's decided pairs of one dimension, by the people they show: ``train`` fits the model,
    ``validation`` (pairs of training people set aside) chooses when to stop, ``test`` (the dataset's
    held-out people) measures the result and never shapes it."""

    train: list[PreferencePair]
    validation: list[PreferencePair]
    test: list[PreferencePair]
    validation_people: list[int]


def training_pairs(dataset: PreferenceDataset, dimension: str) -> TrainingPairs:
    """The dataset's pairs for ``dimension`` split three ways (see ``TrainingPairs``); a 4xx when the
    dataset has only ties or too few training pairs. The validation people are a seeded choice
    (``VALIDATION_SHARE`` of the training people, by the dataset's seed), so a restart splits alike."""
    pairs = list(dataset.pairs.filter(dimension=dimension).order_by("id"))
    decided = [p for p in pairs if not p.tie]
    training = [p for p in decided if p.split == Split.TRAIN]
    test = [p for p in decided if p.split == Split.TEST]
    if pairs and not decided:
        raise ApplicationError(f"Dataset {dataset.name} has only ties for {dimension}: nothing to learn "
                               "from.", code="only_ties")
    seed = int(dataset.options.get("seed", 0)) + 1  # not the test split's order
    validation_people = _split({p.subject_id for p in training}, VALIDATION_SHARE, seed)
    train = [p for p in training if p.subject_id not in validation_people]
    validation = [p for p in training if p.subject_id in validation_people]
    if len(train) < MIN_PAIRS:
        raise ApplicationError(
            f"Dataset {dataset.name} has {len(train)} training pairs for {dimension} once "
            f"{len(validation_people)} people are set aside to choose when to stop; at least {MIN_PAIRS} "
            "are needed.", code="too_few_pairs")
    return TrainingPairs(train, validation, test, sorted(validation_people))


def reward_hyper_check(hyper: dict[str, Any]) -> None:
    """A 400 naming the first training hyper-parameter that is unknown or out of range
    (``reward.options.HYPER``)."""
    for key, value in hyper.items():
        allowed = HYPER.get(key)
        if allowed is None:
            raise ApplicationError(f"Unknown hyper-parameter {key}.", code="invalid")
        if isinstance(allowed, tuple) and isinstance(allowed[0], str):
            if value not in allowed:
                raise ApplicationError(f"{key} must be one of {', '.join(allowed)}.", code="invalid",
                                       extra={"fields": {key: ["Not one of the choices."]}})
        elif not allowed[0] <= value <= allowed[1]:
            raise ApplicationError(f"{key} must be between {allowed[0]} and {allowed[1]}.", code="invalid",
                                   extra={"fields": {key: ["Out of range."]}})


def reward_training_start(*, dataset: PreferenceDataset, dimension: str, started_by: Any,
                          name: str | None = None, enqueue: bool = True, **hyper: Any) -> RewardModelVersion:
    """Validate a training request and enqueue the job; the version row says ``training`` until done
    and records the whole training configuration, defaults included."""
    if dimension not in Dimension.values:
        raise ApplicationError(f"Unknown dimension {dimension!r}; choose one of: "
                               f"{', '.join(Dimension.values)}.",
                               code="invalid", extra={"fields": {"dimension": ["Unknown dimension."]}})
    reward_hyper_check(hyper)
    split = training_pairs(dataset, dimension)
    size = Headshot.objects.get(pk=split.train[0].chosen_id).generator_version.image_size
    config = asdict(RewardTrainConfig(image_size=size, **hyper))
    name = slugify(name or f"{dataset.name}-{dimension}-{RewardModelVersion.objects.count() + 1}")
    if RewardModelVersion.objects.filter(name=name).exists():
        raise Conflict(f"A reward model named {name} exists already.", code="reward_model_exists")
    with transaction.atomic():
        version = RewardModelVersion.objects.create(
            name=name, dataset=dataset, dataset_fingerprint=dataset.fingerprint, dimension=dimension,
            config=config, created_by=started_by, files_dir=str(Path(settings.REWARD_ROOT) / name))
        version.training_job = job_create(kind="reward_training", started_by=started_by, enqueue=enqueue,
                                          params={"version": name}, title=f"Train reward model {name}")
        version.save(update_fields=["training_job"])
    return version


def _training_links(result: dict[str, Any]) -> list[tuple[str, str]]:
    name = result.get("version")
    return [(f"Reward model {name}", reverse("reward:model", args=[name]))] if name else []


@job_kind("reward_training", resumable=True, title="Train a reward model", links=_training_links)
def reward_model_train(*, job: Job, progress: JobProgress) -> dict[str, Any]:
    """Train with TRL on the dataset's training pairs, stop by the validation people's pairs, evaluate
    on the held-out people's pairs. A failure marks the version failed (it can never become active);
    a restart resumes from the last checkpoint."""
    from reward.ml.evaluate import evaluate_reward
    from reward.ml.model import load_reward_model
    from reward.ml.train import train_reward_model

    version = RewardModelVersion.objects.select_related("dataset").get(name=job.params["version"])
    try:
        split = training_pairs(version.dataset, version.dimension)
        config = RewardTrainConfig(**{**version.config, "channels": tuple(version.config["channels"])})
        size = config.image_size
        progress.log(f"{len(split.train)} training pairs, {len(split.validation)} validation pairs "
                     f"({len(split.validation_people)} people), {len(split.test)} held-out pairs, "
                     f"{config.model} model, {size} px")
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
        result = train_reward_model(preference_examples(split.train, size),
                                    preference_examples(split.validation, size), config, out, progress=report,
                                    resume=True)
        model = load_reward_model(out / "final")
        metrics = evaluate_reward(model, preference_examples(split.test, size)) if split.test else {
            "unavailable": "unavailable: no held-out pairs (every subject is in training)"}
        metrics["rating_correlation"] = rating_correlation(model=model, dataset=version.dataset,
                                                           dimension=version.dimension, size=size)
        metrics["training"] = {
            **{k: result[k] for k in ("steps", "best_step", "stopped_early", "train_pairs",
                                      "validation_pairs", "seconds")},
            "validation_people": split.validation_people, "eval_loss_curve": result["eval_loss_curve"]}
        RewardModelVersion.objects.filter(pk=version.pk).update(
            status=RewardStatus.CANDIDATE, metrics=metrics, files_dir=str(out / "final"))
    except Exception as exc:
        RewardModelVersion.objects.filter(pk=version.pk).update(status=RewardStatus.FAILED, error=str(exc))
        raise
    return {"version": version.name, "loss_curve": result["loss_curve"], "eval_curve": result["eval_curve"],
            "accuracy": metrics.get("accuracy"), "consensus": metrics.get("consensus")}


@transaction.atomic
def reward_model_activate(*, version: RewardModelVersion, activated_by: Any = None) -> RewardModelVersion:
    """Make a trained model (a candidate, or a retired one brought back) the active reward model; the
    previous one is retired. Each change is recorded as a ``RewardModelActivation``. A failed model or
    one still training never becomes active."""
    version = RewardModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status == RewardStatus.ACTIVE:
        return version
    if version.status not in (RewardStatus.CANDIDATE, RewardStatus.RETIRED):
        raise Conflict(f"Reward model {version.name} is {version.status}: only a trained model (a candidate "
                       "or a retired one) can become active.", code="not_a_candidate")
    previous = RewardModelVersion.objects.select_for_update().filter(status=RewardStatus.ACTIVE).first()
    if previous is not None:
        RewardModelVersion.objects.filter(pk=previous.pk).update(status=RewardStatus.RETIRED)
    version.status = RewardStatus.ACTIVE
    version.save(update_fields=["status"])
    RewardModelActivation.objects.create(activated=version, retired=previous, activated_by=activated_by)
    audit_record(action="reward_model.activate", target=version, actor=activated_by,
                 summary=f"{version.name} active" + (f", {previous.name} retired" if previous else ""),
                 detail={"retired": previous.name if previous else None})
    return version


def reward_model_delete_files(version: RewardModelVersion) -> None:
    root = Path(settings.REWARD_ROOT) / version.name
    if root.is_dir():
        shutil.rmtree(root)
