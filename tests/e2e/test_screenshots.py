"""Screenshots of the pages people work in, taken by the test run: the work page (laptop and phone
width, and its guidelines) and the monitoring dashboard (empty and with a snapshot). Each is checked
to be a real, non-blank picture of the page; with ``SCREENSHOTS_DIR`` set (``make screenshots``:
docs/images/screens/) they are also kept there for the docs."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.factories.browser import log_in
from tests.factories.snapshots import snapshot_with_figures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _shot(page: Page, name: str, tmp_path: Path) -> Image.Image:
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    png = page.screenshot(path=str(folder / f"{name}.png"), full_page=False)
    image = Image.open(io.BytesIO(png)).convert("L")
    pixels = np.asarray(image, np.float64)
    assert pixels.std() > 20, f"{name} looks blank"  # text, images and cards, not an empty page
    return image


def test_screens_of_the_work_page_and_the_dashboard(page, make_user, review_world, make_campaign, tmp_path):
    world = review_world(subjects=2, per_subject=2, portraits=1)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1, gold_rate=0.0)
    campaign.guidelines = ("## What to look for\n\n* **Likeness**: would their colleagues recognise them?\n"
                           "* **Artefacts**: eyes, teeth and hair edges; flag what you see.\n"
                           "* Skip what you cannot judge (X).")
    campaign.save()
    reviewer = make_user("reviewer")
    log_in(page, reviewer.username)

    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"/review/campaigns/{campaign.pk}/work/")
    expect(page.get_by_test_id("guidelines")).to_be_visible()
    assert _shot(page, "work-guidelines", tmp_path).size == (1366, 900)
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("task-rating")).to_have_attribute("data-assignment", re.compile(r"^\d+$"))
    page.keyboard.press("4")
    page.keyboard.press("5")
    page.keyboard.press("e")
    _shot(page, "work-rating", tmp_path)
    page.set_viewport_size({"width": 390, "height": 844})
    assert _shot(page, "work-rating-phone", tmp_path).size == (390, 844)

    page.context.clear_cookies()
    auditor = make_user("auditor")
    log_in(page, auditor.username)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto("/monitoring/")
    expect(page.locator("main")).to_contain_text("No finished snapshot yet")
    _shot(page, "dashboard-empty", tmp_path)
    snapshot_with_figures("v-screens")
    page.goto("/monitoring/")
    expect(page.locator("main svg").first).to_be_visible()
    _shot(page, "dashboard", tmp_path)
