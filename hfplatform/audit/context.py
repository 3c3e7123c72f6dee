"""Who and where a request comes from, for audit rows written deep inside services.

``AuditContextMiddleware`` keeps the current request in a context variable for the length of the
request; ``audit_actor()`` and ``audit_address()`` read it. Outside a request (a huey job, a
command) there is none: the row then says "system" unless the service names the actor.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

_REQUEST: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _REQUEST.set(request)
        try:
            return self.get_response(request)
        finally:
            _REQUEST.reset(token)


def audit_actor() -> Any:
    """The signed-in user of the current request (token or session), or None."""
    request = _REQUEST.get()
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def audit_address() -> str:
    request = _REQUEST.get()
    return (request.META.get("REMOTE_ADDR") or "")[:64] if request is not None else ""
