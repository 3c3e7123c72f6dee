"""The role access matrix: every page and endpoint, every role, including anonymous visitors."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from hfplatform.accounts.roles import Role

R, P, E, A, ADM = Role.REVIEWER, Role.PHOTOGRAPHER, Role.ML_ENGINEER, Role.AUDITOR, Role.ADMIN
EVERYONE = {R, P, E, A, ADM}

# (method, path, roles allowed, status for allowed, status for a signed-in role not allowed,
#  status for anonymous). 302 = redirect to the login page.
PAGES = [
    ("get", "/", EVERYONE, 200, None, 302),
    ("get", "/jobs/", {E, A, ADM}, 200, 403, 302),
    ("post", "/jobs/thumbnails/", {E, ADM}, 302, 403, 302),
    ("get", "/accounts/users/", {ADM}, 200, 403, 302),
    ("get", "/subjects/", {E, ADM}, 200, 403, 302),
    ("post", "/subjects/", {E, ADM}, 200, 403, 302),  # 200: the form comes back with its errors
    ("get", "/generator/", {E, A, ADM}, 200, 403, 302),
    ("post", "/generator/trainings/", {E, ADM}, 200, 403, 302),  # the page with the form's errors
    ("get", "/admin/", {ADM}, 200, 302, 302),
    ("get", "/review/", EVERYONE, 200, None, 302),
    ("get", "/review/campaigns/new/", {E, ADM}, 200, 403, 302),
    ("post", "/review/campaigns/new/", {E, ADM}, 200, 403, 302),  # the form with its errors
    ("get", "/reward/", {E, A, ADM}, 200, 403, 302),
    ("post", "/reward/datasets/", {E, ADM}, 200, 403, 302),  # the page with the form's errors
    ("post", "/reward/trainings/", {E, ADM}, 200, 403, 302),
    ("get", "/api/docs/", EVERYONE, 200, None, 200),
    ("get", "/api/schema/", EVERYONE, 200, None, 200),
]
API = [
    ("get", "/api/me/", EVERYONE, 200, None, 401),
    ("get", "/api/jobs/", EVERYONE, 200, None, 401),
    ("post", "/api/jobs/thumbnails/", {E, ADM}, 400, 403, 401),
    ("get", "/api/subjects/", {E, ADM}, 200, 403, 401),
    ("post", "/api/subjects/", {E, ADM}, 400, 403, 401),
    ("get", "/api/generator/versions/", {E, A, ADM}, 200, 403, 401),
    ("post", "/api/generator/trainings/", {E, ADM}, 400, 403, 401),
    ("post", "/api/generation/jobs/", {E, ADM}, 400, 403, 401),
    ("get", "/api/review/campaigns/", EVERYONE, 200, None, 401),
    ("post", "/api/review/campaigns/", {E, ADM}, 400, 403, 401),
    ("get", "/api/review/next/", EVERYONE, 400, None, 401),  # 400: which campaign? (roles per campaign)
    ("post", "/api/review/ratings/", EVERYONE, 400, None, 401),
    ("post", "/api/review/comparisons/", EVERYONE, 400, None, 401),
    ("post", "/api/review/blind/", EVERYONE, 400, None, 401),
    ("get", "/api/reward/datasets/", {E, A, ADM}, 200, 403, 401),
    ("post", "/api/reward/datasets/", {E, ADM}, 400, 403, 401),
    ("post", "/api/reward/trainings/", {E, ADM}, 400, 403, 401),
    ("get", "/api/reward/models/", {E, A, ADM}, 200, 403, 401),
]
# Monitoring (tests/monitoring/test_access.py also runs the object routes listed below).
MONITORING_PAGES = [
    ("get", "/monitoring/", {E, A, ADM}, 200, 403, 302),
    ("post", "/monitoring/snapshots/", {E, ADM}, 200, 403, 302),  # the dashboard with the form's errors
    ("get", "/monitoring/compare/", {E, A, ADM}, 200, 403, 302),
    ("get", "/monitoring/report/", {E, A, ADM}, 200, 403, 302),
]
MONITORING_API = [
    ("get", "/api/monitoring/snapshots/", {E, A, ADM}, 200, 403, 401),
    ("post", "/api/monitoring/snapshots/", {E, ADM}, 400, 403, 401),
]

PAGES += MONITORING_PAGES
API += MONITORING_API
# Routes covered elsewhere with their own objects (job detail/cancel) or without a role rule.
COVERED_ELSEWHERE = {
    "accounts/login/", "accounts/logout/", "api/auth/token/", "healthz/", "media/<path:path>",
    "jobs/<int:job_id>/", "api/jobs/<int:job_id>/", "api/jobs/<int:job_id>/cancel/",
    # tests/generation/test_apis.py: every role against a real subject and photo
    "subjects/<int:subject_id>/", "subjects/<int:subject_id>/photos/",
    "subjects/<int:subject_id>/delete/", "photos/<int:photo_id>/file/<slug:kind>/",
    "api/subjects/<int:subject_id>/", "api/subjects/<int:subject_id>/photos/",
    "api/photos/<int:photo_id>/",
    # tests/generation/test_generator_apis.py: every role against a real version and headshot
    "subjects/<int:subject_id>/generate/", "generator/<slug:name>/activate/",
    "generator/<slug:name>/grid.png", "headshots/<int:headshot_id>/image/",
    "generations/<int:generation_id>/input.png", "api/generation/jobs/<int:generation_id>/",
    "api/headshots/<int:headshot_id>/", "api/generator/versions/<slug:name>/activate/",
    # tests/review/test_access.py: every role against a real campaign and assignment
    "review/campaigns/<int:campaign_id>/", "review/campaigns/<int:campaign_id>/status/",
    "review/campaigns/<int:campaign_id>/work/", "review/campaigns/<int:campaign_id>/agreement/",
    "review/campaigns/<int:campaign_id>/export/<slug:kind>.csv",
    "review/assignments/<int:assignment_id>/<slug:side>.png", "api/review/campaigns/<int:campaign_id>/",
    "api/review/campaigns/<int:campaign_id>/agreement/", "api/review/campaigns/<int:campaign_id>/reviewers/",
    "api/review/campaigns/<int:campaign_id>/export/",
    # tests/reward/test_access.py: every role against a real dataset and reward model
    "reward/models/<slug:name>/", "reward/models/<slug:name>/activate/",
    "api/reward/datasets/<int:dataset_id>/", "api/reward/models/<slug:name>/",
    "api/reward/models/<slug:name>/activate/",
    # tests/monitoring/test_access.py: every role against a real snapshot
    "monitoring/snapshots/<int:snapshot_id>/", "monitoring/snapshots/<int:snapshot_id>/export.<slug:fmt>",
    "api/monitoring/snapshots/<int:snapshot_id>/",
}


def _cases(rows):
    for method, path, allowed, ok, refused, anonymous in rows:
        for role in [*Role, None]:
            if role is None:
                expected = anonymous
            elif role in allowed:
                expected = ok
            else:
                expected = refused
            yield pytest.param(method, path, role, expected, id=f"{method} {path} {role}")


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "role", "expected"), list(_cases(PAGES)))
def test_page_access(client_for, method, path, role, expected):
    response = getattr(client_for(role), method)(path)
    assert response.status_code == expected
    if expected == 302 and role is None:
        assert "/login/" in response["Location"]
    if expected == 403:
        assert b"Forbidden" in response.content  # our 403 page, with the reason


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "role", "expected"), list(_cases(API)))
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


def test_every_route_is_in_the_matrix():
    rows = PAGES + API
    covered = {p.lstrip("/") for _, p, *_ in rows} | COVERED_ELSEWHERE
    ours = {r for r in _routes() if not r.startswith("admin/") or r == "admin/"}
    missing = {r for r in ours if r.replace("^", "").replace("$", "") not in covered}
    assert not missing, f"add these routes to the access matrix: {sorted(missing)}"
