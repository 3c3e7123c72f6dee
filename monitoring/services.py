"""Writes of monitoring: the generator report and metric snapshots of a generator version.

Both run the one held-out evaluation (``monitoring.evaluation``). The report adds the casual-input and
SDEdit baseline rows and the targets, and is stored on the version. A snapshot (a job) stores the
generated row's figures and per-image values, the review results of the version's headshots, the
fairness report by group and the alerts those raise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from generation.generator.options import DEFAULT_GUIDANCE, DEFAULT_STEPS
from generation.models import GeneratorStatus, GeneratorVersion, PhotoStatus, SourcePhoto
from hfplatform.errors import ApplicationError
from hfplatform.jobs.models import Job
from hfplatform.jobs.progress import JobProgress
from hfplatform.jobs.registry import job_kind
from hfplatform.jobs.services import job_create
from monitoring.alerts import alerts_evaluate
from monitoring.evaluation import Evaluation, check_evaluation, evaluation_photos, heldout_evaluation
from monitoring.models import MetricSnapshot, SnapshotStatus
from monitoring.options import DEFAULT_SNAPSHOT_CANDIDATES

TARGET_VERIFICATION_RATE = 0.9


# --- The generator report -------------------------------------------------------------------------


def _targets(rows: dict[str, Any], ideal_vs_input: dict[str, Any]) -> list[dict[str, Any]]:
    """The generator's quality targets for the generated row, each with its value, goal and whether met."""
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
    note = (f"against the casual input, whose face dlib finds in "
            f"{share(value(casual, 'identity_verification_rate'))} (the most any output can score); the "
            f"clean portrait itself scores {share(ideal_vs_input.get('value'))}")
    return [below("kid"), below("lpips_likeness"),
            at_least("identity_verification_rate_to_portrait", TARGET_VERIFICATION_RATE),
            at_least("identity_verification_rate", TARGET_VERIFICATION_RATE, note)]


def generator_report(*, version: GeneratorVersion, people: int | None = None, steps: int = DEFAULT_STEPS,
                     seed: int = 0, guidance: float = DEFAULT_GUIDANCE,
                     report: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The held-out evaluation with its baselines (casual inputs, SDEdit) and the targets; stored on
    the version."""
    say = report or (lambda message: None)
    ev = heldout_evaluation(version=version, people=people, candidates=1, steps=steps, seed=seed,
                            guidance=guidance, baselines=True, progress=lambda percent, message: say(message))
    figures = {
        "version": version.name, **ev.settings, "rows": ev.rows, "portrait_vs_input": ev.portrait_vs_input,
        "targets": _targets(ev.rows, ev.portrait_vs_input),
        "notes": " ".join([*ev.notes, "LPIPS compares each output with that person's own clean portrait. "
                           "The casual row's verification rate against the input is how often dlib finds "
                           "its face at all."]),
    }
    kept = {key: value for key, value in (version.report or {}).items() if key == "studio"}
    version.report = {**kept, **figures}  # the studio stages' figures (studio_report) stay
    version.save(update_fields=["report"])
    return figures


# --- Snapshots ------------------------------------------------------------------------------------


@transaction.atomic
def metric_snapshot_start(*, generator_version: GeneratorVersion, started_by: Any,
                          reward_model: Any = None, candidates: int = DEFAULT_SNAPSHOT_CANDIDATES,
                          steps: int = DEFAULT_STEPS, seed: int = 0, stages: bool = True,
                          enqueue: bool = True) -> MetricSnapshot:
    """Check the request, store a pending snapshot and queue its job. ``stages``: also measure the
    default studio stages on the generated headshots (``MetricSnapshot.studio``)."""
    check_evaluation(candidates=candidates, steps=steps, guidance=DEFAULT_GUIDANCE)
    evaluation_photos(version=generator_version)
    job = job_create(kind="metric_snapshot", started_by=started_by, enqueue=enqueue,
                     title=f"Metric snapshot of {generator_version.name}", params={})
    snapshot = MetricSnapshot.objects.create(
        generator_version=generator_version, reward_model=reward_model, candidates=candidates, steps=steps,
        seed=seed, stages=stages, job=job, started_by=job.started_by)
    job.params = {"snapshot": snapshot.pk}
    job.save(update_fields=["params"])
    return snapshot


# --- Human results --------------------------------------------------------------------------------


def _mean_value(name: str, values: list[float], extractor: str) -> dict[str, Any]:
    from hfplatform.ml import MetricValue, bootstrap_interval

    if not values:
        return MetricValue.missing(name, "no answers yet", 0, extractor).to_json()
    return MetricValue(name=name, value=float(np.mean(values)), n=len(values), extractor=extractor,
                       interval=bootstrap_interval(values) if len(values) > 1 else None).to_json()


def human_results(version: GeneratorVersion) -> dict[str, Any]:
    """Review results of the version's headshots from people: mean rating per dimension (1-5), the
    pairwise win rate against other versions' headshots, and the share of blind-test judgements that
    spotted a generated headshot, each with n and a 95% interval. Gold items (known answers, broken
    images) and simulated reviewers' answers are left out."""
    from django.db.models import Q

    from hfplatform.accounts.selectors import users_simulated
    from review.models import BlindJudgement, Comparison, Rating

    def people(answers):
        return answers.filter(item__is_gold=False).exclude(reviewer__in=users_simulated())

    ratings = people(Rating.objects.filter(headshot__generator_version=version))
    result: dict[str, Any] = {}
    rows = list(ratings.values_list("professionalism", "likeness", "appeal"))
    for index, dimension in enumerate(("professionalism", "likeness", "appeal")):
        result[f"rating_{dimension}"] = _mean_value(f"rating_{dimension}", [float(r[index]) for r in rows],
                                                    "review ratings 1-5")
    wins: list[float] = []
    pairs = people(Comparison.objects.filter(Q(item__headshot__generator_version=version)
                                             | Q(item__headshot_b__generator_version=version))).values_list(
        "winner", "item__headshot__generator_version_id", "item__headshot_b__generator_version_id")
    for winner, version_a, version_b in pairs:
        if (version_a == version.pk) == (version_b == version.pk):
            continue  # both sides (or neither) from this version: no information on the version
        ours = "a" if version_a == version.pk else "b"
        wins.append(0.5 if winner == "tie" else 1.0 if winner == ours else 0.0)
    result["pairwise_win_rate"] = _mean_value(
        "pairwise_win_rate", wins, "pairwise choices against other versions (tie = half a win)")
    blind = people(BlindJudgement.objects.filter(item__headshot__generator_version=version,
                                                 is_generated=True))
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


def _snapshot_links(result: dict[str, Any]) -> list[tuple[str, str]]:
    snapshot = result.get("snapshot")
    return [(f"Snapshot #{snapshot}", reverse("monitoring:snapshot", args=[snapshot]))] if snapshot else []


@job_kind("metric_snapshot", title="Metric snapshot", links=_snapshot_links)
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
    version = snapshot.generator_version
    def report(percent: float, message: str) -> None:
        progress.update(0.9 * percent, message)

    ev: Evaluation = heldout_evaluation(
        version=version, candidates=snapshot.candidates, steps=snapshot.steps, seed=snapshot.seed,
        reward_model=snapshot.reward_model, progress=report)
    studio = {}
    if snapshot.stages:
        from monitoring.studio_report import evaluation_studio_figures

        progress.update(92, "studio stages on the generated headshots")
        studio = evaluation_studio_figures(photos=ev.photos, candidates=ev.candidates, seed=snapshot.seed)
    human = human_results(version)
    fairness = fairness_report(ev.per_image, seed=snapshot.seed)
    active, active_name = _active_figures(version)
    alerts = alerts_evaluate(figures=ev.rows["generated"], fairness=fairness, active_figures=active,
                             active_name=active_name)
    notes = [*ev.notes, "Fairness groups with n < 5 are shown but not compared."]
    MetricSnapshot.objects.filter(pk=snapshot.pk).update(
        status=SnapshotStatus.DONE, figures=ev.rows["generated"], human=human, fairness=fairness,
        alerts=alerts, per_image=ev.per_image, notes=notes, studio=studio, finished_at=timezone.now(),
        error="")
    progress.log(f"{len(ev.per_image)} images measured; {len(alerts)} alert(s)")
    return {"snapshot": snapshot.pk, "images": len(ev.per_image), "people": ev.settings["people"],
            "alerts": len(alerts)}
