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
from hfplatform.audit.services import audit_record
from hfplatform.charts import Axis, Bar, interval_chart, nice_axis
from hfplatform.errors import ApplicationError
from hfplatform.views import form_submit, found_or_404
from monitoring.exports import LIMITS, snapshot_csv, snapshot_json, snapshot_method
from monitoring.models import MetricSnapshot, SnapshotStatus
from monitoring.options import DEFAULT_COMPARISON_PEOPLE, DEFAULT_SNAPSHOT_CANDIDATES
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
from monitoring.version_comparison import version_comparison_start

# What each chart's axis measures, by metric (snapshot figures, human results and fairness reports):
# its unit and range. "share": 0 to 1; "rating": the 1-5 review scale; "zero": from 0 to a round
# number above the data (FID, KID, distances, scores).
METRIC_AXES: dict[str, tuple[str, str]] = {
    "fid": ("FID (lower is better)", "zero"),
    "kid": ("KID (lower is better)", "zero"),
    "lpips_likeness": ("LPIPS distance to own portrait (lower is better)", "zero"),
    "lpips_diversity": ("LPIPS distance between candidates (higher is better)", "zero"),
    "identity_verification_rate": ("share of pairs verified as the same person, 0-1", "share"),
    "identity_verification_rate_to_portrait": ("share of pairs verified as the same person, 0-1", "share"),
    "identity_distance": ("dlib face-embedding distance (lower is better; under 0.6 = same person)", "zero"),
    "reward_score": ("reward score (reward-model units, higher is better)", "zero"),
    "rating_professionalism": ("mean rating on the 1-5 scale", "rating"),
    "rating_likeness": ("mean rating on the 1-5 scale", "rating"),
    "rating_appeal": ("mean rating on the 1-5 scale", "rating"),
    "pairwise_win_rate": ("win rate, 0-1 (ties count half; 0.5 = even)", "share"),
    "blind_detection_rate": ("share spotted as generated, 0-1 (0.5 = chance)", "share"),
    # fairness reports (per-image metrics, by group)
    "identity_verified": ("share of pairs verified as the same person, 0-1", "share"),
    "identity_verified_to_portrait": ("share of pairs verified as the same person, 0-1", "share"),
    "rejection_rate": ("share of photos rejected by the face pipeline, 0-1 (lower is better)", "share"),
}


def metric_axis(metric: str, rows: list[Bar]) -> Axis:
    """The axis of ``metric``'s chart: its unit, and a range from its kind and the rows' values and
    interval ends (``hfplatform.charts.nice_axis``)."""
    unit, kind = METRIC_AXES.get(metric, ("", "zero"))
    return nice_axis([v for r in rows for v in (r.value, r.low, r.high)], unit=unit, share=kind == "share",
                     scale=(1.0, 5.0) if kind == "rating" else None)


def interval_svg(rows: list[Bar], *, testid: str, title: str, metric: str | None = None) -> str:
    """Points with 95% interval whiskers on ``metric``'s axis (``metric_axis``), or, without one, on
    an axis from 0 fitted to the data (``hfplatform.charts``)."""
    return mark_safe(interval_chart(rows, testid=testid, title=title, references=(), domain=None,
                                    percent=False, axis=metric_axis(metric, rows) if metric else None))


def has_values(rows: list[Bar]) -> bool:
    return any(r.value is not None for r in rows)


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
                "unit": METRIC_AXES.get(metric, ("", ""))[0], "missing": [(r.label, r.note) for r in rows],
                "svg": interval_svg(rows, testid=f"fairness-{attribute}-{metric}", metric=metric,
                                    title=f"{metric} by {attribute}, with 95% intervals")
                if has_values(rows) else None})
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
    reward_model = forms.ChoiceField(required=False, choices=[("", "none")],
                                     help_text="Optional: adds the mean reward score of the headshots.")
    candidates = forms.IntegerField(initial=DEFAULT_SNAPSHOT_CANDIDATES, min_value=1,
                                    max_value=MAX_CANDIDATES)
    steps = forms.IntegerField(initial=DEFAULT_STEPS, min_value=1, max_value=MAX_EVALUATION_STEPS)
    stages = forms.BooleanField(required=False, initial=True, label="Studio stages",
                                help_text="Also measure the default studio stages on the headshots.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from reward.models import RewardModelVersion, RewardStatus

        usable = RewardModelVersion.objects.filter(
            status__in=[RewardStatus.ACTIVE, RewardStatus.CANDIDATE]).order_by("-pk")[:100]
        self.fields["reward_model"].choices = [("", "none")] + [
            (m.name, f"{m.name} ({m.get_status_display().lower()}, {m.dimension})") for m in usable]


HUMAN_METRICS = {key for key, _, where, _ in METRICS if where == "human"}


def _dashboard(request: HttpRequest, form: SnapshotForm | None = None) -> HttpResponse:
    """Charts only where there is something to plot: a metric without any value is listed with each
    version's reason (and where the metric comes from); no finished snapshot gives empty states."""
    trend = metric_trend()
    for metric in trend:
        rows = [_bar(p["version"], p["figure"]) for p in metric["points"]]
        direction = "lower is better" if metric["lower_is_better"] else "higher is better"
        metric["unit"] = METRIC_AXES.get(metric["key"], ("", ""))[0]
        metric["source"] = ("human" if metric["key"] in HUMAN_METRICS
                            else "reward" if metric["key"] == "reward_score" else "snapshot")
        metric["missing"] = [(r.label, r.note) for r in rows]
        metric["svg"] = interval_svg(rows, testid=f"trend-{metric['key']}", metric=metric["key"],
                                     title=f"{metric['label']} by generator version ({direction})"
                                     ) if has_values(rows) else None
    latest = latest_snapshots()
    newest = latest[-1] if latest else None
    snapshots = [(s, snapshot_status(s)) for s in snapshot_list()[:50]]
    return render(request, "monitoring/dashboard.html", {
        "trend": [m for m in trend if m["svg"]], "unmeasured": [m for m in trend if not m["svg"]],
        "newest": newest, "fairness": fairness_charts(newest) if newest else [],
        "snapshots": snapshots, "running": [s for s, status in snapshots if status == SnapshotStatus.PENDING],
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
                                     stages=values["stages"], started_by=request.user)

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
        "method": snapshot_method(snapshot), "limits": LIMITS, "studio": studio_tables(snapshot.studio)})


def studio_tables(studio: dict[str, Any]) -> dict[str, Any] | None:
    """A snapshot's studio-stage figures (``MetricSnapshot.studio``) as the page's rows, or None when
    they were not measured."""
    if not studio:
        return None
    from generation.ml.studio.evaluate import mean_text, share_text

    if studio.get("unavailable"):
        return {"unavailable": studio["unavailable"]}
    identity = studio.get("identity") or {}
    shown = (("raw_64", "as generated"), ("raw_256_bicubic", "enlarged to 256 px (bicubic)"),
             ("staged", "after the stages"))
    return {
        "stages": ", ".join(studio.get("stages", [])), "people": studio.get("people"),
        "images": studio.get("images"), "seconds": mean_text(studio.get("seconds")),
        "identity": [{"label": label, "verified": share_text(identity[key].get("verified")),
                      "distance": mean_text(identity[key].get("distance"), 3),
                      "no_face": identity[key].get("no_face")} for key, label in shown if key in identity],
        "threshold": identity.get("threshold"),
        "groups": [{"group": name, "n": g["n"], "delta": mean_text(g["abs_delta_ita"]),
                    "max": f"{g['max_abs_delta_ita']:.2f}", "kept": share_text(g["category_kept"])}
                   for name, g in studio.get("groups", {}).items()],
        "overall": {"delta": mean_text(studio.get("abs_delta_ita")),
                    "kept": share_text(studio.get("category_kept"))},
        "records": [{"stage": name, **{k: r.get(k, 0) for k in ("applied", "skipped", "unavailable")},
                     "reasons": "; ".join(r.get("reasons", []))}
                    for name, r in studio.get("records", {}).items()],
    }


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
    audit_record(action="export", target=snapshot, summary=f"snapshot figures as {fmt.upper()}",
                 detail={"format": fmt})
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


@require_POST
@role_required(*ENGINEERS)
def version_comparison_page(request: HttpRequest, name: str) -> HttpResponse:
    """The "ask people: this version or the active one?" button of the generator versions page: start
    the job that makes the campaign, follow it."""
    try:
        people = int(request.POST.get("people") or DEFAULT_COMPARISON_PEOPLE)
        version = generator_version_get(name=name)
        job = version_comparison_start(started_by=request.user, candidate=version, people=people)
    except ValueError:
        messages.error(request, "people: give a whole number.")
    except ApplicationError as exc:  # NotFound included
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Generating {version.name}'s and the active version's headshots of the "
                                  "same people; the campaign opens when the job is done.")
        return redirect("jobs:detail", job.pk)
    return redirect("generation:versions")


@role_required(*READERS)
def promotion_image_file(request: HttpRequest, decision_id: int, person: int, image: str) -> HttpResponse:
    """One image of a decision's comparison, role-checked (people's likenesses are personal data)."""
    decision = found_or_404(promotion_decision_get, decision_id=decision_id)
    path = found_or_404(promotion_image_path, decision=decision, person=person, image=image)
    if not default_storage.exists(path):
        raise Http404("This image is gone (its person was deleted).")
    return private_file(path, content_type="image/png")


def _readable(value: Any) -> Any:
    """A configuration value for a page: as it is when short, else its size."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return f"{len(value)} values" if isinstance(value, list | dict) else str(value)


@role_required(*READERS)
def lineage_page(request: HttpRequest, name: str) -> HttpResponse:
    """A generator version's page: its facts, training configuration and sample grid, then where it
    comes from, step by step: campaign answers → preference dataset → reward model → adapter →
    version → snapshots → promotion decisions, for it and each ancestor."""
    version = found_or_404(generator_version_get, name=name)
    config_rows = [(key.replace("_", " "), _readable(value))
                   for key, value in sorted((version.training_config or {}).items())]
    return render(request, "monitoring/lineage.html", {"version": version, "config_rows": config_rows,
                                                       "chain": generator_lineage_chain(version)})
