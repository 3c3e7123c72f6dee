"""The promotion gate's comparison page in Chromium: an auditor sees the candidate beside the active
version person by person (images load), the gate table with intervals, the decision and its reasons."""

from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import expect

from tests.factories.browser import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _decision():
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from generation.models import GeneratorVersion
    from hfplatform.imaging import encode_image
    from monitoring.models import PromotionDecision

    active = GeneratorVersion.objects.create(name="v-live", files_dir="/nonexistent", status="active")
    candidate = GeneratorVersion.objects.create(name="v-next", files_dir="/nonexistent", parent=active)

    def png(name: str, level: int) -> str:
        image = np.full((64, 64, 3), level, dtype=np.uint8)
        return default_storage.save(f"subjects/e2e/promotions/job-1/{name}.png",
                                    ContentFile(encode_image(image, "PNG")))

    judge = {"name": "judge_reward", "label": "Judge reward (rm-judge)", "kind": "judge",
             "higher_is_better": True, "baseline": 0.31, "candidate": 0.33, "difference": 0.02,
             "interval": [-0.013, 0.047], "n": 6, "tolerance": None, "tolerance_kind": "absolute",
             "unavailable": None, "note": "", "verdict": "fail"}
    kid = {"name": "kid", "label": "KID (vs held-out portraits)", "kind": "guard", "higher_is_better": False,
           "baseline": 0.05, "candidate": 0.051, "difference": 0.001, "interval": None, "n": 12,
           "tolerance": 0.1, "tolerance_kind": "relative", "unavailable": None,
           "note": "set-level over 12 images per version: point values, no interval", "verdict": "pass"}
    return PromotionDecision.objects.create(
        candidate=candidate, baseline=active, judge_name="rm-judge", judge_dataset="prefs-1",
        figures={"judge_reward": judge, "kid": kid},
        per_person=[{"subject": 7, "skin_tone": "light", "seeds": [7000], "input": png("input", 90),
                     "baseline": [png("baseline-0", 120)], "candidate": [png("candidate-0", 200)],
                     "judge": {"baseline": 0.31, "candidate": 0.33}}],
        outcome="refused", reasons=["The judge does not show an improvement: Judge reward (rm-judge) "
                                    "0.31 → 0.33 (difference +0.02 [95% -0.013, +0.047]); the lower bound "
                                    "must be above 0."],
        gate_settings={"people": 1, "candidates": 1, "seed": 0, "steps": 2, "guidance": 1.0,
                       "seed_rule": "seed + subject id × 1000 + candidate"})


def test_an_auditor_reads_the_comparison_page(page, make_user):
    decision = _decision()
    auditor = make_user("auditor")
    log_in(page, auditor.username)
    page.goto("/monitoring/")
    page.get_by_test_id("promotion-decisions").get_by_role("link", name=f"#{decision.pk}").click()
    expect(page.get_by_test_id("gate-outcome")).to_have_text("refused")
    table = page.get_by_test_id("gate-table")
    expect(table.locator("tr[data-figure=judge_reward]")).to_contain_text("0.0200 [-0.0130, 0.0470]")
    expect(table.locator("tr[data-figure=judge_reward]")).to_contain_text("fail")
    expect(table.locator("tr[data-figure=kid]")).to_contain_text("(relative)")
    expect(page.get_by_test_id("gate-reasons")).to_contain_text("the lower bound must be above 0")
    people = page.get_by_test_id("gate-people")
    expect(people).to_contain_text("7000")
    images = people.locator("img")
    expect(images).to_have_count(3)
    for index in range(3):  # every image really loads through the role-checked view
        expect(images.nth(index)).to_have_js_property("naturalWidth", 64)
