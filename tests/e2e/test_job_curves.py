"""A training job's loss curve and held-out accuracy are drawn on its job page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hfplatform.jobs.models import Job
from tests.factories.browser import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_job_page_draws_the_loss_curve(page, make_user):
    engineer = make_user("ml_engineer")
    job = Job.objects.create(kind="reward_training", status="succeeded", progress=100, started_by=engineer,
                             title="Train reward model demo",
                             result={"loss_curve": [[10, 0.69], [20, 0.55], [30, 0.41]],
                                     "eval_curve": [[20, 0.7], [30, 0.8]]})
    log_in(page, engineer.username)
    page.goto(f"/jobs/{job.pk}/")
    chart = page.get_by_test_id("job-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("polyline")).to_have_count(1)
    expect(chart.locator("circle")).to_have_count(2)
    expect(chart).to_contain_text("loss 0.690 → 0.410 (step 30)")
    expect(chart).to_contain_text("held-out accuracy 0.8")


def test_job_without_a_curve_shows_no_chart(page, make_user):
    engineer = make_user("ml_engineer")
    job = Job.objects.create(kind="thumbnails", status="succeeded", progress=100, started_by=engineer,
                             result={"written": 3})
    log_in(page, engineer.username)
    page.goto(f"/jobs/{job.pk}/")
    expect(page.get_by_test_id("job-status")).to_have_text("succeeded")
    expect(page.get_by_test_id("job-chart")).to_be_hidden()
