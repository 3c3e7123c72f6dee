"""Preference data built from reviews, and the reward models trained on it.

A :class:`PreferenceDataset` is a frozen snapshot: its :class:`PreferencePair` rows, their split
(by subject: no person on both sides), counts and a fingerprint of the pairs. A
:class:`RewardModelVersion` is one training of a reward model on one dataset and dimension, with
its files, evaluation figures and status; exactly one version is active at a time. Each
activation is recorded, append-only, as a :class:`RewardModelActivation` (who, when, which version
became active and which one it retired). A :class:`GeneratorFineTuning` is one LoRA fine-tune of a
generator version from this feedback (Diffusion-DPO on pairs, RAFT on reward-ranked samples) and
the candidate version it registered.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from hfplatform.history import Activation


class Dimension(models.TextChoices):
    OVERALL = "overall", "Overall (mean of the three scales / any pairwise choice)"
    PROFESSIONALISM = "professionalism", "Professionalism"
    LIKENESS = "likeness", "Likeness"
    APPEAL = "appeal", "Appeal"


class PreferenceDataset(models.Model):
    name = models.SlugField(max_length=64, unique=True)
    campaigns = models.JSONField(default=list, help_text="Review campaign ids the pairs come from.")
    options = models.JSONField(default=dict, help_text="rating margin, ties, test share, seed, weights")
    fingerprint = models.CharField(max_length=64, db_index=True)
    counts = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class PairSource(models.TextChoices):
    COMPARISON = "comparison", "Pairwise choice"
    RATING = "rating", "Ratings that differ by the margin"


class Split(models.TextChoices):
    TRAIN = "train", "Train"
    TEST = "test", "Test (held-out subjects)"


class PreferencePair(models.Model):
    """``chosen`` was preferred to ``rejected`` (for a tie: neither; the order means nothing)."""

    dataset = models.ForeignKey(PreferenceDataset, on_delete=models.CASCADE, related_name="pairs")
    dimension = models.CharField(max_length=16, choices=Dimension.choices)
    source = models.CharField(max_length=16, choices=PairSource.choices)
    chosen = models.ForeignKey("generation.Headshot", on_delete=models.CASCADE, related_name="+")
    rejected = models.ForeignKey("generation.Headshot", on_delete=models.CASCADE, related_name="+")
    subject = models.ForeignKey("generation.Subject", on_delete=models.CASCADE, related_name="+")
    tie = models.BooleanField(default=False)
    weight = models.FloatField(help_text="Reviewer reliability × role weight (summed over agreeing votes).")
    margin = models.FloatField(default=0.0, help_text="Rating pairs: difference of weighted mean scores.")
    votes = models.JSONField(default=list, blank=True,
                             help_text="Comparisons: each reviewer's winner for this pair (a/b/tie).")
    campaign_id = models.PositiveIntegerField()
    split = models.CharField(max_length=8, choices=Split.choices)
    group = models.CharField(max_length=16, blank=True, help_text="Measured skin-tone category.")

    class Meta:
        ordering = ["dataset", "id"]
        indexes = [models.Index(fields=["dataset", "dimension", "split"])]

    def __str__(self) -> str:
        return f"{self.chosen_id} {'=' if self.tie else '>'} {self.rejected_id} ({self.dimension})"


class RewardStatus(models.TextChoices):
    TRAINING = "training", "Training"
    CANDIDATE = "candidate", "Candidate"
    ACTIVE = "active", "Active"
    FAILED = "failed", "Failed"
    RETIRED = "retired", "Retired"


class RewardModelVersion(models.Model):
    name = models.SlugField(max_length=64, unique=True)
    dataset = models.ForeignKey(PreferenceDataset, on_delete=models.PROTECT, related_name="models")
    dataset_fingerprint = models.CharField(max_length=64)
    dimension = models.CharField(max_length=16, choices=Dimension.choices)
    status = models.CharField(max_length=16, choices=RewardStatus.choices, default=RewardStatus.TRAINING,
                              db_index=True)
    files_dir = models.CharField(max_length=500, blank=True)
    config = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    training_job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status="active"),
                                    name="one_active_reward_model"),
        ]

    def __str__(self) -> str:
        return self.name


class RewardModelActivation(Activation):
    """One activation of a reward model version (see ``hfplatform.history.Activation``)."""

    activated = models.ForeignKey(RewardModelVersion, on_delete=models.PROTECT, related_name="activations")
    retired = models.ForeignKey(RewardModelVersion, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="retirements")


class FineTuneMethod(models.TextChoices):
    DPO = "dpo", "Diffusion-DPO on preference pairs"
    RAFT = "raft", "RAFT on samples ranked by a reward model"


class GeneratorFineTuning(models.Model):
    """One LoRA fine-tune of ``parent``: what it learnt from (a preference dataset and/or a reward
    model, with their fingerprints as they were), every setting (defaults included), its job, and
    the candidate version it registered (``child``, set only when the job succeeded). Its status is
    its job's."""

    name = models.SlugField(max_length=64, unique=True, help_text="The name of the version it registers.")
    parent = models.ForeignKey("generation.GeneratorVersion", on_delete=models.PROTECT,
                               related_name="finetunings")
    method = models.CharField(max_length=8, choices=FineTuneMethod.choices)
    dataset = models.ForeignKey(PreferenceDataset, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="finetunings",
                                help_text="DPO: the pairs it learns from; RAFT: the reward model's dataset.")
    reward_model = models.ForeignKey(RewardModelVersion, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="finetunings",
                                     help_text="RAFT: the model that ranks the samples.")
    config = models.JSONField(default=dict, blank=True,
                              help_text="dimension, lora and method hyper-parameters, defaults included")
    fingerprints = models.JSONField(
        default=dict, blank=True, help_text="The parent, dataset and reward model as they were at the start.")
    child = models.OneToOneField("generation.GeneratorVersion", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="finetuning")
    adapter_dir = models.CharField(max_length=500, blank=True)
    job = models.OneToOneField("jobs.Job", on_delete=models.PROTECT, related_name="finetuning")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.method} from {self.parent_id})"

    @property
    def status(self) -> str:
        return self.job.status
