"""The feedback loop in one call: campaigns' answers → two preference datasets on disjoint people →
a reward model on each → a LoRA fine-tune of the generator → the promotion gate → promotion.

The campaigns' people (those with a preference pair, less the people the active version and the
parent hold out: they are the gate's) are split by a seeded hash order into a **tuning** part and a
**judging** part (``judge_share`` of them). The tuning part's dataset and reward model are what the
fine-tune learns from (DPO's pairs, RAFT's ranking) and are recorded as the candidate's training
reward model, so the gate can look for reward hacking; the judging part's reward model is the
gate's judge and is never seen by the fine-tune. Each step is a job row run in this process, so it
shows on the jobs pages with its progress and who started it.

``feedback_loop_check`` validates everything that can be checked before any row is created;
``feedback_loop_run`` then runs the steps in order and stops at the first that fails, reporting
which step and why in the ``LoopResult`` (the rows of the finished steps stay: they are results).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from math import ceil
from typing import Any

from django.utils.text import slugify

from generation.generator.selectors import generator_active
from generation.models import GeneratorStatus, GeneratorVersion
from hfplatform.errors import ApplicationError
from hfplatform.jobs.models import Job, JobStatus
from hfplatform.jobs.progress import JobProgress
from hfplatform.jobs.registry import job_kind
from hfplatform.jobs.services import job_create, job_run
from monitoring.evaluation import MIN_HELDOUT_PEOPLE, check_evaluation
from monitoring.models import GateOutcome, PromotionDecision
from monitoring.options import DEFAULT_GATE_CANDIDATES
from monitoring.promotion import (
    gate_people,
    gate_tolerances,
    generator_version_promote,
    inherited_heldout,
    promotion_gate_start,
)
from review.models import Campaign
from reward.finetuning import generator_finetune_start
from reward.ml.options import MIN_PAIRS
from reward.models import (
    Dimension,
    FineTuneMethod,
    GeneratorFineTuning,
    PreferenceDataset,
    RewardModelVersion,
    RewardStatus,
)
from reward.selectors import preference_pairs
from reward.services import preference_dataset_create, reward_hyper_check, reward_training_start

DATASETS_KIND = "feedback_loop_datasets"
DIMENSION = Dimension.OVERALL.value
GATE_KEYS = ("people", "candidates", "seed", "steps", "guidance", "tolerances")
STEPS = ("datasets", "reward models", "fine-tune", "gate", "promotion")
MIN_PART_PEOPLE = 2  # people per part: one to learn from and one to stop (or validate) by


def _invalid(message: str, field_name: str, code: str = "invalid") -> ApplicationError:
    return ApplicationError(message, code=code, extra={"fields": {field_name: [message]}})


# --- The people split -----------------------------------------------------------------------------


def loop_people_split(subjects: list[int] | set[int], *, judge_share: float, seed: int
                      ) -> tuple[list[int], list[int]]:
    """``(tuning, judging)``: the people in a seeded hash order, the first ``judge_share`` of them
    (at least one, never all) judging. Depends only on the set of people and the seed."""
    ordered = sorted(set(subjects), key=lambda s: hashlib.sha256(f"loop:{seed}:{s}".encode()).hexdigest())
    n_judge = min(len(ordered) - 1, max(1, ceil(judge_share * len(ordered))))
    return sorted(ordered[n_judge:]), sorted(ordered[:n_judge])


# --- Checks ---------------------------------------------------------------------------------------


@dataclass
class LoopPlan:
    """A checked request: what ``feedback_loop_run`` will create, and from what."""

    campaigns: list[Campaign]
    method: str
    name: str
    parent: GeneratorVersion
    active: GeneratorVersion
    tuning_people: list[int]
    judging_people: list[int]
    left_out_people: list[int]  # held out by the parent or the active version: the gate's people
    gate: dict[str, Any]
    names: dict[str, str]  # tuning/judging dataset and reward-model names
    pairs: dict[str, int]  # decided pairs per part


def _checked_settings(cls: type, given: dict[str, Any] | None, group: str) -> None:
    given = dict(given or {})
    known = {f for f in cls.__dataclass_fields__}
    for key in sorted(set(given) - known):
        raise _invalid(f"Unknown {group} setting {key!r}; known: {', '.join(sorted(known))}.",
                       f"{group}.{key}")
    try:
        cls(**given).validate()
    except (TypeError, ValueError) as exc:
        raise _invalid(f"{group}: {exc}", group) from None


def _gate_settings(gate: dict[str, Any] | None, seed: int) -> dict[str, Any]:
    given = dict(gate or {})
    unknown = sorted(set(given) - set(GATE_KEYS))
    if unknown:
        raise _invalid(f"Unknown gate setting(s): {', '.join(unknown)}; known: {', '.join(GATE_KEYS)}.",
                       "gate")
    from generation.generator.options import DEFAULT_GUIDANCE, DEFAULT_STEPS

    out = {"people": given.get("people"), "candidates": given.get("candidates", DEFAULT_GATE_CANDIDATES),
           "seed": given.get("seed", seed), "steps": given.get("steps", DEFAULT_STEPS),
           "guidance": given.get("guidance", DEFAULT_GUIDANCE), "tolerances": given.get("tolerances")}
    check_evaluation(candidates=out["candidates"], steps=out["steps"], guidance=out["guidance"])
    if out["people"] is not None and out["people"] < MIN_HELDOUT_PEOPLE:
        raise _invalid(f"gate people must be at least {MIN_HELDOUT_PEOPLE}.", "gate.people")
    gate_tolerances(out["tolerances"])
    return out


def _names(name: str) -> dict[str, str]:
    if not name or slugify(name) != name:
        raise _invalid(f"Name the new version with a slug (letters, digits, - and _), not {name!r}.", "name")
    names = {"tuning_dataset": f"{name}-tuning", "judging_dataset": f"{name}-judging",
             "tuning_reward_model": f"{name}-tuning-reward", "judge": f"{name}-judge"}
    taken = ([name] if GeneratorVersion.objects.filter(name=name).exists()
             or GeneratorFineTuning.objects.filter(name=name).exists() else [])
    taken += [n for n in (names["tuning_dataset"], names["judging_dataset"])
              if PreferenceDataset.objects.filter(name=n).exists()]
    taken += [n for n in (names["tuning_reward_model"], names["judge"])
              if RewardModelVersion.objects.filter(name=n).exists()]
    if taken:
        raise _invalid(f"The loop would create {', '.join(taken)}, which exist(s) already: choose another "
                       "name.", "name", code="name_taken")
    return names


def feedback_loop_check(
    *, campaign_ids: list[int], method: str, name: str, parent: GeneratorVersion | None = None,
    judge_share: float = 0.5, seed: int = 0, lora: dict | None = None, hyper: dict | None = None,
    reward_hyper: dict | None = None, gate: dict | None = None,
) -> LoopPlan:
    """Every check that needs no new row: a 400 (or 409) with the reason, nothing created."""
    from generation.ml.lora import LoraSettings

    if method not in FineTuneMethod.values:
        raise _invalid(f"method must be one of {', '.join(FineTuneMethod.values)}, not {method!r}.", "method")
    if not 0 < judge_share < 1:
        raise _invalid("judge_share must be above 0 and below 1.", "judge_share")
    campaigns = list(Campaign.objects.filter(pk__in=campaign_ids or []).order_by("pk"))
    missing = sorted(set(campaign_ids or []) - {c.pk for c in campaigns})
    if not campaign_ids or missing:
        raise _invalid(f"Unknown campaign(s): {missing}." if missing else "Choose one or more campaigns.",
                       "campaigns", code="unknown_campaign" if missing else "invalid")
    active = generator_active()
    if active is None:
        raise ApplicationError("No generator version is active: the loop's candidate is compared with the "
                               "active one.", code="no_active_generator", status_code=409)
    parent = parent or active
    if parent.status == GeneratorStatus.RETIRED:
        raise _invalid(f"Generator {parent.name} is retired: fine-tune a candidate or the active version.",
                       "parent", code="parent_retired")
    names = _names(name)
    _checked_settings(LoraSettings, lora, "lora")
    if method == FineTuneMethod.DPO:
        from reward.ml.dpo import DpoConfig as HyperConfig
    else:
        from reward.ml.raft import RaftConfig as HyperConfig
    _checked_settings(HyperConfig, hyper, "hyper")
    reward_hyper_check(dict(reward_hyper or {}))
    gate_settings = _gate_settings(gate, seed)
    gate_people(candidate=parent, baseline=active, people=gate_settings["people"])  # the child inherits

    left_out = set(inherited_heldout(active)) | set(inherited_heldout(parent))
    pairs = [p for p in preference_pairs(campaigns=campaigns) if p["dimension"] == DIMENSION and not p["tie"]]
    people = {p["subject"] for p in pairs} - left_out
    if len(people) < 2 * MIN_PART_PEOPLE:
        raise _invalid(f"The campaigns have decided pairs of {len(people)} people the active and parent "
                       f"versions do not hold out; the loop needs at least {2 * MIN_PART_PEOPLE} (two parts "
                       f"of {MIN_PART_PEOPLE}).", "campaigns", code="too_few_people")
    tuning, judging = loop_people_split(people, judge_share=judge_share, seed=seed)
    counts = {"tuning": sum(p["subject"] in set(tuning) for p in pairs),
              "judging": sum(p["subject"] in set(judging) for p in pairs)}
    for part, members in (("tuning", tuning), ("judging", judging)):
        if len(members) < MIN_PART_PEOPLE or counts[part] < MIN_PAIRS:
            raise _invalid(f"The {part} part has {len(members)} people and {counts[part]} decided pairs; "
                           f"each part needs at least {MIN_PART_PEOPLE} people and {MIN_PAIRS} pairs (change "
                           "judge_share or add answers).", "judge_share", code="too_few_pairs")
    return LoopPlan(campaigns=campaigns, method=method, name=name, parent=parent, active=active,
                    tuning_people=tuning, judging_people=judging, left_out_people=sorted(left_out),
                    gate=gate_settings, names=names, pairs=counts)


# --- The datasets step as a job -------------------------------------------------------------------


@job_kind(DATASETS_KIND, resumable=True, title="Preference datasets for the feedback loop")
def feedback_loop_datasets(*, job: Job, progress: JobProgress) -> dict[str, Any]:
    """Snapshot the campaigns' pairs twice, once per part's people; a retry reuses a dataset it made."""
    p = job.params
    made = {}
    for index, part in enumerate(("tuning", "judging")):
        name = p["names"][part]
        dataset = PreferenceDataset.objects.filter(name=name).first()
        if dataset is None:
            progress.update(index * 50, f"{part} dataset {name}: {len(p['people'][part])} people")
            dataset = preference_dataset_create(name=name, campaign_ids=p["campaigns"], seed=p["seed"],
                                                created_by=job.started_by, subjects=p["people"][part])
        progress.log(f"{part} dataset {dataset.name}: {dataset.counts['pairs']} pairs of "
                     f"{len(p['people'][part])} people")
        made[part] = dataset.pk
    return {"tuning": made["tuning"], "judging": made["judging"]}


# --- The run --------------------------------------------------------------------------------------


@dataclass
class LoopResult:
    """The rows each step made, the gate's decision and where the loop stopped (``failed_step`` and
    ``error`` empty when every step finished)."""

    plan: LoopPlan
    jobs: dict[str, list[Job]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    tuning_dataset: PreferenceDataset | None = None
    judging_dataset: PreferenceDataset | None = None
    tuning_reward_model: RewardModelVersion | None = None
    judge: RewardModelVersion | None = None
    finetuning: GeneratorFineTuning | None = None
    candidate: GeneratorVersion | None = None
    decision: PromotionDecision | None = None
    promoted: bool = False
    failed_step: str = ""
    error: str = ""

    @property
    def passed(self) -> bool:
        return self.decision is not None and self.decision.outcome == GateOutcome.PASSED


class _StepFailed(Exception):
    pass


def _run(job: Job, step: str, say: Callable[[str], None], result: LoopResult) -> Job:
    result.jobs.setdefault(step, []).append(job)
    say(f"{step}: job {job.pk} {job.title}")
    done = job_run(job_id=job.pk)
    if done is None or done.status != JobStatus.SUCCEEDED:
        raise _StepFailed(f"job {job.pk} ({job.title}) {done.status if done else 'was not run'}: "
                          f"{(done.error or done.message) if done else ''}")
    result.jobs[step][-1] = done
    return done


def feedback_loop_run(
    *, campaign_ids: list[int], method: str, started_by: Any, name: str,
    parent: GeneratorVersion | None = None, judge_share: float = 0.5, seed: int = 0,
    lora: dict | None = None, hyper: dict | None = None, reward_hyper: dict | None = None,
    gate: dict | None = None, promote: bool = True, say: Callable[[str], None] = lambda message: None,
) -> LoopResult:
    """Run the loop (see the module docstring). Bad input raises before anything is created; a step
    that fails later stops the loop with ``failed_step`` and ``error`` set on the result."""
    plan = feedback_loop_check(campaign_ids=campaign_ids, method=method, name=name, parent=parent,
                               judge_share=judge_share, seed=seed, lora=lora, hyper=hyper,
                               reward_hyper=reward_hyper, gate=gate)
    result = LoopResult(plan=plan)
    say(f"{plan.parent.name} → {name} by {method.upper()}; {len(plan.tuning_people)} tuning people "
        f"({plan.pairs['tuning']} pairs), {len(plan.judging_people)} judging people ({plan.pairs['judging']} "
        f"pairs); {len(plan.left_out_people)} held-out people left out; gate against {plan.active.name}")
    step = STEPS[0]
    try:
        started = time.perf_counter()
        job = job_create(kind=DATASETS_KIND, started_by=started_by, enqueue=False,
                         title=f"Preference datasets for {name} (tuning / judging people)",
                         params={"campaigns": [c.pk for c in plan.campaigns], "seed": seed,
                                 "names": {"tuning": plan.names["tuning_dataset"],
                                           "judging": plan.names["judging_dataset"]},
                                 "people": {"tuning": plan.tuning_people, "judging": plan.judging_people}})
        done = _run(job, step, say, result)
        result.tuning_dataset = PreferenceDataset.objects.get(pk=done.result["tuning"])
        result.judging_dataset = PreferenceDataset.objects.get(pk=done.result["judging"])
        result.seconds[step] = time.perf_counter() - started

        step = STEPS[1]
        started = time.perf_counter()
        parts = (("tuning", result.tuning_dataset, plan.names["tuning_reward_model"]),
                 ("judge", result.judging_dataset, plan.names["judge"]))
        for part, dataset, model_name in parts:
            version = reward_training_start(dataset=dataset, dimension=DIMENSION, started_by=started_by,
                                            name=model_name, enqueue=False, **(reward_hyper or {}))
            _run(version.training_job, step, say, result)
            version = RewardModelVersion.objects.select_related("dataset").get(pk=version.pk)
            if version.status != RewardStatus.CANDIDATE:
                raise _StepFailed(f"reward model {version.name} is {version.status}: {version.error}")
            setattr(result, "tuning_reward_model" if part == "tuning" else "judge", version)
        result.seconds[step] = time.perf_counter() - started

        step = STEPS[2]
        started = time.perf_counter()
        finetuning = generator_finetune_start(
            parent=plan.parent, method=method, started_by=started_by, name=name,
            dataset=result.tuning_dataset if method == FineTuneMethod.DPO else None,
            reward_model=result.tuning_reward_model, lora=lora, hyper=hyper, dimension=DIMENSION,
            enqueue=False)
        result.finetuning = finetuning
        _run(finetuning.job, step, say, result)
        finetuning.refresh_from_db()
        result.candidate = finetuning.child
        result.seconds[step] = time.perf_counter() - started

        step = STEPS[3]
        started = time.perf_counter()
        job = promotion_gate_start(candidate=result.candidate, judge=result.judge, started_by=started_by,
                                   enqueue=False, **plan.gate)
        done = _run(job, step, say, result)
        result.decision = PromotionDecision.objects.select_related("candidate", "baseline").get(job=done)
        result.seconds[step] = time.perf_counter() - started
        say(f"gate: {result.decision.outcome}")

        step = STEPS[4]
        if promote and result.passed:
            started = time.perf_counter()
            result.decision = generator_version_promote(candidate=result.candidate, by=started_by)
            result.promoted = True
            result.seconds[step] = time.perf_counter() - started
            say(f"promotion: {result.candidate.name} is now the active generator")
        else:
            say("promotion: " + ("not asked for" if not promote else "refused by the gate"))
    except (_StepFailed, ApplicationError) as exc:
        result.failed_step = step
        result.error = exc.message if isinstance(exc, ApplicationError) else str(exc)
        say(f"{step} failed: {result.error}")
    return result
