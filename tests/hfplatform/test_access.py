"""The role access matrix: every page and endpoint, every role, including anonymous visitors."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories.access import API, PAGES, cases

# Routes covered elsewhere with their own objects (job detail/cancel) or without a role rule.
COVERED_ELSEWHERE = {
    "accounts/login/", "accounts/logout/", "api/auth/token/", "healthz/", "media/<path:path>",
    "jobs/<int:job_id>/", "api/jobs/<int:job_id>/", "api/jobs/<int:job_id>/cancel/",
    # tests/generation/faces/test_apis.py: every role against a real subject and photo
    "subjects/<int:subject_id>/", "subjects/<int:subject_id>/photos/",
    "subjects/<int:subject_id>/delete/", "photos/<int:photo_id>/file/<slug:kind>/",
    "api/subjects/<int:subject_id>/", "api/subjects/<int:subject_id>/photos/",
    "api/photos/<int:photo_id>/",
    # tests/generation/generator/test_apis.py: every role against a real version and headshot
    "subjects/<int:subject_id>/generate/", "generator/<slug:name>/activate/",
    "generator/<slug:name>/grid.png", "headshots/<int:headshot_id>/image/",
    "generations/<int:generation_id>/input.png", "api/generation/jobs/<int:generation_id>/",
    "api/headshots/<int:headshot_id>/", "api/generator/versions/<slug:name>/activate/",
    # tests/generation/generator/test_studio.py: every role against a real headshot's raw output
    "headshots/<int:headshot_id>/raw/",
    # tests/review/test_access.py: every role against a real campaign and assignment
    "review/campaigns/<int:campaign_id>/", "review/campaigns/<int:campaign_id>/status/",
    "review/campaigns/<int:campaign_id>/work/", "review/campaigns/<int:campaign_id>/agreement/",
    "review/campaigns/<int:campaign_id>/export/<slug:kind>.csv",
    "review/assignments/<int:assignment_id>/<slug:side>.png", "api/review/campaigns/<int:campaign_id>/",
    "api/review/campaigns/<int:campaign_id>/agreement/", "api/review/campaigns/<int:campaign_id>/reviewers/",
    "api/review/campaigns/<int:campaign_id>/export/", "api/review/campaigns/<int:campaign_id>/standing/",
    "api/review/campaigns/<int:campaign_id>/verdict/",
    # tests/reward/test_access.py: every role against a real dataset and reward model
    "reward/models/<slug:name>/", "reward/models/<slug:name>/activate/",
    "api/reward/datasets/<int:dataset_id>/", "api/reward/models/<slug:name>/",
    "api/reward/models/<slug:name>/activate/", "api/reward/models/<slug:name>/scores/",
    "api/reward/models/<slug:name>/compare/",
    # tests/reward/test_finetuning_access.py: every role against a real fine-tuning
    "api/generator/finetunes/<int:finetuning_id>/",
    # tests/monitoring/test_access.py: every role against a real snapshot
    "monitoring/snapshots/<int:snapshot_id>/", "monitoring/snapshots/<int:snapshot_id>/export.<slug:fmt>",
    "api/monitoring/snapshots/<int:snapshot_id>/",
    # tests/monitoring/test_promotion_api.py: every role against a real version and gate decision
    "monitoring/promotions/<int:decision_id>/",
    "monitoring/promotions/<int:decision_id>/people/<int:person>/<slug:image>.png",
    "api/generator/versions/<slug:name>/evaluations/", "api/generator/versions/<slug:name>/decisions/",
    "api/generator/versions/<slug:name>/promote/",
    # the matrix's rows with no such version, and tests/monitoring/test_human_judge.py with a real one
    "monitoring/versions/<slug:name>/comparison-campaign/",
    "api/generator/versions/<slug:name>/comparison-campaigns/",
    # tests/monitoring/test_lineage.py: every role against a real fine-tuned version
    "monitoring/lineage/<slug:name>/", "api/generator/versions/<slug:name>/lineage/",
}


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "role", "expected"), list(cases(PAGES)))
def test_page_access(client_for, method, path, role, expected):
    response = getattr(client_for(role), method)(path)
    assert response.status_code == expected
    if expected == 302 and role is None:
        assert "/login/" in response["Location"]
    if expected == 403:
        assert b"Forbidden" in response.content  # our 403 page, with the reason


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "role", "expected"), list(cases(API)))
def test_api_access(api_client_for, method, path, role, expected):
    response = getattr(api_client_for(role), method)(path, {}, format="json")
    assert response.status_code == expected
    if expected >= 400:
        assert response.json()["detail"]  # every refusal says why


def _routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _uncovered_routes(rows) -> set[str]:
    """Routes of the project's URLconf (the admin's own pages aside) in neither ``rows`` nor covered
    elsewhere."""
    covered = {p.lstrip("/") for _, p, *_ in rows} | COVERED_ELSEWHERE
    ours = {r for r in _routes() if not r.startswith("admin/") or r == "admin/"}
    return {r for r in ours if r.replace("^", "").replace("$", "") not in covered}


def test_every_route_is_in_the_matrix():
    missing = _uncovered_routes(PAGES + API)
    assert not missing, f"add these routes to the access matrix: {sorted(missing)}"


def test_a_route_missing_from_the_matrix_is_reported():
    """A route of the project's URLconf without a row (here: the job list page and API) is named."""
    rows = [row for row in PAGES + API if row[1] not in ("/jobs/", "/api/jobs/")]
    assert _uncovered_routes(rows) == {"jobs/", "api/jobs/"}
