"""API for subjects and their photos (ML engineers and admins; owners for their own)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from generation.faces.selectors import photo_get, subject_get, subject_list
from generation.faces.services import photos_upload, subject_create, subject_delete
from generation.models import AgeBand, Gender, PhotoStatus, SkinTone, SourcePhoto
from hfplatform import json_fields
from hfplatform.accounts.roles import ENGINEERS, HasRole
from hfplatform.jobs.models import Job
from hfplatform.queries import validated_query


def rejection_messages(photo: SourcePhoto) -> list[dict[str, str]]:
    from generation.ml import REJECTION_MESSAGES

    return [{"code": code, "message": REJECTION_MESSAGES.get(code, code)}
            for code in photo.rejection_reasons]


@extend_schema_serializer(component_name="PhotoSummary")
class PhotoSummarySerializer(serializers.Serializer):
    id = json_fields.IntegerField()
    original_name = serializers.CharField()
    status = serializers.CharField()
    rejections = serializers.SerializerMethodField()
    error = serializers.CharField()
    url = serializers.SerializerMethodField()

    def get_rejections(self, photo) -> list[dict[str, str]]:
        return rejection_messages(photo)

    def get_url(self, photo) -> str:
        return f"/api/photos/{photo.pk}/"


@extend_schema_serializer(component_name="JobLink")
class JobLinkSerializer(serializers.Serializer):
    id = json_fields.IntegerField()
    url = serializers.CharField()


def job_link(job: Job) -> dict[str, Any]:
    """What ``JobLinkSerializer`` shows of a job: its id and its API address."""
    return {"id": job.pk, "url": f"/api/jobs/{job.pk}/"}


@extend_schema_serializer(component_name="PhotoAnalysis")
class PhotoAnalysisSerializer(PhotoSummarySerializer):
    subject = json_fields.IntegerField(source="subject_id")
    width = json_fields.IntegerField(allow_null=True)
    height = json_fields.IntegerField(allow_null=True)
    face_count = json_fields.IntegerField(allow_null=True)
    face_box = serializers.JSONField()
    landmarks = serializers.JSONField()
    eye_left = serializers.JSONField()
    eye_right = serializers.JSONField()
    head_pose = serializers.JSONField()
    quality = serializers.JSONField()
    ita = json_fields.FloatField(allow_null=True)
    skin_tone_measured = serializers.CharField(allow_null=True)
    has_embedding = serializers.SerializerMethodField()
    timings = serializers.JSONField()
    files = serializers.SerializerMethodField()
    analyzed_at = serializers.DateTimeField(allow_null=True)

    def get_has_embedding(self, photo) -> bool:
        return photo.embedding is not None

    def get_files(self, photo) -> dict[str, str]:
        base = f"/photos/{photo.pk}/file"
        files = {}
        if photo.image:
            files["original"] = f"{base}/original/"
        if photo.overlay:
            files["overlay"] = f"{base}/overlay/"
        if photo.thumbnail:
            files["thumbnail"] = f"{base}/thumbnail/"
        for size in photo.aligned_crops:
            files[f"aligned_{size}"] = f"{base}/aligned-{size}/"
        return files


@extend_schema_serializer(component_name="Subject")
class SubjectSerializer(serializers.Serializer):
    id = json_fields.IntegerField()
    display_name = serializers.CharField()
    consent_given_at = serializers.DateTimeField()
    consent_version = serializers.CharField()
    age_band = serializers.CharField(allow_null=True)
    gender = serializers.CharField(allow_null=True)
    skin_tone_self_reported = serializers.CharField(allow_null=True)
    source = serializers.CharField()
    created_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="PhotoCounts")
class PhotoCountsSerializer(serializers.Serializer):
    """A subject's photos by status (``subject_list`` annotates the counts)."""

    pending = json_fields.IntegerField(source="pending_count")
    accepted = json_fields.IntegerField(source="accepted_count")
    rejected = json_fields.IntegerField(source="rejected_count")
    failed = json_fields.IntegerField(source="failed_count")


class SubjectListApi(APIView):
    """List subjects, or create one (consent required; demographic answers optional)."""

    permission_classes = [HasRole(*ENGINEERS)]

    @extend_schema_serializer(component_name="SubjectFilter")
    class FilterSerializer(serializers.Serializer):
        photo_status = serializers.ChoiceField(
            PhotoStatus.values, required=False,
            help_text="Only subjects with at least one photo in this status.",
            error_messages={"invalid_choice": f'"{{input}}" is not a photo status; choose one of: '
                                              f'{", ".join(PhotoStatus.values)}.'})

    @extend_schema_serializer(component_name="SubjectListItem")
    class OutputSerializer(SubjectSerializer):
        photo_counts = PhotoCountsSerializer(source="*")

    @extend_schema_serializer(component_name="SubjectCreate")
    class InputSerializer(serializers.Serializer):
        display_name = serializers.CharField(max_length=120)
        consent_given = json_fields.BooleanField(help_text="The subject agreed to the terms.")
        age_band = serializers.ChoiceField(AgeBand.choices, required=False, allow_null=True)
        gender = serializers.ChoiceField(Gender.choices, required=False, allow_null=True)
        skin_tone_self_reported = serializers.ChoiceField(SkinTone.choices, required=False,
                                                          allow_null=True)

    @extend_schema(parameters=[FilterSerializer], responses={200: OutputSerializer(many=True)},
                   description="List subjects with their photo counts by status; with photo_status, only "
                               "those with at least one photo in that status.")
    def get(self, request: Request) -> Response:
        subjects = subject_list(user=request.user, **validated_query(request, self.FilterSerializer))[:500]
        return Response(self.OutputSerializer(subjects, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: SubjectSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subject = subject_create(owner=request.user, **data.validated_data)
        return Response(SubjectSerializer(subject).data, status=status.HTTP_201_CREATED)


class SubjectDetailApi(APIView):
    """A subject with its photos; DELETE removes them and every derived file."""

    permission_classes = [HasRole(*ENGINEERS)]

    @extend_schema_serializer(component_name="SubjectDetail")
    class OutputSerializer(SubjectSerializer):
        photos = PhotoSummarySerializer(many=True, source="photos.all")

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request, subject_id: int) -> Response:
        subject = subject_get(user=request.user, subject_id=subject_id)
        return Response(self.OutputSerializer(subject).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, subject_id: int) -> Response:
        subject_delete(subject=subject_get(user=request.user, subject_id=subject_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubjectPhotosApi(APIView):
    """Upload one or more selfies (multipart field ``photos``). Each file gets its own outcome;
    accepted files are analysed by a job whose progress is at ``job.url``."""

    throttle_scope = "uploads"  # per-user write rate (hfplatform/throttles.py)

    permission_classes = [HasRole(*ENGINEERS)]
    parser_classes = [MultiPartParser]

    @extend_schema_serializer(component_name="PhotoUpload")
    class InputSerializer(serializers.Serializer):
        photos = serializers.ListField(child=serializers.FileField(), allow_empty=False)

    @extend_schema_serializer(component_name="PhotoUploadResult")
    class OutputSerializer(serializers.Serializer):
        photos = PhotoSummarySerializer(many=True)
        job = JobLinkSerializer(allow_null=True, help_text="The analysis job (none if all refused)")

    @extend_schema(request={"multipart/form-data": InputSerializer},
                   responses={202: OutputSerializer})
    def post(self, request: Request, subject_id: int) -> Response:
        subject = subject_get(user=request.user, subject_id=subject_id)
        photos, job = photos_upload(subject=subject, files=request.FILES.getlist("photos"),
                                    uploaded_by=request.user)
        body = {"photos": photos, "job": job_link(job) if job else None}
        return Response(self.OutputSerializer(body).data, status=status.HTTP_202_ACCEPTED)


class PhotoDetailApi(APIView):
    """Everything the face pipeline measured on one photo (the embedding vector stays private)."""

    permission_classes = [HasRole(*ENGINEERS)]

    @extend_schema(responses={200: PhotoAnalysisSerializer})
    def get(self, request: Request, photo_id: int) -> Response:
        return Response(PhotoAnalysisSerializer(photo_get(user=request.user, photo_id=photo_id)).data)
