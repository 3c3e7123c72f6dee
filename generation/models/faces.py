"""The face pipeline's rows: subjects and their source photos, with everything measured on each photo."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class AgeBand(models.TextChoices):
    UNDER_25 = "under_25", "Under 25"
    AGE_25_34 = "25_34", "25–34"
    AGE_35_44 = "35_44", "35–44"
    AGE_45_54 = "45_54", "45–54"
    AGE_55_64 = "55_64", "55–64"
    AGE_65_PLUS = "65_plus", "65 or older"


class Gender(models.TextChoices):
    WOMAN = "woman", "Woman"
    MAN = "man", "Man"
    NON_BINARY = "non_binary", "Non-binary"
    SELF_DESCRIBED = "self_described", "Another identity"


class SkinTone(models.TextChoices):
    """The six ITA categories; used both for measured values and for self-reported answers."""

    VERY_LIGHT = "very_light", "Very light"
    LIGHT = "light", "Light"
    INTERMEDIATE = "intermediate", "Intermediate"
    TAN = "tan", "Tan"
    BROWN = "brown", "Brown"
    DARK = "dark", "Dark"


class SubjectSource(models.TextChoices):
    UPLOAD = "upload", "Uploaded by a person"
    CORPUS = "corpus", "Imported from the face corpus"


class Subject(models.Model):
    """A person whose selfies become headshots. Demographic answers are self-reported and optional:
    every one of them may stay empty, and none is ever inferred from the photos."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    display_name = models.CharField(max_length=120)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="subjects")
    consent_given_at = models.DateTimeField()
    consent_version = models.CharField(max_length=32)
    age_band = models.CharField(max_length=16, choices=AgeBand.choices, null=True, blank=True)
    gender = models.CharField(max_length=16, choices=Gender.choices, null=True, blank=True)
    skin_tone_self_reported = models.CharField(max_length=16, choices=SkinTone.choices, null=True,
                                               blank=True)
    source = models.CharField(max_length=16, choices=SubjectSource.choices,
                              default=SubjectSource.UPLOAD)
    source_ref = models.CharField(max_length=200, blank=True,
                                  help_text="Where an imported subject came from (corpus file).")
    licence = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_ref"],
                                    condition=~models.Q(source_ref=""),
                                    name="subject_unique_source_ref"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def media_folder(self) -> str:
        """Every file derived from this subject lives under this folder (deleted with it)."""
        return f"subjects/{self.uid}"


class PhotoStatus(models.TextChoices):
    PENDING = "pending", "Waiting for analysis"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Analysis failed"


def _photo_path(photo: SourcePhoto, filename: str) -> str:
    return f"{photo.subject.media_folder}/photos/{uuid.uuid4().hex}/{filename}"


class SourcePhoto(models.Model):
    """One uploaded selfie. Stored re-encoded without EXIF; a rejected photo keeps its reasons."""

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="photos")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    original_name = models.CharField(max_length=255)
    image = models.FileField(upload_to=_photo_path, max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    file_size = models.PositiveIntegerField(default=0)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=PhotoStatus.choices,
                              default=PhotoStatus.PENDING, db_index=True)
    rejection_reasons = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    # What the face pipeline measured (empty until analysed).
    face_count = models.PositiveSmallIntegerField(null=True, blank=True)
    face_box = models.JSONField(null=True, blank=True, help_text="[left, top, right, bottom] px")
    landmarks = models.JSONField(null=True, blank=True, help_text="68 [x, y] points")
    eye_left = models.JSONField(null=True, blank=True)
    eye_right = models.JSONField(null=True, blank=True)
    head_pose = models.JSONField(null=True, blank=True, help_text="yaw, pitch, roll in degrees")
    quality = models.JSONField(default=dict, blank=True)
    embedding = models.JSONField(null=True, blank=True, help_text="128-D identity embedding")
    ita = models.FloatField(null=True, blank=True, help_text="Individual Typology Angle, degrees")
    skin_tone_measured = models.CharField(max_length=16, choices=SkinTone.choices, null=True,
                                          blank=True)
    timings = models.JSONField(default=dict, blank=True, help_text="seconds per pipeline step")
    aligned_crops = models.JSONField(default=dict, blank=True,
                                     help_text="crop size -> file name in storage")
    overlay = models.FileField(upload_to=_photo_path, max_length=300, blank=True)
    thumbnail = models.FileField(upload_to=_photo_path, max_length=300, blank=True)
    analyzed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.status})"
