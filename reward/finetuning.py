"""Fine-tuning a generator version from feedback: a LoRA adapter trained by Diffusion-DPO on a
preference dataset's pairs, or by RAFT on samples a reward model ranks, run as a resumable job
that registers the merged weights as a new candidate version (lineage in its training config).

``generator_finetune_start`` checks everything before it creates anything; the job kind
``generator_finetune`` trains in ``GENERATOR_ROOT/finetunes/ft-<id>/`` (a killed worker's retry
resumes from the checkpoint there) and registers the child version, its adapter and merged
weights, in one transaction: a failure leaves neither a row nor files. Rows become tensors in
``reward.finetuning_data``; the training loops are ``reward.ml.dpo`` and ``reward.ml.raft``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.text import slugify

from generation.generator.services import generator_files, generator_version_register
from generation.models import GeneratorStatus, GeneratorVersion
from hfplatform.errors import ApplicationError
from hfplatform.jobs.models import Job
from hfplatform.jobs.progress import JobInterrupted, JobProgress
from hfplatform.jobs.registry import job_kind
from hfplatform.jobs.services import job_create
from reward.finetuning_data import (
    MIN_DPO_PAIRS,
    MIN_RAFT_PEOPLE,
    dpo_pair_rows,
    dpo_pairs,
    raft_inputs,
    raft_photos,
)
from reward.models import (
    Dimension,
    FineTuneMethod,
    GeneratorFineTuning,
    PreferenceDataset,
    RewardModelVersion,
    RewardStatus,
)

#: Reward models that have files to rank samples with.
RANKING_STATUSES = (RewardStatus.CANDIDATE, RewardStatus.ACTIVE, RewardStatus.RETIRED)


def _invalid(message: str, *, field: str, code: str = "invalid") -> ApplicationError:
    return ApplicationError(message, code=code, extra={"fields": {field: [message]}})


def finetune_dir(finetuning: GeneratorFineTuning) -> Path:
    """Where the job writes: ``checkpoint/`` while training, then ``adapter/`` and ``generator/``."""
    return Path(settings.GENERATOR_ROOT) / "finetunes" / f"ft-{finetuning.pk}"


# --- Start ----------------------------------------------------------------------------------------


def _settings(cls: type, given: dict[str, Any] | None, group: str) -> Any:
    """``cls(**given)`` validated; each bad value a 400 naming ``group.key``."""
    given = dict(given or {})
    known = {f.name for f in fields(cls)}
    for key in sorted(set(given) - known):
        raise _invalid(f"Unknown {group} setting {key!r}; known: {', '.join(sorted(known))}.",
                       field=f"{group}.{key}")
    for key, value in given.items():
        try:
            cls(**{key: value}).validate()
        except (TypeError, ValueError) as exc:
            raise _invalid(f"{group}.{key}: {exc}", field=f"{group}.{key}") from None
    try:
        config = cls(**given)
        config.validate()
    except (TypeError, ValueError) as exc:
        raise _invalid(f"{group}: {exc}", field=group) from None
    return config


def _parent(parent: GeneratorVersion | str) -> tuple[GeneratorVersion, dict[str, Any]]:
    version = parent if isinstance(parent, GeneratorVersion) else (
        GeneratorVersion.objects.filter(name=parent).first())
    if version is None:
        raise _invalid(f"No generator version named {parent!r} to fine-tune.", field="parent",
                       code="unknown_parent")
    if version.status == GeneratorStatus.RETIRED:
        raise _invalid(f"Generator {version.name} is retired: fine-tune a candidate or the active version.",
                       field="parent", code="parent_retired")
    info = generator_files(version) / "generator.json"
    if not info.exists():
        raise _invalid(f"The files of generator {version.name} are missing ({info.parent}).",
                       field="parent", code="generator_files_missing")
    return version, json.loads(info.read_text())["config"]


def _reward_model(reward_model: RewardModelVersion | str | None) -> RewardModelVersion | None:
    if reward_model is None or isinstance(reward_model, RewardModelVersion):
        found = reward_model
    else:
        found = RewardModelVersion.objects.select_related("dataset").filter(name=reward_model).first()
        if found is None:
            raise _invalid(f"No reward model named {reward_model!r}.", field="reward_model",
                           code="unknown_reward_model")
    if found is not None and found.status not in RANKING_STATUSES:
        raise _invalid(f"Reward model {found.name} is {found.status}: only a trained one (candidate, active "
                       "or retired) can rank samples.", field="reward_model", code="reward_model_not_trained")
    return found


def _dataset(dataset: PreferenceDataset | int | None) -> PreferenceDataset | None:
    if dataset is None or isinstance(dataset, PreferenceDataset):
        return dataset
    found = PreferenceDataset.objects.filter(pk=dataset).first()
    if found is None:
        raise _invalid(f"No preference dataset {dataset}.", field="dataset", code="unknown_dataset")
    return found


def _name(name: str) -> str:
    if not name or slugify(name) != name:
        raise _invalid(f"Name the new version with a slug (letters, digits, - and _), not {name!r}.",
                       field="name")
    if (GeneratorVersion.objects.filter(name=name).exists()
            or GeneratorFineTuning.objects.filter(name=name).exists()):
        raise _invalid(f"A generator named {name!r} exists already (or is being fine-tuned).", field="name",
                       code="generator_exists")
    return name


def generator_finetune_start(
    *, parent: GeneratorVersion | str, method: str, started_by: Any, name: str,
    dataset: PreferenceDataset | int | None = None, reward_model: RewardModelVersion | str | None = None,
    lora: dict[str, Any] | None = None, hyper: dict[str, Any] | None = None,
    dimension: str = Dimension.OVERALL.value, enqueue: bool = True,
) -> GeneratorFineTuning:
    """Check a fine-tuning request and queue its job. DPO needs ``dataset`` (its usable pairs: decided,
    of people the parent does not hold out, both headshots from one source photo; at least
    ``MIN_DPO_PAIRS`` for training); RAFT needs a trained ``reward_model`` (the dataset recorded is
    the model's) and ``MIN_RAFT_PEOPLE`` people with an accepted photo. ``lora``: ``LoraSettings``
    fields; ``hyper``: ``DpoConfig`` or ``RaftConfig`` fields. Every bad input is a 400 naming its
    field, before anything is created; the row records every setting, defaults included."""
    from generation.ml.lora import LoraSettings

    if method not in FineTuneMethod.values:
        raise _invalid(f"method must be one of {', '.join(FineTuneMethod.values)}, not {method!r}.",
                       field="method")
    parent, parent_config = _parent(parent)
    name = _name(name)
    lora_settings = _settings(LoraSettings, lora, "lora")
    if not parent_config.get("attention_resolutions") and not lora_settings.include_convs:
        raise _invalid(f"Generator {parent.name} has no attention layers for LoRA: set include_convs to "
                       "adapt its ResNet convolutions.", field="lora.include_convs")
    if method == FineTuneMethod.DPO:
        from reward.ml.dpo import DpoConfig as HyperConfig
    else:
        from reward.ml.raft import RaftConfig as HyperConfig
    hyper_config = _settings(HyperConfig, hyper, "hyper")
    dataset, reward_model = _dataset(dataset), _reward_model(reward_model)
    config: dict[str, Any] = {"lora": lora_settings.to_dict(), "hyper": asdict(hyper_config),
                              "image_size": parent.image_size,
                              "prediction_type": parent_config.get("prediction_type")}
    if method == FineTuneMethod.DPO:
        if dataset is None:
            raise _invalid("Diffusion-DPO learns from a preference dataset: name one.", field="dataset")
        if dimension not in Dimension.values:
            raise _invalid(f"dimension must be one of {', '.join(Dimension.values)}.", field="dimension")
        rows = dpo_pair_rows(dataset=dataset, parent=parent, dimension=dimension, seed=hyper_config.seed)
        if len(rows.train) < MIN_DPO_PAIRS or not rows.validation:
            raise _invalid(
                f"Dataset {dataset.name} has {len(rows.train)} usable training pairs and "
                f"{len(rows.validation)} validation pairs for {dimension} (decided, of people {parent.name} "
                f"does not hold out, both headshots from one source photo); at least {MIN_DPO_PAIRS} "
                f"training pairs and pairs of a second person for validation are needed "
                f"(left out: {rows.dropped or 'none'}).", field="dataset", code="too_few_pairs")
        config.update(dimension=dimension, pairs=rows.summary())
    else:
        if reward_model is None:
            raise _invalid("RAFT ranks samples with a reward model: name a trained one.",
                           field="reward_model")
        if dataset is not None and dataset.pk != reward_model.dataset_id:
            raise _invalid(f"RAFT records the reward model's dataset ({reward_model.dataset.name}); leave "
                           "dataset out or name that one.", field="dataset")
        dataset = reward_model.dataset
        people = raft_photos(parent=parent)
        if len(people) < MIN_RAFT_PEOPLE:
            raise _invalid(f"RAFT needs at least {MIN_RAFT_PEOPLE} people with an accepted photo that "
                           f"{parent.name} does not hold out; there are {len(people)}.",
                           field="parent", code="too_few_people")
        config["people"] = [p.subject_id for p in people]
    fingerprints = {
        "parent": {"name": parent.name, "dataset_fingerprint": parent.dataset_fingerprint},
        "preference_dataset": {"name": dataset.name, "fingerprint": dataset.fingerprint} if dataset else None,
        "reward_model": ({"name": reward_model.name, "dataset_fingerprint": reward_model.dataset_fingerprint}
                         if reward_model else None),
    }
    title = f"Fine-tune {parent.name} → {name} ({method.upper()}, LoRA r{lora_settings.rank})"
    with transaction.atomic():
        job = job_create(kind="generator_finetune", started_by=started_by, enqueue=enqueue,
                         params={"name": name, "parent": parent.name, "method": method}, title=title)
        return GeneratorFineTuning.objects.create(
            name=name, parent=parent, method=method, dataset=dataset, reward_model=reward_model,
            config=config, fingerprints=fingerprints, job=job,
            started_by=started_by if started_by is not None and started_by.is_authenticated else None)


# --- The job --------------------------------------------------------------------------------------


class _Curves:
    """The live curve in the job's partial result: loss (line) and, as dots, DPO's validation
    implicit accuracy; RAFT's mean reward per round beside them."""

    def __init__(self, finetuning: GeneratorFineTuning, progress: JobProgress) -> None:
        self.name, self.progress = finetuning.name, progress
        self.loss: list[list[float]] = []
        self.evals: list[list[float]] = []
        self.rewards: list[list[float]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        step, total = int(event.get("step", 0)), int(event.get("total", 0))
        if event.get("loss") is not None:
            self.loss.append([step, round(float(event["loss"]), 5)])
        if event.get("validation_implicit_accuracy") is not None:
            self.evals.append([step, round(float(event["validation_implicit_accuracy"]), 4)])
        if event.get("mean_reward") is not None:  # RAFT, after each round's ranking
            self.rewards.append([int(event["round"]), round(float(event["mean_reward"]), 4)])
        self.progress.partial_result({"version": self.name, "loss_curve": self.loss[-500:],
                                      "eval_curve": self.evals[-200:], "reward_curve": self.rewards[-200:]})
        message = f"step {step} of {total}" + (f", loss {event['loss']:.4f}" if event.get("loss") is not None
                                               else "")
        if event.get("round") is not None:
            message = f"round {event['round']}: " + message
        self.progress.step(step, total, message)


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _train(finetuning: GeneratorFineTuning, model: Any, scheduler: dict[str, Any], out_dir: Path,
           progress: JobProgress) -> dict[str, Any]:
    """Run the method's loop (it resumes from ``out_dir/checkpoint``); its result dict."""
    config, parent = finetuning.config, finetuning.parent
    size, prediction = config["image_size"], config["prediction_type"]
    report = _Curves(finetuning, progress)
    if finetuning.method == FineTuneMethod.DPO:
        from reward.ml.dpo import DpoConfig, train_dpo

        hyper = DpoConfig(**config["hyper"])
        rows = dpo_pair_rows(dataset=finetuning.dataset, parent=parent, dimension=config["dimension"],
                             seed=hyper.seed)
        progress.log(f"{len(rows.train)} training pairs, {len(rows.validation)} validation pairs "
                     f"({len(rows.validation_people)} people, {rows.split} split); left out: {rows.dropped}")
        return train_dpo(model, scheduler, dpo_pairs(rows.train, size), dpo_pairs(rows.validation, size),
                         hyper, out_dir, progress=report, prediction_type=prediction)
    from reward.ml.raft import RaftConfig, train_raft

    hyper = RaftConfig(**config["hyper"])
    photos = [p for p in raft_photos(parent=parent) if p.subject_id in set(config["people"])]
    inputs = raft_inputs(photos=photos, size=size, reward_model=finetuning.reward_model)
    progress.log(f"{len(photos)} people; {finetuning.reward_model.name} ranks the samples")
    return train_raft(model, scheduler, inputs.conditions, inputs.anchors, inputs.score, hyper, out_dir,
                      progress=report, prediction_type=prediction)


def _summary(method: str, result: dict[str, Any]) -> dict[str, Any]:
    """What the child version records of the run (the curves stay on the job)."""
    if method == FineTuneMethod.DPO:
        return {k: result.get(k) for k in ("steps", "best_step", "stopped_early",
                                           "validation_implicit_accuracy")}
    return {"rounds": result.get("rounds", [])}


def _curves(method: str, result: dict[str, Any]) -> dict[str, list]:
    points = result.get("curve", [])
    loss = [[p["step"], round(float(p["loss"]), 5)] for p in points if p.get("loss") is not None]
    evals = [[p["step"], round(float(p["validation_implicit_accuracy"]), 4)] for p in points
             if p.get("validation_implicit_accuracy") is not None]
    rewards = [[r["round"], round(float(r["mean_reward"]), 4)] for r in result.get("rounds", [])
               if r.get("mean_reward") is not None]
    return {"loss_curve": loss[-500:], "eval_curve": evals[-200:], "reward_curve": rewards}


def _register(finetuning: GeneratorFineTuning, model: Any, gen_config: Any, out_dir: Path,
              result: dict[str, Any], seeds: dict[str, int]) -> GeneratorVersion:
    """Write the adapter and the merged generator, then record the child version and link it, in one
    transaction."""
    from generation.ml.generator import save_generator
    from generation.ml.lora import merge_adapter, save_adapter

    parent, fp = finetuning.parent, finetuning.fingerprints
    adapter = Path(result.get("adapter") or save_adapter(model, out_dir / "adapter"))
    lineage = {
        "method": finetuning.method, "parent": parent.name, "lora": finetuning.config["lora"],
        "hyper": finetuning.config["hyper"], "dimension": finetuning.config.get("dimension"),
        "preference_dataset": fp.get("preference_dataset"), "reward_model": fp.get("reward_model"),
        "adapter_dir": str(adapter), "seeds": seeds,
        "started_by": finetuning.started_by.get_username() if finetuning.started_by else None,
        "finetuning": finetuning.pk, "result": _summary(finetuning.method, result),
    }
    dataset_fp = (fp.get("preference_dataset") or {}).get("fingerprint", "")
    files = save_generator(merge_adapter(model), gen_config, out_dir / "generator",
                           {"fingerprint": dataset_fp, **lineage})
    with transaction.atomic():
        version = generator_version_register(
            name=finetuning.name, files_dir=str(files), created_by=finetuning.started_by, parent=parent,
            training_job=finetuning.job, heldout=[],
            notes=f"LoRA {finetuning.method.upper()} fine-tune of {parent.name} "
                  f"(fine-tuning {finetuning.pk}).")
        version.heldout_subjects = list(parent.heldout_subjects or [])
        version.save(update_fields=["heldout_subjects"])
        GeneratorFineTuning.objects.filter(pk=finetuning.pk).update(child=version, adapter_dir=str(adapter))
    return version


def _finetune_links(result: dict[str, Any]) -> list[tuple[str, str]]:
    name = result.get("version")
    return ([(f"Generator version {name}", reverse("generation:versions") + f"#version-{name}"),
             ("Fine-tunings", reverse("reward:finetunings"))] if name else [])


@job_kind("generator_finetune", resumable=True, title="Fine-tune a generator", links=_finetune_links)
def generator_finetune(*, job: Job, progress: JobProgress) -> dict[str, Any]:
    """Load the parent, wrap it with LoRA, train by the fine-tuning's method (checkpointing: a retry
    resumes), register the merged weights as a candidate child version. Any failure removes the
    run's files; nothing is registered."""
    import torch

    from generation.ml.generator import load_generator
    from generation.ml.lora import LoraSettings, with_lora

    finetuning = GeneratorFineTuning.objects.select_related(
        "parent", "dataset", "reward_model__dataset", "started_by", "child", "job").get(job=job)
    if finetuning.child is not None:  # registered by an attempt killed before the job was marked done
        return {"version": finetuning.child.name, **finetuning.child.training_config.get("result", {})}
    out_dir = finetune_dir(finetuning)
    seed = int(finetuning.config["hyper"].get("seed", 0))
    try:
        device = _device()
        unet, gen_config, scheduler, _ = load_generator(generator_files(finetuning.parent), device=device)
        torch.manual_seed(seed)  # the adapter's initial weights
        model = with_lora(unet, LoraSettings.from_dict(finetuning.config["lora"]))
        progress.log(f"{finetuning.method.upper()} on {finetuning.parent.name} ({device}); writing {out_dir}")
        result = _train(finetuning, model, scheduler, out_dir, progress)
        version = _register(finetuning, model, gen_config, out_dir, result,
                            {"lora_init": seed, "training": seed})
    except JobInterrupted:
        raise  # cancelled, or another worker resumes from the checkpoint: leave it
    except Exception:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise
    progress.log(f"registered generator {version.name} ({version.status}), child of {finetuning.parent.name}")
    return {"version": version.name, "parent": finetuning.parent.name, "method": finetuning.method,
            "start_step": result.get("start_step"), **_summary(finetuning.method, result),
            **_curves(finetuning.method, result)}
