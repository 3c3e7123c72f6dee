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
* **Consensus accuracy**: a single vote is noisy. Votes on the same two headshots form an *item*;
  its consensus is the headshot with more votes (items whose votes tie are counted apart, not
  scored). The share of items whose consensus gets the higher reward, with a 95 % bootstrap
  interval over items. This is what tells a model that learnt from one that did not.
* **Human ceiling**: how often one reviewer agrees with the majority of the other reviewers of the
  same item; a model cannot be expected to agree with the reviewers more often than they agree with
  each other.
* **Objective accuracy** (simulated reviewers only, whose preference is a known function of the
  image): the share of item pairs the noiseless objective orders the way the model does.
* **Rank correlation with ratings**: Spearman's ρ between a person's headshots' rewards and their
  mean ratings, averaged over people with 3 or more rated headshots (``rating_correlation``).
* **Paired comparison** (``compare_models``): two models scored on the same items; the difference
  of their consensus accuracies with a 95 % bootstrap interval that resamples items for both at
  once, so the interval is narrower than the two separate ones suggest.

No Django; ``hfplatform.ml.stats`` is plain NumPy.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hfplatform.ml.stats import bootstrap_interval
from reward.ml.data import PreferenceExample, resize_images

BASELINE_NAME = "sharpness (variance of the Laplacian)"
MIN_EVAL_PEOPLE = 20  # fewer held-out people than this: the evaluation says its interval is wide
MIN_EVAL_ITEMS = 30


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


@dataclass
class Item:
    """All votes on one unordered pair of headshots: ``first`` and ``second`` index examples (the first
    example in which each headshot appears, as chosen or rejected), ``wins`` how often each won."""

    key: tuple[int, int]
    first: tuple[int, str]  # (example index, "chosen" or "rejected")
    second: tuple[int, str]
    wins: list[int]  # [first, second]

    @property
    def majority(self) -> int | None:
        """0 or 1: the side with more votes; None when the votes tie."""
        return None if self.wins[0] == self.wins[1] else int(self.wins[1] > self.wins[0])

    @property
    def votes(self) -> list[str]:
        return ["a"] * self.wins[0] + ["b"] * self.wins[1]


def vote_items(examples: Sequence[PreferenceExample]) -> list[Item] | None:
    """The examples grouped by their two headshots (``chosen_id``/``rejected_id``); None when the
    examples carry no headshot ids."""
    if any(e.chosen_id is None or e.rejected_id is None for e in examples):
        return None
    items: dict[tuple[int, int], Item] = {}
    for index, e in enumerate(examples):
        key = (min(e.chosen_id, e.rejected_id), max(e.chosen_id, e.rejected_id))
        item = items.get(key)
        if item is None:
            chosen_first = e.chosen_id == key[0]
            item = items[key] = Item(key, (index, "chosen" if chosen_first else "rejected"),
                                     (index, "rejected" if chosen_first else "chosen"), [0, 0])
        item.wins[0 if e.chosen_id == key[0] else 1] += 1
    return list(items.values())


def _side(scores: dict[str, np.ndarray], ref: tuple[int, str]) -> float:
    return float(scores[ref[1]][ref[0]])


def consensus_correct(items: Sequence[Item], scores: dict[str, np.ndarray]) -> np.ndarray:
    """Per item with a majority: 1 when its majority headshot gets the higher reward, ½ on equal
    rewards, else 0 (``scores``: ``{"chosen": r, "rejected": r}`` per example)."""
    out = []
    for item in items:
        if item.majority is None:
            continue
        first, second = _side(scores, item.first), _side(scores, item.second)
        winner, loser = (first, second) if item.majority == 0 else (second, first)
        out.append(1.0 if winner > loser else 0.5 if winner == loser else 0.0)
    return np.asarray(out, np.float64)


def objective_correct(items: Sequence[Item], examples: Sequence[PreferenceExample],
                      scores: dict[str, np.ndarray], objective: Callable[[np.ndarray], float]) -> np.ndarray:
    """Per item whose two headshots the objective tells apart: 1 when the model orders them the same."""
    out = []
    for item in items:
        a = getattr(examples[item.first[0]], item.first[1])
        b = getattr(examples[item.second[0]], item.second[1])
        truth = objective(a) - objective(b)
        if truth == 0:
            continue
        model = _side(scores, item.first) - _side(scores, item.second)
        out.append(0.5 if model == 0 else float((model > 0) == (truth > 0)))
    return np.asarray(out, np.float64)


def _share(correct: np.ndarray, seed: int) -> dict[str, Any]:
    if correct.size == 0:
        return {"value": None, "n": 0, "interval": None}
    return {"value": float(correct.mean()), "n": int(correct.size),
            "interval": list(bootstrap_interval(correct, seed=seed))}


def _scores(model, examples: Sequence[PreferenceExample]) -> dict[str, np.ndarray]:
    from reward.ml.model import reward_scores  # transformers loads only when a model is evaluated

    n = len(examples)
    if not n:
        return {"chosen": np.zeros(0), "rejected": np.zeros(0)}
    side = model.config.image_size
    chosen = np.stack([resize_images(e.chosen, side) for e in examples])
    rejected = np.stack([resize_images(e.rejected, side) for e in examples])
    reference = np.stack([resize_images(e.reference, side) for e in examples])
    both = reward_scores(model, np.concatenate([chosen, rejected]), np.concatenate([reference, reference]))
    return {"chosen": both[:n], "rejected": both[n:]}


def evaluation_notes(people: int | None, items: int, interval: list[float] | None) -> list[str]:
    """What the figures cannot tell, in words: too few people or items for a useful interval."""
    notes = []
    if people is not None and people < MIN_EVAL_PEOPLE:
        notes.append(f"only {people} held-out people (at least {MIN_EVAL_PEOPLE} are needed for a useful "
                     "interval): hold out more people, or collect more answers")
    if items < MIN_EVAL_ITEMS:
        notes.append(f"only {items} held-out items with a majority (at least {MIN_EVAL_ITEMS} wanted)")
    if interval is not None and interval[1] - interval[0] > 0.2:
        notes.append(f"the consensus accuracy's interval is {interval[1] - interval[0]:.2f} wide: it cannot "
                     "tell models apart by less than that")
    return notes


def evaluate_reward(model, examples: list[PreferenceExample], seed: int = 0,
                    objective: Callable[[np.ndarray], float] | None = None) -> dict[str, Any]:
    """Accuracy of ``model`` on ``examples`` (held-out pairs), with the baseline and calibration.

    Returns ``n``; ``accuracy`` against single votes ({"value", "n", "interval"}); ``groups`` and
    ``dimensions`` (name → the same); ``baseline`` (the same plus ``name``); ``consensus`` (against the
    majority of each item's votes, with ``tied_items``), ``human_ceiling`` (a vote against the others'
    majority) and ``people`` when the examples carry headshot ids and people; ``objective`` when an
    objective is given; ``log_loss`` (mean Bradley–Terry loss, -log sigmoid(r_c − r_r));
    ``calibration`` (5 bins, see ``calibration_bins``), ``calibration_error`` and
    ``calibration_flipped`` (how many pairs were shown loser first); ``notes``.
    """
    n = len(examples)
    scores = _scores(model, examples)
    r_chosen, r_rejected = scores["chosen"], scores["rejected"]

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
    result = {
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
    items = vote_items(examples)
    people = {e.person for e in examples} - {None} or None
    result["people"] = len(people) if people else None
    if items is None:
        result["consensus"] = {"value": None, "n": 0, "interval": None,
                               "reason": "unavailable: the pairs carry no headshot ids"}
        result["notes"] = evaluation_notes(result["people"], 0, None)
        return result
    result["consensus"] = {**_share(consensus_correct(items, scores), seed), "items": len(items),
                           "tied_items": sum(item.majority is None for item in items)}
    result["human_ceiling"] = human_ceiling([item.votes for item in items], seed=seed)
    if objective is not None:
        result["objective"] = _share(objective_correct(items, examples, scores, objective), seed)
    result["notes"] = evaluation_notes(result["people"], result["consensus"]["n"],
                                       result["consensus"]["interval"])
    return result


def compare_models(model_a, model_b, examples: list[PreferenceExample], seed: int = 0,
                   objective: Callable[[np.ndarray], float] | None = None) -> dict[str, Any]:
    """Two models on the same held-out items: each one's consensus accuracy and the difference
    (a − b) with a paired 95 % bootstrap interval over items (and the same against ``objective``)."""
    items = vote_items(examples)
    if items is None:
        raise ValueError("comparing models needs pairs with headshot ids (votes grouped into items)")
    scores_a, scores_b = _scores(model_a, examples), _scores(model_b, examples)
    out: dict[str, Any] = {}
    measures = {"consensus": lambda scores: consensus_correct(items, scores)}
    if objective is not None:
        measures["objective"] = lambda scores: objective_correct(items, examples, scores, objective)
    for name, measure in measures.items():
        out[name] = paired_difference(measure(scores_a), measure(scores_b), seed)
    return out


def paired_difference(correct_a: np.ndarray, correct_b: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """Two models' per-item correctness on the same items: each share, and the difference a − b with a
    95 % bootstrap interval that resamples items once for both models (a paired interval)."""
    a, b = np.asarray(correct_a, np.float64), np.asarray(correct_b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"{a.shape} items for a but {b.shape} for b: compare on the same items")
    return {"a": _share(a, seed), "b": _share(b, seed), "difference": _share(a - b, seed)}


def rating_correlation(scores: Sequence[float], mean_ratings: Sequence[float], people: Sequence[int],
                       seed: int = 0) -> dict[str, Any]:
    """Spearman's ρ between rewards and mean ratings within each person (3 or more rated headshots),
    averaged over people, with a 95 % bootstrap interval over people."""
    from scipy.stats import spearmanr

    by_person: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for score, rating, person in zip(scores, mean_ratings, people, strict=True):
        by_person[person].append((float(score), float(rating)))
    rhos = []
    for rows in by_person.values():
        if len(rows) < 3:
            continue
        x, y = zip(*rows, strict=True)
        if len(set(x)) > 1 and len(set(y)) > 1:
            rhos.append(float(spearmanr(x, y).statistic))
    if not rhos:
        return {"value": None, "n": 0, "interval": None,
                "reason": "unavailable: no held-out person has 3 or more headshots with different ratings"}
    return {"value": float(np.mean(rhos)), "n": len(rhos),
            "interval": list(bootstrap_interval(rhos, seed=seed)) if len(rhos) > 1 else None}


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
