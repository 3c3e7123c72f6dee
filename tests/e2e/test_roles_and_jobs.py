"""A person in a real browser: log in by role, see the right navigation, be refused elsewhere,
and follow a job's progress bar live."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from hfplatform.jobs.models import Job, JobStatus
from tests.factories.browser import log_in
from tests.factories.consumer import Consumer
from tests.factories.jobs import write_photos

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# role: (navigation the role sees, home page cards, a page of another role it is refused, or None)
ENGINEER_NAV = ["Home", "Review", "Subjects", "Generator", "Reward", "Monitoring", "Jobs", "API docs"]
READER_CARDS = ["Open review campaigns", "Monitoring", "Jobs that need a look"]
EXPECTED = {
    "reviewer": (["Home", "Review"], ["Reviewing", "Your review work"], "/jobs/"),
    "photographer": (["Home", "Review"], ["Reviewing", "Your review work"], "/jobs/"),
    "ml_engineer": (ENGINEER_NAV, READER_CARDS, "/accounts/users/"),
    "auditor": ([*(n for n in ENGINEER_NAV if n != "Subjects"), "Audit"], READER_CARDS, "/subjects/"),
    "admin": ([*ENGINEER_NAV, "Audit", "Users", "Admin"], ["Administration", "Reviewing", "Your review work",
                                                  *READER_CARDS], None),
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_sees_its_navigation_and_is_refused_elsewhere(page, make_user, role):
    user = make_user(role)
    log_in(page, user.username)
    nav, cards, refused = EXPECTED[role]
    expect(page.locator("[data-testid=nav] a")).to_have_text(nav)
    expect(page.locator("main .grid > section > h2")).to_have_text(cards)
    expect(page.locator(".topbar .badge")).to_have_text([role])
    if refused is None:
        response = page.goto("/accounts/users/")
        assert response.status == 200
        expect(page.locator("table")).to_contain_text(user.username)
    else:
        response = page.goto(refused)
        assert response.status == 403
        expect(page.locator("h1")).to_have_text("403 · Forbidden")
        expect(page.locator("[data-testid=error-reason]")).to_contain_text("This page is for")


def test_wrong_password_shows_an_error_and_stays_logged_out(page, make_user):
    user = make_user("reviewer")
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    expect(page.locator(".form-error")).to_contain_text("Wrong username or password")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_job_page_follows_a_real_consumer_without_reloading(page, make_user, tmp_path):
    engineer = make_user("ml_engineer")
    write_photos("demo/photos", 150, size=768, fmt="PNG")
    log_in(page, engineer.username)
    page.goto("/jobs/")
    page.fill("input[name=size]", "64")
    page.click("text=Start job")
    expect(page.locator("[data-testid=job-status]")).to_have_text("queued")
    page.evaluate("window.__sameDocument = true")  # would vanish on a page reload

    consumer = Consumer(tmp_path / "consumer.log")
    try:
        expect(page.locator("[data-testid=job-status]")).to_have_text("succeeded", timeout=90_000)
    finally:
        consumer.stop()
    assert page.evaluate("window.__sameDocument") is True
    expect(page.locator("#job-progress")).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#job-log")).to_contain_text("made 150")
    expect(page.locator("#job-cancel")).to_have_count(0)
    job = Job.objects.get()
    assert job.started_by == engineer
    assert job.status == JobStatus.SUCCEEDED


def test_cancel_button_cancels_a_queued_job(page, make_user):
    engineer = make_user("ml_engineer")
    job = Job.objects.create(kind="thumbnails", title="Waiting", started_by=engineer,
                             params={"folder": "x", "size": 32})
    log_in(page, engineer.username)
    page.goto(f"/jobs/{job.pk}/")
    page.click("#job-cancel")
    expect(page.locator("[data-testid=job-status]")).to_have_text("cancelled")
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED
