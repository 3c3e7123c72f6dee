"""The monitoring dashboard as an auditor sees it: empty states (no axes) before any snapshot; charts on
axes fitted to each metric, with round ticks and units, once there is one."""

from __future__ import annotations

import re

import pytest

from hfplatform.accounts.roles import Role
from monitoring.models import MetricSnapshot, SnapshotStatus
from tests.factories.snapshots import snapshot_with_figures

pytestmark = pytest.mark.django_db


def _chart(page: str, testid: str) -> str:
    match = re.search(rf'<svg [^>]*data-testid="{testid}".*?</svg>', page, re.S)
    assert match, f"no chart {testid}"
    return match.group(0)


def _ticks(svg: str) -> list[str]:
    return re.findall(r'data-tick="[^"]*">([^<]*)<', svg)


@pytest.fixture
def one_snapshot():
    return snapshot_with_figures()


def test_without_a_snapshot_the_dashboard_shows_empty_states_not_axes(client_for):
    page = client_for(Role.AUDITOR).get("/monitoring/").content.decode()
    assert "<svg" not in page  # no empty axes (0–1.05, ticks at 0.2625) for any metric
    assert "0.2625" not in page
    for section in ("trends-empty", "fairness-empty", "alerts-empty"):
        assert f'data-testid="{section}"' in page
    assert "No finished snapshot yet" in page
    assert "No fairness report yet" in page
    assert "No alert evaluated yet" in page
    assert "POST /api/monitoring/snapshots/" in page
    assert 'An ML engineer starts one from the "New snapshot" form' in page  # auditors have no form
    assert 'href="#snapshot-form"' not in page


def test_an_engineer_is_pointed_at_the_form_and_at_a_running_snapshot(client_for):
    from generation.models import GeneratorVersion

    version = GeneratorVersion.objects.create(name="v-wait", files_dir="/nonexistent")
    running = MetricSnapshot.objects.create(generator_version=version, status=SnapshotStatus.PENDING)
    page = client_for(Role.ML_ENGINEER).get("/monitoring/").content.decode()
    assert "<svg" not in page
    assert 'href="#snapshot-form"' in page
    assert 'id="snapshot-form"' in page  # the link's target exists
    assert f'href="/monitoring/snapshots/{running.pk}/">#{running.pk}</a> of v-wait is still running' in page


def test_with_one_snapshot_the_charts_have_units_and_round_axes(client_for, one_snapshot):
    page = client_for(Role.AUDITOR).get("/monitoring/").content.decode()
    for section in ("trends-empty", "fairness-empty", "alerts-empty"):
        assert f'data-testid="{section}"' not in page
    assert "0.2625" not in page
    fid = _chart(page, "trend-fid")
    assert _ticks(fid) == ["0", "20", "40", "60", "80", "100"]
    assert 'data-unit="1">FID (lower is better)</text>' in fid
    assert "82.4 [75.1–90.2] n=20" in fid
    kid = _chart(page, "trend-kid")
    assert _ticks(kid) == ["0", "0.01", "0.02", "0.03", "0.04"]
    assert 'data-unit="1">KID (lower is better)</text>' in kid
    rate = _chart(page, "trend-identity_verification_rate")
    assert _ticks(rate) == ["0", "0.2", "0.4", "0.6", "0.8", "1"]
    assert "share of pairs verified as the same person, 0-1" in rate
    rating = _chart(page, "trend-rating_appeal")
    assert _ticks(rating) == ["1", "2", "3", "4", "5"]
    assert "mean rating on the 1-5 scale" in rating
    for svg in re.findall(r"<svg .*?</svg>", page, re.S):  # every chart drawn names its unit
        assert 'data-unit="1">' in svg
        assert "data-tick" in svg
    # metrics without a value are listed with their reason, not drawn
    assert not re.search(r'<svg [^>]*data-testid="trend-lpips_likeness"', page)
    assert 'data-testid="trend-lpips_likeness-empty"' in page
    assert "unavailable: LPIPS weights missing" in page
    assert 'data-testid="trend-reward_score-empty"' in page
    assert "Measured when a snapshot names a reward model." in page
    assert 'data-testid="trend-rating_likeness-empty"' in page
    assert 'href="/review/"' in page
    # fairness: a chart for the measured metric, the reason for the unmeasured one
    verified = _chart(page, "fairness-skin_tone-identity_verified")
    assert _ticks(verified) == ["0", "0.2", "0.4", "0.6", "0.8", "1"]
    assert "0.45 [0.25–0.65]" in verified
    assert 'data-testid="fairness-skin_tone-identity_distance"' not in page
    assert "unavailable: no face found in any pair" in page
    assert "No alert fired." in page


def test_the_snapshot_page_shows_the_studio_stages_figures(client_for, one_snapshot):
    page = client_for("auditor").get(f"/monitoring/snapshots/{one_snapshot.pk}/").content.decode()
    studio = page.split('data-testid="snapshot-studio"')[1].split("</section>")[0]
    assert "super_resolution, lighting, colour" in studio
    staged = "<td>after the stages</td><td>82% [68%, 91%] (33/40)</td><td>0.550 [0.530, 0.570]</td>"
    assert staged in studio
    dark = "<td>dark</td><td>8</td><td>1.20 [0.80, 1.60]</td><td>2.40</td><td>88% [53%, 98%] (7/8)</td>"
    assert dark in studio
    assert "no landmarks in the frame" in studio
    one_snapshot.studio = {}
    one_snapshot.save(update_fields=["studio"])
    page = client_for("auditor").get(f"/monitoring/snapshots/{one_snapshot.pk}/").content.decode()
    assert 'data-testid="snapshot-studio"' not in page  # not measured: no section
