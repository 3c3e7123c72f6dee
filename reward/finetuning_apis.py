"""Generator fine-tuning API: start a LoRA fine-tune (Diffusion-DPO or RAFT) of a generator version as a
job, list fine-tunings and read one with its lineage. ML engineers start; auditors read."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hfplatform import json_fields
from hfplatform.accounts.roles import ENGINEERS, READERS, HasRole
from hfplatform.views import LIST_LIMIT
from reward.finetuning import generator_finetune_start
from reward.models import Dimension, FineTuneMethod
from reward.selectors import generator_finetuning_get, generator_finetuning_list, generator_lineage


@extend_schema_serializer(component_name="FineTuningJob")
class FineTuningJobSerializer(serializers.Serializer):
    id = json_fields.IntegerField()
    url = serializers.SerializerMethodField()
    status = serializers.CharField()
    progress = json_fields.IntegerField()
    message = serializers.CharField()
    error = serializers.CharField()

    def get_url(self, job) -> str:
        return f"/api/jobs/{job.pk}/"


@extend_schema_serializer(component_name="GeneratorFineTuning")
class GeneratorFineTuningSerializer(serializers.Serializer):
    id = json_fields.IntegerField()
    name = serializers.CharField(help_text="The name of the version it registers.")
    method = serializers.CharField(help_text="dpo or raft")
    status = serializers.CharField(help_text="Its job's status.")
    parent = serializers.CharField(source="parent.name")
    lineage = serializers.SerializerMethodField(
        help_text="The parent and its ancestors, parent first.")
    dataset = serializers.SerializerMethodField(help_text="The preference dataset (RAFT: the reward "
                                                          "model's), by id, name and fingerprint.")
    reward_model = serializers.CharField(source="reward_model.name", allow_null=True, default=None)
    config = serializers.JSONField(help_text="dimension, lora and hyper (every default recorded)")
    fingerprints = serializers.JSONField()
    child = serializers.CharField(source="child.name", allow_null=True, default=None,
                                  help_text="The candidate version registered when the job succeeded.")
    adapter_dir = serializers.CharField()
    job = FineTuningJobSerializer()
    started_by = serializers.CharField(source="started_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()

    def get_lineage(self, finetuning) -> list[str]:
        return generator_lineage(finetuning.parent)

    @extend_schema_field({"type": "object", "nullable": True, "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "fingerprint": {"type": "string"}}})
    def get_dataset(self, finetuning) -> dict | None:
        d = finetuning.dataset
        return None if d is None else {"id": d.pk, "name": d.name, "fingerprint": d.fingerprint}


class GeneratorFineTuningListApi(APIView):
    """Start a LoRA fine-tune of a generator version (a job: follow it at /api/jobs/{id}/; on success it
    registers a candidate version whose parent is the one fine-tuned), or list fine-tunings."""

    error_statuses = {"POST": (404, 409)}  # parent, dataset, reward model; name taken

    throttle_scope = "jobs"  # per-user write rate (hfplatform/throttles.py)

    permission_classes = [HasRole(*ENGINEERS, read_roles=READERS)]

    @extend_schema_serializer(component_name="GeneratorFineTuningRequest")
    class InputSerializer(serializers.Serializer):
        parent = serializers.CharField(max_length=64, help_text="The generator version to fine-tune.")
        method = serializers.ChoiceField(FineTuneMethod.values,
                                         help_text="dpo: Diffusion-DPO on a preference dataset's pairs; "
                                                   "raft: samples ranked by a reward model.")
        name = serializers.CharField(max_length=64, help_text="Name of the new version (a slug).")
        dataset = json_fields.IntegerField(required=False, help_text="DPO: the preference dataset (id).")
        reward_model = serializers.CharField(required=False, max_length=64,
                                             help_text="RAFT: the trained reward model that ranks samples.")
        dimension = serializers.ChoiceField(Dimension.values, default=Dimension.OVERALL.value,
                                            help_text="DPO: the pairs of this dimension.")
        lora = serializers.DictField(required=False,
                                     help_text="rank (1-64), alpha (> 0), dropout (0-0.5), include_convs")
        hyper = serializers.DictField(required=False,
                                      help_text="DPO: beta, learning_rate, max_steps, ...; RAFT: rounds, "
                                                "candidates, steps_per_round, ... (docs/finetuning.md)")

    @extend_schema(request=InputSerializer, responses={202: GeneratorFineTuningSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        finetuning = generator_finetune_start(started_by=request.user, **data.validated_data)
        body = GeneratorFineTuningSerializer(generator_finetuning_get(finetuning_id=finetuning.pk)).data
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: GeneratorFineTuningSerializer(many=True)})
    def get(self, request: Request) -> Response:
        rows = generator_finetuning_list()[:LIST_LIMIT]
        return Response(GeneratorFineTuningSerializer(rows, many=True).data)


class GeneratorFineTuningDetailApi(APIView):
    """One fine-tuning: its settings, fingerprints, job and the child version it registered."""

    permission_classes = [HasRole(*ENGINEERS, read_roles=READERS)]

    @extend_schema(responses={200: GeneratorFineTuningSerializer})
    def get(self, request: Request, finetuning_id: int) -> Response:
        finetuning = generator_finetuning_get(finetuning_id=finetuning_id)
        return Response(GeneratorFineTuningSerializer(finetuning).data)
