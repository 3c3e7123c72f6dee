"""Roles and the permission helpers every page and endpoint uses.

A role is a Django group (created by a data migration); "admin" is the staff flag. Photographers
are reviewers with expert weight, so every reviewer page admits them too. Admins pass every check.

Pages (and the role-checked image files the API hands out) accept a browser session or, when the
request carries ``Authorization: Token <key>``, DRF's token: a bad token is a JSON 401, a role that
is not allowed a JSON 403 (``hfplatform.views`` answers JSON to every token request).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from enum import StrEnum
from functools import wraps
from typing import Any

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed
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
#: Who may read the audit trail (admins too, as everywhere).
AUDITORS: frozenset[Role] = frozenset({Role.AUDITOR})


def user_roles(user: Any) -> frozenset[Role]:
    """The roles a user holds (cached on the user object for the request)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_hf_roles", None)
    if cached is not None:
        return cached
    return roles_remember(user, set(user.groups.values_list("name", flat=True)))


def roles_remember(user: Any, group_names: Iterable[str]) -> frozenset[Role]:
    """Cache on ``user``, for the request, the roles that its groups ``group_names`` and staff flag give."""
    names = set(group_names)
    roles = {role for role in GROUP_ROLES if role.value in names}
    if user.is_staff or user.is_superuser:
        roles.add(Role.ADMIN)
    user._hf_roles = frozenset(roles)
    return user._hf_roles


@functools.cache
def _token_sql() -> str:
    """The token, its user and one EXISTS per role group, in one statement written as SQL (through
    the ORM, compiling four subqueries cost more than running them)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    user = get_user_model()
    memberships = user.groups.through._meta.db_table
    columns = ", ".join(f"u.{field.column}" for field in user._meta.concrete_fields)
    holds = ", ".join(
        f"EXISTS (SELECT 1 FROM {memberships} m JOIN {Group._meta.db_table} g ON g.id = m.group_id "
        f"WHERE m.user_id = u.id AND g.name = %(role_{role.value})s) AS holds_{role.value}"
        for role in GROUP_ROLES)
    return (f"SELECT {columns}, t.created AS token_created, {holds} FROM {Token._meta.db_table} t "
            f"JOIN {user._meta.db_table} u ON u.id = t.user_id WHERE t.key = %(key)s")


class RoleTokenAuthentication(TokenAuthentication):
    """DRF's token sign-in that reads the user's roles in the same statement (one EXISTS per role
    group), so the role checks of a request cost no second query. Same answers as DRF's for an
    unknown token or an inactive user."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        from django.contrib.auth import get_user_model
        from django.utils.translation import gettext as _

        params = {"key": key, **{f"role_{role.value}": role.value for role in GROUP_ROLES}}
        found = list(get_user_model().objects.raw(_token_sql(), params))
        if not found:
            raise AuthenticationFailed(_("Invalid token."))
        user = found[0]
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        roles_remember(user, [r.value for r in GROUP_ROLES if getattr(user, f"holds_{r.value}")])
        return user, self.get_model()(key=key, user=user, created=user.token_created)


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


def token_sent(request: HttpRequest) -> bool:
    """True when the request carries ``Authorization: Token …`` (a script, not a browser)."""
    words = request.META.get("HTTP_AUTHORIZATION", "").split()
    return bool(words) and words[0].lower() == TokenAuthentication.keyword.lower()


def token_authenticate(request: HttpRequest) -> HttpResponse | None:
    """Pages and files with a token: the API's token sign-in (``RoleTokenAuthentication``) sets
    ``request.user`` when the request carries ``Authorization: Token <key>``. Returns the JSON 401 to
    answer when that token is missing, unknown or its user inactive; None otherwise (no token: the session
    decides, as before)."""
    if not token_sent(request):
        return None
    authentication = RoleTokenAuthentication()
    try:
        found = authentication.authenticate(request)
    except AuthenticationFailed as exc:
        response = JsonResponse({"detail": str(exc.detail), "code": exc.get_codes()}, status=401)
        response["WWW-Authenticate"] = authentication.authenticate_header(request)
        return response
    if found is not None:
        request.user = found[0]
    return None


class RoleRequiredMixin(AccessMixin):
    """Class-based pages: anonymous users go to the login page, other roles get a 403 page."""

    allowed_roles: Iterable[Role] = ()

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refused = token_authenticate(request)
        if refused is not None:
            return refused
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not has_role(request.user, self.allowed_roles):
            raise PermissionDenied(
                "This page is for: " + ", ".join(sorted(r.value for r in self.allowed_roles))
            )
        return super().dispatch(request, *args, **kwargs)


def _signed_in(view: Callable, roles: frozenset[Role] | None) -> Callable:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refused = token_authenticate(request)
        if refused is not None:
            return refused
        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        if roles is not None and not has_role(request.user, roles):
            raise PermissionDenied("This page is for: " + ", ".join(sorted(roles)))
        return view(request, *args, **kwargs)

    return wrapped


def role_required(*roles: Role) -> Callable:
    """Function-based pages: same rule as :class:`RoleRequiredMixin` (a session or a token)."""

    def decorator(view: Callable) -> Callable:
        wrapped = _signed_in(view, frozenset(roles))
        wrapped.allowed_roles = frozenset(roles)
        return wrapped

    return decorator


def signed_in_required(view: Callable) -> Callable:
    """Function-based pages for any signed-in person (a session or a token), whatever their role: the
    view checks the object itself (e.g. only the holder of a review assignment sees its images).
    Django's ``login_required`` with the token rule of :func:`role_required`."""
    return _signed_in(view, None)


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
