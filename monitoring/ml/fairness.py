"""Per-group reports of one metric (verification rate, LPIPS, rejection rate, ...) with Fairlearn.

``group_report(values, groups, name=...)`` takes one number per image or subject and the group label
of each (e.g. an ITA skin-tone category, ``"unknown"`` where it is missing) and returns the overall
and per-group means with 95 % bootstrap intervals, the gap between groups and the worst group.

Grouping is Fairlearn's ``MetricFrame``. MetricFrame is built for classifiers: every metric is called
as ``metric(y_true, y_pred)`` on the rows of one group. Our values are not predictions, so we pass the
values as ``y_true`` *and* as ``y_pred`` and our metrics read ``y_true`` only (``mean`` is
``np.mean(y_true)``, ``n`` is Fairlearn's ``count``). ``y_pred`` is only there because MetricFrame
requires it.

Groups with fewer than ``min_n`` values are reported (flagged ``small_n``) but are never merged into
another group and never enter ``difference``, ``ratio`` or ``worst_group``: their means are too noisy
to single them out.

``ratio`` is ``min / max`` of the group means over the groups with ``n >= min_n``, for both directions:
for a higher-is-better metric (verification rate) that is worst / best, for a lower-is-better one
(LPIPS distance, rejection rate) it is best / worst. Either way 1.0 is parity and smaller means the
worst group is further behind (Fairlearn's ``ratio()`` convention). It is 1.0 when every mean is 0,
and None when a mean is negative (no meaningful ratio) or fewer than two groups qualify.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from hfplatform.ml.stats import bootstrap_interval

MIN_GROUP_N = 5
METHOD = "fairlearn MetricFrame; 95% bootstrap intervals"


def _mean(y_true: Any, y_pred: Any) -> float:
    """MetricFrame metric: the mean of the values (passed as ``y_true``; ``y_pred`` is the same array)."""
    return float(np.mean(np.asarray(y_true, dtype=np.float64)))


def _empty_report(name: str, higher_is_better: bool, min_n: int, reason: str) -> dict[str, Any]:
    return {
        "name": name, "higher_is_better": higher_is_better,
        "overall": {"value": None, "n": 0, "interval": None}, "groups": {},
        "difference": None, "ratio": None, "worst_group": None, "min_n": min_n, "method": METHOD,
        "unavailable": f"unavailable: {reason}",
    }


def _interval(data: np.ndarray, seed: int) -> list[float]:
    """95 % bootstrap interval as a JSON-ready ``[low, high]`` list."""
    return list(bootstrap_interval(data, seed=seed))


def _ratio(low: float, high: float) -> float | None:
    if low < 0:
        return None
    if high == 0:
        return 1.0  # every mean is 0: parity
    return low / high


def group_report(values: Sequence[float], groups: Sequence[str], *, name: str, higher_is_better: bool = True,
                 min_n: int = MIN_GROUP_N, seed: int = 0) -> dict[str, Any]:
    """Overall and per-group mean of ``values`` by ``groups`` label, with gaps between groups.

    Returns ``{"name", "higher_is_better", "overall": {"value", "n", "interval"},
    "groups": {label: {"value", "n", "interval", "small_n"}}, "difference", "ratio", "worst_group",
    "min_n", "method", "unavailable"}``. ``difference`` is max - min of the group means over groups
    with ``n >= min_n`` (None if fewer than two); ``ratio`` is min / max over the same groups (see the
    module docstring); ``worst_group`` is the lowest mean (highest when ``higher_is_better`` is False)
    among them, ties broken by label. Intervals are 95 % percentile bootstraps (``seed``) as
    ``[low, high]`` lists. With no values, every number is None and ``unavailable`` says why. Labels
    are turned into ``str``; ``values`` must be finite and as many as ``groups`` (else ``ValueError``).
    """
    from fairlearn.metrics import MetricFrame, count  # imported here: keeps `import monitoring.ml` cheap

    data = np.asarray(values, dtype=np.float64).ravel()
    labels = np.asarray([str(g) for g in groups], dtype=object)
    if data.size != labels.size:
        raise ValueError(f"{data.size} values but {labels.size} group labels")
    if not np.isfinite(data).all():
        raise ValueError(f"{name}: values contain NaN or infinity (drop missing values before grouping)")
    if min_n < 1:
        raise ValueError(f"min_n must be at least 1, got {min_n}")
    if data.size == 0:
        return _empty_report(name, higher_is_better, min_n, f"no values for {name}")

    # A named Series: a bare one-element array is read as a 0-d feature matrix by Fairlearn.
    frame = MetricFrame(metrics={"mean": _mean, "n": count}, y_true=data, y_pred=data,
                        sensitive_features=pd.Series(labels, name="group"))
    by_group = frame.by_group
    report_groups: dict[str, dict[str, Any]] = {}
    for label in sorted(by_group.index):
        n = int(by_group.loc[label, "n"])
        report_groups[str(label)] = {
            "value": float(by_group.loc[label, "mean"]), "n": n,
            "interval": _interval(data[labels == label], seed), "small_n": n < min_n,
        }

    eligible = {label: g["value"] for label, g in report_groups.items() if not g["small_n"]}
    worst_group = None
    if eligible:
        pick = min if higher_is_better else max
        worst_group = pick(sorted(eligible), key=lambda label: eligible[label])
    difference = ratio = None
    if len(eligible) >= 2:
        low, high = min(eligible.values()), max(eligible.values())
        difference = high - low
        ratio = _ratio(low, high)

    return {
        "name": name, "higher_is_better": higher_is_better,
        "overall": {"value": float(frame.overall["mean"]), "n": int(frame.overall["n"]),
                    "interval": _interval(data, seed)},
        "groups": report_groups,
        "difference": difference, "ratio": ratio, "worst_group": worst_group,
        "min_n": min_n, "method": METHOD, "unavailable": None,
    }
