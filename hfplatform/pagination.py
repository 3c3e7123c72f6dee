"""One page of a list endpoint (``?limit=&offset=``), and its schema, for plain ``APIView`` lists."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response


def page_serializer(item: type[serializers.Serializer], name: str) -> type[serializers.Serializer]:
    """The schema of one page of ``item`` rows: ``{count, next, previous, results}`` named ``name``."""

    @extend_schema_serializer(component_name=name)
    class Page(serializers.Serializer):
        count = serializers.IntegerField()
        next = serializers.URLField(allow_null=True)
        previous = serializers.URLField(allow_null=True)
        results = item(many=True)

    return Page


def paginated_response(request: Request, view: Any, rows: Any,
                       item: type[serializers.Serializer]) -> Response:
    """``rows`` a page at a time, serialised with ``item``."""
    paginator = LimitOffsetPagination()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(item(page, many=True).data)
