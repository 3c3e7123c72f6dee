"""Query parameters read the way the schema describes them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet
from rest_framework import serializers
from rest_framework.request import Request

Row = TypeVar("Row", bound=Model)


def validated_query(request: Request, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
    """The query parameters checked by ``serializer_class`` (its fields are the documented parameters).

    Strict, as the schema says: an empty value is a value (a 400 where the field refuses blank or is a
    choice), not an absent parameter as DRF's form handling would make it; a repeated parameter
    counts once, with its last value; parameters the serializer does not name are ignored."""
    serializer = serializer_class(data=request.query_params.dict(), context={"query": True})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


#: Longest search text a list takes, and the most words of it that count.
SEARCH_MAX_LENGTH = 100
SEARCH_MAX_WORDS = 8


class SearchQuerySerializer(serializers.Serializer):
    """``search``: words that must all appear (any case) in a row's searchable text."""

    search = serializers.CharField(required=False, max_length=SEARCH_MAX_LENGTH,
                                   help_text="Words that must all appear (any case); a number also "
                                             "matches the id.")


def text_search(rows: QuerySet[Row], text: str | None, fields: Sequence[str]) -> QuerySet[Row]:
    """``rows`` where every word of ``text`` appears (case-insensitive) in one of ``fields``; a word
    that is a number also matches the primary key. No text, or only white space: all rows."""
    for word in (text or "").split()[:SEARCH_MAX_WORDS]:
        match = Q()
        for field in fields:
            match |= Q(**{f"{field}__icontains": word})
        if word.isascii() and word.isdigit() and len(word) < 19:
            match |= Q(pk=int(word))
        rows = rows.filter(match)
    return rows
