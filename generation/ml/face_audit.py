"""Does the face pipeline serve every skin-tone group alike? Plain Python/NumPy; no Django.

Two measurements, both on ``AuditRow`` records (one per analysed photo):

* ``group_report(rows)``: per group, the acceptance rate with a 95% Wilson interval, each rejection
  reason's rate, detection recall (share of photos where a face was found) and time per photo; the
  worst-to-best acceptance ratio over the groups with at least ``min_n`` photos. A photo without a
  found face has no measured tone: it keeps the group a second detector estimated
  (``group_source="estimated"``, see ``estimate_group``) or forms the ``unknown`` group, never
  dropped.
* ``counterfactual_report(analyze, photos)``: the accepted photos of each group, changed the way a
  phone camera changes a photo (``PHONE_CHANGES``: exposure −1 to +1 EV, contrast, white balance,
  the ``degrade`` steps one at a time, JPEG re-compression among them, each seeded), re-analysed:
  the share that stays accepted per group and change, and each group's drop beside the lightest
  group's. The corpus's composition cancels out: each group is compared with itself.

See docs/face_pipeline.md ("Fairness by skin tone").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from generation.ml.corpus import decode_photo
from generation.ml.degrade import NAMES as DEGRADE_STEPS
from generation.ml.degrade import degrade
from generation.ml.faces import Detector, face_landmarks
from generation.ml.skin_tone import ITA_CATEGORIES, measure_skin_tone
from hfplatform.ml.stats import wilson_interval

GROUP_ORDER: tuple[str, ...] = tuple(code for code, _, _ in ITA_CATEGORIES)  # lightest first
UNKNOWN = "unknown"  # no face found by any detector: no tone to measure
MIN_GROUP_SIZE = 20  # groups smaller than this are reported but not ranked (their intervals are wide)


@dataclass(frozen=True)
class AuditRow:
    """One analysed photo: its group, the outcome and the cost."""

    group: str  # ITA category code, or UNKNOWN
    accepted: bool
    rejections: Sequence[str] = ()
    face_found: bool = True
    seconds: float = 0.0
    group_source: str = "measured"  # measured (the pipeline's face), estimated, self_reported, unknown
    detector: str = ""  # which detector found the face (a cascade reports its stage)


def _ordered(groups: set[str]) -> list[str]:
    rank = {g: i for i, g in enumerate((*GROUP_ORDER, UNKNOWN))}
    return sorted(groups, key=lambda g: (rank.get(g, len(rank)), g))


def group_report(rows: Sequence[AuditRow], *, min_n: int = MIN_GROUP_SIZE) -> dict[str, Any]:
    """Per-group figures (lightest group first, ``unknown`` last) and the worst/best acceptance ratio.

    ``ratio`` compares the groups with at least ``min_n`` photos other than ``unknown``; it is None
    when fewer than two such groups exist. Rates are shares of the group's photos.
    """
    by_group: dict[str, list[AuditRow]] = {}
    for row in rows:
        by_group.setdefault(row.group, []).append(row)
    groups: dict[str, dict[str, Any]] = {}
    for name in _ordered(set(by_group)):
        members = by_group[name]
        n, accepted = len(members), sum(r.accepted for r in members)
        reasons = Counter(code for r in members for code in r.rejections)
        low, high = wilson_interval(accepted, n)
        groups[name] = {
            "n": n,
            "accepted": accepted,
            "acceptance_rate": accepted / n,
            "interval": [low, high],
            "rejection_rates": {code: count / n for code, count in reasons.most_common()},
            "detection_recall": sum(r.face_found for r in members) / n,
            "estimated": sum(r.group_source == "estimated" for r in members),
            "detectors": dict(Counter(r.detector for r in members if r.detector)),
            "mean_seconds": float(np.mean([r.seconds for r in members])),
            "ranked": n >= min_n and name != UNKNOWN,
        }
    ranked = {k: v["acceptance_rate"] for k, v in groups.items() if v["ranked"]}
    ratio = worst = best = None
    if len(ranked) >= 2:
        worst, best = min(ranked, key=ranked.get), max(ranked, key=ranked.get)
        ratio = ranked[worst] / ranked[best] if ranked[best] > 0 else None
    n = len(rows)
    accepted = sum(r.accepted for r in rows)
    return {
        "photos": n,
        "accepted": accepted,
        "acceptance_rate": accepted / n if n else None,
        "interval": list(wilson_interval(accepted, n)) if n else None,
        "detection_recall": sum(r.face_found for r in rows) / n if n else None,
        "mean_seconds": float(np.mean([r.seconds for r in rows])) if n else None,
        "groups": groups,
        "min_n": min_n,
        "ratio": ratio,
        "worst_group": worst,
        "best_group": best,
    }


def estimate_group(rgb: np.ndarray, detector: Detector) -> str | None:
    """The ITA category of the largest face ``detector`` finds (for a photo the pipeline found no
    face in), or None when it finds none either or the skin cannot be measured."""
    boxes = detector.detect(rgb)
    if not boxes:
        return None
    box = max(boxes, key=lambda b: b.area)
    _, category = measure_skin_tone(rgb, face_landmarks(rgb, box))
    return category


# --- Controlled phone-camera changes ------------------------------------------------------------------


def _to_linear(srgb: np.ndarray) -> np.ndarray:
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def _to_srgb(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


def _uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def exposure(rgb: np.ndarray, ev: float) -> np.ndarray:
    """The photo taken ``ev`` stops brighter (negative: darker): linear light × 2^ev, clipped."""
    return _uint8(_to_srgb(_to_linear(rgb.astype(np.float64) / 255.0) * 2.0**ev))


def contrast(rgb: np.ndarray, factor: float) -> np.ndarray:
    """Contrast about the photo's mean grey level (factor < 1 flatter, > 1 harder)."""
    image = rgb.astype(np.float64) / 255.0
    mean = image.mean()
    return _uint8((image - mean) * factor + mean)


def white_balance(rgb: np.ndarray, temperature: float) -> np.ndarray:
    """A white-balance error in linear light: red × (1 + t), blue × (1 − t); t > 0 warm, < 0 cool."""
    linear = _to_linear(rgb.astype(np.float64) / 255.0)
    linear = linear * np.array([1.0 + temperature, 1.0, 1.0 - temperature])
    return _uint8(_to_srgb(linear))


Change = Callable[[np.ndarray, int], np.ndarray]


def _degrade_step(name: str) -> Change:
    return lambda rgb, seed: degrade(rgb, seed=seed, only=[name])


PHONE_CHANGES: dict[str, Change] = {
    "exposure -1 EV": lambda rgb, seed: exposure(rgb, -1.0),
    "exposure -0.5 EV": lambda rgb, seed: exposure(rgb, -0.5),
    "exposure +0.5 EV": lambda rgb, seed: exposure(rgb, 0.5),
    "exposure +1 EV": lambda rgb, seed: exposure(rgb, 1.0),
    "contrast 0.7": lambda rgb, seed: contrast(rgb, 0.7),
    "contrast 1.3": lambda rgb, seed: contrast(rgb, 1.3),
    "white balance warm": lambda rgb, seed: white_balance(rgb, 0.15),
    "white balance cool": lambda rgb, seed: white_balance(rgb, -0.15),
    **{f"degrade {name}": _degrade_step(name) for name in DEGRADE_STEPS},
}
EXPOSURE_CHANGES: tuple[str, ...] = ("exposure -1 EV", "exposure -0.5 EV", "exposure +0.5 EV",
                                     "exposure +1 EV")


def counterfactual_report(accepts: Callable[[np.ndarray], bool], photos: Sequence[tuple[str, np.ndarray]],
                          *, changes: dict[str, Change] | None = None, seed: int = 0,
                          reference_group: str | None = None, min_n: int = 10) -> dict[str, Any]:
    """Each change applied to every ``(group, rgb)`` photo (photos the pipeline accepted as they are),
    re-judged by ``accepts``: the share kept per group, and each group's drop (1 − kept) minus the
    reference group's drop, in percentage points (positive: the group loses more).

    The reference is ``reference_group`` or the lightest group with at least ``min_n`` photos; photo
    i's change uses seed ``seed + i`` (the same photo gets the same change in every run).
    """
    changes = PHONE_CHANGES if changes is None else changes
    groups = _ordered({g for g, _ in photos})
    n = Counter(g for g, _ in photos)
    if reference_group is None:
        eligible = [g for g in groups if n[g] >= min_n and g != UNKNOWN]
        reference_group = eligible[0] if eligible else (groups[0] if groups else None)
    table: dict[str, dict[str, Any]] = {}
    for name, change in changes.items():
        kept = Counter()
        for i, (group, rgb) in enumerate(photos):
            kept[group] += bool(accepts(change(rgb, seed + i)))
        shares = {g: kept[g] / n[g] for g in groups}
        reference_drop = 1.0 - shares[reference_group] if reference_group in shares else 0.0
        table[name] = {
            "kept": {g: shares[g] for g in groups},
            "interval": {g: list(wilson_interval(kept[g], n[g])) for g in groups},
            "extra_drop_points": {g: 100.0 * ((1.0 - shares[g]) - reference_drop) for g in groups},
        }
    ranked = [g for g in groups if n[g] >= min_n]
    worst = max((table[c]["extra_drop_points"][g] for c in table for g in ranked), default=None)
    worst_exposure = max((table[c]["extra_drop_points"][g] for c in EXPOSURE_CHANGES if c in table
                          for g in ranked), default=None)
    return {"groups": {g: n[g] for g in groups}, "reference_group": reference_group, "min_n": min_n,
            "seed": seed, "changes": table, "worst_extra_drop_points": worst,
            "worst_exposure_extra_drop_points": worst_exposure}


# --- The corpus, analysed -------------------------------------------------------------------------------


def audit_row(analysis: Any, rgb: np.ndarray, estimator: Detector | None = None) -> AuditRow:
    """The ``AuditRow`` of one ``FaceAnalysis`` of ``rgb``; with no face found, ``estimator`` (a second
    detector) may still estimate the group."""
    seconds = float(sum(analysis.timings.values()))
    detector = analysis.box.detector if analysis.box is not None else ""
    if analysis.ita_category is not None:
        return AuditRow(analysis.ita_category, analysis.accepted, tuple(analysis.rejections), True, seconds,
                        "measured", detector)
    group = estimate_group(rgb, estimator) if analysis.box is None and estimator is not None else None
    return AuditRow(group or UNKNOWN, analysis.accepted, tuple(analysis.rejections), analysis.box is not None,
                    seconds, "estimated" if group else "unknown", detector)


def corpus_audit(photos: Iterable[tuple[str, bytes]], analyzer: Any, *, estimator: Detector | None = None,
                 progress: Callable[[int], None] | None = None
                 ) -> tuple[list[AuditRow], list[tuple[str, str, bytes]]]:
    """Analyse every ``(name, encoded bytes)`` photo: the audit rows, and ``(group, name, bytes)`` of
    the accepted photos (the counterfactual's input). ``progress(i)`` after each photo."""
    rows: list[AuditRow] = []
    accepted: list[tuple[str, str, bytes]] = []
    for i, (name, data) in enumerate(photos, start=1):
        rgb = decode_photo(data)
        row = audit_row(analyzer.analyze(rgb), rgb, estimator)
        rows.append(row)
        if row.accepted:
            accepted.append((row.group, name, data))
        if progress is not None:
            progress(i)
    return rows, accepted


def per_group_sample(accepted: Sequence[tuple[str, str, Any]], per_group: int,
                     seed: int = 0) -> list[tuple[str, str, Any]]:
    """At most ``per_group`` of each group's ``(group, name, ...)`` items, drawn with ``seed``, in
    name order."""
    rng = np.random.default_rng(seed)
    by_group: dict[str, list[tuple[str, str, Any]]] = {}
    for item in accepted:
        by_group.setdefault(item[0], []).append(item)
    chosen: list[tuple[str, str, Any]] = []
    for items in by_group.values():
        if len(items) > per_group:
            picks = sorted(rng.choice(len(items), size=per_group, replace=False))
            items = [items[i] for i in picks]
        chosen.extend(items)
    return sorted(chosen, key=lambda item: item[1])
