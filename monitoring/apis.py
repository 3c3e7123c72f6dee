"""Monitoring API: start metric snapshots (ML engineers) and read them (ML engineers and auditors); the
promotion gate of generator versions (ML engineers evaluate and promote, only admins override a
refusal, auditors read the decisions)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from generation.generator.options import DEFAULT_STEPS, MAX_CANDIDATES, MAX_EVALUATION_STEPS
from generation.generator.selectors import generator_version_get
from hfplatform import json_fields
from hfplatform.accounts.roles import ENGINEERS, READERS, HasRole
from hfplatform.views import LIST_LIMIT
from monitoring.models import MetricSnapshot
from monitoring.options import DEFAULT_COMPARISON_PEOPLE, DEFAULT_GATE_CANDIDATES, DEFAULT_SNAPSHOT_CANDIDATES
from monitoring.promotion import generator_version_promote, promotion_gate_start
from monitoring.selectors import (
    generator_lineage_chain,
    generator_version_by_ref,
    judge_campaign_by_id,
    promotion_decision_list,
    reward_model_by_name,
    snapshot_get,
    snapshot_list,
    snapshot_status,
    version_lineage,
)
from monitoring.services import metric_snapshot_start
from monitoring.version_comparison import PEOPLE, version_comparison_start
from review.stage_comparison import CANDIDATES


@extend_schema_serializer(component_name="MetricSnapshotSummary")
class SnapshotSummarySerializer(serializers.Serializer):
    id = json_fields.IntegerField()
    generator_version = serializers.CharField(source="generator_version.name")
    reward_model = serializers.CharField(source="reward_model.name", allow_null=True, default=None)
    candidates = json_fields.IntegerField()
    steps = json_fields.IntegerField()
    seed = json_fields.IntegerField()
    stages = json_fields.BooleanField(help_text="Whether the default studio stages were measured too.")
    status = serializers.SerializerMethodField()
    error = serializers.CharField()
    job = json_fields.IntegerField(source="job_id", allow_null=True)
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
    studio = serializers.JSONField(help_text="The default studio stages on the generated headshots: "
                                             "identity before and after, ITA shift by skin-tone group "
                                             "({}: not measured).")
    notes = serializers.JSONField()
    lineage = serializers.SerializerMethodField()

    def get_lineage(self, snapshot: MetricSnapshot) -> dict[str, Any]:
        return version_lineage(snapshot.generator_version)


class SnapshotListApi(APIView):
    """Start a metric snapshot of a generator version (a job), or list snapshots newest first."""

    error_statuses = {"POST": (404, 409)}  # the version or reward model named

    throttle_scope = "jobs"  # per-user write rate (hfplatform/throttles.py)

    permission_classes = [HasRole(*ENGINEERS, read_roles=READERS)]

    @extend_schema_serializer(component_name="MetricSnapshotRequest")
    class InputSerializer(serializers.Serializer):
        generator_version = serializers.CharField(help_text="Version name (or id).")
        reward_model = serializers.CharField(required=False, allow_blank=True, allow_null=True,
                                             help_text="Reward model name: adds the mean reward score.")
        candidates = json_fields.IntegerField(default=DEFAULT_SNAPSHOT_CANDIDATES, min_value=1,
                                              max_value=MAX_CANDIDATES)
        steps = json_fields.IntegerField(default=DEFAULT_STEPS, min_value=1, max_value=MAX_EVALUATION_STEPS)
        seed = json_fields.IntegerField(default=0, min_value=0)
        stages = json_fields.BooleanField(default=True, help_text="Also measure the default studio stages on "
                                                                  "the generated headshots.")

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


# --- The promotion gate ---------------------------------------------------------------------------


@extend_schema_serializer(component_name="PromotionDecision")
class PromotionDecisionSerializer(serializers.Serializer):
    id = json_fields.IntegerField()
    candidate = serializers.CharField(source="candidate.name")
    baseline = serializers.CharField(source="baseline.name", help_text="The version active at evaluation.")
    judge = serializers.CharField(source="judge_name")
    judge_campaign = json_fields.IntegerField(source="judge_campaign_id", allow_null=True,
                                              help_text="People judged: the version comparison campaign.")
    judge_dataset = serializers.CharField()
    judge_fingerprint = serializers.CharField()
    training_reward_model = serializers.CharField()
    settings = serializers.JSONField(source="gate_settings",
                                     help_text="people, subjects, candidates, seed, steps, guidance, "
                                               "tolerances")
    figures = serializers.JSONField(help_text="name -> {label, kind, baseline, candidate, difference, "
                                              "interval (95% paired bootstrap), n, tolerance, verdict}")
    per_person = serializers.JSONField(help_text="subject, seeds, both versions' image paths")
    outcome = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())
    notes = serializers.ListField(child=serializers.CharField())
    promoted = json_fields.BooleanField()
    promoted_at = serializers.DateTimeField(allow_null=True)
    override_reason = serializers.CharField()
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    evaluated_by = serializers.CharField(source="evaluated_by.username", allow_null=True, default=None)
    job = json_fields.IntegerField(source="job_id", allow_null=True)
    page = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_page(self, decision: Any) -> str:
        return f"/monitoring/promotions/{decision.pk}/"


@extend_schema_serializer(component_name="PromotionEvaluationJob")
class EvaluationJobSerializer(serializers.Serializer):
    job = json_fields.IntegerField(source="pk")
    status = serializers.CharField()
    title = serializers.CharField()
    url = serializers.SerializerMethodField()

    def get_url(self, job: Any) -> str:
        return f"/api/jobs/{job.pk}/"


class GeneratorEvaluationApi(APIView):
    """Run the promotion gate on a candidate version: it and the active version on the same held-out
    people with the same seeds, judged by a reward model the candidate was not trained against or by
    people, the answers of a version comparison campaign (a job; its result names the stored
    decision)."""

    error_statuses = (404, 409)  # the judge campaign; active already, retired, too few human answers

    throttle_scope = "jobs"  # per-user write rate (hfplatform/throttles.py)

    permission_classes = [HasRole(*ENGINEERS)]

    @extend_schema_serializer(component_name="PromotionEvaluationRequest")
    class InputSerializer(serializers.Serializer):
        judge = serializers.CharField(required=False, allow_blank=True, allow_null=True,
                                      help_text="Reward model name (or judge_campaign).")
        judge_campaign = json_fields.IntegerField(
            required=False, allow_null=True, min_value=1,
            help_text="People judge: a version comparison campaign of this version against the active one "
                      "with enough answers (instead of judge).")
        people = json_fields.IntegerField(required=False, allow_null=True, min_value=1,
                                          help_text="Use at most N of the shared held-out people.")
        seed = json_fields.IntegerField(default=0, min_value=0)
        candidates = json_fields.IntegerField(default=DEFAULT_GATE_CANDIDATES, min_value=1,
                                              max_value=MAX_CANDIDATES)
        steps = json_fields.IntegerField(default=DEFAULT_STEPS, min_value=1, max_value=MAX_EVALUATION_STEPS)

    @extend_schema(request=InputSerializer, responses={202: EvaluationJobSerializer})
    def post(self, request: Request, name: str) -> Response:
        candidate = generator_version_get(name=name)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        job = promotion_gate_start(candidate=candidate, judge=reward_model_by_name(values.pop("judge", None)),
                                   judge_campaign=judge_campaign_by_id(values.pop("judge_campaign", None)),
                                   started_by=request.user, **values)
        return Response(EvaluationJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class GeneratorComparisonCampaignApi(APIView):
    """Ask people: a pairwise campaign of this candidate version against the active one on held-out
    people (the same candidates, same seeds, made by both). Generation runs as a job; its result names
    the campaign, whose answers can then judge the promotion gate (``judge_campaign``)."""

    error_statuses = (404, 409)  # the version named; active already, retired, nothing active

    throttle_scope = "jobs"  # per-user write rate (hfplatform/throttles.py)

    permission_classes = [HasRole(*ENGINEERS)]

    @extend_schema_serializer(component_name="VersionComparisonRequest")
    class InputSerializer(serializers.Serializer):
        people = json_fields.IntegerField(default=DEFAULT_COMPARISON_PEOPLE, min_value=PEOPLE.start,
                                          max_value=PEOPLE.stop - 1, help_text="Held-out people")
        candidates = json_fields.IntegerField(default=2, min_value=CANDIDATES.start,
                                              max_value=CANDIDATES.stop - 1, help_text="Per person")
        seed = json_fields.IntegerField(default=0, min_value=0)
        stages = serializers.JSONField(
            required=False, allow_null=True,
            help_text="Studio stages for both versions, as for a generation job; default (left out or null): "
                      "the configured set.")

    @extend_schema(request=InputSerializer, responses={202: EvaluationJobSerializer})
    def post(self, request: Request, name: str) -> Response:
        candidate = generator_version_get(name=name)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = version_comparison_start(started_by=request.user, candidate=candidate, **data.validated_data)
        return Response(EvaluationJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class GeneratorDecisionListApi(APIView):
    """Every promotion-gate decision of a version, newest first, with its figures and reasons."""

    permission_classes = [HasRole(*ENGINEERS, read_roles=READERS)]

    @extend_schema(responses={200: PromotionDecisionSerializer(many=True)})
    def get(self, request: Request, name: str) -> Response:
        rows = promotion_decision_list(candidate=generator_version_get(name=name))[:LIST_LIMIT]
        return Response(PromotionDecisionSerializer(rows, many=True).data)


class GeneratorPromoteApi(APIView):
    """Make a candidate the active generator when its latest gate decision against the current active
    version passed; 409 with the reasons otherwise. An admin may override a refusal with a reason."""

    error_statuses = (409,)  # never evaluated, refused by the gate

    permission_classes = [HasRole(*ENGINEERS)]

    @extend_schema_serializer(component_name="PromotionRequest")
    class InputSerializer(serializers.Serializer):
        override_reason = serializers.CharField(required=False, allow_blank=True, default="",
                                                help_text="Admins only: promote a refused candidate anyway.")

    @extend_schema(request=InputSerializer, responses={200: PromotionDecisionSerializer})
    def post(self, request: Request, name: str) -> Response:
        candidate = generator_version_get(name=name)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decision = generator_version_promote(candidate=candidate, by=request.user,
                                             override_reason=data.validated_data["override_reason"])
        return Response(PromotionDecisionSerializer(decision).data)


class GeneratorLineageApi(APIView):
    """A version's whole chain, oldest ancestor first: for each version, the campaigns whose answers
    became the preference dataset, the reward model, the adapter (method and settings) or plain
    training, the version, its latest snapshots and the promotion decisions about it."""

    permission_classes = [HasRole(*ENGINEERS, read_roles=READERS)]

    @extend_schema(responses={200: {"type": "array", "items": {"type": "object"}}})
    def get(self, request: Request, name: str) -> Response:
        return Response(generator_lineage_chain(generator_version_get(name=name)))
