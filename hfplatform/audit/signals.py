"""Sign-ins and failed sign-ins from Django's auth signals (login page, admin, token API)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from hfplatform.audit.services import audit_record


def _address(request: Any) -> str | None:
    return (request.META.get("REMOTE_ADDR") or "")[:64] if request is not None else None


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(action="login", target=user, actor=user, address=_address(request),
                 summary=f"{user.get_username()} signed in")


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))[:150]
    audit_record(action="login_failed", target=f"account {username!r}", address=_address(request),
                 summary=f"failed sign-in as {username!r}", detail={"username": username})
