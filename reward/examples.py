"""Preference pair rows as the arrays ``reward.ml`` takes: each pair's two headshot images and the
person's reference crop, at the model's size, with the pair's weight, margin, group and ids."""

from __future__ import annotations

from typing import Any

import numpy as np

from generation.faces.selectors import photo_crop
from generation.models import Headshot
from hfplatform.imaging import stored_rgb
from reward.models import PreferencePair


def preference_examples(pairs: list[PreferencePair], size: int) -> list[Any]:
    """One ``PreferenceExample`` per pair; every image is read once."""
    from reward.ml.data import PreferenceExample

    headshots = {h.pk: h for h in Headshot.objects.filter(
        pk__in={p.chosen_id for p in pairs} | {p.rejected_id for p in pairs}).select_related("source_photo")}
    images = {pk: stored_rgb(h.image.name, size) for pk, h in headshots.items()}
    references: dict[int, np.ndarray] = {}
    examples = []
    for pair in pairs:
        photo = headshots[pair.chosen_id].source_photo
        if photo.pk not in references:
            references[photo.pk] = photo_crop(photo, size)
        examples.append(PreferenceExample(chosen=images[pair.chosen_id], rejected=images[pair.rejected_id],
                                          reference=references[photo.pk], weight=pair.weight,
                                          margin=pair.margin, group=pair.group or "unknown",
                                          dimension=pair.dimension, chosen_id=pair.chosen_id,
                                          rejected_id=pair.rejected_id, person=pair.subject_id))
    return examples
