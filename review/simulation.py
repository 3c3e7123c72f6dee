"""Simulated reviewers: flagged accounts that answer a campaign by a measurable objective (a service).

``campaign_simulate`` drives N simulated reviewer accounts through the same services people use
(``assignment_next``, ``rating_submit``, ``comparison_submit``, ``blind_submit``), so overlap,
leases, gold items and "never your own subject" hold for them exactly as for people. Each answer is
its own transaction, as a person's is. What a simulated reviewer sees is what the page shows
(``review.selectors.item_image``); how it perceives and answers is plain NumPy in
``review.ml.simulate`` and the objectives in ``review.ml.objectives``.

The accounts are named ``sim-<objective>-<i>``, hold the reviewer role, belong to the ``simulated``
group (``hfplatform.accounts.selectors.SIMULATED_GROUP``) and have no usable password. Every review
report can leave them out (``exclude_simulated``), and so can the reward pairs
(``preference_pairs(include_simulated=False)``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction

from hfplatform.accounts.roles import Role, has_role
from hfplatform.accounts.selectors import is_simulated
from hfplatform.accounts.services import user_create, user_set_role
from hfplatform.errors import ApplicationError, Conflict
from hfplatform.imaging import stored_rgb
from review.ml.objectives import OBJECTIVES, objective_get, visibly_broken
from review.ml.simulate import Calibration, SimulatedRater, panel, rater_rng
from review.models import RATING_DIMENSIONS, Assignment, Campaign, ReviewItem, TaskKind
from review.selectors import item_image
from review.services import assignment_next, blind_submit, comparison_submit, rating_submit, shown_pair

DEFAULT_NOISE = 0.5  # standard units of the objective over the campaign's headshots
DEFAULT_BIAS_SPREAD = 0.3
USERNAME = "sim-{objective}-{index}"


def simulated_username(*, objective: str, index: int) -> str:
    """``sim-<objective>-<index>`` (index from 1): the name says the account is simulated."""
    return USERNAME.format(objective=objective, index=index)


@transaction.atomic
def simulated_reviewers_ensure(*, objective: str, count: int) -> list[Any]:
    """The accounts ``sim-<objective>-1 … -count``: created flagged (``simulated`` group, reviewer
    role, no usable password) or reused. A real account with such a name is never taken over."""
    if count < 1:
        raise ApplicationError("Simulate at least one reviewer.", code="invalid",
                               extra={"fields": {"reviewers": ["At least 1."]}})
    users = []
    for index in range(1, count + 1):
        name = simulated_username(objective=objective, index=index)
        user = get_user_model().objects.filter(username__iexact=name).first()
        if user is None:
            user, _ = user_create(username=name, role=Role.REVIEWER, simulated=True)
        elif not is_simulated(user):
            raise Conflict(f"The account {name!r} exists and is not a simulated reviewer: it is left alone.",
                           code="not_simulated")
        elif not has_role(user, [Role.REVIEWER]):
            user_set_role(user=user, role=Role.REVIEWER)
        users.append(user)
    return users


@dataclass
class _Perception:
    """The objective of every image the campaign shows, computed once per run and put in standard
    units: headshot-calibrated for rating and pairwise, blind-calibrated for the blind test."""

    objective: Callable[[np.ndarray], float]
    size: int | None
    values: dict[tuple[str, int, str], tuple[float, bool]] = field(default_factory=dict)
    headshots: Calibration | None = None
    blind: Calibration | None = None

    def raw(self, item: ReviewItem, side: str) -> tuple[float, bool]:
        """(objective value, visibly broken) of one side of an item, cached by the image shown."""
        if item.is_gold and side in ("headshot", "b"):
            key = ("gold", item.pk, side)
        elif side == "b":
            key = ("headshot", item.headshot_b_id, "")
        elif item.kind == TaskKind.BLIND and item.portrait_id:
            key = ("portrait", item.portrait_id, "")
        else:
            key = ("headshot", item.headshot_id, "")
        if key not in self.values:
            image = item_image(item=item, side=side, size=self.size)
            self.values[key] = (self.objective(image), visibly_broken(image))
        return self.values[key]

    def z(self, item: ReviewItem, side: str) -> float:
        value, broken = self.raw(item, side)
        calibration = self.blind if item.kind == TaskKind.BLIND else self.headshots
        return calibration.standard(value, broken=broken)


def _calibrate(campaign: Campaign, perception: _Perception) -> None:
    """Calibrate the objective over the campaign's intact headshots (rating and pairwise) and over
    its regular blind images (generated and real)."""
    regular = list(ReviewItem.objects.filter(campaign=campaign, is_gold=False)
                   .select_related("headshot", "headshot_b", "portrait"))
    heads = {}
    for item in regular:
        if item.kind in (TaskKind.RATING, TaskKind.PAIRWISE):
            heads[item.headshot_id] = item.headshot
        if item.kind == TaskKind.PAIRWISE:
            heads[item.headshot_b_id] = item.headshot_b
    head_values = []
    for pk, head in heads.items():
        key = ("headshot", pk, "")
        if key not in perception.values:
            image = stored_rgb(head.image.name)
            perception.values[key] = (perception.objective(image), visibly_broken(image))
        head_values.append(perception.values[key][0])
    blind_values = [perception.raw(item, "image")[0] for item in regular if item.kind == TaskKind.BLIND]
    perception.headshots = Calibration.fit(head_values or blind_values)
    perception.blind = Calibration.fit(blind_values or head_values)


def _answer(assignment: Assignment, reviewer: Any, rater: SimulatedRater, rng: np.random.Generator,
            perception: _Perception) -> str:
    """Answer one assignment through the services; returns its kind."""
    item = assignment.item
    common = {"reviewer": reviewer, "assignment_id": assignment.pk}
    if item.kind == TaskKind.RATING:
        scores = rater.rate(perception.z(item, "headshot"), perception.headshots, rng,
                            scales=len(RATING_DIMENSIONS))
        rating_submit(**common, **dict(zip(RATING_DIMENSIONS, scores, strict=True)))
    elif item.kind == TaskKind.PAIRWISE:
        winner = rater.choose(perception.z(item, "a"), perception.z(item, "b"), rng)  # item terms
        choice = "tie" if winner == "tie" else ("left" if (winner == "a") != assignment.swapped else "right")
        left, right = shown_pair(assignment)
        comparison_submit(**common, choice=choice, left=left, right=right)
    else:
        answer, confidence = rater.judge(perception.z(item, "image"), rng)
        blind_submit(**common, answer=answer, confidence=confidence)
    return item.kind


@dataclass
class SimulatedReviewer:
    """One simulated reviewer of a run: the account, its bias and noise and what it answered."""

    user: Any
    rater: SimulatedRater
    answers: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.answers.values())


def _check(*, objective: str, reviewers: int, noise: float, bias_spread: float,
           answers_per_reviewer: int | None) -> None:
    errors: dict[str, list[str]] = {}
    if objective not in OBJECTIVES:
        errors["objective"] = [f"Unknown objective {objective!r}; choose one of: {', '.join(OBJECTIVES)}."]
    if reviewers < 1:
        errors["reviewers"] = ["Simulate at least one reviewer."]
    if noise < 0:
        errors["noise"] = ["The noise is a standard deviation: 0 or more."]
    if bias_spread < 0:
        errors["bias_spread"] = ["The bias spread is a standard deviation: 0 or more."]
    if answers_per_reviewer is not None and answers_per_reviewer < 1:
        errors["answers_per_reviewer"] = ["At least 1 (or no limit)."]
    if errors:
        raise ApplicationError(" ".join(m for ms in errors.values() for m in ms), code="invalid",
                               extra={"fields": errors})


def campaign_simulate(*, campaign: Campaign, objective: str, reviewers: int, noise: float = DEFAULT_NOISE,
                      bias_spread: float = DEFAULT_BIAS_SPREAD, seed: int = 0,
                      answers_per_reviewer: int | None = None) -> list[SimulatedReviewer]:
    """Answer ``campaign`` with ``reviewers`` simulated reviewers judging by ``objective``.

    The reviewers (:func:`review.ml.simulate.panel`: bias ~ N(0, bias_spread), noise from 0.5 to 1.5
    × ``noise``, in standard units of the objective over the campaign's headshots) take turns, one
    item each per round, through ``assignment_next`` until none has work left or each has given
    ``answers_per_reviewer`` answers. Each reviewer's random stream depends only on ``seed`` and its
    number, and work is handed out in the campaign's order, so a run repeats for a seed."""
    _check(objective=objective, reviewers=reviewers, noise=noise, bias_spread=bias_spread,
           answers_per_reviewer=answers_per_reviewer)
    if not campaign.is_open:
        raise Conflict("This campaign is closed.", code="campaign_closed")
    if Role.REVIEWER.value not in campaign.allowed_roles:
        raise ApplicationError("Simulated reviewers hold the reviewer role; this campaign is for: "
                               + ", ".join(campaign.allowed_roles) + ".", code="role_not_allowed")
    users = simulated_reviewers_ensure(objective=objective, count=reviewers)
    perception = _Perception(objective=objective_get(objective), size=campaign.selection.get("image_size"))
    _calibrate(campaign, perception)
    team = [SimulatedReviewer(user=user, rater=rater)
            for user, rater in zip(users, panel(reviewers, noise=noise, bias_spread=bias_spread, seed=seed),
                                   strict=True)]
    streams = [rater_rng(seed, index) for index in range(1, reviewers + 1)]
    working = list(range(reviewers))
    while working:
        for index in list(working):
            member = team[index]
            if answers_per_reviewer is not None and member.total >= answers_per_reviewer:
                working.remove(index)
                continue
            assignment = assignment_next(campaign=campaign, reviewer=member.user)
            if assignment is None:
                working.remove(index)
                continue
            member.answers[_answer(assignment, member.user, member.rater, streams[index], perception)] += 1
    return team


__all__ = ["DEFAULT_BIAS_SPREAD", "DEFAULT_NOISE", "SimulatedReviewer", "campaign_simulate",
           "simulated_reviewers_ensure", "simulated_username"]
