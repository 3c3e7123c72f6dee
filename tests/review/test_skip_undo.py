"""Skip and undo on the work page's services and API, the reviewer's progress line and their "how you
compare" figures (own figures beside the others' median, never anyone's answers)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hfplatform.errors import ApplicationError
from review.models import Assignment, Rating, ReviewItem, Skip
from review.selectors import reviewer_progress, reviewer_standing
from review.services import (
    answer_undo,
    assignment_next,
    assignment_skip,
    campaign_create,
    campaign_update,
    comparison_submit,
    rating_submit,
)


def _rate(assignment, reviewer, score=4):
    return rating_submit(reviewer=reviewer, assignment_id=assignment.pk, professionalism=score,
                         likeness=score, appeal=score, flags=["eyes"], comment="soft chin")


def test_a_skipped_item_goes_back_to_the_pool_and_never_comes_back_to_its_skipper(
        review_world, make_campaign, make_user):
    world = review_world(subjects=2, per_subject=2, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1, gold_rate=0.0)
    alice, bob = make_user("reviewer"), make_user("reviewer")
    first = assignment_next(campaign=campaign, reviewer=alice)
    skip = assignment_skip(reviewer=alice, assignment_id=first.pk, reason="cannot see the face")
    assert (skip.item_id, skip.reviewer_id, skip.reason) == (first.item_id, alice.pk, "cannot see the face")
    first.refresh_from_db()
    assert first.reviewer_id is None
    assert first.lease_expires_at is None
    seen = []
    while (a := assignment_next(campaign=campaign, reviewer=alice)) is not None:
        seen.append(a.item_id)
        _rate(a, alice)
    assert first.item_id not in seen
    assert len(seen) == 3
    assert assignment_next(campaign=campaign, reviewer=bob).item_id == first.item_id  # someone else gets it
    with pytest.raises(ApplicationError, match="not yours"):
        assignment_skip(reviewer=alice, assignment_id=first.pk)


def test_a_skipped_gold_item_drops_its_slot(review_world, make_campaign, make_user):
    world = review_world(subjects=3, per_subject=2, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1, gold_rate=0.5)
    reviewer = make_user("reviewer")
    gold = None
    while gold is None:
        a = assignment_next(campaign=campaign, reviewer=reviewer)
        if a.item.is_gold:
            gold = a
        else:
            _rate(a, reviewer)
    assignment_skip(reviewer=reviewer, assignment_id=gold.pk)
    assert not Assignment.objects.filter(pk=gold.pk).exists()
    assert Skip.objects.filter(item=gold.item, reviewer=reviewer).exists()
    while (a := assignment_next(campaign=campaign, reviewer=reviewer)) is not None:
        assert a.item_id != gold.item_id
        _rate(a, reviewer)


def test_an_answered_item_cannot_be_skipped(review_world, make_campaign, make_user):
    world = review_world(subjects=1, per_subject=2, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1, gold_rate=0.0)
    reviewer = make_user("reviewer")
    a = assignment_next(campaign=campaign, reviewer=reviewer)
    _rate(a, reviewer)
    with pytest.raises(ApplicationError, match="undo the answer"):
        assignment_skip(reviewer=reviewer, assignment_id=a.pk)


def test_undo_takes_back_the_last_answer_and_the_item_comes_back_first(review_world, make_campaign,
                                                                      make_user):
    world = review_world(subjects=2, per_subject=2, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating", "pairwise"], overlap=1, gold_rate=0.0)
    reviewer = make_user("reviewer")
    first = assignment_next(campaign=campaign, reviewer=reviewer)
    if first.item.kind == "rating":
        _rate(first, reviewer, score=2)
    else:
        comparison_submit(reviewer=reviewer, assignment_id=first.pk, choice="right", reason="likeness")
    shown_next = assignment_next(campaign=campaign, reviewer=reviewer)  # the page moved on
    answers_before = ReviewItem.objects.get(pk=first.item_id).answers
    undone = answer_undo(reviewer=reviewer, assignment_id=first.pk)
    assert undone["assignment"] == first.pk
    assert undone["kind"] == first.item.kind
    if first.item.kind == "rating":
        assert undone["answer"] | {} == {"professionalism": 2, "likeness": 2, "appeal": 2, "flags": ["eyes"],
                                         "comment": "soft chin", "expert_note": ""}
        assert not Rating.objects.filter(assignment=first).exists()
    else:
        assert (undone["answer"]["choice"], undone["answer"]["reason"]) == ("right", "likeness")
    assert ReviewItem.objects.get(pk=first.item_id).answers == answers_before - 1
    again = assignment_next(campaign=campaign, reviewer=reviewer)
    assert again.pk == first.pk  # the undone item first, then the one that was on screen
    _rate(again, reviewer, 5) if again.item.kind == "rating" else comparison_submit(
        reviewer=reviewer, assignment_id=again.pk, choice="left")
    assert assignment_next(campaign=campaign, reviewer=reviewer).pk == shown_next.pk


def test_only_the_last_answer_within_its_lease_can_be_undone(review_world, make_campaign, make_user):
    world = review_world(subjects=2, per_subject=2, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1, gold_rate=0.0)
    reviewer, other = make_user("reviewer"), make_user("reviewer")
    a = assignment_next(campaign=campaign, reviewer=reviewer)
    _rate(a, reviewer)
    b = assignment_next(campaign=campaign, reviewer=reviewer)
    _rate(b, reviewer)
    with pytest.raises(ApplicationError, match="last answer"):
        answer_undo(reviewer=reviewer, assignment_id=a.pk)
    with pytest.raises(ApplicationError, match="not yours"):
        answer_undo(reviewer=other, assignment_id=b.pk)
    later = timezone.now() + timedelta(seconds=campaign.lease_seconds + 5)
    with pytest.raises(ApplicationError, match="run out"):
        answer_undo(reviewer=reviewer, assignment_id=b.pk, now=later)
    c = assignment_next(campaign=campaign, reviewer=reviewer)
    with pytest.raises(ApplicationError, match="no answer to undo"):
        answer_undo(reviewer=reviewer, assignment_id=c.pk)
    assert Rating.objects.filter(reviewer=reviewer).count() == 2  # nothing lost by the refusals
    campaign_update(campaign=campaign, status="closed")
    with pytest.raises(ApplicationError, match="closed"):
        answer_undo(reviewer=reviewer, assignment_id=b.pk)


def test_progress_counts_what_is_left_for_this_reviewer(review_world, make_campaign, make_user):
    world = review_world(subjects=2, per_subject=3, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=2, gold_rate=0.0)
    reviewer = make_user("reviewer")
    assert reviewer_progress(campaign=campaign, reviewer=reviewer) | {"minutes_left": 0} == {
        "done": 0, "remaining": 6, "total": 6, "skipped": 0, "minutes_left": 0}
    start = timezone.now()
    a = assignment_next(campaign=campaign, reviewer=reviewer, now=start)
    rating_submit(reviewer=reviewer, assignment_id=a.pk, professionalism=3, likeness=3, appeal=3,
                  now=start + timedelta(seconds=30))  # 30 s from lease to answer
    b = assignment_next(campaign=campaign, reviewer=reviewer)
    assignment_skip(reviewer=reviewer, assignment_id=b.pk)
    progress = reviewer_progress(campaign=campaign, reviewer=reviewer)
    assert (progress["done"], progress["remaining"], progress["total"], progress["skipped"]) == (1, 4, 5, 1)
    assert progress["minutes_left"] == 2.0  # 4 items × 30 s


def test_standing_shows_own_figures_and_the_others_only_as_a_median(review_world, make_campaign, make_user):
    world = review_world(subjects=2, per_subject=3, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=5, gold_rate=0.0)
    reviewers = [make_user("reviewer") for _ in range(4)]
    for i, reviewer in enumerate(reviewers):
        while (a := assignment_next(campaign=campaign, reviewer=reviewer)) is not None:
            score = 4 if i < 3 else 1  # the last reviewer disagrees with everyone
            rating_submit(reviewer=reviewer, assignment_id=a.pk, professionalism=score, likeness=score,
                          appeal=score, time_spent_ms=1000 * (i + 1))
    mine = reviewer_standing(campaign=campaign, reviewer=reviewers[0])
    odd = reviewer_standing(campaign=campaign, reviewer=reviewers[3])
    assert mine["you"]["answers"] == 6
    assert mine["you"]["median_seconds"] == 1.0
    assert mine["you"]["agreement"] > odd["you"]["agreement"]
    assert mine["others"]["reviewers"] == 3
    assert mine["others"]["median_seconds"] == 3.0
    assert set(mine) == {"you", "others"}
    assert "answers" not in str(mine["others"])
    few = reviewer_standing(campaign=campaign, reviewer=make_user("reviewer"))
    assert few["you"]["answers"] == 0
    assert few["others"]["reviewers"] == 4
    assert Rating.objects.count() == 24


def test_guidelines_and_anchors_are_checked_and_kept(review_world, make_user):
    world = review_world(subjects=1, per_subject=2, portraits=0)
    campaign = campaign_create(created_by=world.engineer, name="g", task_kinds=["rating"],
                               generator_version=world.version, guidelines="# Look at the eyes",
                               scale_anchors={"1": " unusable ", "5": "print it", "3": ""})
    assert campaign.guidelines == "# Look at the eyes"
    assert campaign.scale_anchors == {"1": "unusable", "5": "print it"}
    for bad in ({"6": "x"}, {"1": "x" * 41}, ["not", "a", "dict"]):
        with pytest.raises(ApplicationError) as raised:
            campaign_update(campaign=campaign, scale_anchors=bad)
        assert "scale_anchors" in raised.value.extra["fields"]
    campaign.refresh_from_db()
    assert campaign.scale_anchors == {"1": "unusable", "5": "print it"}  # nothing lost
    default = campaign_create(created_by=world.engineer, name="d", task_kinds=["rating"],
                              generator_version=world.version)
    assert default.scale_anchors["1"] == "not usable"
    assert default.scale_anchors["5"] == "studio quality"


def test_the_api_skips_undoes_and_reports_progress(api_client_for, review_world, make_campaign):
    world = review_world(subjects=2, per_subject=2, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1, gold_rate=0.0)
    client = api_client_for("reviewer")
    first = client.get(f"/api/review/next/?campaign={campaign.pk}").json()
    assert first["progress"] | {"minutes_left": 0} == {"done": 0, "remaining": 4, "total": 4, "skipped": 0,
                                                      "minutes_left": 0}
    skipped = client.post("/api/review/skips/", {"assignment": first["assignment"]["id"], "reason": "blurry"},
                          format="json")
    assert skipped.status_code == 201
    second = client.get(f"/api/review/next/?campaign={campaign.pk}").json()
    assert second["assignment"]["id"] != first["assignment"]["id"]
    assert second["progress"]["skipped"] == 1
    assert second["progress"]["total"] == 3
    body = {"assignment": second["assignment"]["id"], "professionalism": 5, "likeness": 4, "appeal": 3}
    assert client.post("/api/review/ratings/", body, format="json").status_code == 201
    undone = client.post("/api/review/undo/", {"assignment": body["assignment"]}, format="json")
    assert undone.status_code == 200
    assert undone.json()["answer"]["likeness"] == 4
    assert undone.json()["kind"] == "rating"
    again = client.post("/api/review/undo/", {"assignment": body["assignment"]}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "not_answered"
    assert client.post("/api/review/skips/", {"assignment": "x"}, format="json").status_code == 400
    other = api_client_for("reviewer").post("/api/review/skips/", {"assignment": body["assignment"]},
                                            format="json")
    assert other.status_code == 403
    assert other.json()["code"] == "not_your_assignment"


def test_the_campaign_form_takes_guidelines_and_scale_anchors(review_world, client_for):
    from review.models import Campaign

    world = review_world(subjects=1, per_subject=2, portraits=0)
    form = {"name": "With guidelines", "task_kinds": ["rating"], "generator_version": world.version.name,
            "pairing": "within_job", "overlap": "1", "allowed_roles": ["reviewer"], "gold_rate": "0",
            "lease_seconds": "600", "guidelines": "Check the **teeth**.", "anchor_1": "reshoot",
            "anchor_5": "ship it"}
    page = client_for("ml_engineer")
    response = page.post("/review/campaigns/new/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.get(name="With guidelines")
    assert campaign.guidelines == "Check the **teeth**."
    assert campaign.scale_anchors == {"1": "reshoot", "5": "ship it"}
    too_long = page.post("/review/campaigns/new/", {**form, "name": "Too long", "anchor_3": "x" * 41})
    assert too_long.status_code == 200
    assert not Campaign.objects.filter(name="Too long").exists()
    assert "at most 40 characters" in too_long.content.decode()


def test_the_campaign_page_says_where_its_headshots_come_from(review_world, make_campaign, client_for):
    world = review_world(subjects=1, per_subject=2, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1)
    page = client_for("auditor").get(f"/review/campaigns/{campaign.pk}/").content.decode()
    selection = page.split('data-testid="selection">')[1].split("</dd>")[0]
    name = world.version.name
    assert f'Generator version: <a href="/generator/#version-{name}">{name}</a>' in selection
    assert "{" not in selection  # no raw dict
    assert "1 = not usable" in page


def test_an_answer_brings_the_next_item_in_the_same_round_trip(api_client_for, review_world, make_campaign):
    world = review_world(subjects=1, per_subject=2, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1, gold_rate=0.0)
    client = api_client_for("reviewer")
    first = client.get(f"/api/review/next/?campaign={campaign.pk}").json()["assignment"]
    answer = {"assignment": first["id"], "professionalism": 4, "likeness": 4, "appeal": 4, "next": True}
    stored = client.post("/api/review/ratings/", answer, format="json")
    assert stored.status_code == 201
    following = stored.json()["next"]
    assert following["assignment"]["id"] != first["id"]
    assert following["progress"]["done"] == 1
    again = client.post("/api/review/ratings/", answer, format="json")  # the same answer again: stored once
    assert again.status_code == 200
    assert again.json()["next"]["assignment"]["id"] == following["assignment"]["id"]  # still the held one
    last = {"assignment": following["assignment"]["id"], "professionalism": 2, "likeness": 2, "appeal": 2,
            "next": True}
    done = client.post("/api/review/ratings/", last, format="json").json()["next"]
    assert done["assignment"] is None
    assert "No work left" in done["detail"]
    plain = client.post("/api/review/ratings/", {**last, "next": False}, format="json").json()
    assert "next" not in plain


def test_an_answer_with_the_next_item_costs_a_fixed_number_of_queries(
        api_client_for, review_world, make_campaign, django_assert_max_num_queries):
    world = review_world(subjects=3, per_subject=3, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=2, gold_rate=0.1)
    client = api_client_for("reviewer")
    held = client.get(f"/api/review/next/?campaign={campaign.pk}").json()["assignment"]
    for _ in range(3):  # the count does not grow with the answers already given
        answer = {"assignment": held["id"], "professionalism": 4, "likeness": 4, "appeal": 4, "next": True}
        # sign-in, the answer (lock, roles, insert, the slot and item marked answered in one statement,
        # a savepoint pair), where the reviewer stands (counts and progress in one statement), the
        # claim (with its item's kind, between a savepoint pair)
        with django_assert_max_num_queries(11):
            stored = client.post("/api/review/ratings/", answer, format="json")
        assert stored.status_code == 201
        held = stored.json()["next"]["assignment"]
        assert held is not None
