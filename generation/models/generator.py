"""The generator's rows: trained versions (and each activation of one), generation requests and the
headshots they made."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from generation.generator.options import DEFAULT_IMAGE_SIZE
from generation.models.faces import SourcePhoto, Subject
from hfplatform.history import Activation


class GeneratorStatus(models.TextChoices):
    CANDIDATE = "candidate", "Candidate"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class GeneratorVersion(models.Model):
    """A trained generator: its files, how it was made and whether it serves requests.
    Exactly one version is active at a time (a partial unique constraint holds that)."""

    name = models.SlugField(max_length=64, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="children")
    status = models.CharField(max_length=16, choices=GeneratorStatus.choices,
                              default=GeneratorStatus.CANDIDATE, db_index=True)
    files_dir = models.CharField(
        max_length=500, help_text="Folder written by save_generator (absolute, or relative to the "
                                  "project for a checkpoint that ships with the code).")
    image_size = models.PositiveSmallIntegerField(default=DEFAULT_IMAGE_SIZE)
    training_config = models.JSONField(default=dict, blank=True)
    dataset_fingerprint = models.CharField(max_length=64, blank=True)
    heldout_subjects = models.JSONField(default=list, blank=True,
                                        help_text="Subject ids kept out of training (evaluation).")
    notes = models.TextField(blank=True)
    report = models.JSONField(default=dict, blank=True, help_text="Last generator_report figures.")
    sample_grid = models.FileField(upload_to="generators/grids/", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    training_job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=models.Q(status="active"),
                                    name="one_active_generator"),
        ]

    def __str__(self) -> str:
        return self.name


class GeneratorActivation(Activation):
    """One activation of a generator version (see ``hfplatform.history.Activation``)."""

    activated = models.ForeignKey(GeneratorVersion, on_delete=models.PROTECT, related_name="activations")
    retired = models.ForeignKey(GeneratorVersion, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="retirements")


def _generated_path(row: GenerationJob | Headshot, filename: str) -> str:
    return f"{row.subject.media_folder}/generated/{filename}"


class GenerationJob(models.Model):
    """A request for n candidate headshots of one subject from one generator version."""

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="generation_jobs")
    source_photo = models.ForeignKey(SourcePhoto, on_delete=models.CASCADE, related_name="+")
    generator_version = models.ForeignKey(GeneratorVersion, on_delete=models.PROTECT,
                                          related_name="generation_jobs")
    candidates = models.PositiveSmallIntegerField()
    seed = models.BigIntegerField()
    steps = models.PositiveSmallIntegerField()
    guidance = models.FloatField(
        help_text="Guidance of the first candidate (all of them without guidance_max).")
    guidance_max = models.FloatField(
        null=True, blank=True,
        help_text="Candidates spread evenly from guidance to guidance_max (null: all at guidance).")
    sampler = models.CharField(max_length=16, default="ddim")
    eta = models.FloatField(default=0.0, help_text="DDIM eta: 0 deterministic, up to 1 (DDPM's variance).")
    keep = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Best-of-n: keep the top k candidates by the reward model.")
    ranked_by = models.CharField(
        max_length=64, null=True, blank=True,
        help_text="Best-of-n: the name of the model that ranked the candidates (null: not ranked).")
    input_image = models.FileField(upload_to=_generated_path, max_length=300, blank=True,
                                   help_text="The casual crop the generator was given.")
    stages = models.JSONField(
        default=list, blank=True,
        help_text="Studio stages applied to every candidate, in order: [{name, params}] "
                  "(generation.ml.studio.pipeline; empty: the generator's output as it is).")
    job = models.OneToOneField("jobs.Job", on_delete=models.PROTECT, related_name="generation")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.candidates} headshots of {self.subject} ({self.generator_version})"


class Headshot(models.Model):
    """One generated candidate, with everything needed to regenerate it bit for bit."""

    generation_job = models.ForeignKey(GenerationJob, on_delete=models.CASCADE,
                                       related_name="headshots")
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="headshots")
    source_photo = models.ForeignKey(SourcePhoto, on_delete=models.CASCADE, related_name="+")
    generator_version = models.ForeignKey(GeneratorVersion, on_delete=models.PROTECT,
                                          related_name="headshots")
    image = models.FileField(upload_to=_generated_path, max_length=300,
                             help_text="The headshot as delivered: the generator's output after the stages.")
    raw_image = models.FileField(upload_to=_generated_path, max_length=300, blank=True,
                                 help_text="The generator's output before the studio stages (empty: none).")
    stages = models.JSONField(
        default=list, blank=True,
        help_text="One record per studio stage: name, version, params, status (applied, skipped, "
                  "unavailable), reason, seconds.")
    candidate_index = models.PositiveSmallIntegerField()
    seed = models.BigIntegerField()
    steps = models.PositiveSmallIntegerField()
    guidance = models.FloatField(help_text="The guidance this candidate was sampled with.")
    sampler = models.CharField(max_length=16)
    eta = models.FloatField(default=0.0, help_text="The DDIM eta this candidate was sampled with.")
    reward_score = models.FloatField(null=True, blank=True, help_text="Engineers only, never reviewers.")
    reward_rank = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1 = best of the job.")
    kept = models.BooleanField(default=True, help_text="False: ranked below the job's top k (best-of-n).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["generation_job", "candidate_index"]
        constraints = [
            models.UniqueConstraint(fields=["generation_job", "candidate_index"],
                                    name="headshot_unique_candidate"),
        ]

    def __str__(self) -> str:
        return f"Headshot {self.pk} of {self.subject} (seed {self.seed})"
