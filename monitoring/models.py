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
    stages = models.BooleanField(default=True, help_text="Also measure the default studio stages on the "
                                                         "generated headshots.")
    studio = models.JSONField(default=dict, blank=True,
                              help_text="the default studio stages on the generated headshots: identity "
                                        "before and after, skin-tone (ITA) shift by group; {}: not measured")
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


class GateOutcome(models.TextChoices):
    PASSED = "passed", "Passed"
    REFUSED = "refused", "Refused"


#: The only fields a promotion may write on a stored decision (once): who promoted, when, and why.
PROMOTION_FIELDS = frozenset({"promoted", "promoted_at", "decided_by", "override_reason"})


#: How a decision judged by people names its judge: "people: campaign #12".
PEOPLE_JUDGE = "people: "


class PromotionDecision(models.Model):
    """One run of the promotion gate, append-only: a candidate generator against the version active
    when it was evaluated (``baseline``), on the same held-out people with the same seeds, judged by
    a reward model it was not trained against. ``figures`` holds every figure (baseline, candidate,
    paired difference with its 95% paired-bootstrap interval, n people, tolerance, verdict);
    ``per_person`` the images the comparison page shows. People may judge instead of a reward model
    (``judge_campaign``, ``monitoring.human_pairs``). Only a promotion writes to it again, once."""

    candidate = models.ForeignKey("generation.GeneratorVersion", on_delete=models.PROTECT,
                                  related_name="promotion_decisions")
    baseline = models.ForeignKey("generation.GeneratorVersion", on_delete=models.PROTECT, related_name="+",
                                 help_text="The version active when the candidate was evaluated.")
    judge = models.ForeignKey("reward.RewardModelVersion", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    judge_campaign = models.ForeignKey(
        "review.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="People judged: the version comparison campaign whose answers were the judge.")
    judge_name = models.CharField(max_length=64)
    judge_dataset = models.CharField(max_length=64, blank=True)
    judge_fingerprint = models.CharField(max_length=64, blank=True)
    training_reward_model = models.CharField(max_length=64, blank=True,
                                             help_text="The reward model the candidate was trained against.")
    gate_settings = models.JSONField(default=dict,
                                     help_text="people, candidates, seed, steps, guidance, tolerances")
    figures = models.JSONField(default=dict,
                               help_text="name -> baseline, candidate, difference, interval, verdict")
    per_person = models.JSONField(default=list, help_text="subject, seeds and both versions' image paths")
    outcome = models.CharField(max_length=16, choices=GateOutcome.choices)
    reasons = models.JSONField(default=list, help_text="why the gate refused (empty when it passed)")
    notes = models.JSONField(default=list, blank=True)
    promoted = models.BooleanField(default=False)
    promoted_at = models.DateTimeField(null=True, blank=True)
    override_reason = models.TextField(blank=True, help_text="An admin's written reason to promote anyway.")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", help_text="Who promoted (None: a command).")
    evaluated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"gate {self.pk}: {self.candidate_id} vs {self.baseline_id} {self.outcome}"

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        if self.pk is not None and (update_fields is None or not set(update_fields) <= PROMOTION_FIELDS):
            raise ValueError("Promotion decisions are append-only: only a promotion writes to one again.")
        super().save(*args, **kwargs)

    @property
    def judged_by_people(self) -> bool:
        """People's answers judged (the campaign may have been deleted since; its name stays)."""
        return self.judge_id is None and self.judge_name.startswith(PEOPLE_JUDGE)
