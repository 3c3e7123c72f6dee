"""The review results a snapshot reports for a version: ratings, blind detection rate, with n."""

from __future__ import annotations

import pytest

from monitoring.services import human_results
from review.services import assignment_next, blind_submit, rating_submit

pytestmark = pytest.mark.django_db


def test_ratings_and_blind_detection_per_version(review_world, make_campaign, make_user):
    world = review_world(subjects=2, per_subject=2, portraits=2)
    ratings = make_campaign(world, task_kinds=["rating"], overlap=1)
    reviewer = make_user("reviewer")
    appeal = iter([2, 4, 5, 5])
    while (held := assignment_next(campaign=ratings, reviewer=reviewer)) is not None:
        rating_submit(reviewer=reviewer, assignment_id=held.pk, professionalism=4, likeness=3,
                      appeal=next(appeal))
    blind = make_campaign(world, task_kinds=["blind"], overlap=1)
    while (held := assignment_next(campaign=blind, reviewer=reviewer)) is not None:
        blind_submit(reviewer=reviewer, assignment_id=held.pk, answer="ai", confidence=3)
    result = human_results(world.version)
    assert result["rating_professionalism"]["value"] == 4
    assert result["rating_professionalism"]["n"] == 4
    assert result["rating_appeal"]["value"] == pytest.approx(4.0)
    low, high = result["rating_appeal"]["interval"]
    assert low <= 4.0 <= high
    detection = result["blind_detection_rate"]
    assert detection["n"] == 4  # the generated headshots only; real portraits are not this version's
    assert detection["value"] == 1.0  # every one was called "ai"
    assert result["pairwise_win_rate"]["n"] == 0
    assert result["pairwise_win_rate"]["unavailable"].startswith("unavailable:")
