"""Exports of a metric snapshot: CSV (one row per figure and per fairness group) and JSON."""

from __future__ import annotations

import csv
import io
from typing import Any

from monitoring.models import MetricSnapshot
from monitoring.selectors import snapshot_status, version_lineage

CSV_COLUMNS = ("snapshot", "generator_version", "section", "metric", "attribute", "group", "value",
               "interval_low", "interval_high", "n", "small_n", "extractor", "unavailable")

METHOD = (
    "Held-out people of the version (never trained on), {candidates} candidate(s) each, {steps} sampler "
    "steps, seed {seed}. FID and KID: TF Inception-2015-12-05 pool features, clean-fid 'clean' resize, "
    "against each person's clean aligned crop; FID is biased upwards at small n, so KID (unbiased) is "
    "reported beside it and FIDs compare only at equal n. LPIPS (AlexNet v0.1): likeness = output vs the "
    "person's clean crop, diversity = between candidates of one person. Identity: dlib 128-D distance, "
    "outputs and casual inputs upscaled to 256 px, verified below 0.6; a face not found counts as not "
    "verified. Intervals: 95% percentile bootstrap. Fairness: per-image values grouped by measured ITA "
    "skin tone ('unmeasured' when missing) and self-reported age band and gender ('not given' is its own "
    "group); groups under 5 images are shown but not compared. A metric without its weights is "
    "'unavailable', never a number."
)
LIMITS = (
    "Small samples: a few held-out people give wide intervals; per-image rows of one person are not "
    "independent. Skin tone is measured from one photo's ITA and depends on lighting. Self-reported "
    "attributes are optional, so their groups cover only people who gave them. Automatic metrics do not "
    "replace human review."
)


def snapshot_method(snapshot: MetricSnapshot) -> str:
    return METHOD.format(candidates=snapshot.candidates, steps=snapshot.steps, seed=snapshot.seed)


def snapshot_json(snapshot: MetricSnapshot) -> dict[str, Any]:
    return {
        "id": snapshot.pk, "generator_version": snapshot.generator_version.name,
        "reward_model": snapshot.reward_model.name if snapshot.reward_model_id else None,
        "status": str(snapshot_status(snapshot)), "candidates": snapshot.candidates, "steps": snapshot.steps,
        "seed": snapshot.seed, "started_by": snapshot.started_by.username if snapshot.started_by_id else None,
        "created_at": snapshot.created_at.isoformat(),
        "finished_at": snapshot.finished_at.isoformat() if snapshot.finished_at else None,
        "figures": snapshot.figures, "human": snapshot.human, "fairness": snapshot.fairness,
        "alerts": snapshot.alerts, "notes": snapshot.notes, "per_image": snapshot.per_image,
        "lineage": version_lineage(snapshot.generator_version),
        "method": snapshot_method(snapshot), "limits": LIMITS,
    }


def _interval(figure: dict[str, Any]) -> tuple[Any, Any]:
    interval = figure.get("interval") or [None, None]
    return interval[0], interval[1]


def snapshot_csv(snapshot: MetricSnapshot) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    base = (snapshot.pk, snapshot.generator_version.name)
    for section, figures in (("figures", snapshot.figures), ("human", snapshot.human)):
        for key, figure in (figures or {}).items():
            low, high = _interval(figure)
            writer.writerow((*base, section, key, "", "", figure.get("value"), low, high, figure.get("n"),
                             figure.get("small_n", ""), figure.get("extractor", ""),
                             figure.get("unavailable") or ""))
    for attribute, reports in (snapshot.fairness or {}).items():
        for metric, report in reports.items():
            overall = report.get("overall") or {}
            low, high = _interval(overall)
            writer.writerow((*base, "fairness", metric, attribute, "(all)", overall.get("value"), low, high,
                             overall.get("n"), "", report.get("method", ""), report.get("unavailable") or ""))
            for group, row in (report.get("groups") or {}).items():
                low, high = _interval(row)
                writer.writerow((*base, "fairness", metric, attribute, group, row.get("value"), low, high,
                                 row.get("n"), row.get("small_n"), report.get("method", ""), ""))
    return out.getvalue()
