"""Reads about the quality of a campaign's answers: agreement, reviewer quality, blind detection.

Selectors: they read Rating / Comparison / BlindJudgement rows and hand plain numbers to
:mod:`review.agreement`. Gold items (known answer) measure reviewers and are left out of the
agreement figures, the mean ratings and the blind detection rate. Reviewers appear everywhere as
:func:`reviewer_pseudonym`, never by id or username. Every reader takes ``exclude_simulated``
(default False: simulated reviewers count like people, and the reviewer table labels them), which
leaves the answers of simulated accounts (``hfplatform.accounts.selectors.users_simulated``) out of
every figure.
"""

from __future__ import annotations

import hashlib
import hmac
import statistics
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from hfplatform.accounts.roles import RATER_ROLES, Role
from hfplatform.accounts.selectors import users_simulated
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
from review.models import RATING_DIMENSIONS, BlindJudgement, Campaign, Comparison, Rating, TaskKind
from review.options import (
    DEFAULT_PHOTOGRAPHER_WEIGHT,
    MIN_ANSWERS_FOR_TIE_WARNING,
    PAIR_DIVERSITY_WARNING,
    TIE_SHARE_WARNING,
)

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

#: The task kinds whose answers measure a reviewer, in the order reports show them.
KINDS: tuple[str, ...] = tuple(TaskKind.values)
ANSWER_FIELDS = ("reviewer_id", "item_id", "item__is_gold", "item__gold_answer", "reviewer_role",
                 "time_spent_ms", "created_at")
#: Blind answers as numbers for the consensus (nominal: the numbers carry no order).
BLIND_CODES: dict[str, int] = {"ai": 0, "studio": 1}


def _answers(model: type, campaign: Campaign, exclude_simulated: bool) -> QuerySet:
    rows = model.objects.filter(campaign=campaign)
    if exclude_simulated:
        rows = rows.exclude(reviewer__in=users_simulated())
    return rows.order_by("id")


def _ratings(campaign: Campaign, exclude_simulated: bool = False) -> list[dict[str, Any]]:
    return list(_answers(Rating, campaign, exclude_simulated).values(*ANSWER_FIELDS, *RATING_DIMENSIONS))


def _comparisons(campaign: Campaign, exclude_simulated: bool = False) -> list[dict[str, Any]]:
    return list(_answers(Comparison, campaign, exclude_simulated).values(*ANSWER_FIELDS, "winner"))


def _judgements(campaign: Campaign, exclude_simulated: bool = False) -> list[dict[str, Any]]:
    return list(_answers(BlindJudgement, campaign, exclude_simulated)
                .values(*ANSWER_FIELDS, "answer", "correct", "is_generated"))


def gold_correct(kind: str, row: dict[str, Any]) -> bool | None:
    """Whether an answer on a gold item is right (None for a regular item).

    Rating gold shows a broken image: right when appeal <= ``appeal_max``. Pairwise gold (an intact
    headshot beside a broken one): right when the winner is the known ``choice``. Blind gold (a known
    studio portrait): right when the answer is the known ``answer`` ("studio")."""
    if not row["item__is_gold"]:
        return None
    answer = row["item__gold_answer"] or {}
    if kind == TaskKind.RATING:
        return row["appeal"] <= answer.get("appeal_max", 2)
    if kind == TaskKind.PAIRWISE:
        return row["winner"] == answer.get("choice")
    if kind == TaskKind.BLIND:
        return row["answer"] == answer.get("answer", "studio")
    raise ValueError(f"unknown task kind {kind!r}")


def _matrices(ratings: list[dict], comparisons: list[dict]) -> dict[str, Any]:
    """Reliability matrices (reviewer id × item id) of the regular answers, per dimension and pairwise."""
    regular_ratings = [r for r in ratings if not r["item__is_gold"]]
    matrices = {dim: reliability_matrix((r["reviewer_id"], r["item_id"], r[dim]) for r in regular_ratings)
                for dim in RATING_DIMENSIONS}
    matrices["pairwise"] = reliability_matrix(
        (c["reviewer_id"], c["item_id"], PAIRWISE_CODES[c["winner"]])
        for c in comparisons if not c["item__is_gold"])
    return matrices


def _blind_matrix(judgements: list[dict]) -> Any:
    return reliability_matrix((j["reviewer_id"], j["item_id"], BLIND_CODES[j["answer"]])
                              for j in judgements if not j["item__is_gold"])


# --- Agreement ------------------------------------------------------------------------------------


def campaign_agreement(campaign: Campaign, min_common: int = MIN_COMMON, *,
                       exclude_simulated: bool = False) -> dict[str, Any]:
    """Krippendorff's alpha per rating dimension (ordinal) and for pairwise choices (nominal), with
    the items and reviewers behind each, and alpha per pair of reviewers with ``min_common`` items
    in common. Gold items are left out; simulated reviewers too with ``exclude_simulated``."""
    matrices = _matrices(_ratings(campaign, exclude_simulated), _comparisons(campaign, exclude_simulated))
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
            "thresholds": {"tentative": ALPHA_TENTATIVE, "reliable": ALPHA_RELIABLE},
            "simulated": "excluded" if exclude_simulated else "included"}


# --- Reviewer quality -----------------------------------------------------------------------------


def _consensus_by_kind(ratings: list[dict], comparisons: list[dict],
                       judgements: list[dict]) -> dict[str, dict[int, Consensus]]:
    """Per task kind and reviewer id: agreement with the leave-one-out consensus of that kind (the
    OTHER reviewers of each item; :func:`review.agreement.consensus`). Rating pools its three
    dimensions; pairwise and blind compare with the others' majority."""
    matrices = _matrices(ratings, comparisons)
    by_kind: dict[str, dict[int, Consensus]] = {kind: defaultdict(lambda: Consensus(0, 0)) for kind in KINDS}
    sources = [(TaskKind.RATING.value, matrices[dim]) for dim in RATING_DIMENSIONS]
    sources += [(TaskKind.PAIRWISE.value, matrices["pairwise"]),
                (TaskKind.BLIND.value, _blind_matrix(judgements))]
    for kind, matrix in sources:
        for reviewer, counts in zip(matrix.reviewers, consensus(matrix, kind), strict=True):
            by_kind[kind][reviewer] = by_kind[kind][reviewer] + counts
    return by_kind


def _median(values: Iterable[int | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(statistics.median(known)) if known else None


def reviewer_quality(campaign: Campaign, *, exclude_simulated: bool = False) -> list[dict[str, Any]]:
    """Per reviewer (pseudonymised): role at their latest answer, whether the account is simulated,
    answers given, median time per answer, and for all kinds together and per task kind
    (``by_kind``; ``reliability_<kind>`` as flat keys): gold answered and accuracy, agreement with the
    leave-one-out consensus and the reliability score (:func:`review.agreement.reliability_score`).
    Most reliable first. ``exclude_simulated`` leaves simulated reviewers out of every figure."""
    rows = _quality_rows(campaign, exclude_simulated=exclude_simulated)
    for row in rows:
        row["reviewer"] = reviewer_pseudonym(row.pop("reviewer_id"))
    return sorted(rows, key=lambda r: (-r["reliability"], r["reviewer"]))


def reviewer_figures_by_id(campaign: Campaign) -> dict[int, dict[str, Any]]:
    """The rows of :func:`reviewer_quality` keyed by reviewer id, for a reviewer's own "how you
    compare" view (which shows the others only as a median): never put on a page as they are."""
    return {row["reviewer_id"]: row for row in _quality_rows(campaign)}


def reviewer_reliability(campaign: Campaign, *, kind: str | None = None,
                         exclude_simulated: bool = False) -> dict[int, float]:
    """Reliability per reviewer *id* for weighting answers downstream (never shown): of one task
    ``kind`` ("rating", "pairwise", "blind"), or over all kinds together when ``kind`` is None."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown task kind {kind!r}; expected one of {', '.join(KINDS)}")
    return reviewer_reliabilities(campaign, exclude_simulated=exclude_simulated)[kind or "overall"]


def reviewer_reliabilities(campaign: Campaign, *,
                           exclude_simulated: bool = False) -> dict[str, dict[int, float]]:
    """``{"overall" | kind: {reviewer id: reliability}}`` from one reading of the answers."""
    rows = _quality_rows(campaign, exclude_simulated=exclude_simulated)
    result = {"overall": {row["reviewer_id"]: row["reliability"] for row in rows}}
    for kind in KINDS:
        result[kind] = {row["reviewer_id"]: row["by_kind"][kind]["reliability"] for row in rows}
    return result


def _figures(answers: int, hits: list[bool], agreement: Consensus) -> dict[str, Any]:
    return {
        "answers": answers,
        "gold_answered": len(hits),
        "gold_correct": sum(hits),
        "gold_accuracy": sum(hits) / len(hits) if hits else None,
        "consensus_n": agreement.n,
        "consensus_agreement": agreement.share,
        "reliability": reliability_score(gold_correct=sum(hits), gold_n=len(hits),
                                         consensus_agree=agreement.agree, consensus_n=agreement.n),
    }


def _quality_rows(campaign: Campaign, *, exclude_simulated: bool = False) -> list[dict[str, Any]]:
    by_kind_rows = {TaskKind.RATING.value: _ratings(campaign, exclude_simulated),
                    TaskKind.PAIRWISE.value: _comparisons(campaign, exclude_simulated),
                    TaskKind.BLIND.value: _judgements(campaign, exclude_simulated)}
    agreement = _consensus_by_kind(*by_kind_rows.values())
    answers: dict[int, list[dict]] = defaultdict(list)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(KINDS, 0))
    gold: dict[int, dict[str, list[bool]]] = defaultdict(lambda: {kind: [] for kind in KINDS})
    for kind, rows in by_kind_rows.items():
        for row in rows:
            answers[row["reviewer_id"]].append(row)
            counts[row["reviewer_id"]][kind] += 1
            if (right := gold_correct(kind, row)) is not None:
                gold[row["reviewer_id"]][kind].append(right)
    simulated = set(users_simulated().filter(pk__in=list(answers)).values_list("pk", flat=True))
    table = []
    for reviewer_id, rows in answers.items():
        kinds = {kind: _figures(counts[reviewer_id][kind], gold[reviewer_id][kind],
                                agreement[kind].get(reviewer_id, Consensus(0, 0))) for kind in KINDS}
        pooled = sum((agreement[kind].get(reviewer_id, Consensus(0, 0)) for kind in KINDS), Consensus(0, 0))
        overall = _figures(len(rows), [hit for kind in KINDS for hit in gold[reviewer_id][kind]], pooled)
        overall["items_done"] = overall.pop("answers")
        table.append({
            "reviewer_id": reviewer_id,
            "role": max(rows, key=lambda r: r["created_at"])["reviewer_role"],
            "simulated": reviewer_id in simulated,
            "median_time_ms": _median(r["time_spent_ms"] for r in rows),
            **overall,
            **{f"reliability_{kind}": kinds[kind]["reliability"] for kind in KINDS},
            "by_kind": kinds,
        })
    return table


# --- Blind test -----------------------------------------------------------------------------------


def blind_detection(campaign: Campaign, *, exclude_simulated: bool = False) -> dict[str, Any]:
    """Share of correct blind judgements (0.5 = chance: the generated images pass as real), with its
    95 % Wilson interval and n; overall, by the truth (generated / real) and by reviewer role. Gold
    items (known studio portraits that measure reviewers) are left out."""
    rows = [r for r in _judgements(campaign, exclude_simulated) if not r["item__is_gold"]]

    def rate(selected: list[dict]) -> dict[str, Any]:
        return detection_rate(sum(r["correct"] for r in selected), len(selected)).as_dict()

    return {
        "overall": rate(rows),
        "by_truth": {"generated": rate([r for r in rows if r["is_generated"]]),
                     "real": rate([r for r in rows if not r["is_generated"]])},
        "by_role": {role: rate([r for r in rows if r["reviewer_role"] == role]) for role in ROLES},
    }


# --- Mean ratings by role -------------------------------------------------------------------------


def rating_means_by_role(campaign: Campaign, *, exclude_simulated: bool = False) -> dict[str, Any]:
    """Mean of each dimension over regular items, for reviewers and photographers apart, and both
    together with every photographer rating counted ``REVIEW_PHOTOGRAPHER_WEIGHT`` times."""
    rows = [r for r in _ratings(campaign, exclude_simulated) if not r["item__is_gold"]]

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


# --- Do the pairs carry signal? -------------------------------------------------------------------


def pair_signal(campaign: Campaign, *, exclude_simulated: bool = False) -> dict[str, Any]:
    """Whether the campaign's pairwise items can teach a reward model or Diffusion-DPO.

    ``diversity``: the cached mean LPIPS between the two headshots of each pairwise item
    (``campaign.pair_diversity``, measured by ``review.services.campaign_diversity_measure``; None
    until measured). ``tie_share``: the share of "can't tell" answers among the regular pairwise
    answers (gold left out) with its 95 % Wilson interval. ``warnings``: plain sentences when the pairs
    are too alike to teach: diversity below ``PAIR_DIVERSITY_WARNING``, or a can't-tell share of at
    least ``TIE_SHARE_WARNING`` once ``MIN_ANSWERS_FOR_TIE_WARNING`` answers are in."""
    rows = [c for c in _comparisons(campaign, exclude_simulated) if not c["item__is_gold"]]
    ties = detection_rate(sum(c["winner"] == "tie" for c in rows), len(rows)).as_dict()
    share = {"ties": ties["correct"], "n": ties["n"], "share": ties["rate"], "low": ties["low"],
             "high": ties["high"], "level": ties["level"]}
    diversity = campaign.pair_diversity or None
    if diversity is not None:
        diversity = {k: v for k, v in diversity.items() if k != "pairs_key"}
    warnings = []
    if diversity and diversity.get("value") is not None and diversity["value"] < PAIR_DIVERSITY_WARNING:
        warnings.append(
            f"Pairs are too alike to teach: the two headshots of a pair are {diversity['value']:.3f} apart "
            f"(mean LPIPS over {diversity['n']} pairs; below {PAIR_DIVERSITY_WARNING}). Spread the "
            "candidates (a guidance range, DDIM eta) or pair across versions.")
    if share["n"] >= MIN_ANSWERS_FOR_TIE_WARNING and share["share"] >= TIE_SHARE_WARNING:
        warnings.append(
            f"Pairs are too alike to teach: {share['share']:.0%} of {share['n']} pairwise answers are "
            f"\"can't tell\" (at least {TIE_SHARE_WARNING:.0%}).")
    return {
        "campaign": campaign.pk, "pairing": campaign.pairing, "diversity": diversity, "tie_share": share,
        "thresholds": {"diversity": PAIR_DIVERSITY_WARNING, "tie_share": TIE_SHARE_WARNING,
                       "min_answers": MIN_ANSWERS_FOR_TIE_WARNING},
        "warnings": warnings, "simulated": "excluded" if exclude_simulated else "included",
    }
