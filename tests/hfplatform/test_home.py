"""The home page's next actions per role: a reviewer's open work, engineers' and auditors' open
campaigns, the newest snapshot with its alerts, and the jobs that need a look."""

from __future__ import annotations

import pytest

from hfplatform.jobs.models import Job
from monitoring.models import MetricSnapshot, SnapshotStatus

pytestmark = pytest.mark.django_db


def _card(page: str, testid: str) -> str:
    return page.split(f'data-testid="{testid}"')[1].split("</section>")[0]


def test_a_reviewer_sees_the_campaigns_with_work_left_for_them(review_world, make_campaign, make_user,
                                                                client_for):
    world = review_world(subjects=1, per_subject=2, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1, gold_rate=0.0)
    client = client_for("reviewer")
    page = client.get("/").content.decode()
    work = _card(page, "home-review-work")
    assert f'href="/review/campaigns/{campaign.pk}/work/"' in work
    assert "2 left for you" in work
    assert 'data-testid="home-campaigns"' not in page
    assert 'data-testid="home-jobs"' not in page


def test_readers_see_campaigns_the_newest_snapshot_and_failed_jobs(review_world, make_campaign, client_for):
    world = review_world(subjects=1, per_subject=2, portraits=0)
    campaign = make_campaign(world, task_kinds=["rating"], overlap=2, gold_rate=0.0)
    snapshot = MetricSnapshot.objects.create(
        generator_version=world.version, status=SnapshotStatus.DONE,
        alerts=[{"rule": "fid", "message": "FID rose by 12 against the parent", "value": 94,
                 "threshold": 10}])
    failed = Job.objects.create(kind="thumbnails", status="failed", title="Make thumbnails",
                                error="No folder 'x' in the media library.")
    Job.objects.create(kind="thumbnails", status="succeeded", title="Old success")
    page = client_for("auditor").get("/").content.decode()
    assert f'href="/review/campaigns/{campaign.pk}/"' in _card(page, "home-campaigns")
    assert "0 of 4 answers" in _card(page, "home-campaigns")
    monitoring = _card(page, "home-monitoring")
    assert f'href="/monitoring/snapshots/{snapshot.pk}/"' in monitoring
    assert "1 alert" in monitoring
    assert "FID rose by 12 against the parent" in monitoring
    jobs = _card(page, "home-jobs").split("Latest")[0]
    assert f'href="/jobs/{failed.pk}/"' in jobs
    assert "No folder" in jobs
    assert "Old success" not in jobs


def test_without_anything_the_cards_say_so(client_for):
    page = client_for("ml_engineer").get("/").content.decode()
    assert "No open campaign." in _card(page, "home-campaigns")
    assert "No finished snapshot yet" in _card(page, "home-monitoring")
    assert "Nothing failed in the last week" in _card(page, "home-jobs")
