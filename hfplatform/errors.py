"""One application error and one DRF exception handler for the whole platform.

Every API error has the same JSON shape::

    {"detail": "what went wrong, in words", "code": "machine_readable", "fields": {...}}

``fields`` appears for validation errors (field name -> list of messages).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A rule of the domain was broken by the request: shown to the user as a 4xx with a reason."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(
        self, message: str, *, code: str | None = None, status_code: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code
        self.extra = extra or {}


def add_error_to_form(form: Any, exc: ApplicationError) -> None:
    """Show a service's refusal on the form that made the request: on its fields when the error
    names them (``extra["fields"]``), else as a form-wide error."""
    fields = exc.extra.get("fields", {})
    for field, problems in fields.items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)
    if not fields:
        form.add_error(None, exc.message)


class NotFound(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"


class Conflict(ApplicationError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


def _flatten(detail: Any) -> str:
    if isinstance(detail, dict):
        parts = [f"{k}: {_flatten(v)}" if k != "non_field_errors" else _flatten(v)
                 for k, v in detail.items()]
        return "; ".join(parts)
    if isinstance(detail, list):
        return " ".join(_flatten(d) for d in detail)
    return str(detail)


#: The largest id or count the databases store (a signed 64-bit integer).
MAX_ID = 2**63 - 1


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, OverflowError):  # SQLite refuses integers beyond 64 bits: the request's fault
        exc = ApplicationError(f"A number in the request is out of range (ids are at most {MAX_ID}).",
                               code="out_of_range")
    if isinstance(exc, ApplicationError):
        body = {"detail": exc.message, "code": exc.code}
        body.update(exc.extra)
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    response = exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's 500 handling takes over
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {"detail": _flatten(fields), "code": "invalid", "fields": fields}
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {
            "detail": _flatten(exc.detail),
            "code": codes if isinstance(codes, str) else "error",
        }
    return response
