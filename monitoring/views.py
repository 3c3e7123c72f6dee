"""Monitoring pages: the dashboard (trends, fairness, alerts), snapshot detail, comparison, exports,
the printable report and the promotion gate's comparison page. ML engineers and auditors read; only
engineers start snapshots."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from generation.faces.views import private_file
from generation.generator.options import DEFAULT_STEPS, MAX_CANDIDATES, MAX_EVALUATION_STEPS
from generation.generator.selectors import generator_version_get
from generation.models import GeneratorVersion
from hfplatform.accounts.roles import ENGINEERS, READERS, has_role, role_required
from hfplatform.charts import Bar, interval_chart
from hfplatform.views import form_submit, found_or_404
from monitoring.exports import LIMITS, snapshot_csv, snapshot_json, snapshot_method
from monitoring.models import MetricSnapshot
from monitoring.options import DEFAULT_SNAPSHOT_CANDIDATES
from monitoring.promotion import figures_in_order
from monitoring.selectors import (
    METRICS,
    generator_lineage_chain,
    latest_snapshots,
    metric_figure,
    metric_trend,
    promotion_decision_get,
    promotion_decision_list,
    promotion_image_path,
    reward_model_by_name,
    snapshot_get,
    snapshot_list,
    snapshot_status,
    version_lineage,
)
from monitoring.services import metric_snapshot_start


def interval_svg(rows: list[Bar], *, testid: str, title: str) -> str:
    """Points with 95% interval whiskers on an axis fitted to the data (``hfplatform.charts``)."""
    return mark_safe(interval_chart(rows, testid=testid, title=title, references=(), domain=None,
                                    percent=False))


def _bar(label: str, figure: dict[str, Any] | None, note: str = "") -> Bar:
    figure = figure or {}
    interval = figure.get("interval") or [None, None]
    if figure.get("value") is None:
        return Bar(label=label, value=None, note=figure.get("unavailable") or "unavailable: not measured")
    extra = f"n={figure.get('n')}" + (" small n" if figure.get("small_n") else "")
    extra += f" {note}" if note else ""
    return Bar(label=label, value=figure["value"], low=interval[0], high=interval[1], note=extra)


def fairness_charts(snapshot: MetricSnapshot) -> list[dict[str, Any]]:
    charts = []
    for attribute, reports in (snapshot.fairness or {}).items():
        for metric, report in reports.items():
            rows = [_bar(str(group), row, "(not compared)" if row.get("small_n") else "")
                    for group, row in sorted((report.get("groups") or {}).items())]
            charts.append({
                "attribute": attribute, "metric": metric, "report": report,
                "svg": interval_svg(rows, testid=f"fairness-{attribute}-{metric}",
                                    title=f"{metric} by {attribute}, with 95% intervals")})
    return charts


def _figure_rows(snapshot: MetricSnapshot) -> list[dict[str, Any]]:
    rows = []
    for key, label, where, lower in METRICS:
        figure = metric_figure(snapshot, where, key)
        if figure is not None:
            rows.append({"key": key, "label": label, "lower_is_better": lower, "figure": figure})
    return rows


class SnapshotForm(forms.Form):
    generator_version = forms.ModelChoiceField(queryset=GeneratorVersion.objects.order_by("-created_at"),
                                               to_field_name="name")
    reward_model = forms.CharField(required=False,
                                   help_text="Reward model name (optional): adds the mean reward score.")
    candidates = forms.IntegerField(initial=DEFAULT_SNAPSHOT_CANDIDATES, min_value=1,
                                    max_value=MAX_CANDIDATES)
    steps = forms.IntegerField(initial=DEFAULT_STEPS, min_value=1, max_value=MAX_EVALUATION_STEPS)


def _dashboard(request: HttpRequest, form: SnapshotForm | None = None) -> HttpResponse:
    trend = metric_trend()
    for metric in trend:
        rows = [_bar(p["version"], p["figure"]) for p in metric["points"]]
        direction = "lower is better" if metric["lower_is_better"] else "higher is better"
        metric["svg"] = interval_svg(rows, testid=f"trend-{metric['key']}",
                                     title=f"{metric['label']} by generator version ({direction})")
    latest = latest_snapshots()
    newest = latest[-1] if latest else None
    return render(request, "monitoring/dashboard.html", {
        "trend": trend, "newest": newest, "fairness": fairness_charts(newest) if newest else [],
        "snapshots": [(s, snapshot_status(s)) for s in snapshot_list()[:50]],
        "decisions": promotion_decision_list()[:20],
        "can_manage": has_role(request.user, ENGINEERS), "form": form or SnapshotForm()})


@role_required(*READERS)
def dashboard_page(request: HttpRequest) -> HttpResponse:
    return _dashboard(request)


@require_POST
@role_required(*ENGINEERS)
def snapshot_create_page(request: HttpRequest) -> HttpResponse:
    form = SnapshotForm(request.POST)

    def start(values: dict[str, Any]) -> MetricSnapshot:
        return metric_snapshot_start(generator_version=values["generator_version"],
                                     reward_model=reward_model_by_name(values["reward_model"]),
                                     candidates=values["candidates"], steps=values["steps"],
                                     started_by=request.user)

    snapshot = form_submit(form=form, service=start)
    if snapshot is None:
        return _dashboard(request, form)
    messages.success(request, f"Snapshot {snapshot.pk} of {snapshot.generator_version.name} queued.")
    return redirect("jobs:detail", snapshot.job_id)


def _snapshot(snapshot_id: int) -> MetricSnapshot:
    return found_or_404(snapshot_get, snapshot_id=snapshot_id)


@role_required(*READERS)
def snapshot_detail_page(request: HttpRequest, snapshot_id: int) -> HttpResponse:
    snapshot = _snapshot(snapshot_id)
    rows = _figure_rows(snapshot)
    return render(request, "monitoring/snapshot_detail.html", {
        "snapshot": snapshot, "status": snapshot_status(snapshot), "rows": rows,
        "figures_svg": interval_svg([_bar(r["label"], r["figure"]) for r in rows], testid="snapshot-figures",
                                    title="Figures of this snapshot with 95% intervals"),
        "fairness": fairness_charts(snapshot), "lineage": version_lineage(snapshot.generator_version),
        "method": snapshot_method(snapshot), "limits": LIMITS})


@role_required(*READERS)
def compare_page(request: HttpRequest) -> HttpResponse:
    pair = []
    for key in ("a", "b"):
        ref = request.GET.get(key, "")
        if ref.isdigit():
            pair.append(_snapshot(int(ref)))
    rows = []
    if len(pair) == 2:
        a, b = pair
        for key, label, where, lower in METRICS:
            fa, fb = metric_figure(a, where, key), metric_figure(b, where, key)
            if fa is None and fb is None:
                continue
            va, vb = (fa or {}).get("value"), (fb or {}).get("value")
            delta = None if va is None or vb is None else vb - va
            better = None if delta is None or delta == 0 else ("b" if (delta < 0) == lower else "a")
            rows.append({"label": label, "a": fa, "b": fb, "delta": delta, "better": better,
                         "lower_is_better": lower,
                         "svg": interval_svg([_bar(f"A: {a.generator_version.name}", fa),
                                              _bar(f"B: {b.generator_version.name}", fb)],
                                             testid=f"compare-{key}", title=f"{label}: A vs B")})
    return render(request, "monitoring/compare.html", {
        "a": pair[0] if pair else None, "b": pair[1] if len(pair) == 2 else None, "rows": rows,
        "choices": snapshot_list()[:100]})


@role_required(*READERS)
def snapshot_export_page(request: HttpRequest, snapshot_id: int, fmt: str) -> HttpResponse:
    snapshot = _snapshot(snapshot_id)
    name = f"snapshot-{snapshot.pk}-{snapshot.generator_version.name}"
    if fmt == "csv":
        response = HttpResponse(snapshot_csv(snapshot), content_type="text/csv; charset=utf-8")
    elif fmt == "json":
        response = JsonResponse(snapshot_json(snapshot), json_dumps_params={"indent": 2})
    else:
        raise Http404("Exports are csv or json.")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@role_required(*READERS)
def report_page(request: HttpRequest) -> HttpResponse:
    """Printable: one page per generator version (its newest finished snapshot)."""
    pages = []
    for snapshot in latest_snapshots():
        rows = _figure_rows(snapshot)
        pages.append({"snapshot": snapshot, "rows": rows,
                      "lineage": version_lineage(snapshot.generator_version),
                      "method": snapshot_method(snapshot), "fairness": fairness_charts(snapshot)})
    return render(request, "monitoring/report.html", {"pages": pages, "limits": LIMITS,
                                                      "rules": json.dumps(_rules())})


def _rules() -> dict[str, Any]:
    from monitoring.alerts import alert_rules

    return alert_rules()


# --- The promotion gate ---------------------------------------------------------------------------


@role_required(*READERS)
def promotion_detail_page(request: HttpRequest, decision_id: int) -> HttpResponse:
    """A candidate beside the version active when it was evaluated, person by person (same seeds), the
    gate's table with paired intervals, the decision, its reasons and any override."""
    decision = found_or_404(promotion_decision_get, decision_id=decision_id)
    def url(person: int, image: str) -> str:
        return reverse("monitoring:promotion-image", args=[decision.pk, person, image])

    people = [{**row, "input_url": url(index, "input"),
               "pairs": [{"seed": seed, "baseline": url(index, f"baseline-{c}"),
                          "candidate": url(index, f"candidate-{c}")}
                         for c, seed in enumerate(row.get("seeds", [])[:len(row.get("candidate", []))])]}
              for index, row in enumerate(decision.per_person or [])]
    return render(request, "monitoring/promotion_detail.html", {
        "decision": decision, "people": people, "figures": figures_in_order(decision.figures)})


@role_required(*READERS)
def promotion_image_file(request: HttpRequest, decision_id: int, person: int, image: str) -> HttpResponse:
    """One image of a decision's comparison, role-checked (people's likenesses are personal data)."""
    decision = found_or_404(promotion_decision_get, decision_id=decision_id)
    path = found_or_404(promotion_image_path, decision=decision, person=person, image=image)
    if not default_storage.exists(path):
        raise Http404("This image is gone (its person was deleted).")
    return private_file(path, content_type="image/png")


@role_required(*READERS)
def lineage_page(request: HttpRequest, name: str) -> HttpResponse:
    """Where a version comes from, step by step: campaign answers → preference dataset → reward model
    → adapter → version → snapshots → promotion decisions, for it and each ancestor."""
    version = found_or_404(generator_version_get, name=name)
    return render(request, "monitoring/lineage.html", {"version": version,
                                                       "chain": generator_lineage_chain(version)})
