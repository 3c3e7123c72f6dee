"""Reads for accounts."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

User = get_user_model()

#: The group of simulated reviewer accounts (created by migration 0002; not a role: its members
#: also hold the reviewer role). Reports leave them out on request (``exclude_simulated``).
SIMULATED_GROUP = "simulated"


def user_list() -> QuerySet:
    return User.objects.prefetch_related("groups").order_by("username")


def users_simulated() -> QuerySet:
    """Every simulated account (members of :data:`SIMULATED_GROUP`), usable as a subquery."""
    return User.objects.filter(groups__name=SIMULATED_GROUP)


def is_simulated(user: Any) -> bool:
    """True when ``user`` is a simulated account."""
    return user is not None and user.pk is not None and user.groups.filter(name=SIMULATED_GROUP).exists()
