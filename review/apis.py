"""Review API: campaigns (ml_engineers write, auditors read), next item, and the three answers.

Answers are idempotent per assignment: the same answer sent twice is stored once (201, then 200);
a different second answer is a 409.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from generation.models import GenerationJob, GeneratorVersion, Subject
from hfplatform import json_fields
from hfplatform.accounts.roles import ENGINEERS, READERS, HasRole, has_role
from hfplatform.errors import MAX_ID, ApplicationError, NotFound
from hfplatform.jobs.apis import JobOutputSerializer
from hfplatform.queries import SearchQuerySerializer, validated_query
from hfplatform.views import LIST_LIMIT
from review.models import (
    ArtefactFlag,
    BlindAnswer,
    Campaign,
    CampaignStatus,
    Choice,
    ChoiceReason,
    Pairing,
    TaskKind,
)
from review.options import (
    DEFAULT_GOLD_RATE,
    DEFAULT_LEASE_SECONDS,
    DEFAULT_OVERLAP,
    DEFAULT_PAIRS_PER_JOB,
    GOLD_RATE,
    GUIDELINES_MAX_LENGTH,
    LEASE_SECONDS,
    OVERLAP,
    PAIRS_PER_JOB,
    SCALE_ANCHOR_MAX_LENGTH,
    SCORES,
    SKIP_REASON_MAX_LENGTH,
)
from review.quality import pair_signal
from review.selectors import (
    assignment_view,
    campaign_get,
    campaign_list,
    campaign_progress,
    reviewer_standing,
    row_lookup,
    task_vocabulary,
)
from review.services import (
    answer_undo,
    assignment_next_with_progress,
    assignment_skip,
    blind_submit,
    campaign_create,
    campaign_delete,
    campaign_diversity_measure,
    campaign_update,
    comparison_submit,
    rating_submit,
)


@extend_schema_serializer(component_name="Campaign")
class CampaignSerializer(serializers.Serializer):
    id = json_fields.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField()
    task_kinds = serializers.ListField(child=serializers.CharField())
    overlap = json_fields.IntegerField()
    allowed_roles = serializers.ListField(child=serializers.CharField())
    gold_rate = json_fields.FloatField()
    lease_seconds = json_fields.IntegerField()
    selection = serializers.JSONField()
    pairing = serializers.ChoiceField(Pairing.values, help_text="How the pairwise items were drawn.")
    guidelines = serializers.CharField(help_text="What reviewers should look for (Markdown).")
    scale_anchors = serializers.DictField(child=serializers.CharField(),
                                          help_text="Words under points of the 1–5 scales.")
    progress = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)

    def get_progress(self, campaign: Campaign) -> dict:
        return campaign_progress(campaign)


class CampaignListApi(APIView):
    """Campaigns: ml_engineers and admins create; readers list all; reviewers list those they can take."""

    error_statuses = {"POST": (404,)}  # the version, job, subject or headshots named

    def get_permissions(self):
        return [HasRole(*ENGINEERS)()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema_serializer(component_name="CampaignCreate")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=120)
        description = serializers.CharField(required=False, default="", allow_blank=True)
        task_kinds = serializers.ListField(child=serializers.ChoiceField(TaskKind.values), min_length=1)
        overlap = json_fields.IntegerField(default=DEFAULT_OVERLAP, min_value=OVERLAP[0],
                                           max_value=OVERLAP[-1])
        allowed_roles = serializers.ListField(child=serializers.CharField(), required=False)
        gold_rate = json_fields.FloatField(default=DEFAULT_GOLD_RATE, min_value=GOLD_RATE[0],
                                           max_value=GOLD_RATE[1])
        lease_seconds = json_fields.IntegerField(default=DEFAULT_LEASE_SECONDS, min_value=LEASE_SECONDS[0],
                                                 max_value=LEASE_SECONDS[-1])
        generator_version = serializers.CharField(required=False, help_text="Generator version name.")
        generation_job = json_fields.IntegerField(required=False)
        subject = json_fields.IntegerField(required=False)
        headshots = serializers.ListField(child=json_fields.IntegerField(), required=False)
        pairs = serializers.ListField(child=serializers.ListField(child=json_fields.IntegerField()),
                                      required=False, help_text="Explicit pairs of headshot ids.")
        pairs_per_job = json_fields.IntegerField(
            default=DEFAULT_PAIRS_PER_JOB, min_value=PAIRS_PER_JOB[0], max_value=PAIRS_PER_JOB[-1],
            help_text="Pairs drawn per generation job (within_job) or per person (other pairings).")
        pairing = serializers.ChoiceField(
            Pairing.values, default=Pairing.WITHIN_JOB,
            help_text="within_job: two candidates of one generation job (default); across_versions: one "
                      "person's headshots from two generator versions; any: any two kept headshots of "
                      "one person. Seeded by seed; never two different people.")
        generator_versions = serializers.ListField(
            child=serializers.CharField(), required=False, min_length=1,
            help_text="Generator version names: headshots of any of them (e.g. for across_versions).")
        seed = json_fields.IntegerField(default=0, min_value=0)
        guidelines = serializers.CharField(required=False, default="", allow_blank=True,
                                           max_length=GUIDELINES_MAX_LENGTH,
                                           help_text="What reviewers should look for (Markdown).")
        scale_anchors = serializers.DictField(
            child=serializers.CharField(max_length=SCALE_ANCHOR_MAX_LENGTH, allow_blank=True), required=False,
            help_text='Words under points "1"–"5" of the rating scales (default: 1 not usable, 3 usable '
                      'with fixes, 5 studio quality).')

    @extend_schema_serializer(component_name="CampaignFilter")
    class FilterSerializer(SearchQuerySerializer):
        status = serializers.ChoiceField(CampaignStatus.values, required=False)

    @extend_schema(parameters=[FilterSerializer], responses={200: CampaignSerializer(many=True)},
                   description=f"Newest first, at most {LIST_LIMIT}; search looks in the name and the "
                               "description.")
    def get(self, request: Request) -> Response:
        campaigns = campaign_list(user=request.user, **validated_query(request, self.FilterSerializer))
        return Response(CampaignSerializer(campaigns[:LIST_LIMIT], many=True).data)

    @extend_schema(request=InputSerializer, responses={201: CampaignSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["generator_version"] = row_lookup(
            model=GeneratorVersion, value=values.get("generator_version"), label="generator version",
            field="name")
        values["generation_job"] = row_lookup(model=GenerationJob, value=values.get("generation_job"),
                                              label="generation job")
        values["subject"] = row_lookup(model=Subject, value=values.get("subject"), label="subject")
        if "generator_versions" in values:
            values["generator_versions"] = [
                row_lookup(model=GeneratorVersion, value=name, label="generator versions", field="name")
                for name in values["generator_versions"]]
        if "headshots" in values:
            values["headshot_ids"] = values.pop("headshots")
        campaign = campaign_create(created_by=request.user, **values)
        return Response(CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)


class DiversitySerializer(serializers.Serializer):
    name = serializers.CharField()
    value = json_fields.FloatField(allow_null=True, help_text="Mean LPIPS between the two sides of a pair.")
    n = json_fields.IntegerField(help_text="Pairwise items measured (gold left out).")
    extractor = serializers.CharField(help_text="What measured it (LPIPS alex v0.1 and its weights).")
    unavailable = serializers.CharField(allow_null=True)
    interval = serializers.ListField(child=json_fields.FloatField(allow_null=True), allow_null=True,
                                     help_text="95% bootstrap interval over the pairs.")
    measured_at = serializers.CharField(required=False, help_text="When it was measured (then cached).")


class TieShareSerializer(serializers.Serializer):
    ties = json_fields.IntegerField(help_text="\"Can't tell\" answers.")
    n = json_fields.IntegerField(help_text="Regular pairwise answers (gold left out).")
    share = json_fields.FloatField(allow_null=True)
    low = json_fields.FloatField(allow_null=True)
    high = json_fields.FloatField(allow_null=True)
    level = json_fields.FloatField()


@extend_schema_serializer(component_name="CampaignSignal")
class CampaignSignalSerializer(serializers.Serializer):
    campaign = json_fields.IntegerField()
    pairing = serializers.CharField()
    diversity = DiversitySerializer(allow_null=True)
    tie_share = TieShareSerializer()
    thresholds = serializers.DictField(child=json_fields.FloatField(),
                                       help_text="diversity, tie_share and min_answers of the warnings.")
    warnings = serializers.ListField(child=serializers.CharField(),
                                     help_text="Sentences saying the pairs are too alike to teach.")
    simulated = serializers.CharField()


@extend_schema_serializer(component_name="CampaignDetail")
class CampaignDetailSerializer(CampaignSerializer):
    signal = CampaignSignalSerializer(
        allow_null=True, help_text="Readers only (null for reviewers): do the pairs carry signal? Candidate "
                                   "diversity (mean LPIPS per pair, measured once and cached) and the share "
                                   "of can't-tell answers, with warnings.")


class CampaignDetailApi(APIView):
    """One campaign with its progress; ml_engineers rename, close/reopen or delete it (no answers).
    Readers also get its pair signal (candidate diversity and can't-tell share)."""

    error_statuses = (409,)  # closed, or answered already (delete)

    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method == "GET" else [HasRole(*ENGINEERS)()]

    @extend_schema_serializer(component_name="CampaignUpdate")
    class UpdateSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=120, required=False)
        description = serializers.CharField(required=False, allow_blank=True)
        status = serializers.ChoiceField(CampaignStatus.values, required=False)
        lease_seconds = json_fields.IntegerField(min_value=LEASE_SECONDS[0], max_value=LEASE_SECONDS[-1],
                                                 required=False)
        guidelines = serializers.CharField(required=False, allow_blank=True, max_length=GUIDELINES_MAX_LENGTH)
        scale_anchors = serializers.DictField(
            child=serializers.CharField(max_length=SCALE_ANCHOR_MAX_LENGTH, allow_blank=True), required=False)

    @extend_schema(responses={200: CampaignDetailSerializer})
    def get(self, request: Request, campaign_id: int) -> Response:
        campaign = campaign_get(campaign_id=campaign_id, user=request.user)
        campaign.signal = None
        if has_role(request.user, READERS):
            campaign_diversity_measure(campaign=campaign)
            campaign.signal = pair_signal(campaign)
        return Response(CampaignDetailSerializer(campaign).data)

    @extend_schema(request=UpdateSerializer, responses={200: CampaignSerializer})
    def patch(self, request: Request, campaign_id: int) -> Response:
        data = self.UpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        campaign = campaign_get(campaign_id=campaign_id, user=request.user)
        return Response(CampaignSerializer(campaign_update(campaign=campaign, **data.validated_data)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, campaign_id: int) -> Response:
        campaign_delete(campaign=campaign_get(campaign_id=campaign_id, user=request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_serializer(component_name="ReviewTask")
class NextItemSerializer(serializers.Serializer):
    assignment = serializers.JSONField(allow_null=True, help_text="null when there is no work for you.")
    detail = serializers.CharField(required=False)
    done = json_fields.IntegerField(help_text="Items you answered in this campaign.")
    progress = serializers.JSONField(help_text="done, remaining (yours now and those you may still be "
                                               "handed), total, skipped, minutes_left (estimate).")
    vocabulary = serializers.JSONField()


class NextItemApi(APIView):
    """Your next item in a campaign (your unfinished one first), or ``assignment: null``."""

    error_statuses = (404,)  # the campaign named

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[OpenApiParameter(
        "campaign", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, required=True)],
                   responses={200: NextItemSerializer})
    def get(self, request: Request) -> Response:
        campaign_id = request.query_params.get("campaign", "")
        if not campaign_id.isdigit():
            raise ApplicationError("Say which campaign: ?campaign=ID.", code="invalid",
                                   extra={"fields": {"campaign": ["A campaign id is required."]}})
        campaign = Campaign.objects.filter(pk=int(campaign_id)).first()
        if campaign is None:
            raise NotFound(f"There is no campaign {campaign_id}.")
        return Response(next_item_body(campaign=campaign, user=request.user))


def next_item_body(*, campaign: Campaign, user: Any) -> dict[str, Any]:
    """The reviewer's next item in ``campaign`` with their progress (``NextItemSerializer``)."""
    assignment, progress = assignment_next_with_progress(campaign=campaign, reviewer=user)
    body = {"assignment": assignment_view(assignment, user) if assignment else None,
            "done": progress["done"], "progress": progress, "vocabulary": task_vocabulary()}
    if assignment is None:
        body["detail"] = "No work left for you in this campaign. Thank you!"
    return body


class _AnswerApi(APIView):
    error_statuses = (404, 409)  # the item named; closed, lease over, answered otherwise
    permission_classes = [IsAuthenticated]

    def store(self, request: Request, submit: Callable[..., tuple[Any, bool]]) -> Response:
        """Validate the body with the view's InputSerializer and store it with ``submit`` (a service);
        201 when stored now, 200 when the same answer was already stored."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        wants_next = values.pop("next", False)
        row, created = submit(reviewer=request.user, assignment_id=values.pop("assignment"), **values)
        body = {"id": row.pk, "assignment": row.assignment_id, "created": created}
        if wants_next:  # the answer is stored (its own transaction); then the next item, in the same trip
            body["next"] = next_item_body(campaign=row.campaign, user=request.user)
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@extend_schema_serializer(component_name="AnswerStored")
class AnswerSerializer(serializers.Serializer):
    id = json_fields.IntegerField()
    assignment = json_fields.IntegerField()
    created = json_fields.BooleanField(help_text="False when the same answer was already stored.")
    next = NextItemSerializer(required=False, help_text="With ``next: true`` in the request: your next item, "
                                                        "as GET /api/review/next/ gives it.")


class _Common(serializers.Serializer):
    assignment = json_fields.IntegerField()
    next = json_fields.BooleanField(required=False, default=False,
                                    help_text="Also hand out your next item of the campaign in the answer's "
                                              "response (one round trip per item).")
    expert_note = serializers.CharField(required=False, default="", allow_blank=True, max_length=4000)
    time_spent_ms = json_fields.IntegerField(required=False, allow_null=True, min_value=0)


class RatingCreateApi(_AnswerApi):
    """Rate a headshot: 1–5 for professionalism, likeness and appeal, artefact flags, a comment."""

    @extend_schema_serializer(component_name="RatingInput")
    class InputSerializer(_Common):
        professionalism = json_fields.IntegerField(min_value=SCORES[0], max_value=SCORES[-1])
        likeness = json_fields.IntegerField(min_value=SCORES[0], max_value=SCORES[-1])
        appeal = json_fields.IntegerField(min_value=SCORES[0], max_value=SCORES[-1])
        flags = serializers.ListField(child=serializers.ChoiceField(ArtefactFlag.values), required=False,
                                      default=list)
        comment = serializers.CharField(required=False, default="", allow_blank=True, max_length=4000)

    @extend_schema(request=InputSerializer, responses={201: AnswerSerializer, 200: AnswerSerializer})
    def post(self, request: Request) -> Response:
        return self.store(request, rating_submit)


class ComparisonCreateApi(_AnswerApi):
    """Choose between two headshots of one subject: left, right or tie ("can't tell"), as shown."""

    @extend_schema_serializer(component_name="ComparisonInput")
    class InputSerializer(_Common):
        choice = serializers.ChoiceField(Choice.values)
        reason = serializers.ChoiceField(ChoiceReason.values, required=False, default="", allow_blank=True)
        left = json_fields.IntegerField(required=False, help_text="Optional check: the left headshot id.")
        right = json_fields.IntegerField(required=False, help_text="Optional check: the right headshot id.")

    @extend_schema(request=InputSerializer, responses={201: AnswerSerializer, 200: AnswerSerializer})
    def post(self, request: Request) -> Response:
        return self.store(request, comparison_submit)


class BlindCreateApi(_AnswerApi):
    """Blind test: was this image AI-generated or a studio photograph, and how sure are you (1–5)?"""

    @extend_schema_serializer(component_name="BlindInput")
    class InputSerializer(_Common):
        answer = serializers.ChoiceField(BlindAnswer.values)
        confidence = json_fields.IntegerField(min_value=SCORES[0], max_value=SCORES[-1])

    @extend_schema(request=InputSerializer, responses={201: AnswerSerializer, 200: AnswerSerializer})
    def post(self, request: Request) -> Response:
        return self.store(request, blind_submit)


class StageComparisonApi(APIView):
    """Start a pairwise campaign "with vs without" a studio stage on a version's held-out people."""

    error_statuses = (404,)  # the version named

    throttle_scope = "jobs"  # per-user write rate (hfplatform/throttles.py)

    permission_classes = [HasRole(*ENGINEERS)]

    @extend_schema_serializer(component_name="StageComparisonRequest")
    class InputSerializer(serializers.Serializer):
        version = serializers.CharField(help_text="Generator version name")
        stage = serializers.CharField(help_text="super_resolution, lighting, colour or background")
        people = json_fields.IntegerField(default=12, help_text="Held-out people (2-100)")
        candidates = json_fields.IntegerField(default=2, help_text="Candidates per person (1-4)")
        seed = json_fields.IntegerField(default=0, min_value=0)

    @extend_schema(request=InputSerializer, responses={202: JobOutputSerializer},
                   description="Generates each person's candidates with and without the stage (same seeds) "
                               "in a job; the job's result names the campaign. ML engineers.")
    def post(self, request: Request) -> Response:
        from generation.generator.selectors import generator_version_get
        from review.stage_comparison import stage_comparison_start

        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version = generator_version_get(name=values.pop("version"))
        job = stage_comparison_start(started_by=request.user, version=version, **values)
        return Response(JobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class SkipApi(APIView):
    """Pass on your current item without answering: it goes back to the pool, the skip is recorded and
    the item is not handed to you again."""

    error_statuses = (404, 409)  # the item named; answered already

    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="SkipRequest")
    class InputSerializer(serializers.Serializer):
        assignment = json_fields.IntegerField()
        reason = serializers.CharField(required=False, default="", allow_blank=True,
                                       max_length=SKIP_REASON_MAX_LENGTH)

    @extend_schema_serializer(component_name="SkipStored")
    class OutputSerializer(serializers.Serializer):
        id = json_fields.IntegerField()
        item = json_fields.IntegerField(source="item_id")
        created_at = serializers.DateTimeField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        skip = assignment_skip(reviewer=request.user, assignment_id=data.validated_data["assignment"],
                               reason=data.validated_data["reason"])
        return Response(self.OutputSerializer(skip).data, status=status.HTTP_201_CREATED)


class UndoApi(APIView):
    """Take back your last answer in a campaign while the item's lease holds; the item is yours to
    answer again and comes back first from ``/api/review/next/``."""

    error_statuses = (404, 409)  # the item named; nothing to undo, not the last, too late

    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="UndoRequest")
    class InputSerializer(serializers.Serializer):
        assignment = json_fields.IntegerField()

    @extend_schema_serializer(component_name="UndoneAnswer")
    class OutputSerializer(serializers.Serializer):
        assignment = json_fields.IntegerField()
        kind = serializers.CharField(help_text="rating, pairwise or blind")
        answer = serializers.JSONField(help_text="The fields the undone answer gave, to show them again.")

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        undone = answer_undo(reviewer=request.user, assignment_id=data.validated_data["assignment"])
        return Response(self.OutputSerializer(undone).data)


class _OwnFigures(serializers.Serializer):
    answers = json_fields.IntegerField()
    gold_answered = json_fields.IntegerField()
    gold_accuracy = json_fields.FloatField(allow_null=True)
    agreement = json_fields.FloatField(allow_null=True, help_text="Share agreeing with the others.")
    agreement_items = json_fields.IntegerField()
    median_seconds = json_fields.FloatField(allow_null=True)


class _OthersFigures(serializers.Serializer):
    reviewers = json_fields.IntegerField(allow_null=True, help_text="null: fewer than three others.")
    gold_accuracy = json_fields.FloatField(allow_null=True)
    agreement = json_fields.FloatField(allow_null=True)
    median_seconds = json_fields.FloatField(allow_null=True)


@extend_schema_serializer(component_name="ReviewerStanding")
class StandingSerializer(serializers.Serializer):
    you = _OwnFigures()
    others = _OthersFigures(help_text="Medians over the other reviewers, never their answers.")


class StandingApi(APIView):
    """How you compare in a campaign you can take: your gold accuracy, agreement with the other
    reviewers' consensus and pace, beside the median of the others (never their answers)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: StandingSerializer})
    def get(self, request: Request, campaign_id: int) -> Response:
        campaign = campaign_get(campaign_id=campaign_id, user=request.user)
        return Response(reviewer_standing(campaign=campaign, reviewer=request.user))
