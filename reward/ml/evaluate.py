"""How good a reward model is on held-out pairs, next to a trivial baseline and the reviewers themselves.

* **Pairwise accuracy**: the share of pairs whose chosen headshot gets the higher reward (a tie counts
  ½), with a 95 % percentile-bootstrap interval; overall, per group (e.g. skin-tone category) and per
  dimension. Every pair counts once (reviewer weights shape training, not the yardstick).
* **Baseline**: the same accuracy for a predictor that prefers the sharper headshot (variance of the
  Laplacian). A reward model that does not beat it has learnt nothing beyond sharpness.
* **Calibration**: the model's P(chosen wins) = sigmoid(r_chosen − r_rejected) (the Bradley–Terry
  reading of the rewards) against how often that side really won. Held-out pairs are stored winner
  first, so every observed outcome would be 1 and every bin's observed rate trivially 1. Each pair's
  order is therefore flipped with probability ½ (seeded): a flipped pair is predicted 1 − p and
  observed 0. Bins then cover [0, 1] and a calibrated model has observed ≈ predicted in every bin.
* **Human ceiling**: how often one reviewer agrees with the majority of the other reviewers of the
  same item; a model cannot be expected to agree with the reviewers more often than they agree with
  each other.

No Django; ``hfplatform.ml.stats`` is plain NumPy.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from hfplatform.ml.stats import bootstrap_interval
from reward.ml.data import PreferenceExample, resize_images

BASELINE_NAME = "sharpness (variance of the Laplacian)"


def sharpness(image: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian of the grey image (0–255 scale): higher is sharper."""
    rgb = np.asarray(image, np.float64)
    grey = rgb @ np.array([0.299, 0.587, 0.114]) if rgb.ndim == 3 else rgb
    lap = (grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:] - 4 * grey[1:-1, 1:-1])
    return float(lap.var()) if lap.size else 0.0


def pairwise_accuracy(score_chosen: np.ndarray, score_rejected: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """``{"value", "n", "interval"}``: share of pairs with score_chosen > score_rejected (ties ½) and
    its 95 % bootstrap interval ``[low, high]``; value and interval are None when there are no pairs."""
    chosen, rejected = np.asarray(score_chosen, np.float64), np.asarray(score_rejected, np.float64)
    if chosen.shape != rejected.shape:
        raise ValueError(f"{chosen.shape} chosen scores but {rejected.shape} rejected scores")
    correct = np.where(chosen > rejected, 1.0, np.where(chosen == rejected, 0.5, 0.0)).ravel()
    if correct.size == 0:
        return {"value": None, "n": 0, "interval": None}
    return {"value": float(correct.mean()), "n": int(correct.size),
            "interval": list(bootstrap_interval(correct, seed=seed))}


def calibration_bins(p_chosen: np.ndarray, bins: int = 5, outcomes: np.ndarray | None = None
                     ) -> list[dict[str, Any]]:
    """Equal-width bins of predicted probabilities: ``{"low", "high", "n", "predicted", "observed"}``.

    ``p_chosen`` are predicted probabilities that the first-listed headshot wins; ``outcomes`` are 1
    where it did and 0 where it did not (default: all 1, pairs as stored). ``predicted`` and
    ``observed`` are the bin's mean prediction and win rate (None for an empty bin). The last bin
    includes 1. See the module docstring for why ``evaluate_reward`` flips pairs first.
    """
    p = np.asarray(p_chosen, np.float64).ravel()
    won = np.ones_like(p) if outcomes is None else np.asarray(outcomes, np.float64).ravel()
    if won.shape != p.shape:
        raise ValueError(f"{p.size} probabilities but {won.size} outcomes")
    if bins < 1:
        raise ValueError(f"bins must be ≥ 1, got {bins}")
    index = np.clip((p * bins).astype(np.int64), 0, bins - 1)
    out = []
    for k in range(bins):
        mask = index == k
        n = int(mask.sum())
        out.append({"low": k / bins, "high": (k + 1) / bins, "n": n,
                    "predicted": float(p[mask].mean()) if n else None,
                    "observed": float(won[mask].mean()) if n else None})
    return out


def calibration_error(bins: Sequence[dict[str, Any]]) -> float | None:
    """Expected calibration error: the n-weighted mean |predicted − observed| over the bins."""
    total = sum(b["n"] for b in bins)
    if not total:
        return None
    return float(sum(b["n"] * abs(b["predicted"] - b["observed"]) for b in bins if b["n"]) / total)


def evaluate_reward(model, examples: list[PreferenceExample], seed: int = 0) -> dict[str, Any]:
    """Accuracy of ``model`` on ``examples`` (held-out pairs), with the baseline and calibration.

    Returns ``n``; ``accuracy`` ({"value", "n", "interval"}); ``groups`` and ``dimensions`` (name →
    the same); ``baseline`` (the same plus ``name``); ``log_loss`` (mean Bradley–Terry loss,
    -log sigmoid(r_c − r_r)); ``calibration`` (5 bins, see ``calibration_bins``),
    ``calibration_error`` and ``calibration_flipped`` (how many pairs were shown loser first).
    """
    from reward.ml.model import reward_scores  # transformers loads only when a model is evaluated

    n = len(examples)
    side = model.config.image_size
    if n:
        chosen = np.stack([resize_images(e.chosen, side) for e in examples])
        rejected = np.stack([resize_images(e.rejected, side) for e in examples])
        reference = np.stack([resize_images(e.reference, side) for e in examples])
        both = reward_scores(model, np.concatenate([chosen, rejected]),
                             np.concatenate([reference, reference]))
        r_chosen, r_rejected = both[:n], both[n:]
    else:
        r_chosen = r_rejected = np.zeros(0)

    def subsets(key: str) -> dict[str, dict[str, Any]]:
        members = defaultdict(list)
        for i, example in enumerate(examples):
            members[getattr(example, key)].append(i)
        return {name: pairwise_accuracy(r_chosen[idx], r_rejected[idx], seed)
                for name, idx in sorted(members.items())}

    difference = r_chosen - r_rejected
    p_chosen = 1.0 / (1.0 + np.exp(-difference))
    flipped = np.random.default_rng(seed).random(n) < 0.5
    bins = calibration_bins(np.where(flipped, 1 - p_chosen, p_chosen), 5, np.where(flipped, 0.0, 1.0))
    sharp_chosen = np.array([sharpness(e.chosen) for e in examples])
    sharp_rejected = np.array([sharpness(e.rejected) for e in examples])
    return {
        "n": n,
        "accuracy": pairwise_accuracy(r_chosen, r_rejected, seed),
        "groups": subsets("group"),
        "dimensions": subsets("dimension"),
        "baseline": {"name": BASELINE_NAME, **pairwise_accuracy(sharp_chosen, sharp_rejected, seed)},
        "log_loss": float(np.logaddexp(0.0, -difference).mean()) if n else None,
        "calibration": bins,
        "calibration_error": calibration_error(bins),
        "calibration_flipped": int(flipped.sum()),
    }


def human_ceiling(votes_per_item: list[list[str]], seed: int = 0) -> dict[str, Any]:
    """How often a reviewer's vote matches the majority of the other reviewers' votes on the same item.

    ``votes_per_item`` holds each item's votes (e.g. "a", "b", "tie"); items with fewer than 3 votes
    are ignored (one other vote is no majority). When the others tie between k labels, a vote among
    them counts 1/k (the expected agreement if the tie were broken at random). Returns ``value``
    (mean over the votes scored), ``n`` (votes scored), ``items``, ``interval`` (95 % bootstrap over
    items, as votes on one item are not independent), or ``value`` None with ``reason``.
    """
    sums, counts = [], []
    for votes in votes_per_item:
        if len(votes) < 3:
            continue
        tally = Counter(votes)
        agreement = 0.0
        for vote in votes:
            others = tally.copy()
            others[vote] -= 1
            top = max(others.values())
            leaders = [label for label, count in others.items() if count == top]
            agreement += 1.0 / len(leaders) if vote in leaders else 0.0
        sums.append(agreement)
        counts.append(len(votes))
    if not sums:
        return {"value": None, "n": 0, "items": 0, "interval": None,
                "reason": "unavailable: no item has 3 or more votes"}
    sums_a, counts_a = np.array(sums), np.array(counts, np.float64)

    def share(items: np.ndarray) -> float:
        idx = items.astype(np.int64)
        return float(sums_a[idx].sum() / counts_a[idx].sum())

    return {"value": float(sums_a.sum() / counts_a.sum()), "n": int(counts_a.sum()), "items": len(sums),
            "interval": list(bootstrap_interval(np.arange(len(sums)), stat=share, seed=seed))}
