"""Reads for monitoring: snapshots, the trend of each metric across versions, lineage, and the
generator version and reward model a snapshot request names."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from generation.models import GeneratorVersion
from hfplatform.errors import NotFound
from hfplatform.jobs.models import JobStatus
from monitoring.models import MetricSnapshot, SnapshotStatus

#: (key, label, where it lives on the snapshot, lower is better)
METRICS: tuple[tuple[str, str, str, bool], ...] = (
    ("fid", "FID (vs held-out portraits)", "figures", True),
    ("kid", "KID (vs held-out portraits)", "figures", True),
    ("lpips_likeness", "LPIPS to own portrait", "figures", True),
    ("lpips_diversity", "LPIPS between candidates", "figures", False),
    ("identity_verification_rate", "Identity verified (vs input)", "figures", False),
    ("identity_verification_rate_to_portrait", "Identity verified (vs own portrait)", "figures", False),
    ("identity_distance", "Identity distance (vs input)", "figures", True),
    ("reward_score", "Mean reward score", "figures", False),
    ("rating_professionalism", "Rating: professionalism", "human", False),
    ("rating_likeness", "Rating: likeness", "human", False),
    ("rating_appeal", "Rating: appeal", "human", False),
    ("pairwise_win_rate", "Pairwise win rate vs other versions", "human", False),
    ("blind_detection_rate", "Blind tests: spotted as generated", "human", True),
)


def generator_version_by_ref(ref: str | int) -> GeneratorVersion:
    """A version by name, or by id when ``ref`` is a number."""
    query = GeneratorVersion.objects.filter(pk=int(ref)) if str(ref).isdigit() else \
        GeneratorVersion.objects.filter(name=str(ref))
    version = query.first()
    if version is None:
        raise NotFound(f"No generator version {ref!r}.")
    return version


def reward_model_by_name(name: str | None) -> Any:
    """The reward model named ``name``, None when no name is given."""
    if not name:
        return None
    from reward.selectors import reward_model_get

    return reward_model_get(name=name)


def judge_campaign_by_id(campaign_id: int | None) -> Any:
    """The version comparison campaign named to judge a gate (404 when there is none), None when none
    is named."""
    from review.models import Campaign
    from review.selectors import row_lookup

    return row_lookup(model=Campaign, value=campaign_id, label="judge campaign")


def metric_figure(snapshot: MetricSnapshot, where: str, key: str) -> dict[str, Any] | None:
    """A snapshot's figure ``key`` from its ``where`` field (``METRICS``), None when it has none."""
    return (getattr(snapshot, where) or {}).get(key)


def snapshot_list() -> QuerySet[MetricSnapshot]:
    return MetricSnapshot.objects.select_related("generator_version", "reward_model", "started_by", "job")


def snapshot_get(*, snapshot_id: int) -> MetricSnapshot:
    snapshot = snapshot_list().filter(pk=snapshot_id).first()
    if snapshot is None:
        raise NotFound(f"No metric snapshot {snapshot_id}.")
    return snapshot


def snapshot_status(snapshot: MetricSnapshot) -> str:
    """The snapshot's status, following its job while it is pending (a failed or cancelled job)."""
    if snapshot.status == SnapshotStatus.PENDING and snapshot.job is not None and snapshot.job.is_finished:
        return SnapshotStatus.FAILED if snapshot.job.status != JobStatus.SUCCEEDED else snapshot.status
    return snapshot.status


def snapshot_figure(snapshot: MetricSnapshot, key: str) -> dict[str, Any] | None:
    for name, _, where, _ in METRICS:
        if name == key:
            return metric_figure(snapshot, where, key)
    return None


def latest_snapshots() -> list[MetricSnapshot]:
    """The newest finished snapshot of each generator version, oldest version first."""
    seen: dict[int, MetricSnapshot] = {}
    for snapshot in snapshot_list().filter(status=SnapshotStatus.DONE).order_by("-created_at", "-id"):
        seen.setdefault(snapshot.generator_version_id, snapshot)
    return sorted(seen.values(), key=lambda s: (s.generator_version.created_at, s.generator_version_id))


def metric_trend() -> list[dict[str, Any]]:
    """For each metric: one point per version (its newest snapshot)."""
    snapshots = latest_snapshots()
    return [{"key": key, "label": label, "lower_is_better": lower,
             "points": [{"version": s.generator_version.name, "snapshot": s.pk,
                         "figure": metric_figure(s, where, key)} for s in snapshots]}
            for key, label, where, lower in METRICS]


def version_lineage(version: GeneratorVersion) -> dict[str, Any]:
    """Where a version comes from: parent, training job and who started it, and the reward model
    (with its dataset) of its latest snapshot, if any."""
    job = version.training_job
    snapshot = version.snapshots.exclude(reward_model=None).select_related(
        "reward_model", "reward_model__dataset").first()
    reward = snapshot.reward_model if snapshot else None
    return {
        "version": version.name, "status": version.status,
        "parent": version.parent.name if version.parent_id else None,
        "created_by": version.created_by.username if version.created_by_id else None,
        "created_at": version.created_at.isoformat(),
        "dataset_fingerprint": version.dataset_fingerprint,
        "training_job": job.pk if job else None,
        "training_started_by": job.started_by.username if job and job.started_by_id else None,
        "reward_model": reward.name if reward else None,
        "reward_dataset": reward.dataset.name if reward else None,
    }


# --- The promotion gate ---------------------------------------------------------------------------


def promotion_decision_list(*, candidate: GeneratorVersion | None = None) -> QuerySet:
    from monitoring.models import PromotionDecision

    rows = PromotionDecision.objects.select_related("candidate", "baseline", "judge", "decided_by",
                                                    "evaluated_by", "job")
    return rows.filter(candidate=candidate) if candidate is not None else rows


def promotion_decision_get(*, decision_id: int) -> Any:
    decision = promotion_decision_list().filter(pk=decision_id).first()
    if decision is None:
        raise NotFound(f"No promotion decision {decision_id}.")
    return decision


def promotion_image_path(decision: Any, *, person: int, image: str) -> str:
    """The stored path of one image of a decision's comparison (``input``, ``baseline-0``,
    ``candidate-1``, ...), looked up in the decision itself (never built from the request)."""
    rows = decision.per_person or []
    if not 0 <= person < len(rows):
        raise NotFound("No such person in this decision.")
    side, _, index = image.partition("-")
    row = rows[person]
    if side == "input" and not index:
        return row["input"]
    if side in ("baseline", "candidate") and index.isdigit() and int(index) < len(row.get(side, [])):
        return row[side][int(index)]
    raise NotFound("No such image in this decision.")


# --- The whole chain of a version ------------------------------------------------------------------


def _campaign_link(campaign_id: int) -> dict[str, Any]:
    from review.models import Campaign
    from review.selectors import campaign_progress

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        return {"id": campaign_id, "name": None, "answers": None}
    progress = campaign_progress(campaign)
    return {"id": campaign.pk, "name": campaign.name, "answers": progress["done"],
            "reviewers": progress["reviewers"], "pairing": campaign.pairing}


def _reward_link(model: Any) -> dict[str, Any] | None:
    if model is None:
        return None
    consensus = (model.metrics or {}).get("consensus") or {}
    return {"name": model.name, "status": model.status, "dimension": model.dimension,
            "dataset": model.dataset.name, "dataset_fingerprint": model.dataset_fingerprint,
            "consensus_accuracy": consensus.get("value"), "consensus_interval": consensus.get("interval")}


def _generation_link(version: GeneratorVersion) -> dict[str, Any]:
    """One version with what made it (a fine-tune's dataset, reward model and adapter, or plain
    training), its snapshots and the promotion decisions about it."""
    from monitoring.models import PromotionDecision
    from reward.models import GeneratorFineTuning

    finetuning = (GeneratorFineTuning.objects.select_related("dataset", "reward_model__dataset", "job",
                                                             "started_by")
                  .filter(child=version).first())
    made_by: dict[str, Any]
    if finetuning is not None:
        dataset = finetuning.dataset
        made_by = {
            "kind": "fine-tune", "id": finetuning.pk, "method": finetuning.method,
            "method_label": finetuning.get_method_display(), "job": finetuning.job_id,
            "started_by": finetuning.started_by.username if finetuning.started_by_id else None,
            "started_at": finetuning.created_at.isoformat(),
            "lora": finetuning.config.get("lora"), "hyper": finetuning.config.get("hyper"),
            "adapter_dir": finetuning.adapter_dir,
            "campaigns": [_campaign_link(c) for c in (dataset.campaigns if dataset else [])],
            "dataset": ({"id": dataset.pk, "name": dataset.name, "fingerprint": dataset.fingerprint,
                         "pairs": dataset.counts.get("pairs"), "options": dataset.options}
                        if dataset else None),
            "reward_model": _reward_link(finetuning.reward_model),
        }
    else:
        job = version.training_job
        made_by = {"kind": "training" if job else "registered", "job": job.pk if job else None,
                   "started_by": job.started_by.username if job and job.started_by_id else None,
                   "dataset_fingerprint": version.dataset_fingerprint}
    snapshots = [{"id": s.pk, "status": s.status, "created_at": s.created_at.isoformat(),
                  "kid": metric_figure(s, "figures", "kid"),
                  "lpips_likeness": metric_figure(s, "figures", "lpips_likeness")}
                 for s in version.snapshots.order_by("-created_at")[:5]]
    decisions = [{"id": d.pk, "outcome": d.outcome, "baseline": d.baseline.name, "judge": d.judge_name,
                  "promoted": d.promoted, "reasons": d.reasons, "override_reason": d.override_reason,
                  "created_at": d.created_at.isoformat()}
                 for d in PromotionDecision.objects.select_related("baseline").filter(candidate=version)
                 .order_by("-created_at")[:5]]
    return {"version": version.name, "status": version.status,
            "parent": version.parent.name if version.parent_id else None,
            "created_at": version.created_at.isoformat(), "made_by": made_by,
            "snapshots": snapshots, "decisions": decisions}


def generator_lineage_chain(version: GeneratorVersion, *, limit: int = 10) -> list[dict[str, Any]]:
    """``version`` and its ancestors, oldest first, each as campaign answers → preference dataset →
    reward model → adapter → version → snapshots → promotion decisions (what applies)."""
    chain = []
    seen: set[int] = set()
    while version is not None and version.pk not in seen and len(chain) < limit:
        seen.add(version.pk)
        chain.append(_generation_link(version))
        version = version.parent
    return chain[::-1]
