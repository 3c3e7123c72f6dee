"""The OpenAPI schema documents every status code an operation can answer, not only its success.

Every API error has one JSON shape (``hfplatform.errors``), so the schema names it once, as the
``Error`` component, and adds the error responses an operation can give, by rule:

* 400 when the operation takes a request body or query parameters (a field is missing, malformed or
  breaks a rule; ``fields`` names the fields);
* 401 and 403 unless anyone may call it (no or a bad token; a role that may not);
* 404 when its path names something (an id, a name) that may not exist;
* 413 when it takes a request body (too large, too many files);
* 429 when a per-user write rate applies to it (``throttle_scope`` on a write);

plus what a view declares in ``error_statuses`` (e.g. ``(404, 409)`` when its body names objects that
may not exist or that may be in the wrong state), either one tuple for all its methods or a dict
from method to tuple.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from hfplatform.throttles import SAFE_METHODS

#: DRF refuses text with NUL characters; a field that trims white space and refuses "" also needs
#: some character that Python's ``str.strip`` keeps (white space to it is the regex class ``\s`` plus
#: the separators U+001C to U+001F, which other regex engines keep).
NO_NUL = r"^[^\x00]*$"
NO_NUL_NOT_ONLY_WHITE_SPACE = r"^[^\x00]*[^\s\x1c-\x1f\x00][^\x00]*$"

ERROR_DESCRIPTIONS = {
    400: "The request is malformed or breaks a rule: `detail` says why, `fields` names the fields.",
    401: "No credentials, or credentials that are not valid.",
    403: "Signed in, but this role may not do this.",
    404: "What the request names does not exist (or is not visible to this user).",
    409: "The request conflicts with the current state of what it names (e.g. closed, already done).",
    413: "The request body is too large, or carries too many files.",
    429: "Too many requests: wait the seconds in `Retry-After`.",
}


class ErrorSerializer(serializers.Serializer):
    """The JSON body of every error the API answers."""

    detail = serializers.CharField(help_text="What went wrong, in words.")
    code = serializers.CharField(help_text="A machine-readable code, e.g. invalid, not_found, throttled.")
    fields = serializers.DictField(
        child=serializers.JSONField(), required=False,
        help_text="Field name -> list of messages (validation errors only); a list or object field's "
                  "messages are nested by index or key.")


class PlatformAutoSchema(AutoSchema):
    """drf-spectacular's schema, plus the error responses the platform's exception handler gives."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        error_ref = self.resolve_serializer(ErrorSerializer, "response").ref
        responses = operation.setdefault("responses", {})
        for status in sorted(self.error_statuses(operation)):
            response = responses.setdefault(str(status), {
                "description": ERROR_DESCRIPTIONS[status],
                "content": {"application/json": {"schema": error_ref}},
            })
            if status == 429:
                response.setdefault("headers", {"Retry-After": {
                    "schema": {"type": "integer", "minimum": 1},
                    "description": "Seconds to wait before the next try."}})
        return operation

    def _get_serializer_field_meta(self, field: Any, direction: str) -> dict[str, Any]:
        """Text in a request: no NUL character; a field that refuses "" says ``minLength: 1`` (a
        response may hold ""), and one that also trims white space asks for a character that is not
        white space. A field with its own pattern keeps it."""
        meta = super()._get_serializer_field_meta(field, direction)
        if direction != "request" or not isinstance(field, serializers.CharField) or field.read_only:
            return meta
        if not field.allow_blank:
            meta.setdefault("minLength", 1)
        if not any(isinstance(v, RegexValidator) for v in field.validators):
            needs_text = not field.allow_blank and field.trim_whitespace
            meta.setdefault("pattern", NO_NUL_NOT_ONLY_WHITE_SPACE if needs_text else NO_NUL)
        return meta

    def error_statuses(self, operation: dict[str, Any]) -> set[int]:
        parameters = operation.get("parameters", [])
        has_body = "requestBody" in operation
        statuses: set[int] = set()
        if has_body or any(p.get("in") == "query" for p in parameters):
            statuses.add(400)
        if not any(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            statuses |= {401, 403}
        if any(p.get("in") == "path" for p in parameters):
            statuses.add(404)
        if has_body:
            statuses.add(413)
        if getattr(self.view, "throttle_scope", None) and self.method not in SAFE_METHODS:
            statuses.add(429)
        declared = getattr(self.view, "error_statuses", ())
        if isinstance(declared, dict):
            declared = declared.get(self.method, ())
        statuses |= set(declared)
        return statuses
