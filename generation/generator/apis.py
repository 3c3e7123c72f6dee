"""API for generator versions, training, generation jobs and headshots."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from generation.faces.apis import JobLinkSerializer, job_link
from generation.faces.selectors import subject_get
from generation.generator.options import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CANDIDATES,
    DEFAULT_ETA,
    DEFAULT_GUIDANCE,
    DEFAULT_IMAGE_SIZE,
    DEFAULT_STEPS,
    MAX_BATCH_SIZE,
    MAX_CANDIDATES,
    MAX_ETA,
    MAX_GUIDANCE,
    MAX_SEED,
    MAX_STEPS,
    MAX_TRAINING_STEPS,
    MIN_ETA,
    MIN_GUIDANCE,
    MIN_TRAINING_MINUTES,
)
from generation.generator.selectors import (
    generation_job_get,
    generation_job_list,
    generator_version_get,
    generator_version_list,
    headshot_get,
)
from generation.generator.services import generation_job_create, generator_version_activate
from generation.generator.training import generator_training_start
from generation.ml.options import PREDICTION_TYPES, SAMPLERS, TRAINING_PREDICTION_TYPE
from hfplatform import json_fields
from hfplatform.accounts.roles import ENGINEERS, READERS, HasRole
from hfplatform.jobs.models import JobStatus
from hfplatform.pagination import PagePagination
from hfplatform.queries import validated_query


@extend_schema_serializer(component_name="Headshot")
class HeadshotSerializer(serializers.Serializer):
    id = json_fields.IntegerField()
    subject = json_fields.IntegerField(source="subject_id")
    source_photo = json_fields.IntegerField(source="source_photo_id")
    generation_job = json_fields.IntegerField(source="generation_job_id")
    generator_version = serializers.CharField(source="generator_version.name")
    candidate_index = json_fields.IntegerField()
    seed = json_fields.IntegerField()
    steps = json_fields.IntegerField()
    guidance = json_fields.FloatField(help_text="The guidance this candidate was sampled with.")
    sampler = serializers.CharField()
    eta = json_fields.FloatField(help_text="The DDIM eta it was sampled with (0: deterministic).")
    reward_score = json_fields.FloatField(allow_null=True)
    reward_rank = json_fields.IntegerField(allow_null=True)
    kept = json_fields.BooleanField()
    image_url = serializers.SerializerMethodField(help_text="The headshot as delivered (after the stages).")
    raw_image_url = serializers.SerializerMethodField(
        help_text="The generator's output before the studio stages (null when no stage ran).")
    stages = serializers.JSONField(help_text="One record per stage: name, version, params, status "
                                             "(applied, skipped, unavailable), reason, seconds.")
    created_at = serializers.DateTimeField()

    def get_image_url(self, headshot) -> str:
        return f"/headshots/{headshot.pk}/image/"

    def get_raw_image_url(self, headshot) -> str | None:
        return f"/headshots/{headshot.pk}/raw/" if headshot.raw_image else None


@extend_schema_serializer(component_name="GeneratorVersion")
class GeneratorVersionSerializer(serializers.Serializer):
    id = json_fields.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()
    parent = serializers.CharField(source="parent.name", allow_null=True, default=None)
    image_size = json_fields.IntegerField()
    dataset_fingerprint = serializers.CharField()
    training_config = serializers.JSONField()
    heldout_subjects = serializers.JSONField()
    report = serializers.JSONField()
    notes = serializers.CharField()
    training_job = json_fields.IntegerField(source="training_job_id", allow_null=True)
    created_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="GenerationJob")
class GenerationJobSerializer(serializers.Serializer):
    id = json_fields.IntegerField()
    subject = json_fields.IntegerField(source="subject_id")
    source_photo = json_fields.IntegerField(source="source_photo_id")
    generator_version = serializers.CharField(source="generator_version.name")
    candidates = json_fields.IntegerField()
    seed = json_fields.IntegerField()
    steps = json_fields.IntegerField()
    guidance = json_fields.FloatField()
    guidance_max = json_fields.FloatField(allow_null=True,
                                          help_text="Candidates spread evenly from guidance to guidance_max.")
    sampler = serializers.CharField()
    eta = json_fields.FloatField()
    keep = json_fields.IntegerField(allow_null=True)
    reward_model = serializers.CharField(source="ranked_by", allow_null=True, default=None)
    stages = serializers.JSONField(help_text="Studio stages applied to every candidate: [{name, params}].")
    job = json_fields.IntegerField(source="job_id")
    status = serializers.CharField(source="job.status")
    progress = json_fields.IntegerField(source="job.progress")
    headshots = serializers.SerializerMethodField()

    def get_headshots(self, request) -> list[dict]:
        if request.job.status != JobStatus.SUCCEEDED:
            return []  # nothing half-written is ever shown
        return HeadshotSerializer(request.headshots.all(), many=True).data  # the selectors prefetch them


class GenerationJobListApi(APIView):
    """Ask for n candidate headshots of a subject (from the active version unless named)."""

    error_statuses = {"POST": (404,)}  # the subject or version named

    throttle_scope = "jobs"  # per-user write rate (hfplatform/throttles.py)

    permission_classes = [HasRole(*ENGINEERS, read_roles=READERS)]
    pagination_class = PagePagination

    @extend_schema_serializer(component_name="GenerationJobFilter")
    class FilterSerializer(serializers.Serializer):
        subject = json_fields.IntegerField(required=False, help_text="Subject id")
        version = serializers.CharField(required=False, help_text="Generator version name")
        status = serializers.ChoiceField(
            JobStatus.values, required=False, help_text="Status of the generation's job",
            error_messages={"invalid_choice": f'"{{input}}" is not a job status; choose one of: '
                                              f'{", ".join(JobStatus.values)}.'})

    @extend_schema_serializer(component_name="GenerationRequest")
    class InputSerializer(serializers.Serializer):
        subject = json_fields.IntegerField()
        candidates = json_fields.IntegerField(default=DEFAULT_CANDIDATES, min_value=1,
                                              max_value=MAX_CANDIDATES)
        seed = json_fields.IntegerField(required=False, min_value=0, max_value=MAX_SEED)
        steps = json_fields.IntegerField(default=DEFAULT_STEPS, min_value=1, max_value=MAX_STEPS)
        guidance = json_fields.FloatField(default=DEFAULT_GUIDANCE, min_value=MIN_GUIDANCE,
                                          max_value=MAX_GUIDANCE)
        guidance_max = json_fields.FloatField(
            required=False, allow_null=True, min_value=MIN_GUIDANCE, max_value=MAX_GUIDANCE,
            help_text="Spread the candidates' guidance evenly from guidance (the first) to guidance_max "
                      "(the last); at least guidance. Each headshot records its own.")
        sampler = serializers.ChoiceField(SAMPLERS, default=SAMPLERS[0])
        eta = json_fields.FloatField(
            default=DEFAULT_ETA, min_value=MIN_ETA, max_value=MAX_ETA,
            help_text="Stochastic DDIM: 0 deterministic (default), up to 1 (DDPM's variance); ddim only.")
        keep = json_fields.IntegerField(required=False, min_value=1, max_value=MAX_CANDIDATES,
                                        help_text="Best-of-n: keep the top k by the active reward model.")
        version = serializers.CharField(required=False, help_text="Generator name; default: active")
        stages = serializers.JSONField(
            required=False, allow_null=True,
            help_text="Studio stages for every candidate: a list of names (super_resolution, lighting, "
                      "colour, background) or {name, params} objects; run in that order; [] for none; "
                      "default (left out or null): the configured set (docs/studio.md).")

    @extend_schema(parameters=[FilterSerializer], responses={200: GenerationJobSerializer(many=True)},
                   description="Generation requests, newest first, paginated like /api/jobs/ (limit, "
                               "offset; count, next, previous, results), optionally of one subject, one "
                               "generator version (name) or one job status. ML engineers and auditors.")
    def get(self, request: Request) -> Response:
        jobs = generation_job_list(**validated_query(request, self.FilterSerializer))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response(GenerationJobSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={202: GenerationJobSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        subject = subject_get(user=request.user, subject_id=values.pop("subject"))
        name = values.pop("version", None)
        version = generator_version_get(name=name) if name else None
        created = generation_job_create(subject=subject, created_by=request.user, version=version,
                                        **values)
        return Response(GenerationJobSerializer(created).data, status=status.HTTP_202_ACCEPTED)


class GenerationJobDetailApi(APIView):
    """A generation request, its job's progress and (once it succeeded) its headshots."""

    permission_classes = [HasRole(*ENGINEERS, read_roles=READERS)]

    @extend_schema(responses={200: GenerationJobSerializer})
    def get(self, request: Request, generation_id: int) -> Response:
        return Response(GenerationJobSerializer(generation_job_get(generation_id=generation_id)).data)


class HeadshotDetailApi(APIView):
    """One headshot: image URL and everything needed to regenerate it."""

    permission_classes = [HasRole(*ENGINEERS, read_roles=READERS)]

    @extend_schema(responses={200: HeadshotSerializer})
    def get(self, request: Request, headshot_id: int) -> Response:
        return Response(HeadshotSerializer(headshot_get(headshot_id=headshot_id)).data)


class GeneratorVersionListApi(APIView):
    """Generator versions, newest first."""

    permission_classes = [HasRole(*ENGINEERS, read_roles=READERS)]

    @extend_schema(responses={200: GeneratorVersionSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(GeneratorVersionSerializer(generator_version_list(), many=True).data)


class GeneratorVersionActivateApi(APIView):
    """Make a version the active one (the previous active version is retired)."""

    permission_classes = [HasRole(*ENGINEERS)]

    @extend_schema(request=None, responses={200: GeneratorVersionSerializer})
    def post(self, request: Request, name: str) -> Response:
        version = generator_version_activate(version=generator_version_get(name=name),
                                             activated_by=request.user)
        return Response(GeneratorVersionSerializer(version).data)


class GeneratorTrainingApi(APIView):
    """Start a generator training job on the stored face crops (resumable, checkpointed)."""

    error_statuses = (404, 409)  # the parent named; the name taken

    throttle_scope = "jobs"  # per-user write rate (hfplatform/throttles.py)

    permission_classes = [HasRole(*ENGINEERS)]

    @extend_schema_serializer(component_name="GeneratorTrainingRequest")
    class InputSerializer(serializers.Serializer):
        name = serializers.SlugField(max_length=64)
        steps = json_fields.IntegerField(min_value=1, max_value=MAX_TRAINING_STEPS)
        minutes = json_fields.FloatField(required=False, allow_null=True, min_value=MIN_TRAINING_MINUTES)
        batch_size = json_fields.IntegerField(default=DEFAULT_BATCH_SIZE, min_value=1,
                                              max_value=MAX_BATCH_SIZE)
        image_size = json_fields.IntegerField(
            required=False, allow_null=True,
            help_text=f"{DEFAULT_IMAGE_SIZE} by default; a parent's own when fine-tuning, or another aligned "
                      "crop size to grow the parent to (the same network at that size).")
        prediction_type = serializers.ChoiceField(
            PREDICTION_TYPES, required=False, allow_null=True,
            help_text=f"{TRAINING_PREDICTION_TYPE} by default; a parent's own when fine-tuning.")
        seed = json_fields.IntegerField(default=0, min_value=0)
        activate = json_fields.BooleanField(default=False)
        group_balance = json_fields.FloatField(
            default=0.0, min_value=0.0, max_value=1.0,
            help_text="Even out the measured skin-tone groups in the batches: 0 uniform (default), "
                      "1 every group equally often.")
        parent = serializers.SlugField(max_length=64, required=False, allow_null=True,
                                       help_text="Fine-tune this version: start from its weights and keep "
                                                 "its held-out people out of training.")

    @extend_schema(request=InputSerializer, responses={202: JobLinkSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = generator_training_start(started_by=request.user, **data.validated_data)
        return Response(JobLinkSerializer(job_link(job)).data, status=status.HTTP_202_ACCEPTED)
