"""Preference pairs in the format TRL and Hugging Face ``datasets`` use, so an engineer can train
elsewhere: a ``DatasetDict`` with ``train`` and ``test`` splits (held out by subject) whose rows are
``chosen`` / ``rejected`` images (the preferred headshot first), the subject's ``reference`` crop,
and ``margin``, ``weight``, ``dimension``, ``tie`` and ids. Saved with ``save_to_disk`` (no hub),
read back with ``datasets.load_from_disk``; TRL's reward trainers read ``chosen``/``rejected``
columns (images need an image-aware collator such as ``reward.ml.trl_glue``)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image

from generation.faces.selectors import photo_crop
from generation.models import Headshot
from hfplatform.imaging import stored_rgb
from reward.models import PreferenceDataset


def _png(array: Any) -> dict[str, Any]:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return {"bytes": out.getvalue(), "path": None}


def preference_rows(dataset: PreferenceDataset, *, include_ties: bool = False) -> dict[str, list[dict]]:
    """Rows per split; ties are left out unless asked for (they carry no chosen/rejected order)."""
    pairs = list(dataset.pairs.order_by("id"))
    heads = {h.pk: h for h in Headshot.objects.filter(
        pk__in={p.chosen_id for p in pairs} | {p.rejected_id for p in pairs}).select_related("source_photo")}
    references: dict[int, dict] = {}
    rows: dict[str, list[dict]] = {"train": [], "test": []}
    for pair in pairs:
        if pair.tie and not include_ties:
            continue
        chosen, rejected = heads[pair.chosen_id], heads[pair.rejected_id]
        size = chosen.generator_version.image_size
        photo = chosen.source_photo
        if photo.pk not in references:
            references[photo.pk] = _png(photo_crop(photo, size))
        rows[pair.split].append({
            "chosen": _png(stored_rgb(chosen.image.name)),
            "rejected": _png(stored_rgb(rejected.image.name)),
            "reference": references[photo.pk], "margin": pair.margin, "weight": pair.weight,
            "dimension": pair.dimension, "tie": pair.tie, "source": pair.source,
            "chosen_id": pair.chosen_id, "rejected_id": pair.rejected_id, "subject_id": pair.subject_id,
            "group": pair.group})
    return rows


def preference_dataset_export(dataset: PreferenceDataset, out_dir: Path, *,
                              include_ties: bool = False) -> Path:
    """Save the pairs as a ``datasets.DatasetDict`` under ``out_dir``; returns the folder."""
    from datasets import Dataset, DatasetDict, Features, Value
    from datasets import Image as ImageFeature

    features = Features({
        "chosen": ImageFeature(), "rejected": ImageFeature(), "reference": ImageFeature(),
        "margin": Value("float32"), "weight": Value("float32"), "dimension": Value("string"),
        "tie": Value("bool"), "source": Value("string"), "chosen_id": Value("int64"),
        "rejected_id": Value("int64"), "subject_id": Value("int64"), "group": Value("string")})
    rows = preference_rows(dataset, include_ties=include_ties)
    splits = DatasetDict({split: Dataset.from_list(items, features=features)
                          for split, items in rows.items()})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    splits.save_to_disk(str(out), num_shards={split: 1 for split in splits})
    (out / "FINGERPRINT").write_text(f"{dataset.name} {dataset.fingerprint}\n")
    return out
