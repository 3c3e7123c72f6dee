"""People's verdict of a comparison campaign: of two ways of making the same candidate, which do people
prefer, and how sure is that?

Two kinds of campaign pair the same candidate (same person, same seed) made two ways, and mark which
way is which in ``Campaign.selection``:

* ``stage_comparison`` (``review.stage_comparison``): with a studio stage (first) and without it;
  ``{"version", "stage", "with", "without", "with_jobs": [generation job ids], "subjects"}``.
* ``version_comparison`` (``monitoring.version_comparison``): the candidate generator (first) and the
  active one; ``{"candidate", "baseline", "subjects", ...}``.

``pair_shares`` counts the answers per person: the share of that person's answers preferring each
side ("can't tell" counts for neither; gold items are left out). ``comparison_verdict`` takes the mean
over people of the difference (first − second) with a 95% percentile bootstrap over the people, and
says "people prefer …" only when the interval leaves 0 out and there are ``MIN_ANSWERS`` answers on
``MIN_PEOPLE`` people (the promotion gate's default minimum for people as its judge). The reasons
reviewers gave (professional, likeness, appeal) are counted for each side.

Reads only; the answers of other reviewers are aggregates here, shown to readers (never to reviewers).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db.models import Q
from django.urls import reverse

from generation.generator.version_notes import version_note_source
from generation.models import GeneratorVersion
from hfplatform.accounts.selectors import users_simulated
from hfplatform.errors import NotFound
from hfplatform.ml.stats import bootstrap_interval
from review.models import Campaign, ChoiceReason, Comparison

STAGE_COMPARISON = "stage_comparison"
VERSION_COMPARISON = "version_comparison"
MIN_ANSWERS = 30
MIN_PEOPLE = 4


class NotAComparison(NotFound):
    """The campaign does not pair two ways of making the same candidate, so it has no verdict (404)."""


@dataclass(frozen=True)
class PairShares:
    """Answers per person (``subjects`` in id order): shares of each person's answers for each side."""

    subjects: list[int]
    first_share: np.ndarray
    second_share: np.ndarray
    per_person_answers: np.ndarray
    answers: int
    ties: int
    reviewers: int
    reasons: dict[str, dict[str, int]] = field(default_factory=dict)  # side -> reason -> answers


def pair_shares(rows: Iterable[tuple[int, str, str, int, str]]) -> PairShares:
    """``rows``: (subject id, the item side that is "first": "a" or "b", winner "a"/"b"/"tie",
    reviewer id, reason or "") for every answer."""
    counts: dict[int, list[int]] = {}  # subject -> [first preferred, second preferred, answers]
    reasons = {"first": Counter(), "second": Counter()}
    ties, reviewers = 0, set()
    for subject, first_side, winner, reviewer, reason in rows:
        row = counts.setdefault(subject, [0, 0, 0])
        row[2] += 1
        reviewers.add(reviewer)
        if winner == "tie":
            ties += 1
            continue
        side = "first" if winner == first_side else "second"
        row[0 if side == "first" else 1] += 1
        if reason:
            reasons[side][reason] += 1
    subjects = sorted(counts)
    table = np.array([counts[s] for s in subjects], dtype=float).reshape(-1, 3)
    return PairShares(subjects=subjects, first_share=table[:, 0] / table[:, 2],
                      second_share=table[:, 1] / table[:, 2], per_person_answers=table[:, 2].astype(int),
                      answers=int(table[:, 2].sum()), ties=ties, reviewers=len(reviewers),
                      reasons={side: dict(c) for side, c in reasons.items()})


@dataclass(frozen=True)
class ComparisonVerdict:
    campaign: int
    kind: str  # STAGE_COMPARISON or VERSION_COMPARISON
    first: str  # what the first side is, for people: "with background", "headshot-v4 (candidate)"
    second: str
    shares: PairShares
    simulated: int  # answers by simulated reviewers (accounts, not people) in the campaign
    simulated_left_out: bool  # whether they were left out of every figure (``exclude_simulated``)
    difference: float | None  # mean over people of first share − second share
    interval: tuple[float, float] | None

    @property
    def enough(self) -> bool:
        return self.shares.answers >= MIN_ANSWERS and len(self.shares.subjects) >= MIN_PEOPLE

    @property
    def verdict(self) -> str:
        s = self.shares
        if not self.enough:
            return (f"Not enough answers yet: {s.answers} on {len(s.subjects)} people; a verdict needs "
                    f"{MIN_ANSWERS} answers on {MIN_PEOPLE} people.")
        low, high = self.interval
        if low > 0:
            return f"People prefer {self.first}."
        if high < 0:
            return f"People prefer {self.second}."
        return "No clear preference: the 95% interval of the difference includes 0."

    def as_dict(self) -> dict[str, Any]:
        s = self.shares
        return {
            "campaign": self.campaign, "kind": self.kind, "first": self.first, "second": self.second,
            "people": len(s.subjects), "answers": s.answers, "ties": s.ties, "reviewers": s.reviewers,
            "simulated_answers": self.simulated,
            "simulated": "excluded" if self.simulated_left_out else "included",
            "first_share": _mean(s.first_share), "second_share": _mean(s.second_share),
            "difference": self.difference,
            "interval": list(self.interval) if self.interval else None,
            "enough": self.enough, "verdict": self.verdict,
            "min_answers": MIN_ANSWERS, "min_people": MIN_PEOPLE,
            "reasons": {side: {r: s.reasons.get(side, {}).get(r, 0) for r in ChoiceReason.values}
                        for side in ("first", "second")},
            "per_person": [{"subject": subject, "answers": int(n), "first_share": float(a),
                            "second_share": float(b)}
                           for subject, n, a, b in zip(s.subjects, s.per_person_answers, s.first_share,
                                                       s.second_share, strict=True)],
        }


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None


def _sides(campaign: Campaign) -> tuple[str, str, str, Callable[[int, int], str]]:
    """(kind, first label, second label, and which item side, "a" or "b", is first, told from the
    item's "a" headshot: (its generation job, its generator version) → "a" or "b")."""
    selection = campaign.selection or {}
    if stage := selection.get(STAGE_COMPARISON):
        with_jobs = set(stage.get("with_jobs") or [])
        name = stage["stage"]
        return (STAGE_COMPARISON, f"with {name}", f"without {name}",
                lambda job_a, version_a: "a" if job_a in with_jobs else "b")
    if versions := selection.get(VERSION_COMPARISON):
        ids = dict(GeneratorVersion.objects.filter(name__in=[versions["candidate"], versions["baseline"]])
                   .values_list("name", "pk"))
        candidate = ids.get(versions["candidate"])
        return (VERSION_COMPARISON, f"{versions['candidate']} (candidate)",
                f"{versions['baseline']} (active when compared)",
                lambda job_a, version_a: "a" if version_a == candidate else "b")
    raise NotAComparison(f"Campaign {campaign.pk} is not a comparison campaign (with vs without a studio "
                         "stage, or one generator version against another): it has no verdict.",
                         code="not_a_comparison")


def comparison_verdict(campaign: Campaign, *, exclude_simulated: bool = False, seed: int = 0
                       ) -> ComparisonVerdict:
    """The verdict of a comparison campaign's answers so far; ``NotAComparison`` for other campaigns."""
    kind, first, second, first_side = _sides(campaign)
    answers = Comparison.objects.filter(campaign=campaign, item__is_gold=False)
    simulated = answers.filter(reviewer__in=users_simulated()).count()
    if exclude_simulated and simulated:
        answers = answers.exclude(reviewer__in=users_simulated())
    rows = answers.values_list("item__subject_id", "item__headshot__generation_job_id",
                               "item__headshot__generator_version_id", "winner", "reviewer_id", "reason")
    shares = pair_shares((subject, first_side(job_a, version_a), winner, reviewer, reason)
                         for subject, job_a, version_a, winner, reviewer, reason in rows)
    difference, interval = None, None
    if shares.subjects:
        per_person = shares.first_share - shares.second_share
        difference = float(per_person.mean())
        interval = bootstrap_interval(per_person, seed=seed)
    return ComparisonVerdict(campaign=campaign.pk, kind=kind, first=first, second=second, shares=shares,
                             simulated=simulated, simulated_left_out=exclude_simulated,
                             difference=difference, interval=interval)


@version_note_source
def comparison_campaigns(version_names: list[str], per_version: int = 5) -> dict[str, list[dict[str, Any]]]:
    """For the versions page: each version's latest ``per_version`` comparison campaigns (with/without
    a stage of that version, or that version as the candidate), newest first, with their verdict."""
    of_stages = Q(**{f"selection__{STAGE_COMPARISON}__version__in": version_names})
    of_versions = Q(**{f"selection__{VERSION_COMPARISON}__candidate__in": version_names})
    found = Campaign.objects.filter(of_stages | of_versions).order_by("-pk")
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in version_names}
    for campaign in found:
        stage, versions = campaign.selection.get(STAGE_COMPARISON), campaign.selection.get(VERSION_COMPARISON)
        name = stage["version"] if stage else versions["candidate"]
        if name not in out or len(out[name]) >= per_version:
            continue
        verdict = comparison_verdict(campaign)
        out[name].append({"label": "People's verdict", "title": campaign.name,
                          "url": reverse("review:campaign", args=[campaign.pk]),
                          "text": f"({verdict.shares.answers} answers): {verdict.verdict}"})
    return out
