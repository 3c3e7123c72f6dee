"""The reviewer's progress handed out with each item is read in the same statement as their counts,
before the claim, and moved by what the claim did: it must equal a fresh count after it, item by item,
for a regular slot, a gold item, a lease they already hold and the end of the work."""

from __future__ import annotations

import pytest

from review.selectors import reviewer_progress
from review.services import assignment_next_with_progress, rating_submit

pytestmark = pytest.mark.django_db


def test_the_progress_handed_with_each_item_equals_a_fresh_count(review_world, make_campaign, make_user):
    world = review_world(subjects=3, per_subject=3, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=2, gold_rate=0.3)
    reviewer = make_user("reviewer")
    kinds = set()
    answered = 0
    for _ in range(30):
        assignment, progress = assignment_next_with_progress(campaign=campaign, reviewer=reviewer)
        assert progress == reviewer_progress(campaign=campaign, reviewer=reviewer)
        if assignment is None:
            assert progress["remaining"] == 0
            break
        kinds.add(assignment.item.is_gold)
        # Asking again while holding it hands back the same item and the same progress.
        again, unchanged = assignment_next_with_progress(campaign=campaign, reviewer=reviewer)
        assert again.pk == assignment.pk
        assert unchanged == progress
        rating_submit(reviewer=reviewer, assignment_id=assignment.pk, professionalism=4, likeness=4, appeal=4)
        answered += 1
    else:
        pytest.fail("the reviewer never ran out of work")
    assert kinds == {True, False}  # gold items and regular ones were handed out
    assert progress["done"] == answered > 9  # every regular item once, and the gold ones


def test_the_time_left_is_the_median_time_per_item_times_the_items_left(review_world, make_campaign,
                                                                        make_user):
    from datetime import timedelta

    from review.models import Assignment

    world = review_world(subjects=3, per_subject=3, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1)
    reviewer = make_user("reviewer")
    for seconds in (30, 50, 400):  # lease to answer; the median is 50 s
        assignment, _ = assignment_next_with_progress(campaign=campaign, reviewer=reviewer)
        rating_submit(reviewer=reviewer, assignment_id=assignment.pk, professionalism=3, likeness=3, appeal=3)
        answered = Assignment.objects.get(pk=assignment.pk)
        Assignment.objects.filter(pk=assignment.pk).update(
            submitted_at=answered.leased_at + timedelta(seconds=seconds))
    progress = reviewer_progress(campaign=campaign, reviewer=reviewer)
    assert (progress["done"], progress["remaining"]) == (3, 6)
    assert progress["minutes_left"] == round(6 * 50 / 60, 1)
