"""Alert rules evaluated on every metric snapshot (pure functions: figures in, alerts out).

Rules and thresholds are ``DEFAULT_RULES`` (their one home), each replaced by the one of the same name in
``settings.MONITORING_ALERT_RULES`` (a dict, or a JSON string in the environment); a rule whose
threshold is None is off. Each alert is
``{"rule", "message", "value", "threshold"}`` with the message in words.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

DEFAULT_RULES: dict[str, float] = {
    "kid_worse_than_active_by": 0.01,
    "min_group_verification_rate": 0.8,
    "min_fairness_ratio": 0.8,
}


def alert_rules() -> dict[str, float | None]:
    rules = getattr(settings, "MONITORING_ALERT_RULES", None)
    if isinstance(rules, str):
        rules = json.loads(rules) if rules.strip() else None
    return {**DEFAULT_RULES, **(rules or {})}


def _value(figure: dict[str, Any] | None) -> float | None:
    return None if not figure else figure.get("value")


def alerts_evaluate(*, figures: dict[str, Any], fairness: dict[str, Any],
                    active_figures: dict[str, Any] | None = None, active_name: str = "",
                    rules: dict[str, float | None] | None = None) -> list[dict[str, Any]]:
    """The alerts one snapshot raises. ``active_figures``: the latest snapshot of the active version
    (None when there is none, or when this snapshot is of the active version itself)."""
    rules = alert_rules() if rules is None else {**DEFAULT_RULES, **rules}
    alerts: list[dict[str, Any]] = []

    limit = rules.get("kid_worse_than_active_by")
    kid, active_kid = _value(figures.get("kid")), _value((active_figures or {}).get("kid"))
    if limit is not None and kid is not None and active_kid is not None and kid > active_kid + limit:
        alerts.append({
            "rule": "kid_worse_than_active_by",
            "message": (f"KID {kid:.4f} is worse than the active version {active_name or ''} "
                        f"({active_kid:.4f}) by {kid - active_kid:.4f}, more than the allowed {limit:g}."),
            "value": kid - active_kid, "threshold": limit})

    limit = rules.get("min_group_verification_rate")
    by_tone = fairness.get("skin_tone", {}).get("identity_verified") or {}
    if limit is not None:
        for group, row in sorted((by_tone.get("groups") or {}).items()):
            if row.get("small_n") or row.get("value") is None:
                continue
            if row["value"] < limit:
                alerts.append({
                    "rule": "min_group_verification_rate",
                    "message": (f"Identity verification rate for skin tone {group} is {row['value']:.0%} "
                                f"(n={row['n']}), below the minimum {limit:.0%}."),
                    "value": row["value"], "threshold": limit, "group": group})

    limit = rules.get("min_fairness_ratio")
    if limit is not None:
        for attribute, reports in sorted(fairness.items()):
            for metric, report in sorted((reports or {}).items()):
                ratio = report.get("ratio") if isinstance(report, dict) else None
                if ratio is not None and ratio < limit:
                    alerts.append({
                        "rule": "min_fairness_ratio",
                        "message": (f"{metric} by {attribute}: the worst group ({report.get('worst_group')}) "
                                    f"is at {ratio:.2f} of the best, below the minimum ratio {limit:g}."),
                        "value": ratio, "threshold": limit, "attribute": attribute, "metric": metric})
    return alerts
