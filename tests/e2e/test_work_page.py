"""The work page's helpers, keyboard only in Chromium: guidelines on the first visit and on "?",
the progress line, skip, undo of the last answer (its answer back on the page), zoom, the comment key,
messages that clear, hints that follow the kind of item in a mixed campaign, and "how you compare"
at the end."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from review.models import Assignment, Rating, Skip
from review.services import campaign_update
from tests.factories.browser import log_in, press, task_shown

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_guidelines_skip_undo_zoom_by_keyboard(page, make_user, review_world, make_campaign):
    world = review_world(subjects=1, per_subject=3, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1, gold_rate=0.0)
    campaign_update(campaign=campaign, guidelines="## Look at the eyes\n\nA *blurred* eye is a **1**.\n\n"
                                                  "<script>window.__pwned = 1</script>",
                    scale_anchors={"1": "not usable", "5": "print it"})
    reviewer = make_user("reviewer")
    log_in(page, reviewer.username)
    page.goto(f"/review/campaigns/{campaign.pk}/work/")

    # The guidelines open by themselves on the first visit, rendered from Markdown, no raw HTML.
    guidelines = page.get_by_test_id("guidelines")
    expect(guidelines).to_be_visible()
    expect(guidelines.get_by_role("heading", name="Look at the eyes")).to_be_visible()
    expect(guidelines.locator("em")).to_have_text("blurred")
    expect(guidelines).to_contain_text("<script>window.__pwned = 1</script>")  # shown as text
    assert page.evaluate("window.__pwned") is None
    press(page, "Escape")
    expect(guidelines).to_be_hidden()
    first = task_shown(page, "rating")
    expect(page.get_by_test_id("scale-anchors")).to_contain_text("1 = not usable")
    expect(page.get_by_test_id("scale-anchors")).to_contain_text("5 = print it")
    expect(page.get_by_test_id("progress-line")).to_have_text(re.compile(r"^0 of 3 answered · .* left$"))
    expect(page.get_by_test_id("keys-rating")).to_be_in_viewport()  # the hints sit above the fold

    # "?" brings them back; a second visit does not open them by itself.
    press(page, "?")
    expect(guidelines).to_be_visible()
    press(page, "Escape")
    expect(guidelines).to_be_hidden()

    # Zoom: Z shows both images large; Z or Esc closes.
    press(page, "z")
    zoom = page.get_by_test_id("zoom")
    expect(zoom).to_be_visible()
    expect(zoom.locator("img")).to_have_count(2)
    box = zoom.locator("img").first.bounding_box()
    assert box["width"] >= 400
    press(page, "z")
    expect(zoom).to_be_hidden()

    # Skip: the item goes back to the pool, recorded; the next one loads.
    press(page, "x")
    second = task_shown(page, "rating", after=first)
    expect(page.get_by_test_id("progress-line")).to_contain_text("1 skipped")
    assert Assignment.objects.get(pk=int(first)).reviewer_id is None  # back in the pool
    assert Skip.objects.get(reviewer=reviewer).item_id == Assignment.objects.get(pk=int(first)).item_id

    # A message clears as soon as the answer is being given.
    press(page, "Enter")
    expect(page.locator("#review-error")).to_contain_text("missing")
    press(page, "4")
    expect(page.locator("#review-error")).to_be_hidden()

    # P/L/A pick the scale; N writes the comment; Esc back to the scales.
    press(page, "a", "2", "l", "5", "y")
    press(page, "n")
    expect(page.locator("#rating-comment")).to_be_focused()
    page.keyboard.type("left eye drifts")
    press(page, "Escape", "Enter")
    third = task_shown(page, "rating", after=second)
    rating = Rating.objects.get(reviewer=reviewer)
    assert (rating.professionalism, rating.likeness, rating.appeal) == (4, 5, 2)
    assert (rating.flags, rating.comment) == (["asymmetry"], "left eye drifts")
    expect(page.get_by_test_id("progress-line")).to_have_text(re.compile(r"^1 of 2 answered"))

    # Undo: the answer is taken back and shown again to change it.
    expect(page.get_by_test_id("undo")).to_be_visible()
    press(page, "u")
    task_shown(page, "rating", after=third)
    assert page.get_by_test_id("task-rating").get_attribute("data-assignment") == second
    expect(page.locator("#review-notice")).to_contain_text("taken back")
    expect(page.locator("[data-testid=scale-likeness] button[aria-checked=true]")).to_have_text("5")
    expect(page.locator("#rating-comment")).to_have_value("left eye drifts")
    assert not Rating.objects.filter(reviewer=reviewer).exists()
    press(page, "l", "3", "Enter")  # likeness 3 this time
    task_shown(page, "rating", after=second)
    assert Rating.objects.get(reviewer=reviewer).likeness == 3
    press(page, "3", "3", "3", "Enter")

    # The end: how this reviewer compares (own figures; too few others for a median).
    expect(page.get_by_test_id("no-work")).to_be_visible()
    standing = page.get_by_test_id("standing")
    expect(standing).to_be_visible()
    expect(standing).to_contain_text("too few reviewers yet")
    assert Rating.objects.filter(reviewer=reviewer).count() == 2

    page.reload()
    expect(page.get_by_test_id("no-work")).to_be_visible()
    expect(guidelines).to_be_hidden()  # seen once in this browser


def test_hints_follow_the_kind_of_item(page, make_user, review_world, make_campaign):
    world = review_world(subjects=1, per_subject=2, portraits=1)
    campaign = make_campaign(world, task_kinds=["rating", "pairwise", "blind"], overlap=1, gold_rate=0.0)
    reviewer = make_user("reviewer")
    log_in(page, reviewer.username)
    page.goto(f"/review/campaigns/{campaign.pk}/work/")
    seen = set()
    for _ in range(8):
        expect(page.locator("section.task:visible, [data-testid=no-work]:visible")).to_have_count(1)
        if page.get_by_test_id("no-work").is_visible():
            break
        section = page.locator("section.task:visible")
        kind = section.get_attribute("data-testid").removeprefix("task-")
        seen.add(kind)
        hints = page.get_by_test_id(f"keys-{kind}")
        expect(hints).to_be_visible()
        expect(hints).to_be_in_viewport()
        for other in {"rating", "pairwise", "blind"} - {kind}:
            expect(page.get_by_test_id(f"keys-{other}")).to_be_hidden()
        expect(section.locator("h2.question")).to_be_visible()
        before = section.get_attribute("data-assignment")
        press(page, "x")  # skip through the campaign
        expect(page.locator(f"[data-assignment='{before}']:visible")).to_have_count(0)
    assert {"rating", "pairwise", "blind"} <= seen
