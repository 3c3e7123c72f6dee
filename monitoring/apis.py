"""Monitoring API: start metric snapshots (ML engineers) and read them (ML engineers and auditors)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from generation.generator.options import DEFAULT_STEPS, MAX_CANDIDATES, MAX_EVALUATION_STEPS
from hfplatform.accounts.roles import ENGINEERS, READERS, HasRole
from hfplatform.views import LIST_LIMIT
from monitoring.models import MetricSnapshot
from monitoring.options import DEFAULT_SNAPSHOT_CANDIDATES
from monitoring.selectors import (
    generator_version_by_ref,
    reward_model_by_name,
    snapshot_get,
    snapshot_list,
    snapshot_status,
    version_lineage,
)
from monitoring.services import metric_snapshot_start


@extend_schema_serializer(component_name="MetricSnapshotSummary")
class SnapshotSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    generator_version = serializers.CharField(source="generator_version.name")
    reward_model = serializers.CharField(source="reward_model.name", allow_null=True, default=None)
    candidates = serializers.IntegerField()
    steps = serializers.IntegerField()
    seed = serializers.IntegerField()
    status = serializers.SerializerMethodField()
    error = serializers.CharField()
    job = serializers.IntegerField(source="job_id", allow_null=True)
    started_by = serializers.CharField(source="started_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    alerts = serializers.JSONField()

    def get_status(self, snapshot: MetricSnapshot) -> str:
        return str(snapshot_status(snapshot))


@extend_schema_serializer(component_name="MetricSnapshot")
class SnapshotSerializer(SnapshotSummarySerializer):
    figures = serializers.JSONField(help_text="metric -> {name, value, n, extractor, unavailable, interval}")
    human = serializers.JSONField(help_text="review results of the version's headshots")
    fairness = serializers.JSONField(help_text="attribute -> metric -> group report")
    notes = serializers.JSONField()
    lineage = serializers.SerializerMethodField()

    def get_lineage(self, snapshot: MetricSnapshot) -> dict[str, Any]:
        return version_lineage(snapshot.generator_version)


class SnapshotListApi(APIView):
    """Start a metric snapshot of a generator version (a job), or list snapshots newest first."""

    permission_classes = [HasRole(*ENGINEERS, read_roles=READERS)]

    @extend_schema_serializer(component_name="MetricSnapshotRequest")
    class InputSerializer(serializers.Serializer):
        generator_version = serializers.CharField(help_text="Version name (or id).")
        reward_model = serializers.CharField(required=False, allow_blank=True, allow_null=True,
                                             help_text="Reward model name: adds the mean reward score.")
        candidates = serializers.IntegerField(default=DEFAULT_SNAPSHOT_CANDIDATES, min_value=1,
                                              max_value=MAX_CANDIDATES)
        steps = serializers.IntegerField(default=DEFAULT_STEPS, min_value=1, max_value=MAX_EVALUATION_STEPS)
        seed = serializers.IntegerField(default=0, min_value=0)

    @extend_schema(responses={200: SnapshotSummarySerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(SnapshotSummarySerializer(snapshot_list()[:LIST_LIMIT], many=True).data)

    @extend_schema(request=InputSerializer, responses={202: SnapshotSummarySerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        snapshot = metric_snapshot_start(
            generator_version=generator_version_by_ref(values.pop("generator_version")),
            reward_model=reward_model_by_name(values.pop("reward_model", None)),
            started_by=request.user, **values)
        return Response(SnapshotSummarySerializer(snapshot).data, status=status.HTTP_202_ACCEPTED)


class SnapshotDetailApi(APIView):
    """One snapshot: figures with n and intervals, human results, fairness, alerts and lineage."""

    permission_classes = [HasRole(*ENGINEERS, read_roles=READERS)]

    @extend_schema(responses={200: SnapshotSerializer})
    def get(self, request: Request, snapshot_id: int) -> Response:
        return Response(SnapshotSerializer(snapshot_get(snapshot_id=snapshot_id)).data)
