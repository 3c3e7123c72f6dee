"""Reads about the quality of a campaign's answers: agreement, reviewer quality, blind detection.

Selectors: they read Rating / Comparison / BlindJudgement rows and hand plain numbers to
:mod:`review.agreement`. Gold items (known answer) measure reviewers and are left out of the
agreement figures and the mean ratings. Reviewers appear everywhere as :func:`reviewer_pseudonym`,
never by id or username.
"""

from __future__ import annotations

import hashlib
import hmac
import statistics
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.conf import settings

from hfplatform.accounts.roles import RATER_ROLES, Role
from hfplatform.errors import NotFound
from review.agreement import (
    ALPHA_RELIABLE,
    ALPHA_TENTATIVE,
    PAIRWISE_CODES,
    RATING_SCALE,
    Consensus,
    consensus,
    detection_rate,
    krippendorff_alpha,
    pairwise_alpha,
    reliability_matrix,
    reliability_score,
)
from review.models import RATING_DIMENSIONS, BlindJudgement, Campaign, Comparison, Rating
from review.options import DEFAULT_PHOTOGRAPHER_WEIGHT

MIN_COMMON = 3
ROLES = tuple(role.value for role in RATER_ROLES)


def reviewer_pseudonym(user_id: int) -> str:
    """A stable stand-in for a reviewer: "r-" + 10 hex of HMAC-SHA256(SECRET_KEY, "reviewer:<id>")."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"reviewer:{user_id}".encode(), hashlib.sha256)
    return "r-" + digest.hexdigest()[:10]


def photographer_weight() -> float:
    """How many reviewer ratings one photographer rating counts for (setting REVIEW_PHOTOGRAPHER_WEIGHT,
    ``DEFAULT_PHOTOGRAPHER_WEIGHT`` when it is unset)."""
    weight = getattr(settings, "REVIEW_PHOTOGRAPHER_WEIGHT", None)
    return float(DEFAULT_PHOTOGRAPHER_WEIGHT if weight is None else weight)


def role_weight(role: str) -> float:
    """What one answer given in ``role`` counts for: the photographer weight, else 1."""
    return photographer_weight() if role == Role.PHOTOGRAPHER else 1.0


def campaign_find(*, campaign_id: int) -> Campaign:
    """The campaign, for readers (every campaign); NotFound (404) when there is none."""
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound(f"There is no campaign {campaign_id}.")
    return campaign


# --- Rows -----------------------------------------------------------------------------------------

ANSWER_FIELDS = ("reviewer_id", "item_id", "item__is_gold", "item__gold_answer", "reviewer_role",
                 "time_spent_ms", "created_at")


def _ratings(campaign: Campaign) -> list[dict[str, Any]]:
    return list(Rating.objects.filter(campaign=campaign).order_by("id")
                .values(*ANSWER_FIELDS, *RATING_DIMENSIONS))


def _comparisons(campaign: Campaign) -> list[dict[str, Any]]:
    return list(Comparison.objects.filter(campaign=campaign).order_by("id").values(*ANSWER_FIELDS, "winner"))


def _judgements(campaign: Campaign) -> list[dict[str, Any]]:
    return list(BlindJudgement.objects.filter(campaign=campaign).order_by("id")
                .values(*ANSWER_FIELDS, "correct", "is_generated"))


def gold_correct(kind: str, row: dict[str, Any]) -> bool | None:
    """Whether an answer on a gold item is right (None for a regular item).

    Rating gold shows a broken image: right when appeal <= ``appeal_max``. Pairwise gold: right when
    the winner is the known ``choice`` (a, b or tie)."""
    if not row["item__is_gold"]:
        return None
    answer = row["item__gold_answer"] or {}
    if kind == "rating":
        return row["appeal"] <= answer.get("appeal_max", 2)
    return row["winner"] == answer.get("choice")


def _matrices(ratings: list[dict], comparisons: list[dict]) -> dict[str, Any]:
    """Reliability matrices (reviewer id × item id) of the regular answers, per dimension and pairwise."""
    regular_ratings = [r for r in ratings if not r["item__is_gold"]]
    matrices = {dim: reliability_matrix((r["reviewer_id"], r["item_id"], r[dim]) for r in regular_ratings)
                for dim in RATING_DIMENSIONS}
    matrices["pairwise"] = reliability_matrix(
        (c["reviewer_id"], c["item_id"], PAIRWISE_CODES[c["winner"]])
        for c in comparisons if not c["item__is_gold"])
    return matrices


# --- Agreement ------------------------------------------------------------------------------------


def campaign_agreement(campaign: Campaign, min_common: int = MIN_COMMON) -> dict[str, Any]:
    """Krippendorff's alpha per rating dimension (ordinal) and for pairwise choices (nominal), with
    the items and reviewers behind each, and alpha per pair of reviewers with ``min_common`` items
    in common. Gold items are left out."""
    matrices = _matrices(_ratings(campaign), _comparisons(campaign))
    dimensions = []
    for name, matrix in matrices.items():
        level = "nominal" if name == "pairwise" else "ordinal"
        domain = sorted(PAIRWISE_CODES.values()) if name == "pairwise" else RATING_SCALE
        alpha = krippendorff_alpha(matrix.values, level, domain)
        pairs = [{"reviewer_a": reviewer_pseudonym(p.reviewer_a),
                  "reviewer_b": reviewer_pseudonym(p.reviewer_b), "n_common": p.n_common,
                  "alpha": p.alpha.value, "unavailable": p.alpha.unavailable}
                 for p in pairwise_alpha(matrix, level, min_common, domain)]
        dimensions.append({"name": name, "level": level, "alpha": alpha.value,
                           "unavailable": alpha.unavailable, "text": alpha.text, "n_items": alpha.n_items,
                           "n_reviewers": alpha.n_reviewers, "pairs": pairs})
    return {"campaign": campaign.pk, "dimensions": dimensions, "min_common": min_common,
            "thresholds": {"tentative": ALPHA_TENTATIVE, "reliable": ALPHA_RELIABLE}}


# --- Reviewer quality -----------------------------------------------------------------------------


def _consensus_by_reviewer(matrices: dict[str, Any]) -> dict[int, Consensus]:
    """Consensus pooled over the three dimensions and pairwise choices, per reviewer id."""
    pooled: dict[int, Consensus] = defaultdict(lambda: Consensus(0, 0))
    for name, matrix in matrices.items():
        kind = "pairwise" if name == "pairwise" else "rating"
        for reviewer, counts in zip(matrix.reviewers, consensus(matrix, kind), strict=True):
            pooled[reviewer] = pooled[reviewer] + counts
    return pooled


def _median(values: Iterable[int | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(statistics.median(known)) if known else None


def reviewer_quality(campaign: Campaign) -> list[dict[str, Any]]:
    """Per reviewer (pseudonymised): role at their latest answer, answers given, median time per
    answer, gold answered and accuracy, consensus agreement and the reliability score
    (:func:`review.agreement.reliability_score`). Most reliable first."""
    rows = _quality_rows(campaign)
    for row in rows:
        row["reviewer"] = reviewer_pseudonym(row.pop("reviewer_id"))
    return sorted(rows, key=lambda r: (-r["reliability"], r["reviewer"]))


def reviewer_reliability(campaign: Campaign) -> dict[int, float]:
    """Reliability score per reviewer *id*, for weighting answers downstream (never shown)."""
    return {row["reviewer_id"]: row["reliability"] for row in _quality_rows(campaign)}


def _quality_rows(campaign: Campaign) -> list[dict[str, Any]]:
    ratings, comparisons, judgements = _ratings(campaign), _comparisons(campaign), _judgements(campaign)
    pooled = _consensus_by_reviewer(_matrices(ratings, comparisons))
    answers: dict[int, list[dict]] = defaultdict(list)
    gold: dict[int, list[bool]] = defaultdict(list)
    for kind, rows in (("rating", ratings), ("pairwise", comparisons), ("blind", judgements)):
        for row in rows:
            answers[row["reviewer_id"]].append(row)
            if kind != "blind" and (right := gold_correct(kind, row)) is not None:
                gold[row["reviewer_id"]].append(right)
    table = []
    for reviewer_id, rows in answers.items():
        hits, agreement = gold[reviewer_id], pooled.get(reviewer_id, Consensus(0, 0))
        table.append({
            "reviewer_id": reviewer_id,
            "role": max(rows, key=lambda r: r["created_at"])["reviewer_role"],
            "items_done": len(rows),
            "median_time_ms": _median(r["time_spent_ms"] for r in rows),
            "gold_answered": len(hits),
            "gold_correct": sum(hits),
            "gold_accuracy": sum(hits) / len(hits) if hits else None,
            "consensus_n": agreement.n,
            "consensus_agreement": agreement.share,
            "reliability": reliability_score(gold_correct=sum(hits), gold_n=len(hits),
                                             consensus_agree=agreement.agree, consensus_n=agreement.n),
        })
    return table


# --- Blind test -----------------------------------------------------------------------------------


def blind_detection(campaign: Campaign) -> dict[str, Any]:
    """Share of correct blind judgements (0.5 = chance: the generated images pass as real), with its
    95 % Wilson interval and n; overall, by the truth (generated / real) and by reviewer role."""
    rows = _judgements(campaign)

    def rate(selected: list[dict]) -> dict[str, Any]:
        return detection_rate(sum(r["correct"] for r in selected), len(selected)).as_dict()

    return {
        "overall": rate(rows),
        "by_truth": {"generated": rate([r for r in rows if r["is_generated"]]),
                     "real": rate([r for r in rows if not r["is_generated"]])},
        "by_role": {role: rate([r for r in rows if r["reviewer_role"] == role]) for role in ROLES},
    }


# --- Mean ratings by role -------------------------------------------------------------------------


def rating_means_by_role(campaign: Campaign) -> dict[str, Any]:
    """Mean of each dimension over regular items, for reviewers and photographers apart, and both
    together with every photographer rating counted ``REVIEW_PHOTOGRAPHER_WEIGHT`` times."""
    rows = [r for r in _ratings(campaign) if not r["item__is_gold"]]

    def means(selected: list[dict], weights: list[float]) -> dict[str, Any]:
        total = sum(weights)
        figures: dict[str, Any] = {"n": len(selected)}
        for dim in RATING_DIMENSIONS:
            figures[dim] = (sum(w * r[dim] for w, r in zip(weights, selected, strict=True)) / total
                            if total else None)
        return figures

    by_role = {role: [r for r in rows if r["reviewer_role"] == role] for role in ROLES}
    return {
        "photographer_weight": photographer_weight(),
        "roles": {role: means(selected, [1.0] * len(selected)) for role, selected in by_role.items()},
        "weighted": means(rows, [role_weight(r["reviewer_role"]) for r in rows]),
    }
