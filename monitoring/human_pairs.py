"""Held-out human pairs: people's answers to a version comparison campaign, as the promotion gate's judge.

A version comparison campaign (``monitoring.version_comparison``) pairs the same candidate (same person,
same seed) made by a candidate generator and by the active one, on people neither was trained on.
``human_pairs`` reads its answers: for each person, the share of that person's answers that prefer
the candidate and the share that prefer the active version ("can't tell" counts for neither; gold
items are left out). The gate takes the per-person difference of the two shares as its judge, with
the same paired bootstrap over people as every other figure (``monitoring.promotion``).

A reward model can be fooled by what it was trained on; people who never saw the training answers
cannot, which is why the gate accepts them as the judge once there are enough:
``human_judge_check`` asks for ``PROMOTION_GATE_MIN_HUMAN_ANSWERS`` answers (default
``GATE_MIN_HUMAN_ANSWERS``) on at least ``MIN_HELDOUT_PEOPLE`` people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.conf import settings

from generation.models import GeneratorVersion
from hfplatform.errors import ApplicationError, Conflict
from monitoring.evaluation import MIN_HELDOUT_PEOPLE
from monitoring.options import GATE_MIN_HUMAN_ANSWERS
from review.comparison_verdict import VERSION_COMPARISON, pair_shares
from review.models import Campaign, Comparison

#: The key of ``Campaign.selection`` that marks a version comparison campaign:
#: {"candidate": name, "baseline": name, "subjects": [ids], "candidates": n, "seed": s}.
SELECTION_KEY = VERSION_COMPARISON


@dataclass(frozen=True)
class HumanPairs:
    """The answers of a version comparison campaign, per person (``subjects`` in id order)."""

    campaign: int
    subjects: list[int]
    candidate_share: np.ndarray  # per person: share of their answers preferring the candidate
    baseline_share: np.ndarray  # per person: share preferring the active version
    answers: int
    ties: int
    reviewers: int

    @property
    def label(self) -> str:
        return f"Held-out human pairs (campaign #{self.campaign}): share of answers preferring each version"

    @property
    def note(self) -> str:
        tie_share = self.ties / self.answers if self.answers else 0.0
        return (f"{self.answers} answers by {self.reviewers} reviewer(s) on {len(self.subjects)} people; "
                f"{self.ties} \"can't tell\" ({tie_share:.0%}) count for neither version; the difference is "
                "each person's share preferring the candidate less the share preferring the active "
                "version; gold items are not counted")


def min_human_answers() -> int:
    """How many answers the gate needs before people can judge (``PROMOTION_GATE_MIN_HUMAN_ANSWERS``)."""
    return int(getattr(settings, "PROMOTION_GATE_MIN_HUMAN_ANSWERS", GATE_MIN_HUMAN_ANSWERS))


def human_pairs(*, campaign: Campaign, candidate: GeneratorVersion, baseline: GeneratorVersion) -> HumanPairs:
    """Count the campaign's answers per person; a pair that is not candidate against baseline is a 400."""
    rows = (Comparison.objects.filter(campaign=campaign, item__is_gold=False)
            .values_list("item__subject_id", "item__headshot__generator_version_id",
                         "item__headshot_b__generator_version_id", "winner", "reviewer_id", "reason"))

    def candidate_side(version_a: int, version_b: int) -> str:
        if (version_a, version_b) == (candidate.pk, baseline.pk):
            return "a"
        if (version_a, version_b) == (baseline.pk, candidate.pk):
            return "b"
        raise ApplicationError(f"Campaign {campaign.pk} has pairs that are not {candidate.name} against "
                               f"{baseline.name}: it cannot judge them.", code="judge_campaign_mismatch")

    shares = pair_shares((subject, candidate_side(version_a, version_b), winner, reviewer, reason)
                         for subject, version_a, version_b, winner, reviewer, reason in rows)
    return HumanPairs(campaign=campaign.pk, subjects=shares.subjects, candidate_share=shares.first_share,
                      baseline_share=shares.second_share, answers=shares.answers, ties=shares.ties,
                      reviewers=shares.reviewers)


def human_judge_check(*, campaign: Campaign, candidate: GeneratorVersion, baseline: GeneratorVersion,
                      heldout: set[int]) -> HumanPairs:
    """The campaign's answers when they may judge ``candidate`` against the active ``baseline``: a 400
    when it compares other versions or shows people one of them was trained on (``heldout``: the
    people both held out), a 409 while it has too few answers."""
    compared = (campaign.selection or {}).get(SELECTION_KEY) or {}
    if not compared:
        raise ApplicationError(f"Campaign {campaign.pk} is not a version comparison campaign: start one for "
                               f"{candidate.name} from the versions page or "
                               f"POST /api/generator/versions/{candidate.name}/comparison-campaigns/.",
                               code="judge_campaign_mismatch", extra={"fields": {"judge_campaign": [
                                   "Not a version comparison campaign."]}})
    if (compared.get("candidate"), compared.get("baseline")) != (candidate.name, baseline.name):
        raise ApplicationError(f"Campaign {campaign.pk} compares {compared.get('candidate')} with "
                               f"{compared.get('baseline')}, not {candidate.name} with the active "
                               f"{baseline.name}.", code="judge_campaign_mismatch",
                               extra={"fields": {"judge_campaign": ["Compares other versions."]}})
    trained_on = ", ".join(map(str, sorted(set(compared.get("subjects") or []) - heldout)))
    if trained_on:
        raise ApplicationError(f"Campaign {campaign.pk} shows people that {candidate.name} or "
                               f"{baseline.name} was trained on (subjects {trained_on}): "
                               "its answers are not held out.", code="judge_campaign_not_heldout")
    pairs = human_pairs(campaign=campaign, candidate=candidate, baseline=baseline)
    needed = min_human_answers()
    if pairs.answers < needed or len(pairs.subjects) < MIN_HELDOUT_PEOPLE:
        raise Conflict(f"Campaign {campaign.pk} has {pairs.answers} answers on {len(pairs.subjects)} people; "
                       f"people can judge once there are at least {needed} answers on "
                       f"{MIN_HELDOUT_PEOPLE} people.", code="too_few_human_answers")
    return pairs
