"""Metric snapshots: one measurement of a generator version (and optionally a reward model) on its
held-out people, with the human results, the fairness report and the alerts it raised.

A snapshot is computed by a ``metric_snapshot`` job; the row exists from the moment the job is
queued (status follows the job) and holds the figures once it succeeds. Figures are stored as
``MetricValue.to_json()`` dicts: value, n, extractor, unavailable, interval.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from generation.generator.options import DEFAULT_STEPS
from monitoring.options import DEFAULT_SNAPSHOT_CANDIDATES


class SnapshotStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class MetricSnapshot(models.Model):
    generator_version = models.ForeignKey("generation.GeneratorVersion", on_delete=models.CASCADE,
                                          related_name="snapshots")
    reward_model = models.ForeignKey("reward.RewardModelVersion", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    candidates = models.PositiveSmallIntegerField(default=DEFAULT_SNAPSHOT_CANDIDATES)
    steps = models.PositiveSmallIntegerField(default=DEFAULT_STEPS)
    seed = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=SnapshotStatus.choices, default=SnapshotStatus.PENDING)
    error = models.TextField(blank=True)
    figures = models.JSONField(default=dict, blank=True, help_text="metric name -> MetricValue json")
    human = models.JSONField(default=dict, blank=True, help_text="review results for the version")
    fairness = models.JSONField(default=dict, blank=True, help_text="group reports by attribute")
    alerts = models.JSONField(default=list, blank=True, help_text="[{rule, message, value, threshold}]")
    per_image = models.JSONField(default=list, blank=True,
                                 help_text="one row per generated image: subject, groups, metrics")
    notes = models.JSONField(default=list, blank=True)
    job = models.OneToOneField("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="metric_snapshot")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"snapshot {self.pk} of {self.generator_version_id}"
