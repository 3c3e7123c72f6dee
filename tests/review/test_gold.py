"""Gold items of every task kind: made, handed out at the campaign's rate per kind, and scored."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from review.ml.objectives import noise_level, visibly_broken
from review.models import Assignment, ReviewItem
from review.quality import gold_correct, reviewer_pseudonym, reviewer_quality
from review.selectors import assignment_image_png, item_image
from review.services import assignment_next, gold_count
from tests.factories.review import answer_all, gold_wrong, honest

KINDS = ["rating", "pairwise", "blind"]


@pytest.fixture
def mixed(review_world, make_campaign):
    world = review_world(subjects=3, per_subject=4, portraits=6)
    return world, make_campaign(world, task_kinds=KINDS, overlap=2, gold_rate=0.2, pairs_per_job=3)


def test_gold_items_of_every_kind_with_known_answers(mixed):
    _, campaign = mixed
    gold = ReviewItem.objects.filter(campaign=campaign, is_gold=True)
    regular = ReviewItem.objects.filter(campaign=campaign, is_gold=False)
    for kind in KINDS:
        expected = gold_count(gold_rate=0.2, regular=regular.filter(kind=kind).count())
        assert gold.filter(kind=kind).count() == expected, kind
    for item in gold.filter(kind="rating"):
        assert item.gold_answer == {"appeal_max": 2}
        assert visibly_broken(item_image(item=item, side="headshot"))
    for item in gold.filter(kind="pairwise"):
        assert item.gold_answer == {"choice": "a"}
        assert item.headshot.subject_id == item.headshot_b.subject_id == item.subject_id
        assert item.headshot_id != item.headshot_b_id  # another candidate of the same person, broken
        assert not visibly_broken(item_image(item=item, side="a"))
        assert noise_level(item_image(item=item, side="b")) > 25
    blind = gold.filter(kind="blind")
    assert all(item.portrait_id and item.headshot_id is None for item in blind)
    assert all(item.gold_answer == {"answer": "studio"} for item in blind)
    portraits = list(blind.values_list("portrait_id", flat=True))
    assert len(set(portraits)) == len(portraits)  # every portrait once (the regular ones too: corpus of 6)
    assert gold_count(gold_rate=0.0, regular=10) == 0
    assert gold_count(gold_rate=0.5, regular=3) == 3
    assert gold_count(gold_rate=0.1, regular=1) == 1


def test_blind_gold_prefers_portraits_the_regular_items_do_not_show(review_world, make_campaign):
    world = review_world(subjects=1, per_subject=2, portraits=5)
    campaign = make_campaign(world, task_kinds=["blind"], overlap=1, gold_rate=0.5)
    items = ReviewItem.objects.filter(campaign=campaign)
    shown = set(items.filter(is_gold=False, portrait__isnull=False).values_list("portrait_id", flat=True))
    gold = set(items.filter(is_gold=True).values_list("portrait_id", flat=True))
    assert len(shown) == 2  # as many real portraits as generated headshots
    assert len(gold) == 4  # 4 regular items at a gold rate of 0.5 want 4 gold items:
    assert len(gold - shown) == 3  # the 3 spare portraits first, then one the regular items show


def test_a_reviewer_of_a_mixed_campaign_gets_gold_of_each_kind_at_the_rate(mixed, make_user):
    _, campaign = mixed
    reviewer = make_user("reviewer")
    answers = answer_all(campaign, reviewer, honest)
    handed = Counter((a.item.kind, a.item.is_gold) for a in answers)
    for kind in KINDS:
        gold, total = handed[(kind, True)], handed[(kind, True)] + handed[(kind, False)]
        assert gold >= 1, f"no {kind} gold"
        assert gold <= 0.2 * total + 1e-9  # never above the rate: gold + 1 <= rate · (items + 1) each time
        assert gold + 1 > 0.2 * (total + 1) - 1  # and not far below it
    # the first gold of each kind comes as soon as that kind's share allows, not after another kind's
    first_gold = {}
    seen = Counter()
    for answer in answers:
        seen[answer.item.kind] += 1
        if answer.item.is_gold:
            first_gold.setdefault(answer.item.kind, seen[answer.item.kind])
    assert all(first_gold[kind] == 5 for kind in KINDS)  # 1 + 1 <= 0.2 · (4 + 1): the 5th of its kind


def test_kinds_a_reviewer_has_not_worked_on_bring_no_gold(review_world, make_campaign, make_user):
    world = review_world(subjects=2, per_subject=4, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating", "pairwise"], overlap=1, gold_rate=0.5,
                             pairs_per_job=1)
    reviewer = make_user("reviewer")
    first = assignment_next(campaign=campaign, reviewer=reviewer)
    assert not first.item.is_gold  # nothing worked on yet: no gold due
    answer_all(campaign, reviewer, honest)
    kinds = Counter(Assignment.objects.filter(campaign=campaign, reviewer=reviewer, item__is_gold=True)
                    .values_list("item__kind", flat=True))
    assert set(kinds) == {"rating", "pairwise"}


def test_pairwise_gold_sides_are_randomised_and_scored_in_item_terms(mixed, make_user):
    _, campaign = mixed
    random.seed(3)
    swapped = []
    for _ in range(4):
        for answer in answer_all(campaign, make_user("reviewer"), honest):
            if answer.item.is_gold and answer.item.kind == "pairwise":
                assignment = answer.assignment
                swapped.append(assignment.swapped)
                assert answer.winner == "a"  # the intact one, whichever side it was shown on
                broken = "left" if assignment.swapped else "right"
                assert assignment_image_png(assignment=assignment, side=broken) != \
                    assignment_image_png(assignment=assignment, side="right" if broken == "left" else "left")
    assert True in swapped
    assert False in swapped


def test_gold_correct_scores_every_kind(mixed, make_user):
    _, campaign = mixed
    careful, careless = make_user("reviewer"), make_user("reviewer")
    answer_all(campaign, careful, honest)
    answer_all(campaign, careless, gold_wrong)
    rows = {r["reviewer"]: r for r in reviewer_quality(campaign)}
    good, bad = rows[reviewer_pseudonym(careful.pk)], rows[reviewer_pseudonym(careless.pk)]
    for kind in KINDS:
        assert good["by_kind"][kind]["gold_answered"] >= 1
        assert good["by_kind"][kind]["gold_accuracy"] == 1.0, kind
        assert bad["by_kind"][kind]["gold_accuracy"] == 0.0, kind
        assert bad[f"reliability_{kind}"] < good[f"reliability_{kind}"]
    assert good["gold_answered"] == sum(good["by_kind"][k]["gold_answered"] for k in KINDS)
    item = {"item__is_gold": True, "item__gold_answer": {"answer": "studio"}}
    assert gold_correct("blind", {**item, "answer": "studio"}) is True
    assert gold_correct("blind", {**item, "answer": "ai"}) is False
    assert gold_correct("blind", {"item__is_gold": False, "item__gold_answer": {}, "answer": "ai"}) is None
    with pytest.raises(ValueError, match="unknown task kind"):
        gold_correct("essay", item)
