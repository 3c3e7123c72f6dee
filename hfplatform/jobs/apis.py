"""API for jobs: read progress, cancel, and start the thumbnails job."""

from __future__ import annotations

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
from hfplatform.accounts.roles import ENGINEERS, HasRole
from hfplatform.jobs.kinds import DEFAULT_THUMBNAIL_SIZE, THUMBNAIL_SIZES, thumbnails_job_start
from hfplatform.jobs.models import JobStatus
from hfplatform.jobs.registry import job_kinds
from hfplatform.jobs.selectors import job_get, job_links, job_list, job_result_summary
from hfplatform.jobs.services import job_cancel
from hfplatform.pagination import page_parameters, page_serializer, paginated_response
from hfplatform.queries import SearchQuerySerializer, validated_query


@extend_schema_serializer(component_name="Job")
class JobOutputSerializer(serializers.Serializer):
    id = json_fields.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    progress = json_fields.IntegerField(min_value=0, max_value=100)
    message = serializers.CharField()
    log_tail = serializers.CharField()
    error = serializers.CharField()
    params = serializers.JSONField()
    result = serializers.JSONField()
    attempts = json_fields.IntegerField()
    started_by = serializers.CharField(source="started_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    is_finished = json_fields.BooleanField()
    url = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField(help_text="What the finished job made: [{label, url}].")
    summary = serializers.SerializerMethodField(help_text="The result in words: [[label, text]].")

    def get_url(self, job) -> str:
        return f"/jobs/{job.pk}/"

    @extend_schema_field(serializers.ListField(child=serializers.DictField(child=serializers.CharField())))
    def get_links(self, job) -> list[dict[str, str]]:
        return job_links(job)

    @extend_schema_field(serializers.ListField(child=serializers.ListField(child=serializers.CharField())))
    def get_summary(self, job) -> list[list[str]]:
        return [list(row) for row in job_result_summary(job)]


JobPageSerializer = page_serializer(JobOutputSerializer, "PaginatedJobList")


class JobListApi(APIView):
    """Jobs you may see (all for ML engineers, auditors and admins; your own otherwise), newest first,
    a page at a time; an unknown ``status`` or ``kind`` is a 400; ``search`` looks in the title, the
    kind and the starter's username."""

    @extend_schema(
        operation_id="jobs_list",
        parameters=[
            OpenApiParameter("status", str, enum=JobStatus.values),
            OpenApiParameter("kind", str, enum=sorted(job_kinds())),
            SearchQuerySerializer,
            *page_parameters(),
        ],
        responses={200: JobPageSerializer},
    )
    def get(self, request: Request) -> Response:
        search = validated_query(request, SearchQuerySerializer).get("search")
        jobs = job_list(user=request.user, status=request.query_params.get("status"),
                        kind=request.query_params.get("kind"), search=search)
        return paginated_response(request, self, jobs, JobOutputSerializer)


class JobDetailApi(APIView):
    """One job: status, progress 0-100, message, log tail, result or error."""

    @extend_schema(responses={200: JobOutputSerializer})
    def get(self, request: Request, job_id: int) -> Response:
        return Response(JobOutputSerializer(job_get(user=request.user, job_id=job_id)).data)


class JobCancelApi(APIView):
    """Cancel a queued or running job (its starter, an ML engineer or an admin)."""

    error_statuses = (409,)  # the job has finished

    @extend_schema(request=None, responses={200: JobOutputSerializer})
    def post(self, request: Request, job_id: int) -> Response:
        job = job_cancel(job=job_get(user=request.user, job_id=job_id), by=request.user)
        return Response(JobOutputSerializer(job).data)


class ThumbnailsJobStartApi(APIView):
    """Start a job that makes JPEG thumbnails of every image in a media folder."""

    throttle_scope = "jobs"  # per-user write rate (hfplatform/throttles.py)

    permission_classes = [HasRole(*ENGINEERS)]

    @extend_schema_serializer(component_name="ThumbnailsJobRequest")
    class InputSerializer(serializers.Serializer):
        folder = serializers.CharField(help_text="Folder inside MEDIA_ROOT, e.g. demo/photos")
        size = json_fields.IntegerField(
            default=DEFAULT_THUMBNAIL_SIZE,
            help_text=f"Longest side in pixels, {THUMBNAIL_SIZES[0]}-{THUMBNAIL_SIZES[-1]}")

    @extend_schema(request=InputSerializer, responses={202: JobOutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = thumbnails_job_start(**data.validated_data, started_by=request.user)
        return Response(JobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)
