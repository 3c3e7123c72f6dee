"""Schemathesis hooks of the API contract run (``tests/hfplatform/test_api_contract.py``), loaded by
the ``st`` command through ``SCHEMATHESIS_HOOKS``.

Schemathesis' own ``positive_data_acceptance`` fails every 400 answer to a request that the schema
calls valid. Ours is narrower and replaces it: a schema-valid request may be refused for a rule of the
domain that no schema can state (a subject without consent, a campaign that selects no headshots, a
name that is taken), in the service's own words; it may never be refused for its shape, which is
what a DRF field's own messages ("A valid integer is required.", "This field may not be blank.") and
an unreadable body (``parse_error``) mean. So such a 400 to positive data is a contract failure: the
schema promised a shape the server refuses.
"""

from __future__ import annotations

import re
from functools import cache

import schemathesis

from tests.factories.classes import subclasses


@cache
def drf_shape_messages() -> re.Pattern:
    """Every error message of DRF's fields and serializers (and the validators DRF adds to text
    fields), as one pattern with the placeholders open."""
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_I18N=False)
    from django.core.validators import ProhibitNullCharactersValidator
    from rest_framework import fields, serializers
    from rest_framework.validators import ProhibitSurrogateCharactersValidator

    seen = subclasses(fields.Field)
    templates = {str(m) for cls in seen | {serializers.Serializer, serializers.ListSerializer}
                 for m in getattr(cls, "default_error_messages", {}).values()}
    templates |= {str(ProhibitNullCharactersValidator.message),
                  str(ProhibitSurrogateCharactersValidator.message)}
    alternatives = [re.sub(r"\\\{\w+\\\}", ".*", re.escape(t)) for t in templates]
    return re.compile("^(?:" + "|".join(sorted(alternatives)) + ")$", re.S)


def _messages(fields: object) -> list[str]:
    if isinstance(fields, dict):
        return [m for value in fields.values() for m in _messages(value)]
    if isinstance(fields, list):
        return [m for value in fields for m in _messages(value)]
    return [str(fields)]


@schemathesis.check
def positive_data_shape_accepted(ctx, response, case) -> bool | None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    try:
        body = response.json()
    except ValueError:
        raise AssertionError("A 400 without the JSON error body") from None
    shape = [m for m in _messages(body.get("fields", {})) if drf_shape_messages().match(m)]
    if body.get("code") == "parse_error" or shape:
        raise AssertionError(f"A schema-valid request was refused for its shape: {body}")
    return None
