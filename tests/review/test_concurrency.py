"""20 reviewers asking at the same instant on an overlap-1 campaign of 10 items: 10 distinct items
and 10 "no work" answers, on PostgreSQL (row locks, SKIP LOCKED) and on SQLite (conditional UPDATE)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import review_concurrency
from tests.factories.review_concurrency import claim_concurrently, minimal_campaign, reviewers

ROOT = Path(__file__).resolve().parents[2]


def _check(items: list[int | None]) -> None:
    handed = [i for i in items if i is not None]
    assert len(handed) == 10, items
    assert len(set(handed)) == 10, f"an item went to two reviewers: {Counter(handed).most_common(2)}"
    assert items.count(None) == 10


@pytest.mark.django_db(transaction=True)
def test_twenty_reviewers_at_once_on_the_test_database():
    """On the suite's database (PostgreSQL in CI: ``select_for_update(skip_locked=True)``)."""
    campaign, _ = minimal_campaign(items=10)
    for _ in range(3):  # three rounds: the race must hold every time, not by luck once
        items = claim_concurrently(campaign.pk, reviewers(20))
        _check(items)
        from review.models import Assignment

        Assignment.objects.filter(campaign=campaign).update(reviewer=None, leased_at=None,
                                                            lease_expires_at=None, submitted_at=None)
    expected = "postgresql" if "postgres" in os.environ.get("DATABASE_URL", "") else "sqlite"
    assert connection.vendor == expected


def test_twenty_reviewers_at_once_on_sqlite(tmp_path):
    """A fresh interpreter on a fresh SQLite file (no row locks: the conditional UPDATE holds)."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'race.sqlite3'}", "VAR_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "hfplatform.settings", "DJANGO_PROFILE": "test", "REDIS_URL": ""}
    env.pop("REDIS_URL")
    script = [sys.executable, "-m", review_concurrency.__name__, "20", "10"]
    done = subprocess.run(script, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["vendor"] == "sqlite"
    _check(result["items"])
    assert settings.DATABASES  # the suite's own database is untouched by the subprocess
