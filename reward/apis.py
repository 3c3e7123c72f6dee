"""Reward API: preference datasets, training jobs and reward-model versions.

ML engineers write; auditors read. Reviewers have no access: reward scores are never shown to them.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hfplatform.accounts.roles import ENGINEERS, READERS, HasRole
from hfplatform.views import LIST_LIMIT
from reward.models import Dimension
from reward.options import BATCH_SIZE, DEFAULT_TEST_SHARE, LEARNING_RATE, MARGIN, MAX_STEPS, TEST_SHARE
from reward.selectors import (
    preference_dataset_get,
    preference_dataset_list,
    reward_model_get,
    reward_model_list,
)
from reward.services import preference_dataset_create, reward_model_activate, reward_training_start


@extend_schema_serializer(component_name="PreferenceDataset")
class PreferenceDatasetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    campaigns = serializers.ListField(child=serializers.IntegerField())
    options = serializers.JSONField()
    fingerprint = serializers.CharField()
    counts = serializers.JSONField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="RewardModelVersion")
class RewardModelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    dataset = serializers.CharField(source="dataset.name")
    dataset_fingerprint = serializers.CharField()
    dimension = serializers.CharField()
    status = serializers.CharField()
    config = serializers.JSONField()
    metrics = serializers.JSONField()
    error = serializers.CharField()
    training_job = serializers.IntegerField(source="training_job_id", allow_null=True)
    progress = serializers.IntegerField(source="training_job.progress", allow_null=True, default=None)
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()


class PreferenceDatasetListApi(APIView):
    """Snapshot the preference pairs of review campaigns (held out by subject), or list snapshots."""

    permission_classes = [HasRole(*ENGINEERS, read_roles=READERS)]

    @extend_schema_serializer(component_name="PreferenceDatasetCreate")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=64)
        campaigns = serializers.ListField(child=serializers.IntegerField(), min_length=1)
        margin = serializers.FloatField(required=False, min_value=MARGIN[0], max_value=MARGIN[1],
                                        help_text="Rating pairs: mean scores must differ by this.")
        keep_ties = serializers.BooleanField(required=False)
        test_share = serializers.FloatField(default=DEFAULT_TEST_SHARE, min_value=TEST_SHARE[0],
                                            max_value=TEST_SHARE[1])
        seed = serializers.IntegerField(default=0, min_value=0)

    @extend_schema(responses={200: PreferenceDatasetSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(PreferenceDatasetSerializer(preference_dataset_list()[:LIST_LIMIT], many=True).data)

    @extend_schema(request=InputSerializer, responses={201: PreferenceDatasetSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        dataset = preference_dataset_create(created_by=request.user, campaign_ids=values.pop("campaigns"),
                                            **values)
        return Response(PreferenceDatasetSerializer(dataset).data, status=status.HTTP_201_CREATED)


class PreferenceDatasetDetailApi(APIView):
    """One preference dataset with its counts."""

    permission_classes = [HasRole(*ENGINEERS, read_roles=READERS)]

    @extend_schema(responses={200: PreferenceDatasetSerializer})
    def get(self, request: Request, dataset_id: int) -> Response:
        return Response(PreferenceDatasetSerializer(preference_dataset_get(dataset_id=dataset_id)).data)


class RewardTrainingApi(APIView):
    """Start training a reward model on a dataset and dimension (a job: follow it at /api/jobs/{id}/)."""

    permission_classes = [HasRole(*ENGINEERS)]

    @extend_schema_serializer(component_name="RewardTrainingRequest")
    class InputSerializer(serializers.Serializer):
        dataset = serializers.IntegerField()
        dimension = serializers.CharField(default=Dimension.OVERALL.value,
                                          help_text="overall, professionalism, likeness or appeal")
        name = serializers.CharField(required=False, max_length=64)
        max_steps = serializers.IntegerField(required=False, min_value=MAX_STEPS[0], max_value=MAX_STEPS[1])
        batch_size = serializers.IntegerField(required=False, min_value=BATCH_SIZE[0],
                                              max_value=BATCH_SIZE[1])
        learning_rate = serializers.FloatField(required=False, min_value=LEARNING_RATE[0],
                                               max_value=LEARNING_RATE[1])

    @extend_schema(request=InputSerializer, responses={202: RewardModelSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        dataset = preference_dataset_get(dataset_id=values.pop("dataset"))
        version = reward_training_start(dataset=dataset, started_by=request.user, **values)
        return Response(RewardModelSerializer(version).data, status=status.HTTP_202_ACCEPTED)


class RewardModelListApi(APIView):
    """Reward-model versions with their evaluation, newest first."""

    permission_classes = [HasRole(*ENGINEERS, read_roles=READERS)]

    @extend_schema(responses={200: RewardModelSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(RewardModelSerializer(reward_model_list()[:LIST_LIMIT], many=True).data)


class RewardModelDetailApi(APIView):
    permission_classes = [HasRole(*ENGINEERS, read_roles=READERS)]

    @extend_schema(responses={200: RewardModelSerializer})
    def get(self, request: Request, name: str) -> Response:
        return Response(RewardModelSerializer(reward_model_get(name=name)).data)


class RewardModelActivateApi(APIView):
    """Make a trained candidate the active reward model (reranking uses it); a failed one never."""

    permission_classes = [HasRole(*ENGINEERS)]

    @extend_schema(request=None, responses={200: RewardModelSerializer})
    def post(self, request: Request, name: str) -> Response:
        version = reward_model_activate(version=reward_model_get(name=name))
        return Response(RewardModelSerializer(version).data)
