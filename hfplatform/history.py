"""Append-only history rows shared by the apps: who made which version active, retiring which."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Activation(models.Model):
    """One activation, append-only: ``activated`` became the active version and ``retired`` (the
    previously active one, if any) was retired, by ``activated_by`` (None: a command or a job) at
    ``created_at``. Subclasses add the two foreign keys to their version model."""

    activated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.activated} active" + (f", {self.retired} retired" if self.retired_id else "")

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            rows = self._meta.verbose_name_plural.capitalize()
            raise ValueError(f"{rows} are append-only: record a new one.")
        super().save(*args, **kwargs)
