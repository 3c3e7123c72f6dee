"""Drive reviewers through a campaign with the real services: every item answered by a policy, or every
pairwise item by a choice of winner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from review.services import assignment_next, blind_submit, comparison_submit, rating_submit

Policy = Callable[[Any], dict[str, Any]]


def choice_for(assignment: Any, winner: str) -> str:
    """The left/right/tie choice that makes ``winner`` (a, b or tie, in the item's terms) win."""
    if winner == "tie":
        return "tie"
    return "left" if (winner == "a") != assignment.swapped else "right"


def answer_all(campaign: Any, reviewer: Any, policy: Policy, time_spent_ms: int = 1000) -> list[Any]:
    """Take and answer items until the campaign has none left for ``reviewer``; returns the answers.

    ``policy(assignment)`` gives the answer fields for that item's kind: rating scores (and flags,
    comment), ``winner`` for pairwise (turned into the choice as shown), ``answer``/``confidence``."""
    answers = []
    while (assignment := assignment_next(campaign=campaign, reviewer=reviewer)) is not None:
        fields = policy(assignment)
        common = {"reviewer": reviewer, "assignment_id": assignment.pk, "time_spent_ms": time_spent_ms}
        kind = assignment.item.kind
        if kind == "rating":
            answer, _ = rating_submit(**common, **fields)
        elif kind == "pairwise":
            answer, _ = comparison_submit(**common, choice=choice_for(assignment, fields["winner"]))
        else:
            answer, _ = blind_submit(**common, **fields)
        answers.append(answer)
    return answers


def honest(assignment: Any) -> dict[str, Any]:
    """A careful reviewer: scores follow the headshot, gold is answered right."""
    item = assignment.item
    if item.kind == "rating":
        if item.is_gold:
            return {"professionalism": 1, "likeness": 2, "appeal": 1}
        score = 1 + item.headshot_id % 5
        return {"professionalism": score, "likeness": 6 - score, "appeal": score}
    if item.kind == "pairwise":
        if item.is_gold:
            return {"winner": item.gold_answer["choice"]}
        return {"winner": "a" if item.headshot_id % 2 == 0 else "b"}
    if item.is_gold:
        return {"answer": item.gold_answer["answer"], "confidence": 4}  # a known studio portrait
    return {"answer": "ai", "confidence": 3}


def gold_wrong(assignment: Any) -> dict[str, Any]:
    """Like :func:`honest` on regular items, but every gold answer is wrong."""
    item = assignment.item
    if item.is_gold and item.kind == "rating":
        return {"professionalism": 5, "likeness": 5, "appeal": 5}
    if item.is_gold and item.kind == "pairwise":
        return {"winner": "b" if item.gold_answer["choice"] != "b" else "a"}
    if item.is_gold and item.kind == "blind":
        return {"answer": "ai", "confidence": 4}
    return honest(assignment)


def compare_all(campaign: Any, reviewer: Any, choose: Callable[[Any], str]) -> None:
    """Answer every pairwise item: ``choose(item)`` says the winner in item terms (a, b, tie)."""
    while (held := assignment_next(campaign=campaign, reviewer=reviewer)) is not None:
        choice = choice_for(held, choose(held.item))
        comparison_submit(reviewer=reviewer, assignment_id=held.pk, choice=choice, reason="likeness")
