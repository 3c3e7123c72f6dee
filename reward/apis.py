"""Reward API: preference datasets, training jobs, reward-model versions and scoring headshots.

ML engineers write; auditors read (and may score headshots: scoring changes nothing). Reviewers have
no access: reward scores are never shown to them.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hfplatform import json_fields
from hfplatform.accounts.roles import ENGINEERS, READERS, HasRole
from hfplatform.errors import MAX_ID, ApplicationError
from hfplatform.views import LIST_LIMIT
from reward.evaluation import reward_models_compare
from reward.ml.options import LR_SCHEDULERS, MODELS
from reward.models import Dimension
from reward.options import (
    BATCH_SIZE,
    DEFAULT_TEST_SHARE,
    EARLY_STOPPING_PATIENCE,
    LEARNING_RATE,
    MARGIN,
    MAX_SCORED_HEADSHOTS,
    MAX_STEPS,
    TEST_SHARE,
)
from reward.scoring import headshots_score
from reward.selectors import (
    datasets_heldout_subjects,
    preference_dataset_get,
    preference_dataset_list,
    reward_model_activations,
    reward_model_get,
    reward_model_list,
)
from reward.services import preference_dataset_create, reward_model_activate, reward_training_start


@extend_schema_serializer(component_name="PreferenceDataset")
class PreferenceDatasetSerializer(serializers.Serializer):
    id = json_fields.IntegerField()
    name = serializers.CharField()
    campaigns = serializers.ListField(child=json_fields.IntegerField())
    options = serializers.JSONField()
    fingerprint = serializers.CharField()
    counts = serializers.JSONField()
    heldout_subjects = serializers.SerializerMethodField(
        help_text="Ids of the held-out people (subjects of the test split), to evaluate on.")
    heldout_count = serializers.SerializerMethodField(help_text="How many people are held out.")
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()

    def _heldout(self, dataset) -> list[int]:
        """Lists pass every dataset's held-out people in the context (one query); one dataset reads
        its own once."""
        known = self.context.setdefault("heldout", {})
        if dataset.pk not in known:
            known.update(datasets_heldout_subjects([dataset.pk]))
        return known[dataset.pk]

    def get_heldout_subjects(self, dataset) -> list[int]:
        return self._heldout(dataset)

    def get_heldout_count(self, dataset) -> int:
        return len(self._heldout(dataset))


def _datasets_data(datasets: list) -> list:
    """Datasets serialized with their held-out people (one query for all of them)."""
    heldout = datasets_heldout_subjects([d.pk for d in datasets])
    return PreferenceDatasetSerializer(datasets, many=True, context={"heldout": heldout}).data


@extend_schema_serializer(component_name="RewardModelActivation")
class RewardModelActivationSerializer(serializers.Serializer):
    id = json_fields.IntegerField()
    activated = serializers.CharField(source="activated.name", help_text="The model that became active.")
    retired = serializers.CharField(source="retired.name", allow_null=True, default=None,
                                    help_text="The model it retired (none when no model was active).")
    activated_by = serializers.CharField(source="activated_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="RewardModelVersion")
class RewardModelSerializer(serializers.Serializer):
    id = json_fields.IntegerField()
    name = serializers.CharField()
    dataset = serializers.CharField(source="dataset.name")
    dataset_fingerprint = serializers.CharField()
    dimension = serializers.CharField()
    status = serializers.CharField()
    config = serializers.JSONField()
    metrics = serializers.JSONField()
    error = serializers.CharField()
    training_job = json_fields.IntegerField(source="training_job_id", allow_null=True)
    progress = json_fields.IntegerField(source="training_job.progress", allow_null=True, default=None)
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()


class PreferenceDatasetListApi(APIView):
    """Snapshot the preference pairs of review campaigns (held out by subject), or list snapshots."""

    error_statuses = {"POST": (404, 409)}  # the campaigns named; the name taken

    permission_classes = [HasRole(*ENGINEERS, read_roles=READERS)]

    @extend_schema_serializer(component_name="PreferenceDatasetCreate")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=64)
        campaigns = serializers.ListField(child=json_fields.IntegerField(min_value=1, max_value=MAX_ID),
                                          min_length=1)
        margin = json_fields.FloatField(required=False, min_value=MARGIN[0], max_value=MARGIN[1],
                                        help_text="Rating pairs: mean scores must differ by this.")
        keep_ties = json_fields.BooleanField(required=False)
        test_share = json_fields.FloatField(default=DEFAULT_TEST_SHARE, min_value=TEST_SHARE[0],
                                            max_value=TEST_SHARE[1])
        seed = json_fields.IntegerField(default=0, min_value=0)
        include_simulated = json_fields.BooleanField(
            default=True, help_text="Count the answers of simulated reviewers (false: people only).")

    @extend_schema(responses={200: PreferenceDatasetSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(_datasets_data(list(preference_dataset_list()[:LIST_LIMIT])))

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

    error_statuses = (404, 409)  # the dataset named; the name taken

    throttle_scope = "jobs"  # per-user write rate (hfplatform/throttles.py)

    permission_classes = [HasRole(*ENGINEERS)]

    @extend_schema_serializer(component_name="RewardTrainingRequest")
    class InputSerializer(serializers.Serializer):
        dataset = json_fields.IntegerField()
        dimension = serializers.CharField(default=Dimension.OVERALL.value,
                                          help_text="overall, professionalism, likeness or appeal")
        name = serializers.CharField(required=False, max_length=64)
        model = serializers.ChoiceField(MODELS, required=False,
                                        help_text="cnn (learnt convolutions) or statistics (fixed image "
                                                  "measures with a learnt head); cnn by default.")
        max_steps = json_fields.IntegerField(
            required=False, min_value=MAX_STEPS[0], max_value=MAX_STEPS[1],
            help_text="At most: training stops once the validation people's loss stops falling.")
        batch_size = json_fields.IntegerField(required=False, min_value=BATCH_SIZE[0],
                                              max_value=BATCH_SIZE[1])
        learning_rate = json_fields.FloatField(required=False, min_value=LEARNING_RATE[0],
                                               max_value=LEARNING_RATE[1])
        lr_scheduler = serializers.ChoiceField(LR_SCHEDULERS, required=False)
        early_stopping_patience = json_fields.IntegerField(
            required=False, min_value=EARLY_STOPPING_PATIENCE[0], max_value=EARLY_STOPPING_PATIENCE[1],
            help_text="Validation evaluations without a lower loss before training stops.")

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
    """One reward-model version with its evaluation and its activation history."""

    permission_classes = [HasRole(*ENGINEERS, read_roles=READERS)]

    @extend_schema_serializer(component_name="RewardModelVersionDetail")
    class OutputSerializer(RewardModelSerializer):
        activations = serializers.SerializerMethodField(
            help_text="Every activation that made this model active or retired it, newest first.")

        @extend_schema_field(RewardModelActivationSerializer(many=True))
        def get_activations(self, version) -> list[dict]:
            return RewardModelActivationSerializer(reward_model_activations(version), many=True).data

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request, name: str) -> Response:
        return Response(self.OutputSerializer(reward_model_get(name=name)).data)


class RewardModelActivateApi(APIView):
    """Make a trained model (a candidate, or a retired one again) the active reward model (reranking
    uses it); a failed one, or one still training, never. Each activation is recorded."""

    error_statuses = (409,)  # not a trained model

    permission_classes = [HasRole(*ENGINEERS)]

    @extend_schema(request=None, responses={200: RewardModelSerializer})
    def post(self, request: Request, name: str) -> Response:
        version = reward_model_activate(version=reward_model_get(name=name), activated_by=request.user)
        return Response(RewardModelSerializer(version).data)


class RewardModelScoresApi(APIView):
    """Score existing headshots with this reward model, generating and storing nothing: name the
    headshots, or one generation job for all its candidates. Each headshot comes back with its
    score and its rank among the scored headshots of the same person (1 = best)."""

    error_statuses = (409,)  # not a trained model

    permission_classes = [HasRole(*READERS)]  # auditors too: scoring changes nothing

    @extend_schema_serializer(component_name="RewardScoresRequest")
    class InputSerializer(serializers.Serializer):
        headshots = serializers.ListField(
            child=json_fields.IntegerField(), required=False, allow_empty=False,
            max_length=MAX_SCORED_HEADSHOTS,
            help_text=f"Headshot ids (at most {MAX_SCORED_HEADSHOTS}); or give generation_job.")
        generation_job = json_fields.IntegerField(required=False,
                                                  help_text="Score every candidate of this generation job.")

        def validate(self, data: dict) -> dict:
            if ("headshots" in data) == ("generation_job" in data):
                raise serializers.ValidationError("Give either headshots (a list of ids) or one "
                                                  "generation_job.")
            return data

    @extend_schema_serializer(component_name="RewardScores")
    class OutputSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="HeadshotScore")
        class ScoreSerializer(serializers.Serializer):
            headshot = json_fields.IntegerField()
            subject = json_fields.IntegerField()
            generation_job = json_fields.IntegerField()
            score = json_fields.FloatField()
            rank = json_fields.IntegerField(help_text="Among the scored headshots of this person, 1 = best.")

        reward_model = serializers.CharField(source="version.name")
        dimension = serializers.CharField(source="version.dimension")
        scores = ScoreSerializer(many=True)

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request, name: str) -> Response:
        version = reward_model_get(name=name)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        scores = headshots_score(version=version, headshot_ids=data.validated_data.get("headshots"),
                                 generation_job_id=data.validated_data.get("generation_job"))
        return Response(self.OutputSerializer({"version": version, "scores": scores}).data)


class RewardModelCompareApi(APIView):
    """This model against another of the same dataset and dimension on its held-out items: each one's
    accuracy against the consensus of the votes, and the difference with a paired 95% interval."""

    error_statuses = (409,)  # not trained models of one dataset

    permission_classes = [HasRole(*READERS)]

    @extend_schema(parameters=[OpenApiParameter("other", {"type": "string", "minLength": 1}, required=True,
                                                description="The reward model to compare with.")],
                   responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, name: str) -> Response:
        other = request.query_params.get("other")
        if not other:
            raise ApplicationError("Name the model to compare with: ?other=NAME.", code="invalid",
                                   extra={"fields": {"other": ["Required."]}})
        return Response(reward_models_compare(a=reward_model_get(name=name), b=reward_model_get(name=other)))
