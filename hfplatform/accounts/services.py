"""Writes for accounts: users with roles, API tokens."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.db import transaction
from rest_framework.authtoken.models import Token

from hfplatform.accounts.roles import Role, user_roles
from hfplatform.accounts.selectors import SIMULATED_GROUP
from hfplatform.audit.services import audit_record
from hfplatform.errors import ApplicationError, Conflict

User = get_user_model()


def password_generate() -> str:
    """A random password that passes the validators (shown once, never stored in clear)."""
    return secrets.token_urlsafe(12)


@transaction.atomic
def user_create(
    *, username: str, role: Role | str, password: str | None = None, email: str = "",
    simulated: bool = False,
) -> tuple[AbstractUser, str]:
    """Create a user holding ``role``. Returns the user and the password (generated if not given).

    ``simulated``: an account driven by ``manage.py simulate_reviewers``, not a person: it joins the
    ``simulated`` group (reports can leave it out) and gets no usable password (nobody logs in as
    it); the password returned is then empty."""
    try:
        role = Role(role)
    except ValueError:
        raise ApplicationError(
            f"Unknown role {role!r}; choose one of: " + ", ".join(r.value for r in Role),
            code="unknown_role",
        ) from None
    username = username.strip()
    if not username:
        raise ApplicationError("A username is required.", code="username_required")
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(f"A user named {username!r} already exists.", code="user_exists")
    password = "" if simulated else (password or password_generate())
    user = User.objects.create_user(username=username, email=email, password=password or None)
    if simulated:
        user.groups.add(Group.objects.get_or_create(name=SIMULATED_GROUP)[0])
    if role is Role.ADMIN:
        user.is_staff = True
        user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    else:
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    return user, password


@transaction.atomic
def user_set_role(*, user: AbstractUser, role: Role | str) -> None:
    """Give ``user`` exactly one role (replacing the others)."""
    role = Role(role)
    before = sorted(user_roles(user))
    user.groups.remove(*Group.objects.filter(name__in=[r.value for r in Role]))
    user.is_staff = user.is_superuser = role is Role.ADMIN
    user.save(update_fields=["is_staff", "is_superuser"])
    if role is not Role.ADMIN:
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    if hasattr(user, "_hf_roles"):
        del user._hf_roles
    summary = f"{user.get_username()}: {', '.join(before) or 'no role'} → {role.value}"
    audit_record(action="role.change", target=user, summary=summary,
                 detail={"before": before, "after": role.value})


def token_for(*, user: AbstractUser) -> str:
    """The user's API token (created on first use)."""
    token, _ = Token.objects.get_or_create(user=user)
    return token.key
