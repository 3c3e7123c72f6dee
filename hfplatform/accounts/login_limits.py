"""Sign-in limits against password guessing, on the login page and the token API alike.

Failed sign-ins are counted per account (the username tried) and per address over
``LOGIN_WINDOW_SECONDS``. After ``LOGIN_DELAY_AFTER`` failures an account must wait before the next
try, doubling each time (1 s, 2 s, 4 s, …); after ``LOGIN_LOCKOUT_AFTER`` failures it is locked for
``LOGIN_LOCKOUT_SECONDS`` from the last failure, whatever the password. An address gets the same
treatment at ``LOGIN_ADDRESS_FACTOR`` times the account's numbers (offices share addresses). A
refused try is a 429 with ``Retry-After``; it is not counted again (waiting clients do not dig
themselves deeper), and a successful sign-in clears the account's failures. The rows live in the
database, so every web process sees the same counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from hfplatform.accounts.models import LoginFailure


def client_address(request: HttpRequest) -> str:
    """The address a request came from (``REMOTE_ADDR``; behind a proxy, the proxy must set it)."""
    return (request.META.get("REMOTE_ADDR") or "unknown")[:64]


def _wait(failures: list[datetime], delay_after: int, lockout_after: int, now: datetime) -> int:
    """Seconds still to wait given the times of recent failures (newest first); 0: may try now."""
    if len(failures) < delay_after:
        return 0
    last = failures[0]
    if len(failures) >= lockout_after:
        until = last + timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    else:
        until = last + timedelta(seconds=2 ** (len(failures) - delay_after))
    return max(0, int((until - now).total_seconds() + 0.999))


def login_wait(*, username: str, address: str, now: datetime | None = None) -> int:
    """Seconds before this account, from this address, may try to sign in again (0: now)."""
    if not settings.LOGIN_LIMITS:
        return 0
    now = now or timezone.now()
    since = now - timedelta(seconds=settings.LOGIN_WINDOW_SECONDS)
    factor = settings.LOGIN_ADDRESS_FACTOR
    recent = LoginFailure.objects.filter(created_at__gte=since).order_by("-created_at")
    by_account = list(recent.filter(username=username.strip().lower())
                      .values_list("created_at", flat=True)[:settings.LOGIN_LOCKOUT_AFTER])
    by_address = list(recent.filter(address=address)
                      .values_list("created_at", flat=True)[:settings.LOGIN_LOCKOUT_AFTER * factor])
    delay, lockout = settings.LOGIN_DELAY_AFTER, settings.LOGIN_LOCKOUT_AFTER
    return max(_wait(by_account, delay, lockout, now),
               _wait(by_address, delay * factor, lockout * factor, now))


def login_failed(*, username: str, address: str) -> None:
    LoginFailure.objects.create(username=username.strip().lower()[:150], address=address)


def login_succeeded(*, username: str) -> None:
    LoginFailure.objects.filter(username=username.strip().lower()).delete()


def wait_message(seconds: int) -> str:
    when = (f"{seconds} second{'s' if seconds != 1 else ''}" if seconds < 120
            else f"{round(seconds / 60)} minutes")
    return f"Too many failed sign-ins: try again in {when}."
