"""Every page of the site checked by axe-core (vendored, tests/e2e/vendor/) in Chromium, as the role
that uses it, at a laptop width (1366 px) and a phone width (390 px): no serious or critical WCAG 2.1
A/AA violation, nothing wider than the phone's screen, and nothing the Content-Security-Policy
blocks (no inline script runs on any page).

Django's admin and the API docs (Swagger UI, with our page and colours around it, an operation
opened) are held to the same bar.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page

from hfplatform.jobs.models import Job
from tests.factories.browser import log_in
from tests.factories.snapshots import snapshot_with_figures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VENDOR = Path(__file__).parent / "vendor"
AXE = VENDOR / "axe.min.js"
WIDTHS = {"laptop": (1366, 900), "phone": (390, 844)}
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}


def test_the_vendored_axe_is_the_one_the_note_names():
    note = (VENDOR / "README.md").read_text()
    assert hashlib.sha256(AXE.read_bytes()).hexdigest() in note


def _with_axe(page: Page) -> list[str]:
    """axe-core in every document the page loads from now on (an init script: the site's
    Content-Security-Policy refuses inline script tags, rightly), once per page; the list that
    collects what the policy blocks while the pages run."""
    if not hasattr(page, "csp_refused"):
        page.add_init_script(path=str(AXE))
        page.csp_refused = []
        page.on("console", lambda message: page.csp_refused.append(f"{page.url}: {message.text}")
                if "Content Security Policy" in message.text else None)
    return page.csp_refused


def _violations(page: Page) -> list[str]:
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    out = []
    for violation in result["violations"]:
        if violation["impact"] in BLOCKING:
            targets = [" ".join(node["target"]) for node in violation["nodes"][:4]]
            out.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return out


def _too_wide(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


WIDEST = """() => Array.from(document.querySelectorAll('main *, header *'))
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
  .filter((el) => !Array.from(el.children)
    .some((c) => c.getBoundingClientRect().right > window.innerWidth + 1))
  .slice(0, 4).map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') +
    ' (' + Math.round(el.getBoundingClientRect().right) + ' px)')"""


def _check(page: Page, paths: list[str], problems: list[str]) -> None:
    refused = _with_axe(page)
    for width_name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        for path in paths:
            response = page.goto(path)
            assert response is not None, path
            assert response.status < 500, path
            page.wait_for_load_state("networkidle")
            problems += [f"{path} @ {width_name}: {v}" for v in _violations(page)]
            if width_name == "phone" and (extra := _too_wide(page)) > 1:
                problems.append(f"{path} @ phone: {extra} px wider than the screen: {page.evaluate(WIDEST)}")
    problems += refused
    refused.clear()


@pytest.fixture
def world(review_world, make_campaign, make_user):
    world = review_world(subjects=2, per_subject=2, portraits=1)
    world.campaign = make_campaign(world, task_kinds=["rating", "pairwise", "blind"], overlap=2)
    world.job = Job.objects.create(kind="thumbnails", status="running", started_by=world.engineer,
                                   title="Make thumbnails", progress=40, message="12 of 30 images",
                                   started_at=timezone.now())
    world.snapshot = snapshot_with_figures("v-accessibility")
    from monitoring.models import PromotionDecision
    from reward.models import PreferenceDataset, RewardModelVersion

    dataset = PreferenceDataset.objects.create(name="ds-a11y", fingerprint="d" * 64, counts={"pairs": 12})
    world.reward_model = RewardModelVersion.objects.create(
        name="rm-a11y", dataset=dataset, dataset_fingerprint=dataset.fingerprint, dimension="overall",
        status="candidate", metrics={"consensus": {"value": 0.81, "interval": [0.7, 0.9]}})
    world.decision = PromotionDecision.objects.create(
        candidate=world.version, baseline=world.snapshot.generator_version, judge_name="rm-a11y",
        outcome="refused", reasons=["The judge does not improve."])
    world.comparison = _answered_comparison(world, make_user)
    return world


def _answered_comparison(world, make_user):
    """A with/without campaign (marked as the stage comparison job marks it) with a few answers, so its
    page shows people's verdict and the versions page lists it."""
    from review.comparison_verdict import STAGE_COMPARISON
    from review.services import assignment_next, campaign_create, comparison_submit

    pairs = [heads[:2] for heads in world.by_subject.values()]
    campaign = campaign_create(created_by=world.engineer, name="v: with vs without background",
                               task_kinds=["pairwise"], pairs=[[a.pk, b.pk] for a, b in pairs], gold_rate=0)
    campaign.selection = {**campaign.selection, STAGE_COMPARISON: {
        "version": world.version.name, "stage": "background", "with": ["background"], "without": [],
        "with_jobs": [a.generation_job_id for a, _ in pairs]}}
    campaign.save(update_fields=["selection"])
    for _ in range(2):
        reviewer = make_user("reviewer")
        while (assignment := assignment_next(campaign=campaign, reviewer=reviewer)) is not None:
            comparison_submit(reviewer=reviewer, assignment_id=assignment.pk, choice="left", reason="appeal")
    return campaign


def test_every_page_passes_axe_at_laptop_and_phone_width(page, make_user, world):
    problems: list[str] = []
    subject = world.subjects[0]
    campaign = world.campaign
    admin = make_user("admin")

    page.goto("/accounts/login/")
    _check(page, ["/accounts/login/"], problems)

    log_in(page, admin.username)
    _check(page, [
        "/", "/jobs/", f"/jobs/{world.job.pk}/", "/accounts/users/", "/subjects/", f"/subjects/{subject.pk}/",
        "/generator/", "/review/", "/review/campaigns/new/", f"/review/campaigns/{campaign.pk}/",
        f"/review/campaigns/{campaign.pk}/agreement/", "/reward/", "/reward/finetunes/", "/monitoring/",
        "/monitoring/compare/", "/monitoring/report/", f"/monitoring/snapshots/{world.snapshot.pk}/",
        f"/monitoring/lineage/{world.version.name}/", f"/reward/models/{world.reward_model.name}/",
        f"/monitoring/promotions/{world.decision.pk}/", f"/review/campaigns/{world.comparison.pk}/",
        "/audit/", "/jobs/?search=make+thumbnails&status=running", "/review/?search=no+such+campaign",
        "/jobs/999999/",  # the site's 404 page
    ], problems)

    page.goto(f"/review/campaigns/{world.comparison.pk}/")  # the verdict section was among the pages
    verdict = page.get_by_test_id("verdict-text").inner_text()
    assert verdict.startswith("Not enough answers yet: 4 on 2 people")
    assert page.get_by_test_id("verdict-difference").is_visible()

    page.context.clear_cookies()
    reviewer = make_user("reviewer")
    log_in(page, reviewer.username)
    _check(page, ["/", "/review/", f"/review/campaigns/{campaign.pk}/work/"], problems)

    assert not problems, "\n".join(problems)


def test_the_work_page_dialogs_pass_axe(page, make_user, world):
    world.campaign.guidelines = "## Look at the eyes\n\n* a blurred eye is a **1**"
    world.campaign.save()
    reviewer = make_user("reviewer")
    log_in(page, reviewer.username)
    _with_axe(page)
    problems: list[str] = []
    for width, height in WIDTHS.values():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"/review/campaigns/{world.campaign.pk}/work/")
        page.evaluate("localStorage.clear()")
        page.reload()
        page.get_by_test_id("guidelines").wait_for(state="visible")
        problems += [f"guidelines @ {width}: {v}" for v in _violations(page)]
        page.keyboard.press("Escape")
        page.locator("section.task:visible").wait_for()
        page.keyboard.press("z")
        page.get_by_test_id("zoom").wait_for(state="visible")
        problems += [f"zoom @ {width}: {v}" for v in _violations(page)]
        page.keyboard.press("Escape")
    assert not problems, "\n".join(problems)
    assert re.search(r"\d+ of \d+ answered", page.get_by_test_id("progress-line").inner_text())


def test_closing_a_campaign_asks_first(page, make_user, world):
    engineer = make_user("ml_engineer")
    log_in(page, engineer.username)
    page.goto(f"/review/campaigns/{world.campaign.pk}/")
    asked: list[str] = []

    def answer(dialog, accept: bool) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    page.get_by_test_id("close").click()
    page.wait_for_timeout(300)
    world.campaign.refresh_from_db()
    assert world.campaign.status == "open"  # said no: nothing changed
    page.once("dialog", lambda dialog: answer(dialog, True))
    page.get_by_test_id("close").click()
    page.wait_for_load_state("networkidle")
    world.campaign.refresh_from_db()
    assert world.campaign.status == "closed"
    assert asked == ["Close this campaign? Reviewers stop getting its items."] * 2


def test_the_api_docs_run_under_the_content_security_policy(page):
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    response = page.goto("/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.locator(".swagger-ui .info .title").wait_for()  # Swagger UI drew the schema
    assert page.locator(".opblock").count() > 50
    assert not refused, refused


def test_the_api_docs_and_the_admin_pass_axe(page, make_user, world):
    problems: list[str] = []
    _check(page, ["/api/docs/"], problems)
    page.goto("/api/docs/")
    page.locator(".opblock-summary-control").first.click()  # an operation open: its parameters and responses
    page.locator(".opblock-body").first.wait_for()
    problems += [f"/api/docs/ (an operation open): {v}" for v in _violations(page)]
    log_in(page, make_user("admin").username)
    _check(page, ["/admin/", "/admin/auth/user/", "/admin/jobs/job/",
                  f"/admin/jobs/job/{world.job.pk}/change/", "/admin/reward/generatorfinetuning/"], problems)
    assert not problems, "\n".join(problems)
