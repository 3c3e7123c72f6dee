"""A reviewer works through campaigns in Chromium with the keyboard only: three ratings (scores,
arrows between scales, flags by letter), a pairwise choice and blind judgements, each next item
loading in place; a photographer's expert note is stored; a reviewer is refused the agreement
page; an exhausted campaign says so."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from review.models import Assignment, BlindJudgement, Comparison, Rating
from review.services import assignment_next, rating_submit
from tests.factories.browser import log_in, press, task_shown

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _open_work(page: Page, campaign) -> None:
    """Open the work page and leave a marker in the document that a page reload would wipe."""
    page.goto(f"/review/campaigns/{campaign.pk}/work/")
    page.evaluate("window.__marker = 'same document'")


def _same_document(page: Page) -> None:
    assert page.evaluate("window.__marker") == "same document"


def _expect_scores(page: Page, **scores: int | None) -> None:
    for dimension, value in scores.items():
        checked = page.locator(f"[data-testid=scale-{dimension}] button[aria-checked=true]")
        if value is None:
            expect(checked).to_have_count(0)
        else:
            expect(checked).to_have_text(str(value))


def _focused_scale(page: Page, dimension: str) -> None:
    scale = page.get_by_test_id(f"scale-{dimension}")
    expect(scale).to_be_focused()
    expect(page.locator("#scales .scale.focused")).to_have_attribute("data-dimension", dimension)


def _flag(page: Page, value: str):
    return page.locator(f"input[name=flag][value={value}]")


def test_reviewer_rates_compares_and_judges_by_keyboard(page, make_user, review_world, make_campaign):
    world = review_world(subjects=1, per_subject=3, portraits=1)
    heads = world.headshots
    rating = make_campaign(world, task_kinds=["rating"], overlap=1)
    pairwise = make_campaign(world, task_kinds=["pairwise"], overlap=1, pairs=[[heads[0].pk, heads[1].pk]])
    blind = make_campaign(world, task_kinds=["blind"], overlap=1, headshot_ids=[heads[2].pk])
    reviewer = make_user("reviewer")
    log_in(page, reviewer.username)

    # --- Three ratings, keyboard only ---------------------------------------------------------
    _open_work(page, rating)
    first = task_shown(page, "rating")
    expect(page.get_by_test_id("expert-note")).to_be_hidden()  # photographers only
    expect(page.get_by_test_id("done-count")).to_have_text("0")
    _focused_scale(page, "professionalism")
    press(page, "4")
    _focused_scale(page, "likeness")
    press(page, "3")
    _focused_scale(page, "appeal")
    press(page, "ArrowUp")
    _focused_scale(page, "likeness")
    press(page, "5", "2")  # likeness 5, appeal 2
    _expect_scores(page, professionalism=4, likeness=5, appeal=2)
    press(page, "e", "t")
    expect(_flag(page, "eyes")).to_be_checked()
    expect(_flag(page, "teeth")).to_be_checked()
    press(page, "t")  # toggled off again
    expect(_flag(page, "teeth")).not_to_be_checked()
    press(page, "Enter")

    second = task_shown(page, "rating", after=first)
    _same_document(page)
    expect(page.get_by_test_id("done-count")).to_have_text("1")
    _expect_scores(page, professionalism=None, likeness=None, appeal=None)  # a fresh form
    expect(page.locator("input[name=flag]:checked")).to_have_count(0)
    _focused_scale(page, "professionalism")
    press(page, "ArrowDown", "ArrowDown")
    _focused_scale(page, "appeal")
    press(page, "ArrowDown")  # stays on the last scale
    _focused_scale(page, "appeal")
    press(page, "1")
    _focused_scale(page, "appeal")
    press(page, "ArrowUp", "ArrowUp", "ArrowUp")  # stops at the first scale
    _focused_scale(page, "professionalism")
    press(page, "5", "5", "h", "B")  # a shifted letter toggles its flag too
    _expect_scores(page, professionalism=5, likeness=5, appeal=1)
    expect(_flag(page, "hair")).to_be_checked()
    expect(_flag(page, "background")).to_be_checked()
    press(page, "Enter")

    third = task_shown(page, "rating", after=second)
    _same_document(page)
    expect(page.get_by_test_id("done-count")).to_have_text("2")
    press(page, "2", "ArrowLeft")  # professionalism 2, then back to it
    _focused_scale(page, "professionalism")
    press(page, "3", "ArrowRight")  # professionalism 3, focus to likeness, then appeal
    _focused_scale(page, "appeal")
    press(page, "Enter")  # likeness and appeal are missing: refused on the page, nothing sent
    expect(page.locator("#review-error")).to_contain_text("likeness is missing")
    assert page.get_by_test_id("task-rating").get_attribute("data-assignment") == third
    press(page, "4", "ArrowLeft", "1")
    _expect_scores(page, professionalism=3, likeness=1, appeal=4)
    press(page, "Enter")

    expect(page.get_by_test_id("no-work")).to_be_visible()  # three headshots, all rated
    expect(page.get_by_test_id("task-rating")).to_be_hidden()
    expect(page.locator("#review-error")).to_be_hidden()
    expect(page.get_by_test_id("done-count")).to_have_text("3")
    _same_document(page)

    ratings = list(Rating.objects.filter(reviewer=reviewer).order_by("id"))
    assert [r.assignment_id for r in ratings] == [int(first), int(second), int(third)]
    assert [(r.professionalism, r.likeness, r.appeal, r.flags) for r in ratings] == [
        (4, 5, 2, ["eyes"]), (5, 5, 1, ["background", "hair"]), (3, 1, 4, [])]
    assert {r.headshot_id for r in ratings} == {h.pk for h in heads}
    assert all(r.campaign_id == rating.pk and r.time_spent_ms > 0 for r in ratings)
    assert all(r.reviewer_role == "reviewer" and r.expert_note == "" and r.comment == "" for r in ratings)

    # --- One pairwise choice -----------------------------------------------------------------
    _open_work(page, pairwise)
    pair = task_shown(page, "pairwise")
    press(page, "ArrowLeft")
    expect(page.get_by_test_id("pair-choice")).to_have_text("Left")
    press(page, "ArrowDown")
    expect(page.get_by_test_id("pair-choice")).to_have_text("Can't tell")
    press(page, "ArrowRight", "l")
    expect(page.get_by_test_id("pair-choice")).to_have_text("Right")
    expect(page.locator("input[name=reason][value=likeness]")).to_be_checked()
    press(page, "p")  # the reason is one of three: professional replaces likeness
    expect(page.locator("input[name=reason][value=professional]")).to_be_checked()
    expect(page.locator("input[name=reason]:checked")).to_have_count(1)
    press(page, "Enter")
    expect(page.get_by_test_id("no-work")).to_be_visible()
    expect(page.get_by_test_id("task-pairwise")).to_be_hidden()
    _same_document(page)

    comparison = Comparison.objects.get(reviewer=reviewer)
    assignment = Assignment.objects.get(pk=int(pair))
    left, right = (heads[1].pk, heads[0].pk) if assignment.swapped else (heads[0].pk, heads[1].pk)
    assert (comparison.assignment_id, comparison.campaign_id) == (int(pair), pairwise.pk)
    assert (comparison.left_id, comparison.right_id, comparison.choice) == (left, right, "right")
    assert comparison.winner == ("a" if assignment.swapped else "b")
    assert comparison.reason == "professional"
    assert comparison.time_spent_ms > 0

    # --- Blind test: the generated headshot and a real portrait, in the campaign's order -------
    _open_work(page, blind)
    one = task_shown(page, "blind")
    press(page, "ArrowLeft", "2", "4")  # AI; confidence 2, then 4
    expect(page.get_by_test_id("blind-answer")).to_have_text("AI-generated")
    expect(page.locator("[data-testid=blind-confidence] button[aria-checked=true]")).to_have_text("4")
    press(page, "Enter")
    two = task_shown(page, "blind", after=one)
    _same_document(page)
    expect(page.get_by_test_id("blind-answer")).to_have_text("—")
    press(page, "Enter")  # no answer yet: refused on the page
    expect(page.locator("#review-error")).to_contain_text("AI or studio")
    press(page, "ArrowLeft", "ArrowRight", "1")  # changed its mind: studio
    expect(page.get_by_test_id("blind-answer")).to_have_text("Studio photograph")
    press(page, "Enter")
    expect(page.get_by_test_id("no-work")).to_be_visible()
    expect(page.get_by_test_id("done-count")).to_have_text("2")
    _same_document(page)

    judgements = list(BlindJudgement.objects.filter(reviewer=reviewer).order_by("id"))
    assert [j.assignment_id for j in judgements] == [int(one), int(two)]
    assert [(j.answer, j.confidence) for j in judgements] == [("ai", 4), ("studio", 1)]
    truth = [Assignment.objects.get(pk=j.assignment_id).item.portrait_id is None for j in judgements]
    assert sorted(truth) == [False, True]  # one generated headshot, one real portrait
    assert [j.is_generated for j in judgements] == truth
    assert [j.correct for j in judgements] == [truth[0], not truth[1]]
    assert all(j.time_spent_ms > 0 and j.campaign_id == blind.pk for j in judgements)

    # Exactly these answers, and no other rows for this reviewer.
    assert Rating.objects.filter(reviewer=reviewer).count() == 3
    assert Comparison.objects.filter(reviewer=reviewer).count() == 1
    assert BlindJudgement.objects.filter(reviewer=reviewer).count() == 2


def test_photographer_adds_an_expert_note(page, make_user, review_world, make_campaign):
    world = review_world(subjects=1, per_subject=1, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1)
    photographer = make_user("photographer")
    log_in(page, photographer.username)
    _open_work(page, campaign)
    shown = task_shown(page, "rating")
    note = page.get_by_test_id("expert-note")
    expect(note).to_be_visible()
    press(page, "3", "4")
    note.click()
    # In the text box keys type: letters that are flags and digits that are scores change nothing.
    page.keyboard.type("Harsh shadow at 45 degrees")
    press(page, "Enter")  # a new line, not a submission
    page.keyboard.type("retouch the teeth")
    expect(note).to_have_value("Harsh shadow at 45 degrees\nretouch the teeth")
    expect(page.locator("input[name=flag]:checked")).to_have_count(0)
    _expect_scores(page, professionalism=3, likeness=4, appeal=None)
    press(page, "Escape")  # back to the scales, where keys score again
    _focused_scale(page, "appeal")
    press(page, "5", "s")
    expect(_flag(page, "skin")).to_be_checked()
    note.click()
    press(page, "Control+Enter")  # submits from the text box
    expect(page.get_by_test_id("no-work")).to_be_visible()
    _same_document(page)

    rating = Rating.objects.get(reviewer=photographer)
    assert rating.assignment_id == int(shown)
    assert rating.expert_note == "Harsh shadow at 45 degrees\nretouch the teeth"
    assert rating.reviewer_role == "photographer"
    assert (rating.professionalism, rating.likeness, rating.appeal, rating.flags) == (3, 4, 5, ["skin"])
    assert rating.time_spent_ms > 0


def test_answer_survives_a_lapsed_lease_but_not_a_lost_slot(page, make_user, review_world, make_campaign):
    world = review_world(subjects=1, per_subject=2, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1)
    reviewer, other = make_user("reviewer"), make_user("reviewer")
    log_in(page, reviewer.username)
    _open_work(page, campaign)
    first = task_shown(page, "rating")
    press(page, "2", "3", "4", "c")
    past = timezone.now() - timedelta(seconds=1)
    Assignment.objects.filter(pk=first).update(lease_expires_at=past)
    press(page, "Enter")  # refused (lease ran out); the slot is renewed and the answer kept
    expect(page.locator("#review-error")).to_contain_text("still yours")
    expect(page.get_by_test_id("task-rating")).to_be_visible()
    assert page.get_by_test_id("task-rating").get_attribute("data-assignment") == first
    _expect_scores(page, professionalism=2, likeness=3, appeal=4)
    expect(_flag(page, "colour")).to_be_checked()
    assert not Rating.objects.exists()
    press(page, "Enter")
    second = task_shown(page, "rating", after=first)
    expect(page.locator("#review-error")).to_be_hidden()
    rating = Rating.objects.get(reviewer=reviewer)
    assert (rating.assignment_id, rating.professionalism, rating.likeness, rating.appeal, rating.flags) == (
        int(first), 2, 3, 4, ["colour"])

    press(page, "5", "5", "5")
    # Meanwhile the lease ran out and another reviewer took the slot.
    Assignment.objects.filter(pk=second).update(reviewer=other, lease_expires_at=timezone.now()
                                                + timedelta(minutes=10))
    press(page, "Enter")
    expect(page.get_by_test_id("no-work")).to_be_visible()
    expect(page.locator("#review-error")).to_contain_text("not yours")
    expect(page.locator("#review-error")).to_contain_text("was not stored")
    _same_document(page)
    assert Rating.objects.filter(reviewer=reviewer).count() == 1
    assert not Rating.objects.filter(assignment_id=int(second)).exists()


def test_reviewer_cannot_open_the_agreement_page(page, make_user, review_world, make_campaign):
    campaign = make_campaign(review_world(subjects=1, per_subject=1, portraits=0), task_kinds=["rating"])
    reviewer = make_user("reviewer")
    log_in(page, reviewer.username)
    response = page.goto(f"/review/campaigns/{campaign.pk}/agreement/")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("403 · Forbidden")
    expect(page.get_by_test_id("error-reason")).to_contain_text("This page is for")


def test_no_work_left_says_so(page, make_user, review_world, make_campaign):
    world = review_world(subjects=1, per_subject=1, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1)
    other = make_user("reviewer")
    taken = assignment_next(campaign=campaign, reviewer=other)
    rating_submit(reviewer=other, assignment_id=taken.pk, professionalism=3, likeness=3, appeal=3)
    reviewer = make_user("reviewer")
    log_in(page, reviewer.username)
    _open_work(page, campaign)
    expect(page.get_by_test_id("no-work")).to_be_visible()
    expect(page.get_by_test_id("no-work")).to_contain_text("No work left for you in this campaign")
    expect(page.get_by_test_id("done-count")).to_have_text("0")
    expect(page.locator("#review-loading")).to_be_hidden()
    for kind in ("rating", "pairwise", "blind"):
        expect(page.get_by_test_id(f"task-{kind}")).to_be_hidden()
    expect(page.get_by_test_id("submit")).to_be_hidden()
    press(page, "3", "Enter")  # nothing to answer: keys do nothing
    expect(page.get_by_test_id("no-work")).to_be_visible()
    assert not Rating.objects.filter(reviewer=reviewer).exists()
    assert not Assignment.objects.filter(reviewer=reviewer).exists()


def test_the_review_page_shows_the_headshot_at_256_px_after_the_studio_stages(page, make_user, review_world,
                                                                            make_campaign):
    """A headshot as delivered (the generator's 64 px through super-resolution) reaches the reviewer
    at its own 256 px, shown at least that large."""
    from django.core.files.base import ContentFile

    from generation.ml.studio.base import FaceContext
    from generation.ml.studio.pipeline import stages_apply, stages_check
    from hfplatform.imaging import encode_image, stored_rgb

    world = review_world(subjects=1, per_subject=1, portraits=0)
    head = world.headshots[0]
    raw = stored_rgb(head.image.name)
    final, records = stages_apply(raw, FaceContext(), stages_check(["super_resolution"]))
    assert records[0]["status"] == "applied"
    head.raw_image.save("raw.png", ContentFile(encode_image(raw, "PNG")), save=False)
    head.image.save("final.png", ContentFile(encode_image(final, "PNG")), save=False)
    head.stages = records
    head.save()
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1, gold_rate=0.0)
    log_in(page, make_user("reviewer").username)
    _open_work(page, campaign)
    task_shown(page, "rating")
    image = page.locator("#rating-headshot")
    expect(image).to_have_js_property("complete", True)
    natural = page.evaluate("document.getElementById('rating-headshot').naturalWidth")
    shown = page.evaluate("document.getElementById('rating-headshot').getBoundingClientRect().width")
    assert raw.shape[0] == 64
    assert natural == 256
    assert shown >= 256
