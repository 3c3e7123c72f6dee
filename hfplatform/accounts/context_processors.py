"""Navigation by role for the base layout."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from hfplatform.accounts.roles import AUDITORS, ENGINEERS, READERS, Role, has_role, user_roles

# (label, url name, roles that see it). Later apps add their pages here.
NAVIGATION: list[tuple[str, str, frozenset[Role]]] = [
    ("Home", "home", frozenset(Role)),
    ("Review", "review:campaigns", frozenset(Role)),
    ("Subjects", "generation:subjects", ENGINEERS),
    ("Generator", "generation:versions", READERS),
    ("Reward", "reward:home", READERS),
    ("Monitoring", "monitoring:home", READERS),
    ("Jobs", "jobs:list", READERS),
    ("API docs", "api-docs", READERS),
    ("Audit", "audit:events", AUDITORS),
    ("Users", "accounts:users", frozenset({Role.ADMIN})),
    ("Admin", "admin:index", frozenset({Role.ADMIN})),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_roles": []}
    items = [
        {"label": label, "url": reverse(name), "active": request.path == reverse(name)}
        for label, name, roles in NAVIGATION
        if has_role(user, roles)
    ]
    return {"nav_items": items, "user_roles": sorted(r.value for r in user_roles(user))}
