"""One page of a list endpoint (``?limit=&offset=``), and its schema, for plain ``APIView`` lists.

``PagePagination`` is DRF's limit/offset pagination, strict: a ``limit`` or ``offset`` that is not a
whole number in range is a 400 naming the parameter (DRF's own silently falls back to the defaults),
and the schema says the ranges."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response

from hfplatform import json_fields

MAX_LIMIT = 1000


class PagePagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT

    def _whole_number(self, request: Request, name: str, low: int, high: int | None) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            upper = f" to {high}" if high is not None else " or more"
            raise ValidationError({name: [f"A whole number from {low}{upper}."]})
        return value

    def get_limit(self, request: Request) -> int | None:
        limit = self._whole_number(request, self.limit_query_param, 1, self.max_limit)
        return self.default_limit if limit is None else limit

    def get_offset(self, request: Request) -> int:
        return self._whole_number(request, self.offset_query_param, 0, None) or 0

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_limit)
            elif parameter["name"] == self.offset_query_param:
                parameter["schema"].update(minimum=0)
        return parameters


def page_parameters() -> list[Any]:
    """``PagePagination``'s ``limit`` and ``offset``, for ``extend_schema(parameters=...)`` of a plain
    ``APIView`` list (one that calls ``paginated_response``)."""
    from drf_spectacular.utils import OpenApiParameter

    return [OpenApiParameter(p["name"], p["schema"], description=p["description"])
            for p in PagePagination().get_schema_operation_parameters(None)]


def page_serializer(item: type[serializers.Serializer], name: str) -> type[serializers.Serializer]:
    """The schema of one page of ``item`` rows: ``{count, next, previous, results}`` named ``name``."""

    @extend_schema_serializer(component_name=name)
    class Page(serializers.Serializer):
        count = json_fields.IntegerField()
        next = serializers.URLField(allow_null=True)
        previous = serializers.URLField(allow_null=True)
        results = item(many=True)

    return Page


def paginated_response(request: Request, view: Any, rows: Any,
                       item: type[serializers.Serializer]) -> Response:
    """``rows`` a page at a time, serialised with ``item``."""
    paginator = PagePagination()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(item(page, many=True).data)
