"""Roles and the permission helpers every page and endpoint uses.

A role is a Django group (created by a data migration); "admin" is the staff flag. Photographers
are reviewers with expert weight, so every reviewer page admits them too. Admins pass every check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from functools import wraps
from typing import Any

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import BasePermission


class Role(StrEnum):
    REVIEWER = "reviewer"
    PHOTOGRAPHER = "photographer"
    ML_ENGINEER = "ml_engineer"
    AUDITOR = "auditor"
    ADMIN = "admin"


#: Roles stored as groups; ADMIN is the staff flag instead.
GROUP_ROLES: tuple[Role, ...] = (Role.REVIEWER, Role.PHOTOGRAPHER, Role.ML_ENGINEER, Role.AUDITOR)

#: Who may rate items (photographers are reviewers with expert weight), in the order pages show them.
RATER_ROLES: tuple[Role, ...] = (Role.REVIEWER, Role.PHOTOGRAPHER)
REVIEWERS: frozenset[Role] = frozenset(RATER_ROLES)
#: Who may start and manage jobs (training, generation, metrics).
ENGINEERS: frozenset[Role] = frozenset({Role.ML_ENGINEER})
#: Who may read dashboards, jobs and exports.
READERS: frozenset[Role] = frozenset({Role.ML_ENGINEER, Role.AUDITOR})


def user_roles(user: Any) -> frozenset[Role]:
    """The roles a user holds (cached on the user object for the request)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_hf_roles", None)
    if cached is not None:
        return cached
    names = set(user.groups.values_list("name", flat=True))
    roles = {role for role in GROUP_ROLES if role.value in names}
    if user.is_staff or user.is_superuser:
        roles.add(Role.ADMIN)
    user._hf_roles = frozenset(roles)
    return user._hf_roles


def has_role(user: Any, roles: Iterable[Role | str]) -> bool:
    """True when the user holds one of ``roles``; admins hold every role."""
    held = user_roles(user)
    if Role.ADMIN in held:
        return True
    return any(Role(r) in held for r in roles)


# --- Object-level helpers -------------------------------------------------------------------------


def is_owner_or_has_role(user: Any, owner_id: int | None, roles: Iterable[Role | str]) -> bool:
    """For rows with an owner: the owner, an admin, or a holder of ``roles`` may act on it."""
    if not user.is_authenticated:
        return False
    return (owner_id is not None and owner_id == user.pk) or has_role(user, roles)


# --- Pages ----------------------------------------------------------------------------------------


class RoleRequiredMixin(AccessMixin):
    """Class-based pages: anonymous users go to the login page, other roles get a 403 page."""

    allowed_roles: Iterable[Role] = ()

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not has_role(request.user, self.allowed_roles):
            raise PermissionDenied(
                "This page is for: " + ", ".join(sorted(r.value for r in self.allowed_roles))
            )
        return super().dispatch(request, *args, **kwargs)


def role_required(*roles: Role) -> Callable:
    """Function-based pages: same rule as :class:`RoleRequiredMixin`."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, roles):
                raise PermissionDenied("This page is for: " + ", ".join(sorted(roles)))
            return view(request, *args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)
        return wrapped

    return decorator


# --- API ------------------------------------------------------------------------------------------


def HasRole(*roles: Role, read_roles: Iterable[Role] = ()) -> type[BasePermission]:  # noqa: N802
    """A DRF permission class: ``roles`` may do anything, ``read_roles`` only safe methods."""
    write = frozenset(roles)
    read = frozenset(read_roles) | write

    class _HasRole(BasePermission):
        message = "Your role does not allow this. Allowed: " + ", ".join(sorted(write))

        def has_permission(self, request: Any, view: Any) -> bool:
            if not request.user or not request.user.is_authenticated:
                return False
            needed = read if request.method in ("GET", "HEAD", "OPTIONS") else write
            return has_role(request.user, needed)

    _HasRole.__name__ = "HasRole_" + "_".join(sorted(r.value for r in write))
    _HasRole.allowed_roles = write
    _HasRole.read_roles = read
    return _HasRole
