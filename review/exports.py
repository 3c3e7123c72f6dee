"""A campaign's answers as CSV text and as a Hugging Face ``datasets.DatasetDict`` on disk.

Exports are for engineers and auditors: they name headshots, subjects and generator versions and
mark gold items, but reviewers only by :func:`review.quality.reviewer_pseudonym`. One row per
answer; the three kinds ("ratings", "comparisons", "blind") have their own columns
(:data:`COLUMNS`). The dataset has one split per kind, saved with ``save_to_disk`` (no hub, no
network) and read back with ``datasets.load_from_disk``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from review.models import BlindJudgement, Campaign, Comparison, Rating
from review.quality import gold_correct, reviewer_pseudonym

EXPORT_KINDS: tuple[str, ...] = ("ratings", "comparisons", "blind")

_HEAD = ["answer_id", "campaign_id", "item_id", "is_gold", "subject_id"]
_TAIL = ["expert_note", "reviewer", "reviewer_role", "time_spent_ms", "created_at"]
#: Column names per kind, in file order.
COLUMNS: dict[str, list[str]] = {
    "ratings": [*_HEAD, "headshot_id", "generator_version", "professionalism", "likeness", "appeal",
                "flags", "comment", "gold_correct", *_TAIL],
    "comparisons": [*_HEAD, "headshot_a_id", "headshot_b_id", "generator_version_a", "generator_version_b",
                    "left_headshot_id", "right_headshot_id", "choice", "winner", "reason", "gold_correct",
                    *_TAIL],
    "blind": [*_HEAD, "headshot_id", "portrait_id", "generator_version", "is_generated", "answer",
              "confidence", "correct", *_TAIL],
}


def _common(row: Any) -> dict[str, Any]:
    return {"answer_id": row.pk, "campaign_id": row.campaign_id, "item_id": row.item_id,
            "is_gold": row.item.is_gold, "subject_id": row.item.subject_id}


def _tail(row: Any) -> dict[str, Any]:
    return {"expert_note": row.expert_note, "reviewer": reviewer_pseudonym(row.reviewer_id),
            "reviewer_role": row.reviewer_role, "time_spent_ms": row.time_spent_ms,
            "created_at": row.created_at}


def _gold(kind: str, row: Any, **answer: Any) -> bool | None:
    return gold_correct(kind, {"item__is_gold": row.item.is_gold, "item__gold_answer": row.item.gold_answer,
                               **answer})


def _rating_rows(campaign: Campaign) -> list[dict[str, Any]]:
    rows = (Rating.objects.filter(campaign=campaign).select_related("item", "headshot__generator_version")
            .order_by("id"))
    return [{**_common(r), "headshot_id": r.headshot_id,
             "generator_version": r.headshot.generator_version.name,
             "professionalism": r.professionalism, "likeness": r.likeness, "appeal": r.appeal,
             "flags": list(r.flags), "comment": r.comment,
             "gold_correct": _gold("rating", r, appeal=r.appeal),
             **_tail(r)} for r in rows]


def _comparison_rows(campaign: Campaign) -> list[dict[str, Any]]:
    rows = (Comparison.objects.filter(campaign=campaign)
            .select_related("item__headshot__generator_version", "item__headshot_b__generator_version")
            .order_by("id"))
    return [{**_common(c), "headshot_a_id": c.item.headshot_id, "headshot_b_id": c.item.headshot_b_id,
             "generator_version_a": c.item.headshot.generator_version.name,
             "generator_version_b": c.item.headshot_b.generator_version.name,
             "left_headshot_id": c.left_id, "right_headshot_id": c.right_id, "choice": c.choice,
             "winner": c.winner, "reason": c.reason, "gold_correct": _gold("pairwise", c, winner=c.winner),
             **_tail(c)} for c in rows]


def _blind_rows(campaign: Campaign) -> list[dict[str, Any]]:
    rows = (BlindJudgement.objects.filter(campaign=campaign)
            .select_related("item__headshot__generator_version").order_by("id"))
    return [{**_common(j), "headshot_id": j.item.headshot_id, "portrait_id": j.item.portrait_id,
             "generator_version": j.item.headshot.generator_version.name if j.item.headshot_id else None,
             "is_generated": j.is_generated, "answer": j.answer, "confidence": j.confidence,
             "correct": j.correct, **_tail(j)} for j in rows]


_ROWS: dict[str, Callable[[Campaign], list[dict[str, Any]]]] = {
    "ratings": _rating_rows, "comparisons": _comparison_rows, "blind": _blind_rows,
}


def export_rows(campaign: Campaign, kind: str) -> list[dict[str, Any]]:
    """The answers of one kind ("ratings", "comparisons" or "blind") as dicts keyed by :data:`COLUMNS`."""
    if kind not in _ROWS:
        raise ValueError(f"unknown export kind {kind!r}; expected one of {', '.join(EXPORT_KINDS)}")
    return _ROWS[kind](campaign)


# --- CSV ------------------------------------------------------------------------------------------


#: Free-text cells that start like a spreadsheet formula get a leading "'" in CSV (OWASP advice), so
#: a reviewer's comment cannot run as a formula in the auditor's spreadsheet.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(map(str, value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def export_csv(campaign: Campaign, kind: str) -> str:
    """CSV text (header row first) of one kind; lists (flags) joined with ";", empty cell for none."""
    rows = export_rows(campaign, kind)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS[kind], lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: _csv_cell(value) for key, value in row.items()} for row in rows)
    return out.getvalue()


# --- Hugging Face datasets ------------------------------------------------------------------------


def _features():
    from datasets import Features, List, Value

    int_, str_, bool_ = Value("int64"), Value("string"), Value("bool")
    types = {"answer_id": int_, "campaign_id": int_, "item_id": int_, "is_gold": bool_, "subject_id": int_,
             "expert_note": str_, "reviewer": str_, "reviewer_role": str_, "time_spent_ms": int_,
             "created_at": Value("timestamp[us, tz=UTC]"), "flags": List(str_), "comment": str_,
             "gold_correct": bool_, "is_generated": bool_, "correct": bool_, "choice": str_, "winner": str_,
             "reason": str_, "answer": str_}
    for column in ("generator_version", "generator_version_a", "generator_version_b"):
        types[column] = str_
    return {kind: Features({c: types.get(c, int_) for c in columns}) for kind, columns in COLUMNS.items()}


def export_dataset(campaign: Campaign):
    """A ``datasets.DatasetDict`` with one split per kind (possibly empty), typed columns."""
    from datasets import Dataset, DatasetDict

    features = _features()
    splits = {}
    for kind in EXPORT_KINDS:
        rows = export_rows(campaign, kind)
        columns = {c: [row[c] for row in rows] for c in COLUMNS[kind]}
        splits[kind] = Dataset.from_dict(columns, features=features[kind])
    return DatasetDict(splits)


def export_to_dir(campaign: Campaign, out_dir: str | Path,
                  formats: Sequence[str] = ("csv", "hf")) -> list[Path]:
    """Write ``<kind>.csv`` files and/or the dataset (folder ``hf/``, via ``save_to_disk``) under
    ``out_dir``; returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if "csv" in formats:
        for kind in EXPORT_KINDS:
            path = out / f"{kind}.csv"
            path.write_text(export_csv(campaign, kind), encoding="utf-8")
            written.append(path)
    if "hf" in formats:
        dataset = export_dataset(campaign)
        # One shard per split, so an empty split is written too and loads back.
        dataset.save_to_disk(str(out / "hf"), num_shards={kind: 1 for kind in dataset})
        written.append(out / "hf")
    return written
