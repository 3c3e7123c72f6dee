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
