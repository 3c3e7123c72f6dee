"""Agreement and reviewer-quality page, CSV downloads and their API, for readers only.

Readers (ml_engineer, auditor; admins pass every check) see every campaign's figures; reviewers
and photographers get 403. Reviewers appear only as pseudonyms.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hfplatform import json_fields
from hfplatform.accounts.roles import READERS, HasRole, role_required
from hfplatform.audit.services import audit_record
from hfplatform.charts import Bar, Reference, bar_chart, interval_chart
from hfplatform.errors import ApplicationError
from review.agreement import ALPHA_RELIABLE, ALPHA_TENTATIVE
from review.comparison_verdict import comparison_verdict
from review.exports import COLUMNS, EXPORT_KINDS, export_rows
from review.exports import export_csv as export_csv_text
from review.models import Campaign
from review.quality import (
    KINDS,
    blind_detection,
    campaign_agreement,
    campaign_find,
    pair_signal,
    rating_means_by_role,
    reviewer_quality,
)
from review.services import campaign_diversity_measure

SIMULATED_PARAMETER = OpenApiParameter(
    "simulated", str, enum=["include", "exclude"], required=False,
    description="include (default): simulated reviewers count like people and are labelled; exclude: "
                "their answers are left out of every figure.")

BLIND_ROWS = (("overall", None, "all judges"), ("by_truth", "generated", "generated images"),
              ("by_truth", "real", "real photos"), ("by_role", "reviewer", "reviewers"),
              ("by_role", "photographer", "photographers"))


def exclude_simulated(value: str | None) -> bool:
    """The ``simulated`` query parameter: "include" (or absent) → False, "exclude" → True; else 400."""
    if value in (None, "include"):
        return False
    if value == "exclude":
        return True
    raise ApplicationError("simulated= is include or exclude.", code="invalid",
                           extra={"fields": {"simulated": ["Choose include or exclude."]}})


# --- Charts ---------------------------------------------------------------------------------------


def _alpha_chart(agreement: dict[str, Any]) -> str:
    bars = [Bar(d["name"], d["alpha"], d["unavailable"] if d["alpha"] is None else f"{d['n_items']} items")
            for d in agreement["dimensions"]]
    return bar_chart(bars, testid="chart-alpha", title="Krippendorff's alpha per dimension, with the "
                     f"{ALPHA_TENTATIVE} (tentative) and {ALPHA_RELIABLE} (reliable) reference lines",
                     references=[Reference(ALPHA_TENTATIVE, f"{ALPHA_TENTATIVE} tentative"),
                                 Reference(ALPHA_RELIABLE, f"{ALPHA_RELIABLE} reliable")],
                     threshold=ALPHA_TENTATIVE)


def _reliability_chart(reviewers: list[dict[str, Any]]) -> str:
    bars = [Bar(f"{r['reviewer']} ({r['role']}{', simulated' if r['simulated'] else ''})", r["reliability"])
            for r in reviewers]
    return bar_chart(bars, testid="chart-reliability", title="Reliability score per reviewer (0 to 1)")


def _blind_chart(blind: dict[str, Any]) -> str:
    points = []
    for group, key, label in BLIND_ROWS:
        figure = blind[group] if key is None else blind[group][key]
        points.append(Bar(label, figure["rate"], f"n={figure['n']}" if figure["n"] else figure["unavailable"],
                          figure["low"], figure["high"]))
    return interval_chart(points, testid="chart-blind",
                          title="Blind-test detection rate with 95% interval; 50% is chance")


# --- Pages ----------------------------------------------------------------------------------------


@role_required(*READERS)
def agreement_page(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Alpha per dimension and per reviewer pair, reviewer quality, blind detection, role means."""
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    leave_out = request.GET.get("simulated") == "exclude"  # the page's toggle; anything else includes
    agreement = campaign_agreement(campaign, exclude_simulated=leave_out)
    reviewers = reviewer_quality(campaign, exclude_simulated=leave_out)
    blind = blind_detection(campaign, exclude_simulated=leave_out)
    blind_rows = [(label, blind[group] if key is None else blind[group][key])
                  for group, key, label in BLIND_ROWS]
    campaign_diversity_measure(campaign=campaign)  # measured once, then cached on the campaign
    charts = {"alpha": _alpha_chart(agreement), "reliability": _reliability_chart(reviewers),
              "blind": _blind_chart(blind)}
    return render(request, "review/agreement.html", {
        "campaign": campaign, "agreement": agreement, "reviewers": reviewers, "blind_rows": blind_rows,
        "means": rating_means_by_role(campaign, exclude_simulated=leave_out), "export_kinds": EXPORT_KINDS,
        "exclude_simulated": leave_out, "kinds": KINDS,
        "signal": pair_signal(campaign, exclude_simulated=leave_out),
        # charts.py escapes every text it writes into the SVG
        "charts": {name: mark_safe(svg) for name, svg in charts.items()},
    })


@role_required(*READERS)
def export_csv(request: HttpRequest, campaign_id: int, kind: str) -> HttpResponse:
    """One kind of answer of a campaign as a CSV download (reviewers pseudonymised)."""
    if kind not in EXPORT_KINDS:
        raise Http404(f"No export '{kind}': choose one of {', '.join(EXPORT_KINDS)}.")
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    response = HttpResponse(export_csv_text(campaign, kind), content_type="text/csv; charset=utf-8")
    audit_record(action="export", target=campaign, summary=f"{kind} answers as CSV",
                 detail={"kind": kind, "format": "csv"})
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}-{kind}.csv"'
    return response


# --- API ------------------------------------------------------------------------------------------


class PairAlphaSerializer(serializers.Serializer):
    reviewer_a = serializers.CharField()
    reviewer_b = serializers.CharField()
    n_common = json_fields.IntegerField()
    alpha = json_fields.FloatField(allow_null=True)
    unavailable = serializers.CharField(allow_null=True)


class DimensionAlphaSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="professionalism, likeness, appeal or pairwise.")
    level = serializers.CharField(help_text="ordinal (1–5 scales) or nominal (pairwise a/b/tie).")
    alpha = json_fields.FloatField(allow_null=True)
    unavailable = serializers.CharField(allow_null=True, help_text="Why alpha is undefined, else null.")
    text = serializers.CharField()
    n_items = json_fields.IntegerField(help_text="Items answered by 2 or more reviewers (gold left out).")
    n_reviewers = json_fields.IntegerField()
    pairs = PairAlphaSerializer(many=True)


class DetectionSerializer(serializers.Serializer):
    correct = json_fields.IntegerField()
    n = json_fields.IntegerField()
    rate = json_fields.FloatField(allow_null=True)
    low = json_fields.FloatField(allow_null=True)
    high = json_fields.FloatField(allow_null=True)
    level = json_fields.FloatField()
    unavailable = serializers.CharField(allow_null=True)


class BlindSerializer(serializers.Serializer):
    overall = DetectionSerializer()
    by_truth = serializers.DictField(child=DetectionSerializer(), help_text="generated, real")
    by_role = serializers.DictField(child=DetectionSerializer(), help_text="reviewer, photographer")


class CampaignVerdictApi(APIView):
    """People's verdict of a comparison campaign (with vs without a studio stage, or one generator
    version against another): per person the share of answers preferring each side, the mean
    difference with a 95% bootstrap over the people, the reasons given. Readers only; 404 for a
    campaign that compares nothing."""

    permission_classes = [HasRole(*READERS)]

    @extend_schema_serializer(component_name="CampaignVerdict")
    class OutputSerializer(serializers.Serializer):
        campaign = json_fields.IntegerField()
        kind = serializers.CharField(help_text="stage_comparison or version_comparison.")
        first = serializers.CharField(help_text="The first side, e.g. 'with background'.")
        second = serializers.CharField()
        people = json_fields.IntegerField()
        answers = json_fields.IntegerField(help_text="Regular answers counted (gold left out).")
        ties = json_fields.IntegerField(help_text="\"Can't tell\" answers: they count for neither side.")
        reviewers = json_fields.IntegerField()
        simulated_answers = json_fields.IntegerField(help_text="Answers by simulated reviewers.")
        simulated = serializers.CharField(help_text="included or excluded (?simulated=exclude).")
        first_share = json_fields.FloatField(allow_null=True, help_text="Mean over people.")
        second_share = json_fields.FloatField(allow_null=True)
        difference = json_fields.FloatField(allow_null=True, help_text="first_share − second_share.")
        interval = serializers.ListField(child=json_fields.FloatField(), allow_null=True,
                                         help_text="95% percentile bootstrap over the people.")
        enough = json_fields.BooleanField(help_text="At least min_answers answers on min_people people.")
        verdict = serializers.CharField()
        min_answers = json_fields.IntegerField()
        min_people = json_fields.IntegerField()
        reasons = serializers.JSONField(help_text="Per side, answers per reason (professional, likeness, "
                                                  "appeal).")
        per_person = serializers.JSONField(help_text="[{subject, answers, first_share, second_share}].")

    @extend_schema(parameters=[SIMULATED_PARAMETER], responses={200: OutputSerializer})
    def get(self, request: Request, campaign_id: int) -> Response:
        leave_out = exclude_simulated(request.query_params.get("simulated"))
        campaign = campaign_find(campaign_id=campaign_id)
        verdict = comparison_verdict(campaign, exclude_simulated=leave_out)
        return Response(self.OutputSerializer(verdict.as_dict()).data)


class CampaignAgreementApi(APIView):
    """Krippendorff's alpha per dimension and per reviewer pair, blind detection rate and mean ratings
    of reviewers and photographers for one campaign. Readers only."""

    permission_classes = [HasRole(*READERS)]

    @extend_schema_serializer(component_name="CampaignAgreement")
    class OutputSerializer(serializers.Serializer):
        campaign = json_fields.IntegerField()
        dimensions = DimensionAlphaSerializer(many=True)
        min_common = json_fields.IntegerField(help_text="Items two reviewers share before their pair alpha.")
        thresholds = serializers.DictField(child=json_fields.FloatField())
        blind = BlindSerializer()
        rating_means = serializers.JSONField(help_text="Means per role and photographer-weighted.")
        simulated = serializers.CharField(help_text="included or excluded (?simulated=exclude).")

    @extend_schema(parameters=[SIMULATED_PARAMETER], responses={200: OutputSerializer})
    def get(self, request: Request, campaign_id: int) -> Response:
        leave_out = exclude_simulated(request.query_params.get("simulated"))
        campaign = campaign_find(campaign_id=campaign_id)
        data = {**campaign_agreement(campaign, exclude_simulated=leave_out),
                "blind": blind_detection(campaign, exclude_simulated=leave_out),
                "rating_means": rating_means_by_role(campaign, exclude_simulated=leave_out)}
        return Response(self.OutputSerializer(data).data)


class KindQualitySerializer(serializers.Serializer):
    answers = json_fields.IntegerField(help_text="Answers of this kind, gold included.")
    gold_answered = json_fields.IntegerField()
    gold_correct = json_fields.IntegerField()
    gold_accuracy = json_fields.FloatField(allow_null=True)
    consensus_n = json_fields.IntegerField(help_text="Regular answers compared with the others' consensus.")
    consensus_agreement = json_fields.FloatField(
        allow_null=True, help_text="Share agreeing with the leave-one-out consensus of this kind.")
    reliability = json_fields.FloatField(help_text="Shrunk gold accuracy and agreement of this kind.")


class ReviewerQualitySerializer(serializers.Serializer):
    reviewer = serializers.CharField(help_text="Pseudonym, never the id or username.")
    role = serializers.CharField(help_text="reviewer or photographer, at their latest answer.")
    simulated = json_fields.BooleanField(help_text="A simulated reviewer (manage.py simulate_reviewers).")
    items_done = json_fields.IntegerField()
    median_time_ms = json_fields.FloatField(allow_null=True)
    gold_answered = json_fields.IntegerField(help_text="All kinds together.")
    gold_correct = json_fields.IntegerField()
    gold_accuracy = json_fields.FloatField(allow_null=True)
    consensus_n = json_fields.IntegerField(help_text="All kinds together (each against its own kind).")
    consensus_agreement = json_fields.FloatField(allow_null=True)
    reliability = json_fields.FloatField(help_text="All kinds together; weights use the per-kind figures.")
    reliability_rating = json_fields.FloatField()
    reliability_pairwise = json_fields.FloatField()
    reliability_blind = json_fields.FloatField()
    by_kind = serializers.DictField(child=KindQualitySerializer(), help_text="rating, pairwise, blind")


class CampaignReviewersApi(APIView):
    """Per-reviewer quality of one campaign (pseudonymised), most reliable first. Readers only."""

    permission_classes = [HasRole(*READERS)]

    @extend_schema_serializer(component_name="CampaignReviewers")
    class OutputSerializer(serializers.Serializer):
        campaign = json_fields.IntegerField()
        simulated = serializers.CharField(help_text="included or excluded (?simulated=exclude).")
        reviewers = ReviewerQualitySerializer(many=True)

    @extend_schema(parameters=[SIMULATED_PARAMETER], responses={200: OutputSerializer})
    def get(self, request: Request, campaign_id: int) -> Response:
        leave_out = exclude_simulated(request.query_params.get("simulated"))
        campaign = campaign_find(campaign_id=campaign_id)
        return Response(self.OutputSerializer({
            "campaign": campaign.pk, "simulated": "excluded" if leave_out else "included",
            "reviewers": reviewer_quality(campaign, exclude_simulated=leave_out)}).data)


class CampaignExportApi(APIView):
    """One kind of answer of a campaign as JSON rows (the CSV columns). Readers only."""

    permission_classes = [HasRole(*READERS)]

    @extend_schema_serializer(component_name="CampaignExport")
    class OutputSerializer(serializers.Serializer):
        campaign = json_fields.IntegerField()
        kind = serializers.CharField()
        columns = serializers.ListField(child=serializers.CharField())
        rows = serializers.ListField(child=serializers.JSONField())

    @extend_schema(parameters=[OpenApiParameter("kind", str, enum=list(EXPORT_KINDS), required=True)],
                   responses={200: OutputSerializer})
    def get(self, request: Request, campaign_id: int) -> Response:
        kind = request.query_params.get("kind", "")
        if kind not in EXPORT_KINDS:
            raise ApplicationError(f"Choose kind= one of {', '.join(EXPORT_KINDS)}.", code="invalid",
                                   extra={"fields": {"kind": ["Unknown export kind."]}})
        campaign = campaign_find(campaign_id=campaign_id)
        rows = export_rows(campaign, kind)
        audit_record(action="export", target=campaign, summary=f"{kind} answers through the API",
                     detail={"kind": kind, "format": "json", "rows": len(rows)})
        return Response({"campaign": campaign.pk, "kind": kind, "columns": COLUMNS[kind], "rows": rows})
