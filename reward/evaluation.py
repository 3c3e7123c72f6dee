"""Reads that judge reward models on their dataset's held-out people: how a model's rewards follow
the reviewers' mean ratings, and two models compared on the same held-out items.

The numbers come from ``reward.ml.evaluate`` (no Django); this module picks the rows and images.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from generation.faces.selectors import photo_crop
from generation.models import Headshot
from hfplatform.accounts.selectors import users_simulated
from hfplatform.errors import ApplicationError
from hfplatform.imaging import stored_rgb
from review.models import RATING_DIMENSIONS, Rating
from reward.examples import preference_examples
from reward.models import Dimension, PreferenceDataset, RewardModelVersion, RewardStatus, Split


def heldout_mean_ratings(dataset: PreferenceDataset, dimension: str) -> dict[int, float]:
    """Mean rating (1–5) of each held-out person's headshot rated in the dataset's campaigns, on
    ``dimension`` (``overall``: the mean of the three scales); gold items are left out, and simulated
    reviewers when the dataset leaves them out."""
    people = set(dataset.pairs.filter(split=Split.TEST).values_list("subject_id", flat=True))
    rows = Rating.objects.filter(campaign_id__in=dataset.campaigns, item__is_gold=False,
                                 headshot__subject_id__in=people)
    if not dataset.options.get("include_simulated", True):
        rows = rows.exclude(reviewer__in=users_simulated())
    rows = rows.values("headshot_id", *RATING_DIMENSIONS)
    values: dict[int, list[float]] = defaultdict(list)
    for row in rows:
        score = (sum(row[d] for d in RATING_DIMENSIONS) / len(RATING_DIMENSIONS)
                 if dimension == Dimension.OVERALL else row[dimension])
        values[row["headshot_id"]].append(float(score))
    return {headshot: float(np.mean(scores)) for headshot, scores in values.items()}


def rating_correlation(*, model: Any, dataset: PreferenceDataset, dimension: str, size: int,
                       seed: int = 0) -> dict[str, Any]:
    """Spearman's ρ between ``model``'s rewards and the mean ratings of each held-out person's rated
    headshots, averaged over people (``reward.ml.evaluate.rating_correlation``)."""
    from reward.ml.evaluate import rating_correlation as correlation
    from reward.ml.model import reward_scores

    means = heldout_mean_ratings(dataset, dimension)
    headshots = Headshot.objects.filter(pk__in=means).select_related("source_photo").order_by("pk")
    by_photo: dict[int, list[Headshot]] = defaultdict(list)
    for headshot in headshots:
        by_photo[headshot.source_photo_id].append(headshot)
    scores, ratings, people = [], [], []
    for heads in by_photo.values():
        images = np.stack([stored_rgb(h.image.name, size) for h in heads])
        scores += list(reward_scores(model, images, photo_crop(heads[0].source_photo, size)))
        ratings += [means[h.pk] for h in heads]
        people += [h.subject_id for h in heads]
    return correlation(scores, ratings, people, seed=seed)


def reward_models_compare(*, a: RewardModelVersion, b: RewardModelVersion, seed: int = 0) -> dict[str, Any]:
    """``a`` against ``b`` on the held-out items of their common dataset and dimension: each model's
    consensus accuracy and the difference with a paired 95 % interval. Both must be trained (not
    failed) on the same dataset and dimension, or the held-out people would not be held out for both."""
    from reward.ml.evaluate import compare_models
    from reward.scoring import reward_scorer

    for version in (a, b):
        if version.status in (RewardStatus.TRAINING, RewardStatus.FAILED):
            raise ApplicationError(f"Reward model {version.name} is {version.status}: it has nothing to "
                                   "compare.", code="not_trained")
    if (a.dataset_fingerprint, a.dimension) != (b.dataset_fingerprint, b.dimension):
        raise ApplicationError(
            f"{a.name} and {b.name} were trained on different datasets or dimensions: compare models of one "
            "dataset and dimension, whose held-out people are held out for both.", code="not_comparable")
    pairs = list(a.dataset.pairs.filter(dimension=a.dimension, split=Split.TEST, tie=False).order_by("id"))
    if not pairs:
        raise ApplicationError(f"Dataset {a.dataset.name} has no held-out pairs for {a.dimension}.",
                               code="no_heldout_pairs")
    model_a, model_b = reward_scorer(a), reward_scorer(b)
    size = Headshot.objects.get(pk=pairs[0].chosen_id).generator_version.image_size
    examples = preference_examples(pairs, size)
    return {"a": a.name, "b": b.name, "dataset": a.dataset.name, "dimension": a.dimension,
            "pairs": len(pairs), "people": len({p.subject_id for p in pairs}),
            **compare_models(model_a, model_b, examples, seed=seed)}
