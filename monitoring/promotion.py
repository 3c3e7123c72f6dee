"""The promotion gate: a candidate generator becomes the active one only when it is measurably better.

``promotion_gate_start`` checks the request and queues a ``promotion_gate`` job. The job runs the one
held-out evaluation (``monitoring.evaluation.heldout_evaluation``) twice, for the active version (the
baseline) and for the candidate, on the SAME people (held out by both: the candidate's held-out
people, a fine-tuned child inheriting its parent's, that the active version never saw either) with
the SAME seeds, so every image of one has its twin in the other. It turns the per-image rows into
per-person values, takes each person's paired difference (candidate − baseline) and draws ONE set of
bootstrap resamples of the people for every figure (a paired bootstrap: a resampled person brings
both versions' images along). Then ``promotion_decide`` says whether the candidate passes:

* **judge**: the mean score per person of a judge reward model rises: the lower bound of the 95%
  interval of the paired difference is above 0. The judge is never the reward model the candidate
  was trained against (it would reward its own exploits); one trained on the same preference dataset
  is allowed with the note "judge not independent". Or people judge: the answers of a version
  comparison campaign of the same two versions on held-out people (``monitoring.human_pairs``), once
  there are enough; per person the share preferring the candidate less the share preferring the
  active version, with the same paired bootstrap over the people asked;
* **guards**, each with a tolerance (``monitoring.options.GATE_TOLERANCES``, Django's
  ``PROMOTION_GATE_TOLERANCES`` overrides): KID (a set-level figure decided on point values, the
  candidate at most 10% worse, relative; its interval resamples the same people), LPIPS likeness to
  the person's own portrait, the identity
  verification rates (against the input and against the portrait), and every fairness ratio by
  measured skin tone (worst group / best group of a per-image metric; groups with fewer than 5
  images are not compared, and a ratio with fewer than two groups left is noted, not compared). A
  guard refuses when the point difference is worse than its tolerance; its interval is shown;
* **possible reward hacking**: when the training reward model's score rises (interval above 0) but
  the judge's does not, the refusal says so.

Every figure, interval, reason and both versions' images are stored on a ``PromotionDecision``
(append-only). ``generator_version_promote`` activates a candidate (through the generator's own
activation service, so the ``GeneratorActivation`` is recorded) only when its latest decision
against the CURRENT active version passed, or when an admin overrides a refusal with a written reason.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from generation.faces.selectors import accepted_photos
from generation.generator.options import DEFAULT_GUIDANCE, DEFAULT_STEPS
from generation.generator.selectors import generator_active
from generation.generator.services import generator_version_activate
from generation.models import GeneratorStatus, GeneratorVersion, Subject
from hfplatform.accounts.roles import Role, user_roles
from hfplatform.audit.services import audit_record
from hfplatform.errors import ApplicationError, Conflict
from hfplatform.imaging import encode_image
from hfplatform.jobs.models import Job
from hfplatform.jobs.progress import JobProgress
from hfplatform.jobs.registry import job_kind
from hfplatform.jobs.services import job_create
from monitoring.evaluation import (
    MIN_HELDOUT_PEOPLE,
    Evaluation,
    check_evaluation,
    evaluation_reward_scores,
    heldout_evaluation,
)
from monitoring.human_pairs import HumanPairs, human_judge_check, human_pairs
from monitoring.ml.fairness import MIN_GROUP_N
from monitoring.models import PEOPLE_JUDGE, GateOutcome, PromotionDecision
from monitoring.options import DEFAULT_GATE_CANDIDATES, GATE_BOOTSTRAP, GATE_TOLERANCES
from review.models import Campaign
from reward.models import RewardModelVersion

GATE_KIND = "promotion_gate"
JUDGE = "judge_reward"
TRAINING_REWARD = "training_reward"
NOT_COMPARED = "not compared"
NOT_INDEPENDENT = "judge not independent"
HACKING = "possible reward hacking"

#: Figures measured per person and compared pairwise:
#: (figure, per-image key, label, higher is better, kind, tolerance key or None).
PAIRED_FIGURES: tuple[tuple[str, str, str, bool, str, str | None], ...] = (
    ("lpips_likeness", "lpips_likeness", "LPIPS to own portrait", False, "guard", "lpips_likeness"),
    ("identity_verification_rate", "identity_verified", "Identity verified (vs input)", True, "guard",
     "identity_verification_rate"),
    ("identity_verification_rate_to_portrait", "identity_verified_to_portrait",
     "Identity verified (vs own portrait)", True, "guard", "identity_verification_rate"),
)
#: Per-image metrics whose skin-tone group ratio (min / max of the group means: worst / best for a
#: higher-is-better metric, best / worst for LPIPS; 1 = parity) is a guard: (per-image key, label).
FAIRNESS_FIGURES: tuple[tuple[str, str], ...] = (
    ("identity_verified", "identity verified (vs input)"),
    ("identity_verified_to_portrait", "identity verified (vs own portrait)"),
    ("lpips_likeness", "LPIPS to own portrait"),
)
FAIRNESS_ATTRIBUTE = "skin_tone"


# --- Settings and checks --------------------------------------------------------------------------


def gate_tolerances(overrides: dict[str, float] | None = None) -> dict[str, float]:
    """The tolerances of the guards: the options' defaults, the ``PROMOTION_GATE_TOLERANCES`` setting,
    then ``overrides``; unknown names or negative values are a 400."""
    values = {**GATE_TOLERANCES, **getattr(settings, "PROMOTION_GATE_TOLERANCES", {}), **(overrides or {})}
    unknown = sorted(set(values) - set(GATE_TOLERANCES))
    if unknown:
        raise ApplicationError(f"Unknown gate tolerance(s): {', '.join(unknown)}; known: "
                               f"{', '.join(sorted(GATE_TOLERANCES))}.", code="invalid_tolerance")
    for name, value in values.items():
        if not isinstance(value, int | float) or value < 0:
            raise ApplicationError(f"Tolerance {name} must be a number ≥ 0.", code="invalid_tolerance")
    return {name: float(value) for name, value in values.items()}


def training_reward_model_name(candidate: GeneratorVersion) -> str:
    """The reward model the candidate was fine-tuned against ("" when none is recorded)."""
    info = (candidate.training_config or {}).get("reward_model")
    if isinstance(info, dict):
        return str(info.get("name") or "")
    return str(info) if isinstance(info, str) else ""


def inherited_heldout(version: GeneratorVersion) -> list[int]:
    """A version's held-out people; a fine-tuned child that records none inherits its parent's."""
    seen: set[int] = set()
    while version is not None and version.pk not in seen:
        if version.heldout_subjects:
            return [int(s) for s in version.heldout_subjects]
        seen.add(version.pk)
        version = version.parent
    return []


def shared_heldout(candidate: GeneratorVersion, baseline: GeneratorVersion) -> set[int]:
    """The people neither version was trained on."""
    return set(inherited_heldout(candidate)) & set(inherited_heldout(baseline))


def gate_people(*, candidate: GeneratorVersion, baseline: GeneratorVersion,
                people: int | None = None) -> list[int]:
    """The people both versions are evaluated on: the candidate's held-out people that the baseline
    held out too, with an accepted photo, in subject order (the first ``people`` of them). Too small
    an overlap is a 400."""
    if candidate.image_size != baseline.image_size:
        raise ApplicationError(f"{candidate.name} makes {candidate.image_size} px images and the active "
                               f"{baseline.name} {baseline.image_size} px: they cannot be compared image "
                               "for image.", code="image_size_mismatch")
    shared = shared_heldout(candidate, baseline)
    photos = accepted_photos(subjects=Subject.objects.filter(pk__in=shared), size=candidate.image_size,
                             limit=people)
    if len(photos) < MIN_HELDOUT_PEOPLE:
        raise ApplicationError(
            f"{candidate.name} and the active {baseline.name} share {len(photos)} held-out people with an "
            f"accepted photo; the gate needs at least {MIN_HELDOUT_PEOPLE} people neither was trained on.",
            code="heldout_overlap_too_small")
    return [p.subject_id for p in photos]


def active_baseline(candidate: GeneratorVersion) -> GeneratorVersion:
    """The active version the candidate is compared with; a 409 when there is nothing to promote."""
    if candidate.status == GeneratorStatus.ACTIVE:
        raise Conflict(f"{candidate.name} is already the active generator.", code="already_active")
    if candidate.status == GeneratorStatus.RETIRED:
        raise Conflict(f"{candidate.name} is retired: bring it back with activate, not through the gate.",
                       code="generator_retired")
    active = generator_active()
    if active is None:
        raise Conflict("No generator version is active: there is nothing to compare with; activate one "
                       "directly.", code="no_active_generator")
    return active


def judge_notes(*, candidate: GeneratorVersion, judge: RewardModelVersion | None) -> list[str]:
    """Check the judge (a 400 when none is named or it is the candidate's training reward model, a 409
    when it cannot score) and return the notes to record about it."""
    from reward.scoring import SCORING_STATUSES

    if judge is None:
        raise ApplicationError(
            "Name a judge: a trained reward model the candidate was not fine-tuned against, or a version "
            "comparison campaign whose answers judge (judge_campaign).", code="judge_required",
            extra={"fields": {"judge": ["Name a reward model to judge by, or a judge_campaign."]}})
    if judge.status not in SCORING_STATUSES:
        raise Conflict(f"Reward model {judge.name} is {judge.status}: only a trained model can judge.",
                       code="reward_model_not_trained")
    training = training_reward_model_name(candidate)
    if training and judge.name == training:
        raise ApplicationError(
            f"{judge.name} is the reward model {candidate.name} was trained against: it cannot judge it "
            "(a candidate can exploit its own reward). Name an independent judge.",
            code="judge_is_training_reward",
            extra={"fields": {"judge": ["The candidate's training reward model."]}})
    if not training:
        return []
    info = (candidate.training_config or {}).get("reward_model")
    trained_on = RewardModelVersion.objects.filter(name=training).first()
    fingerprint = trained_on.dataset_fingerprint if trained_on else (
        info.get("dataset_fingerprint", "") if isinstance(info, dict) else "")
    same = (trained_on is not None and trained_on.dataset_id == judge.dataset_id) or (
        bool(fingerprint) and fingerprint == judge.dataset_fingerprint)
    return [f"{NOT_INDEPENDENT}: {judge.name} was trained on the same preference dataset as {training}, "
            "the reward model the candidate was fine-tuned against."] if same else []


# --- Start ----------------------------------------------------------------------------------------


@transaction.atomic
def promotion_gate_start(*, candidate: GeneratorVersion, judge: RewardModelVersion | None, started_by: Any,
                         people: int | None = None, candidates: int = DEFAULT_GATE_CANDIDATES, seed: int = 0,
                         steps: int = DEFAULT_STEPS, guidance: float = DEFAULT_GUIDANCE,
                         tolerances: dict[str, float] | None = None, enqueue: bool = True,
                         judge_campaign: Campaign | None = None) -> Job:
    """Check the request and queue the gate's job (it stores a ``PromotionDecision``). The judge is a
    reward model (``judge``) or people: the answers of a version comparison campaign of the candidate
    against the active version (``judge_campaign``, ``monitoring.human_pairs``), never both."""
    baseline = active_baseline(candidate)
    if judge is not None and judge_campaign is not None:
        raise ApplicationError("Name one judge: a reward model or a version comparison campaign, not both.",
                               code="two_judges",
                               extra={"fields": {"judge_campaign": ["Or a judge, not both."]}})
    if judge_campaign is not None:
        pairs = human_judge_check(campaign=judge_campaign, candidate=candidate, baseline=baseline,
                                  heldout=shared_heldout(candidate, baseline))
        notes: list[str] = []
        judged_by = f"people (campaign #{judge_campaign.pk}, {pairs.answers} answers so far)"
    else:
        notes = judge_notes(candidate=candidate, judge=judge)
        judged_by = judge.name
    check_evaluation(candidates=candidates, steps=steps, guidance=guidance)
    if people is not None and people < MIN_HELDOUT_PEOPLE:
        raise ApplicationError(f"people must be at least {MIN_HELDOUT_PEOPLE}.", code="invalid_people")
    subjects = gate_people(candidate=candidate, baseline=baseline, people=people)
    params = {"candidate": candidate.pk, "baseline": baseline.pk, "judge": judge.pk if judge else None,
              "judge_campaign": judge_campaign.pk if judge_campaign else None, "subjects": subjects,
              "candidates": candidates, "seed": seed, "steps": steps, "guidance": guidance,
              "tolerances": gate_tolerances(tolerances), "notes": notes,
              "training_reward_model": training_reward_model_name(candidate)}
    return job_create(kind=GATE_KIND, started_by=started_by, enqueue=enqueue, params=params,
                      title=f"Promotion gate: {candidate.name} vs {baseline.name}, judged by {judged_by}")


# --- Figures --------------------------------------------------------------------------------------


def _per_person(evaluation: Evaluation, values: list[float | None]) -> np.ndarray | None:
    """Each person's mean over their candidates (``values`` in per-image order); None if any is missing."""
    if any(v is None for v in values):
        return None
    order = [p.subject_id for p in evaluation.photos]
    sums = dict.fromkeys(order, 0.0)
    counts = dict.fromkeys(order, 0)
    for row, value in zip(evaluation.per_image, values, strict=True):
        sums[row["subject"]] += float(value)
        counts[row["subject"]] += 1
    return np.array([sums[s] / counts[s] for s in order])


def _column(evaluation: Evaluation, key: str) -> list[float | None] | None:
    if any(key not in row for row in evaluation.per_image):
        return None
    return [row[key] for row in evaluation.per_image]


def resample_counts(people: int, *, seed: int, n_boot: int = GATE_BOOTSTRAP) -> np.ndarray:
    """How often each person appears in each bootstrap resample (n_boot × people): one set of resamples
    for every figure of a gate, so both versions and all figures move together."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, people, size=(n_boot, people))
    counts = np.zeros((n_boot, people))
    np.add.at(counts, (np.repeat(np.arange(n_boot), people), draws.ravel()), 1)
    return counts


def _interval(samples: np.ndarray) -> list[float] | None:
    kept = samples[np.isfinite(samples)]
    if kept.size == 0:
        return None
    low, high = np.quantile(kept, [0.025, 0.975])
    return [float(low), float(high)]


def _figure(name: str, label: str, kind: str, higher: bool, **values: Any) -> dict[str, Any]:
    return {"name": name, "label": label, "kind": kind, "higher_is_better": higher, "baseline": None,
            "candidate": None, "difference": None, "interval": None, "n": 0, "tolerance": None,
            "tolerance_kind": "absolute", "unavailable": None, "note": "", "verdict": "", **values}


def paired_figure(name: str, label: str, kind: str, higher: bool, baseline: np.ndarray | None,
                  candidate: np.ndarray | None, counts: np.ndarray, *, unavailable: str = "",
                  tolerance: float | None = None) -> dict[str, Any]:
    """Means of both versions over the people, the mean paired difference (candidate − baseline) and
    its 95% paired-bootstrap interval from ``counts`` (``resample_counts``)."""
    if baseline is None or candidate is None:
        return _figure(name, label, kind, higher, tolerance=tolerance,
                       unavailable=unavailable or f"unavailable: {name} was not measured")
    diffs = candidate - baseline
    boot = counts @ diffs / diffs.size
    return _figure(name, label, kind, higher, baseline=float(baseline.mean()),
                   candidate=float(candidate.mean()), difference=float(diffs.mean()),
                   interval=_interval(boot), n=int(diffs.size), tolerance=tolerance)


def group_ratio(counts: np.ndarray, sums: np.ndarray, sizes: np.ndarray, groups: list[np.ndarray]
                ) -> np.ndarray:
    """Worst / best group mean (min / max over ``groups``, masks over people) per row of ``counts``:
    a group's mean is its resampled people's image values summed over their image count. Rows where
    fewer than two groups are present, or a mean is negative, are NaN; all means 0 is parity (1)."""
    means = []
    for mask in groups:
        total = counts[:, mask] @ sums[mask]
        n = counts[:, mask] @ sizes[mask]
        with np.errstate(invalid="ignore", divide="ignore"):
            means.append(np.where(n > 0, total / np.where(n > 0, n, 1), np.nan))
    table = np.stack(means, axis=1)
    present = np.isfinite(table).sum(axis=1)
    low, high = np.nanmin(table, axis=1), np.nanmax(table, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(high > 0, low / np.where(high > 0, high, 1), 1.0)
    return np.where((present >= 2) & (low >= 0), ratio, np.nan)


def fairness_figure(key: str, label: str, baseline: Evaluation, candidate: Evaluation,
                    counts: np.ndarray, tolerance: float) -> dict[str, Any]:
    """The worst/best skin-tone group ratio of a per-image metric for both versions (1 = parity,
    smaller = the worst group further behind; for a lower-is-better metric best / worst), the change
    with its paired-bootstrap interval, and the groups too small to compare."""
    name = f"fairness_{FAIRNESS_ATTRIBUTE}_{key}"
    title = f"Fairness by skin tone: {label} (worst / best group)"
    columns = [_column(evaluation, key) for evaluation in (baseline, candidate)]
    if any(c is None or any(v is None for v in c) for c in columns):
        return _figure(name, title, "fairness", True, tolerance=tolerance,
                       unavailable=f"unavailable: {key} was not measured")
    order = [p.subject_id for p in baseline.photos]
    tone = {row["subject"]: str(row[FAIRNESS_ATTRIBUTE]) for row in baseline.per_image}
    sizes = np.array([sum(1 for r in baseline.per_image if r["subject"] == s) for s in order], dtype=float)
    labels = np.array([tone[s] for s in order], dtype=object)
    group_n = {g: int(sizes[labels == g].sum()) for g in sorted(set(labels))}
    small = {g: n for g, n in group_n.items() if n < MIN_GROUP_N}
    eligible = [labels == g for g in group_n if g not in small]
    note = ("; ".join(f"{g}: n={n} < {MIN_GROUP_N}, not compared" for g, n in small.items())
            + ("; " if small else "") + "groups: " + ", ".join(f"{g} (n={n})" for g, n in group_n.items()))
    if len(eligible) < 2:
        return _figure(name, title, "fairness", True, tolerance=tolerance, n=len(order), verdict=NOT_COMPARED,
                       note=f"fewer than two skin-tone groups with n ≥ {MIN_GROUP_N} images; {note}")

    ratios = []
    for column, evaluation in zip(columns, (baseline, candidate), strict=True):
        totals = _per_person(evaluation, column) * sizes  # each person's image values summed
        ratios.append((group_ratio(np.ones((1, len(order))), totals, sizes, eligible)[0],
                       group_ratio(counts, totals, sizes, eligible)))
    (point_b, boot_b), (point_c, boot_c) = ratios
    if not (np.isfinite(point_b) and np.isfinite(point_c)):
        return _figure(name, title, "fairness", True, tolerance=tolerance, n=len(order), verdict=NOT_COMPARED,
                       note=f"no meaningful ratio (a negative group mean); {note}")
    return _figure(name, title, "fairness", True, baseline=float(point_b), candidate=float(point_c),
                   difference=float(point_c - point_b), interval=_interval(boot_c - boot_b), n=len(order),
                   tolerance=tolerance, note=note)


def _set_figure(name: str, label: str, kind: str, baseline: Evaluation, candidate: Evaluation,
                tolerance: float | None) -> dict[str, Any]:
    """A set-level figure (KID, FID): both versions' point values, no interval."""
    b, c = baseline.rows["generated"].get(name, {}), candidate.rows["generated"].get(name, {})
    if b.get("value") is None or c.get("value") is None:
        return _figure(name, label, kind, False, tolerance=tolerance, tolerance_kind="relative",
                       unavailable=b.get("unavailable") or c.get("unavailable") or f"unavailable: no {name}")
    return _figure(name, label, kind, False, baseline=b["value"], candidate=c["value"],
                   difference=c["value"] - b["value"], n=int(c.get("n") or 0), tolerance=tolerance,
                   tolerance_kind="relative",
                   note=f"set-level over {c.get('n')} images per version: point values, no interval")


def kid_figure(baseline: Evaluation, candidate: Evaluation, counts: np.ndarray,
               tolerance: float) -> dict[str, Any]:
    """KID of both versions (point values as measured) with a 95% paired-bootstrap interval of the
    difference: each resample of the people (``counts``) draws both versions' images of those people,
    and the whole-set unbiased KID of each (``kid_resampled``) is compared on the same draw."""
    from monitoring.ml import kid_resampled

    figure = _set_figure("kid", "KID (vs held-out portraits)", "guard", baseline, candidate, tolerance)
    subjects = [row["subject"] for row in baseline.per_image]
    if (figure["unavailable"] or baseline.kid_features is None or candidate.kid_features is None
            or subjects != [row["subject"] for row in candidate.per_image]):
        return figure
    index = {photo.subject_id: i for i, photo in enumerate(baseline.photos)}
    weights = counts[:, [index[s] for s in subjects]]  # resample × image: draws of the image's person
    kid_b, kid_c = (kid_resampled(*e.kid_features, weights) for e in (baseline, candidate))
    with np.errstate(divide="ignore", invalid="ignore"):  # a KID of 0: no relative change (dropped)
        relative = _interval((kid_c - kid_b) / np.abs(kid_b))
    spread = "" if relative is None else f"; relative change [95% {relative[0]:+.1%}, {relative[1]:+.1%}]"
    figure.update(interval=_interval(kid_c - kid_b), note=(
        f"set-level over {figure['n']} images per version; interval: paired bootstrap over the people "
        f"(whole-set unbiased KID per resample){spread}"))
    return figure


def human_judge_figure(pairs: HumanPairs, *, seed: int) -> dict[str, Any]:
    """The judge by people: per person, the share of answers preferring each version; the difference
    (candidate − active) with its paired-bootstrap interval over the people who were asked."""
    figure = paired_figure(JUDGE, pairs.label, "judge", True, pairs.baseline_share, pairs.candidate_share,
                           resample_counts(len(pairs.subjects), seed=seed))
    return {**figure, "note": pairs.note}


def gate_figures(*, baseline: Evaluation, candidate: Evaluation, judge_name: str,
                 tolerances: dict[str, float], training: tuple[str, list[float], list[float]] | None = None,
                 seed: int = 0, judge_figure: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Every figure of the gate from the two evaluations (same people, same seeds), before verdicts.
    ``judge_figure`` (people's answers, ``human_judge_figure``) replaces the judge reward model's."""
    people = [p.subject_id for p in baseline.photos]
    if people != [p.subject_id for p in candidate.photos]:
        raise ApplicationError("The two evaluations are not of the same people.", code="gate_people_differ")
    counts = resample_counts(len(people), seed=seed)
    figures: dict[str, dict[str, Any]] = {}
    if judge_figure is None:
        judged = [_column(e, "reward_score") for e in (baseline, candidate)]
        judge_figure = paired_figure(
            JUDGE, f"Judge reward ({judge_name})", "judge", True,
            *(_per_person(e, c) if c is not None else None for e, c in zip((baseline, candidate), judged,
                                                                            strict=True)), counts)
    figures[JUDGE] = judge_figure
    if training is not None:
        name, scores_b, scores_c = training
        figures[TRAINING_REWARD] = paired_figure(
            TRAINING_REWARD, f"Training reward ({name})", "training_reward", True,
            _per_person(baseline, scores_b), _per_person(candidate, scores_c), counts)
    figures["kid"] = kid_figure(baseline, candidate, counts, tolerances["kid_relative"])
    figures["fid"] = _set_figure("fid", "FID (vs held-out portraits)", "info", baseline, candidate, None)
    for name, key, label, higher, kind, tolerance in PAIRED_FIGURES:
        columns = [_column(e, key) for e in (baseline, candidate)]
        unavailable = (baseline.rows["generated"].get(name) or {}).get("unavailable") or ""
        figures[name] = paired_figure(
            name, label, kind, higher,
            *(_per_person(e, c) if c is not None else None for e, c in zip((baseline, candidate), columns,
                                                                            strict=True)),
            counts, unavailable=unavailable, tolerance=tolerances[tolerance] if tolerance else None)
    for key, label in FAIRNESS_FIGURES:
        figure = fairness_figure(key, label, baseline, candidate, counts, tolerances["fairness_ratio"])
        figures[figure["name"]] = figure
    return figures


# --- The decision ---------------------------------------------------------------------------------


KIND_ORDER = ("judge", "training_reward", "guard", "fairness", "info")


def figures_in_order(figures: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """A decision's figures for tables: the judge, the training reward, guards, fairness, then the
    rest (a JSON column does not keep the order they were written in)."""
    rank = {name: i for i, (name, *_) in enumerate(PAIRED_FIGURES)}
    return sorted(figures.values(), key=lambda f: (
        KIND_ORDER.index(f["kind"]) if f["kind"] in KIND_ORDER else len(KIND_ORDER),
        rank.get(f["name"], -1 if f["name"] == "kid" else len(rank)), f["name"]))


@dataclass(frozen=True)
class GateDecision:
    outcome: str  # GateOutcome
    reasons: list[str]
    figures: dict[str, dict[str, Any]]  # with each figure's verdict


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def figure_text(figure: dict[str, Any]) -> str:
    """"baseline → candidate (difference +d [95% lo, hi])" for reasons and tables."""
    text = f"{_fmt(figure['baseline'])} → {_fmt(figure['candidate'])} (difference "
    text += "—" if figure["difference"] is None else f"{figure['difference']:+.4g}"
    if figure.get("interval"):
        low, high = figure["interval"]
        text += f" [95% {low:+.4g}, {high:+.4g}]"
    return text + ")"


def _guard_worse(figure: dict[str, Any]) -> bool:
    """True when the candidate is worse than the baseline by more than the figure's tolerance."""
    tolerance = figure["tolerance"] or 0.0
    if figure["tolerance_kind"] == "relative":
        return figure["candidate"] - figure["baseline"] > tolerance * abs(figure["baseline"])
    worse = -figure["difference"] if figure["higher_is_better"] else figure["difference"]
    return worse > tolerance


def promotion_decide(figures: dict[str, dict[str, Any]], tolerances: dict[str, float]) -> GateDecision:
    """The gate's verdict on ``figures`` (``gate_figures``): passed only when the judge's paired
    interval is above 0 and no guard is worse than its tolerance. A training reward that rises while
    the judge does not is refused as possible reward hacking. Pure: ``figures`` is not changed."""
    out = copy.deepcopy(figures)
    reasons: list[str] = []
    judge = out.get(JUDGE)
    judge_up = bool(judge and judge.get("interval") and not judge.get("unavailable")
                    and judge["interval"][0] > 0)
    if judge is None or judge.get("unavailable") or not judge.get("interval"):
        reasons.append("The judge's reward could not be measured: "
                       + ((judge or {}).get("unavailable") or "no interval (too few people)") + ".")
        if judge is not None:
            judge["verdict"] = "fail"
    else:
        judge["verdict"] = "pass" if judge_up else "fail"
        if not judge_up:
            reasons.append(f"The judge does not show an improvement: {judge['label']} "
                           f"{figure_text(judge)}; the lower bound must be above 0.")
    training = out.get(TRAINING_REWARD)
    if training is not None:
        training["verdict"] = "info"
        training_up = bool(training.get("interval") and training["interval"][0] > 0)
        if training_up and not judge_up:
            reasons.append(f"{HACKING.capitalize()}: {training['label']} rises {figure_text(training)} "
                           f"but the judge does not {figure_text(judge) if judge else ''}.")
    for name, figure in out.items():
        if figure["kind"] not in ("guard", "fairness"):
            if figure["kind"] == "info":
                figure["verdict"] = "info"
            continue
        if figure.get("verdict") == NOT_COMPARED:
            continue
        if figure.get("unavailable"):
            figure["verdict"] = "fail"
            reasons.append(f"{figure['label']} could not be checked: {figure['unavailable']}.")
            continue
        if figure["tolerance"] is None:
            key = "kid_relative" if figure["tolerance_kind"] == "relative" else name
            figure["tolerance"] = tolerances.get(key, 0.0)
        if _guard_worse(figure):
            figure["verdict"] = "fail"
            allowed = (f"{figure['tolerance']:.0%} relative" if figure["tolerance_kind"] == "relative"
                       else f"{figure['tolerance']:g}")
            direction = "higher" if figure["higher_is_better"] else "lower"
            reasons.append(f"{figure['label']} is worse than the active version's beyond the tolerance "
                           f"({allowed}; {direction} is better): {figure_text(figure)}.")
        else:
            figure["verdict"] = "pass"
    return GateDecision(outcome=GateOutcome.REFUSED if reasons else GateOutcome.PASSED, reasons=reasons,
                        figures=out)


# --- The job --------------------------------------------------------------------------------------


def _store_images(job: Job, evaluations: dict[str, Evaluation]) -> list[dict[str, Any]]:
    """Both versions' images of each person (and the casual input) under that person's own media
    folder (deleted with them; served only through the role-checked comparison page)."""
    baseline = evaluations["baseline"]
    rows = []
    for index, photo in enumerate(baseline.photos):
        folder = f"{photo.subject.media_folder}/promotions/job-{job.pk}"
        mine = [r for r in baseline.per_image if r["subject"] == photo.subject_id]
        row: dict[str, Any] = {"subject": photo.subject_id, "photo": photo.pk,
                               "skin_tone": mine[0]["skin_tone"], "seeds": [r["seed"] for r in mine]}

        def save(name: str, array: np.ndarray, folder: str = folder) -> str:
            path = f"{folder}/{name}.png"
            if default_storage.exists(path):  # a retried job writes the same images again
                default_storage.delete(path)
            return default_storage.save(path, ContentFile(encode_image(array, "PNG")))

        row["input"] = save("input", baseline.casual[index])
        for side, evaluation in evaluations.items():
            row[side] = [save(f"{side}-{c}", image) for c, image in enumerate(evaluation.candidates[index])]
        rows.append(row)
    return rows


def _scores_by_person(evaluation: Evaluation, key: str) -> dict[int, float]:
    values = _per_person(evaluation, _column(evaluation, key) or [])
    return {} if values is None else dict(zip([p.subject_id for p in evaluation.photos], map(float, values),
                                              strict=True))


def _gate_links(result: dict[str, Any]) -> list[tuple[str, str]]:
    decision = result.get("decision")
    return ([(f"Gate decision #{decision} ({result.get('outcome', '')})",
              reverse("monitoring:promotion", args=[decision]))] if decision else [])


@job_kind(GATE_KIND, resumable=True, title="Promotion gate", links=_gate_links)
def promotion_gate_run(*, job: Job, progress: JobProgress) -> dict[str, Any]:
    """Evaluate the baseline and the candidate on the same people and seeds, decide and store the
    decision. Restartable: a retry after a crash evaluates again (the same seeds give the same images);
    a job whose decision is stored returns it."""
    done = PromotionDecision.objects.filter(job=job).first()
    if done is not None:
        return {"decision": done.pk, "outcome": done.outcome}
    p = job.params
    candidate = GeneratorVersion.objects.get(pk=p["candidate"])
    baseline = GeneratorVersion.objects.get(pk=p["baseline"])
    judge = (RewardModelVersion.objects.select_related("dataset").get(pk=p["judge"]) if p.get("judge")
             else None)
    campaign, pairs = None, None
    if p.get("judge_campaign"):
        campaign = Campaign.objects.filter(pk=p["judge_campaign"]).first()
        if campaign is None:
            raise ApplicationError(f"The judging campaign {p['judge_campaign']} was deleted.",
                                   code="judge_campaign_gone")
        pairs = human_pairs(campaign=campaign, candidate=candidate, baseline=baseline)  # the answers by now
    judge_name = judge.name if judge else f"{PEOPLE_JUDGE}campaign #{campaign.pk}"
    training_name = p.get("training_reward_model") or ""
    training_model = RewardModelVersion.objects.filter(name=training_name).first() if training_name else None
    notes = list(p.get("notes") or [])
    if training_name and training_model is None:
        notes.append(f"The training reward model {training_name} is not on this platform: the reward-hacking "
                     "check was skipped.")
    evaluations: dict[str, Evaluation] = {}
    for index, (side, version) in enumerate((("baseline", baseline), ("candidate", candidate))):
        def report(percent: float, message: str, index: int = index, label: str = f"{side} {version.name}"
                   ) -> None:
            progress.update(index * 45 + 0.45 * percent, f"{label}: {message}")

        evaluations[side] = heldout_evaluation(
            version=version, subjects=p["subjects"], candidates=p["candidates"], steps=p["steps"],
            seed=p["seed"], guidance=p["guidance"], reward_model=judge, progress=report)
    training = None
    if training_model is not None:
        progress.update(92, f"scoring both versions with the training reward model {training_name}")
        training = (training_name, evaluation_reward_scores(evaluations["baseline"], training_model),
                    evaluation_reward_scores(evaluations["candidate"], training_model))
    figures = gate_figures(baseline=evaluations["baseline"], candidate=evaluations["candidate"],
                           judge_name=judge_name, tolerances=p["tolerances"], training=training,
                           seed=p["seed"],
                           judge_figure=human_judge_figure(pairs, seed=p["seed"]) if pairs else None)
    decision = promotion_decide(figures, p["tolerances"])
    progress.update(95, "storing both versions' images")
    per_person = _store_images(job, evaluations)
    judged = ({side: _scores_by_person(e, "reward_score") for side, e in evaluations.items()} if pairs is None
              else {side: dict(zip(pairs.subjects, map(float, shares), strict=True)) for side, shares in
                    (("baseline", pairs.baseline_share), ("candidate", pairs.candidate_share))})
    for row in per_person:
        row["judge"] = {side: judged[side].get(row["subject"]) for side in judged}
    notes += [note for note in evaluations["candidate"].notes if note not in notes]
    notes.append(f"Intervals: 95% paired bootstrap over the {len(per_person)} people ({GATE_BOOTSTRAP} "
                 f"resamples, seed {p['seed']}), the same resamples for every figure.")
    row = PromotionDecision.objects.create(
        candidate=candidate, baseline=baseline, judge=judge, judge_name=judge_name, judge_campaign=campaign,
        judge_dataset=judge.dataset.name if judge else "",
        judge_fingerprint=judge.dataset_fingerprint if judge else "",
        training_reward_model=training_name, figures=decision.figures, per_person=per_person,
        outcome=decision.outcome, reasons=decision.reasons, notes=notes, evaluated_by=job.started_by, job=job,
        gate_settings={"people": len(per_person), "subjects": p["subjects"], "candidates": p["candidates"],
                       "seed": p["seed"], "steps": p["steps"], "guidance": p["guidance"],
                       "tolerances": p["tolerances"], "seed_rule": "seed + subject id × 1000 + candidate",
                       "bootstrap": GATE_BOOTSTRAP})
    progress.log(f"{candidate.name} vs {baseline.name}: {row.outcome}"
                 + (f" ({len(row.reasons)} reason(s))" if row.reasons else ""))
    return {"decision": row.pk, "outcome": row.outcome, "reasons": row.reasons}


# --- Promotion ------------------------------------------------------------------------------------


def latest_decision(*, candidate: GeneratorVersion, baseline: GeneratorVersion) -> PromotionDecision | None:
    return (PromotionDecision.objects.filter(candidate=candidate, baseline=baseline)
            .order_by("-created_at", "-id").first())


@transaction.atomic
def generator_version_promote(*, candidate: GeneratorVersion, by: Any,
                              override_reason: str = "") -> PromotionDecision:
    """Make ``candidate`` the active generator when its latest gate decision against the current
    active version passed (409 with the reasons otherwise). An admin may promote a refused candidate
    with a written ``override_reason`` (recorded on the decision); anyone else giving one gets a 403.
    ``by`` None is a command run on the server (trusted as an admin). The activation goes through the
    generator's own service, so it is recorded as a ``GeneratorActivation``."""
    override_reason = (override_reason or "").strip()
    if override_reason and by is not None and Role.ADMIN not in user_roles(by):
        raise ApplicationError("Only an admin may override the promotion gate.", code="override_admin_only",
                               status_code=403)
    candidate = GeneratorVersion.objects.select_for_update().get(pk=candidate.pk)
    baseline = active_baseline(candidate)
    decision = latest_decision(candidate=candidate, baseline=baseline)
    if decision is None:
        raise Conflict(f"{candidate.name} was never evaluated against the active version {baseline.name}: "
                       "run the promotion gate first.", code="not_evaluated",
                       extra={"reasons": [f"No gate decision against {baseline.name}."]})
    decision = PromotionDecision.objects.select_for_update().get(pk=decision.pk)
    if decision.outcome != GateOutcome.PASSED and not override_reason:
        raise Conflict(f"The promotion gate refused {candidate.name} against {baseline.name} "
                       f"(decision {decision.pk}): " + " ".join(decision.reasons), code="gate_refused",
                       extra={"reasons": decision.reasons, "decision": decision.pk})
    generator_version_activate(version=candidate, activated_by=by)
    decision.promoted = True
    decision.promoted_at = timezone.now()
    decision.decided_by = by if by is not None and by.is_authenticated else None
    decision.override_reason = override_reason if decision.outcome != GateOutcome.PASSED else ""
    decision.save(update_fields=["promoted", "promoted_at", "decided_by", "override_reason"])
    override = f", overridden: {decision.override_reason}" if decision.override_reason else ""
    audit_record(action="generator.promote", target=candidate, actor=by,
                 summary=f"{candidate.name} promoted over {baseline.name} (decision {decision.pk}{override})",
                 detail={"decision": decision.pk, "outcome": decision.outcome, "baseline": baseline.name,
                         "override_reason": decision.override_reason})
    return decision
