"""Query parameters read the way the schema describes them."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request


def validated_query(request: Request, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
    """The query parameters checked by ``serializer_class`` (its fields are the documented parameters).

    Strict, as the schema says: an empty value is a value (a 400 where the field refuses blank or is a
    choice), not an absent parameter as DRF's form handling would make it; a repeated parameter
    counts once, with its last value; parameters the serializer does not name are ignored."""
    serializer = serializer_class(data=request.query_params.dict(), context={"query": True})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
