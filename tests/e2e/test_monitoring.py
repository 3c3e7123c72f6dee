"""The monitoring dashboard in Chromium: trend and fairness charts drawn, values as text; an auditor
sees no "new snapshot" form."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories.browser import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _snapshot():
    from generation.models import GeneratorVersion
    from monitoring.models import MetricSnapshot, SnapshotStatus

    version = GeneratorVersion.objects.create(name="v-e2e", files_dir="/nonexistent")
    kid = {"name": "kid", "value": 0.0421, "n": 12, "extractor": "inception", "unavailable": None,
           "interval": None, "small_n": True}
    rate = {"name": "identity_verification_rate", "value": 0.75, "n": 12, "extractor": "dlib",
            "unavailable": None, "interval": [0.5, 0.92]}
    report = {"name": "identity_verified", "higher_is_better": True,
              "overall": {"value": 0.75, "n": 12, "interval": [0.5, 0.92]},
              "groups": {"light": {"value": 1.0, "n": 6, "interval": [1.0, 1.0], "small_n": False},
                         "dark": {"value": 0.5, "n": 6, "interval": [0.17, 0.83], "small_n": False}},
              "difference": 0.5, "ratio": 0.5, "worst_group": "dark", "min_n": 5, "method": "m",
              "unavailable": None}
    return MetricSnapshot.objects.create(generator_version=version, status=SnapshotStatus.DONE,
                                         figures={"kid": kid, "identity_verification_rate": rate},
                                         fairness={"skin_tone": {"identity_verified": report}})


def test_dashboard_draws_trend_and_fairness_charts(page, make_user):
    _snapshot()
    auditor = make_user("auditor")
    log_in(page, auditor.username)
    page.goto("/monitoring/")
    trend = page.get_by_test_id("trend-kid")
    expect(trend).to_be_visible()
    expect(trend.locator("rect[data-point]")).to_have_count(1)  # one version, one point
    expect(trend).to_contain_text("0.0421")
    fairness = page.get_by_test_id("fairness-skin_tone-identity_verified")
    expect(fairness).to_be_visible()
    expect(fairness).to_contain_text("0.5 [0.17–0.83]")
    expect(page.get_by_test_id("fairness")).to_contain_text("worst group: dark")
    expect(page.get_by_test_id("snapshot-form")).to_have_count(0)
