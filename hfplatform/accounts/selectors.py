"""Reads for accounts."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

User = get_user_model()


def user_list() -> QuerySet:
    return User.objects.prefetch_related("groups").order_by("username")
