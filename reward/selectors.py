"""Reads of the reward app: preference pairs from review answers, datasets and model versions.

How reviews become pairs (``preference_pairs``):

* every pairwise choice is one pair, winner first, weighted by its reviewer; "can't tell" stays a
  tie (or is dropped when ``keep_ties`` is false), it never becomes a win. A choice with a reason
  (professional, likeness, appeal) is a pair for that dimension *and* for ``overall``;
* ratings become pairs between two headshots of the same subject and generation job whose
  weighted mean scores differ by at least ``margin`` (per scale, and for ``overall`` the mean of
  the three scales), the better one first, with that difference as the pair's margin;
* a reviewer's weight is their reliability in the campaign *for the kind of answer the pair comes
  from* (``review.quality.reviewer_reliabilities``: gold accuracy and agreement with the
  leave-one-out consensus of that kind, shrunk towards 0.5 for few answers): pairwise reliability
  for comparison pairs, rating reliability for rating pairs, so a reviewer lenient on ratings but
  accurate on choices keeps a high weight on their choices. It is multiplied by the photographer
  weight when they answered as a photographer. A rating pair's weight is the mean weight of the
  answers behind its two means. Gold items never become pairs;
* ``include_simulated=False`` leaves simulated reviewers' answers out, of the pairs and of the
  reliability estimates.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from hfplatform.accounts.selectors import users_simulated
from hfplatform.errors import NotFound
from review.models import RATING_DIMENSIONS, Campaign, ChoiceReason, Comparison, Rating, TaskKind
from review.quality import reviewer_reliabilities, role_weight
from reward.models import (
    Dimension,
    GeneratorFineTuning,
    PairSource,
    PreferenceDataset,
    PreferencePair,
    RewardModelActivation,
    RewardModelVersion,
    RewardStatus,
    Split,
)

REASON_DIMENSION = {ChoiceReason.PROFESSIONAL: Dimension.PROFESSIONALISM,
                    ChoiceReason.LIKENESS: Dimension.LIKENESS, ChoiceReason.APPEAL: Dimension.APPEAL}


def _weight(reliability: dict[int, float], reviewer_id: int, role: str) -> float:
    return reliability.get(reviewer_id, 0.5) * role_weight(role)


def _regular(model: type, campaign: Campaign, include_simulated: bool) -> QuerySet:
    rows = model.objects.filter(campaign=campaign, item__is_gold=False)
    return rows if include_simulated else rows.exclude(reviewer__in=users_simulated())


def _comparison_pairs(campaign: Campaign, reliability: dict[int, float], keep_ties: bool,
                      include_simulated: bool) -> list[dict]:
    rows = list(_regular(Comparison, campaign, include_simulated)
                .values("item_id", "item__headshot_id", "item__headshot_b_id", "item__subject_id",
                        "reviewer_id", "reviewer_role", "winner", "reason"))
    votes: dict[int, list[str]] = defaultdict(list)
    for row in rows:
        votes[row["item_id"]].append(row["winner"])
    pairs = []
    for row in rows:
        tie = row["winner"] == "tie"
        if tie and not keep_ties:
            continue
        a, b = row["item__headshot_id"], row["item__headshot_b_id"]
        chosen, rejected = (b, a) if row["winner"] == "b" else (a, b)
        dimensions = [Dimension.OVERALL]
        if row["reason"] in REASON_DIMENSION:
            dimensions.append(REASON_DIMENSION[row["reason"]])
        for dimension in dimensions:
            pairs.append({
                "dimension": dimension.value, "source": PairSource.COMPARISON.value, "chosen": chosen,
                "rejected": rejected, "subject": row["item__subject_id"], "tie": tie, "margin": 0.0,
                "weight": _weight(reliability, row["reviewer_id"], row["reviewer_role"]),
                "votes": votes[row["item_id"]], "campaign": campaign.pk,
            })
    return pairs


def _rating_pairs(campaign: Campaign, reliability: dict[int, float], margin: float,
                  include_simulated: bool) -> list[dict]:
    rows = list(_regular(Rating, campaign, include_simulated)
                .values("headshot_id", "headshot__generation_job_id", "headshot__subject_id", "reviewer_id",
                        "reviewer_role", *RATING_DIMENSIONS))
    by_headshot: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        row["weight"] = _weight(reliability, row["reviewer_id"], row["reviewer_role"])
        row["overall"] = sum(row[d] for d in RATING_DIMENSIONS) / len(RATING_DIMENSIONS)
        by_headshot[row["headshot_id"]].append(row)
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for headshot_id, answers in by_headshot.items():
        first = answers[0]
        groups[(first["headshot__subject_id"], first["headshot__generation_job_id"])].append(headshot_id)

    def mean(answers: list[dict], dimension: str) -> float:
        total = sum(a["weight"] for a in answers)
        return sum(a["weight"] * a[dimension] for a in answers) / total

    pairs = []
    for (subject_id, _), headshots in groups.items():
        for a, b in combinations(sorted(headshots), 2):
            answers_a, answers_b = by_headshot[a], by_headshot[b]
            weight = sum(x["weight"] for x in answers_a + answers_b) / len(answers_a + answers_b)
            for dimension in (Dimension.OVERALL.value, *RATING_DIMENSIONS):
                diff = mean(answers_a, dimension) - mean(answers_b, dimension)
                if abs(diff) < margin:
                    continue
                chosen, rejected = (a, b) if diff > 0 else (b, a)
                pairs.append({"dimension": dimension, "source": PairSource.RATING.value, "chosen": chosen,
                              "rejected": rejected, "subject": subject_id, "tie": False,
                              "margin": round(abs(diff), 4), "weight": weight, "votes": [],
                              "campaign": campaign.pk})
    return pairs


def preference_pairs(*, campaigns: list[Campaign], margin: float | None = None,
                     keep_ties: bool | None = None, include_simulated: bool = True) -> list[dict[str, Any]]:
    """Every preference pair the campaigns' answers support (see the module docstring).
    ``include_simulated`` (default True: a campaign's answers count whoever gave them) False leaves
    simulated reviewers out."""
    margin = settings.REWARD_RATING_MARGIN if margin is None else margin
    keep_ties = settings.REWARD_KEEP_TIES if keep_ties is None else keep_ties
    pairs: list[dict[str, Any]] = []
    for campaign in campaigns:
        reliability = reviewer_reliabilities(campaign, exclude_simulated=not include_simulated)
        pairs += _comparison_pairs(campaign, reliability[TaskKind.PAIRWISE], keep_ties, include_simulated)
        pairs += _rating_pairs(campaign, reliability[TaskKind.RATING], margin, include_simulated)
    return pairs


def preference_dataset_get(*, dataset_id: int) -> PreferenceDataset:
    found = PreferenceDataset.objects.filter(pk=dataset_id).first()
    if found is None:
        raise NotFound(f"There is no preference dataset {dataset_id}.")
    return found


def preference_dataset_list() -> QuerySet[PreferenceDataset]:
    return PreferenceDataset.objects.select_related("created_by")


def reward_model_get(*, name: str) -> RewardModelVersion:
    found = RewardModelVersion.objects.select_related("dataset", "training_job").filter(name=name).first()
    if found is None:
        raise NotFound(f"There is no reward model {name}.")
    return found


def reward_model_list() -> QuerySet[RewardModelVersion]:
    return RewardModelVersion.objects.select_related("dataset", "training_job", "created_by")


def reward_model_active() -> RewardModelVersion | None:
    return RewardModelVersion.objects.filter(status=RewardStatus.ACTIVE).first()


def datasets_heldout_subjects(dataset_ids: list[int]) -> dict[int, list[int]]:
    """The held-out people (subjects of the test split) of each dataset, ids sorted; one query."""
    found: dict[int, list[int]] = {pk: [] for pk in dataset_ids}
    rows = (PreferencePair.objects.filter(dataset_id__in=dataset_ids, split=Split.TEST)
            .order_by("dataset_id", "subject_id").values_list("dataset_id", "subject_id").distinct())
    for dataset_id, subject_id in rows:
        found[dataset_id].append(subject_id)
    return found


def reward_model_activations(version: RewardModelVersion) -> QuerySet[RewardModelActivation]:
    """The activations that made ``version`` active or retired it, newest first."""
    return (RewardModelActivation.objects.filter(Q(activated=version) | Q(retired=version))
            .select_related("activated", "retired", "activated_by").order_by("-created_at", "-id"))


def generator_finetuning_list() -> QuerySet[GeneratorFineTuning]:
    """Fine-tunings, newest first, with what they came from, their job and child version."""
    return GeneratorFineTuning.objects.select_related(
        "parent__parent", "dataset", "reward_model", "child", "job", "started_by")


def generator_finetuning_get(*, finetuning_id: int) -> GeneratorFineTuning:
    found = generator_finetuning_list().filter(pk=finetuning_id).first()
    if found is None:
        raise NotFound(f"There is no generator fine-tuning {finetuning_id}.")
    return found


def generator_lineage(version: Any, limit: int = 20) -> list[str]:
    """``version``'s name and its ancestors' (parent first), oldest last."""
    names: list[str] = []
    while version is not None and len(names) < limit:
        names.append(version.name)
        version = version.parent
    return names
