"""The auditor's page of the audit trail (filters, pages, CSV) and its API."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hfplatform import json_fields
from hfplatform.accounts.roles import AUDITORS, HasRole, role_required
from hfplatform.audit.selectors import audit_csv, audit_events
from hfplatform.audit.services import ACTIONS
from hfplatform.errors import ApplicationError
from hfplatform.pagination import page_parameters, page_serializer, paginated_response
from hfplatform.queries import validated_query

FILTERS = ("action", "actor", "target", "since", "until")
PER_PAGE = 50


def _filters(query: dict) -> dict[str, str]:
    return {key: str(query.get(key, "")).strip()[:100] for key in FILTERS}


@role_required(*AUDITORS)
def audit_page(request: HttpRequest) -> HttpResponse:
    filters = _filters(request.GET)
    error = ""
    try:
        rows = audit_events(**filters)
    except ApplicationError as exc:
        error, rows = exc.message, audit_events()
    page = Paginator(rows.select_related(None), PER_PAGE).get_page(request.GET.get("page"))
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v)
    return render(request, "audit/events.html", {
        "page": page, "filters": filters, "actions": ACTIONS, "error": error, "query": query},
        status=400 if error else 200)


@role_required(*AUDITORS)
def audit_export(request: HttpRequest) -> HttpResponse:
    rows = audit_events(**_filters(request.GET))
    response = HttpResponse(audit_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    return response


class AuditEventSerializer(serializers.Serializer):
    id = json_fields.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_name", help_text="empty: the system")
    action = serializers.ChoiceField(list(ACTIONS))
    target = serializers.CharField()
    target_id = serializers.CharField()
    summary = serializers.CharField()
    detail = serializers.JSONField()
    address = serializers.CharField()


AuditEventPageSerializer = page_serializer(AuditEventSerializer, "PaginatedAuditEventList")


@extend_schema_serializer(component_name="AuditEventFilter")
class AuditFilterSerializer(serializers.Serializer):
    action = serializers.ChoiceField(
        sorted({*ACTIONS, *(name.split(".")[0] for name in ACTIONS)}), required=False,
        help_text="An action, or the part before its dot for all of them (e.g. campaign).")
    actor = serializers.CharField(required=False, max_length=150, help_text="Username; system for none.")
    target = serializers.CharField(required=False, max_length=100,
                                   help_text="Words of the target or its key.")
    since = serializers.DateField(required=False, help_text="First day (inclusive, server time zone).")
    until = serializers.DateField(required=False, help_text="Last day (inclusive, server time zone).")


class AuditEventListApi(APIView):
    """The audit trail, newest first (auditors and admins; read only: rows are never changed)."""

    permission_classes = [HasRole(*AUDITORS)]

    @extend_schema(operation_id="audit_list",
                   parameters=[AuditFilterSerializer, *page_parameters()],
                   responses={200: AuditEventPageSerializer})
    def get(self, request: Request) -> Response:
        rows = audit_events(**validated_query(request, AuditFilterSerializer))
        return paginated_response(request, self, rows, AuditEventSerializer)
