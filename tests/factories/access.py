"""The role access matrix: every page and endpoint with the roles allowed and the status each visitor
gets. ``tests/hfplatform/test_access.py`` runs every row and checks that every route of the project's
URLconf is in the matrix or covered elsewhere; ``tests/monitoring/test_access.py`` runs the monitoring
rows beside its object routes."""

from __future__ import annotations

import pytest

from hfplatform.accounts.roles import Role

R, P, E, A, ADM = Role.REVIEWER, Role.PHOTOGRAPHER, Role.ML_ENGINEER, Role.AUDITOR, Role.ADMIN
EVERYONE = {R, P, E, A, ADM}

# (method, path, roles allowed, status for allowed, status for a signed-in role not allowed,
#  status for anonymous). 302 = redirect to the login page.
# Monitoring's rows, also run by tests/monitoring/test_access.py beside its object routes.
MONITORING_PAGES = [
    ("get", "/monitoring/", {E, A, ADM}, 200, 403, 302),
    ("post", "/monitoring/snapshots/", {E, ADM}, 200, 403, 302),  # the dashboard with the form's errors
    ("get", "/monitoring/compare/", {E, A, ADM}, 200, 403, 302),
    ("get", "/monitoring/report/", {E, A, ADM}, 200, 403, 302),
    # no such version: back to the versions page saying so
    ("post", "/monitoring/versions/no-such-version/comparison-campaign/", {E, ADM}, 302, 403, 302),
]
MONITORING_API = [
    ("get", "/api/monitoring/snapshots/", {E, A, ADM}, 200, 403, 401),
    ("post", "/api/monitoring/snapshots/", {E, ADM}, 400, 403, 401),
    # The promotion gate; 404: no such version (tests/monitoring/test_promotion_api.py: a real one)
    ("post", "/api/generator/versions/no-such-version/evaluations/", {E, ADM}, 404, 403, 401),
    ("get", "/api/generator/versions/no-such-version/decisions/", {E, A, ADM}, 404, 403, 401),
    ("post", "/api/generator/versions/no-such-version/promote/", {E, ADM}, 404, 403, 401),
    ("post", "/api/generator/versions/no-such-version/comparison-campaigns/", {E, ADM}, 404, 403, 401),
]
# Every page and every endpoint (tests/hfplatform/test_access.py runs them all).
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
    ("post", "/review/stage-comparisons/", {E, ADM}, 302, 403, 302),  # back to /generator/ saying why
    ("get", "/reward/", {E, A, ADM}, 200, 403, 302),
    ("post", "/reward/datasets/", {E, ADM}, 200, 403, 302),  # the page with the form's errors
    ("post", "/reward/trainings/", {E, ADM}, 200, 403, 302),
    ("get", "/reward/finetunes/", {E, A, ADM}, 200, 403, 302),
    ("get", "/audit/", {A, ADM}, 200, 403, 302),
    ("get", "/audit/export.csv", {A, ADM}, 200, 403, 302),
    ("get", "/api/docs/", EVERYONE, 200, None, 200),
    ("get", "/api/schema/", EVERYONE, 200, None, 200),
    *MONITORING_PAGES,
]
API = [
    ("get", "/api/me/", EVERYONE, 200, None, 401),
    ("get", "/api/audit/", {A, ADM}, 200, 403, 401),
    ("get", "/api/jobs/", EVERYONE, 200, None, 401),
    ("post", "/api/jobs/thumbnails/", {E, ADM}, 400, 403, 401),
    ("get", "/api/subjects/", {E, ADM}, 200, 403, 401),
    ("post", "/api/subjects/", {E, ADM}, 400, 403, 401),
    ("get", "/api/generator/versions/", {E, A, ADM}, 200, 403, 401),
    ("post", "/api/generator/trainings/", {E, ADM}, 400, 403, 401),
    ("get", "/api/generation/jobs/", {E, A, ADM}, 200, 403, 401),
    ("post", "/api/generation/jobs/", {E, ADM}, 400, 403, 401),
    ("get", "/api/review/campaigns/", EVERYONE, 200, None, 401),
    ("post", "/api/review/campaigns/", {E, ADM}, 400, 403, 401),
    ("post", "/api/review/stage-comparisons/", {E, ADM}, 400, 403, 401),
    ("get", "/api/review/next/", EVERYONE, 400, None, 401),  # 400: which campaign? (roles per campaign)
    ("post", "/api/review/ratings/", EVERYONE, 400, None, 401),
    ("post", "/api/review/comparisons/", EVERYONE, 400, None, 401),
    ("post", "/api/review/blind/", EVERYONE, 400, None, 401),
    ("post", "/api/review/skips/", EVERYONE, 400, None, 401),  # 400: which assignment? (yours only)
    ("post", "/api/review/undo/", EVERYONE, 400, None, 401),
    ("get", "/api/reward/datasets/", {E, A, ADM}, 200, 403, 401),
    ("post", "/api/reward/datasets/", {E, ADM}, 400, 403, 401),
    ("post", "/api/reward/trainings/", {E, ADM}, 400, 403, 401),
    ("get", "/api/reward/models/", {E, A, ADM}, 200, 403, 401),
    ("get", "/api/generator/finetunes/", {E, A, ADM}, 200, 403, 401),
    ("post", "/api/generator/finetunes/", {E, ADM}, 400, 403, 401),
    # scoring changes nothing, so auditors may; 404: no such model (tests/reward/test_access.py: a real one)
    ("post", "/api/reward/models/no-such-model/scores/", {E, A, ADM}, 404, 403, 401),
    *MONITORING_API,
]


def cases(rows):
    """One ``pytest.param(method, path, role, expected)`` per row and role (None: anonymous)."""
    for method, path, allowed, ok, refused, anonymous in rows:
        for role in [*Role, None]:
            if role is None:
                expected = anonymous
            elif role in allowed:
                expected = ok
            else:
                expected = refused
            yield pytest.param(method, path, role, expected, id=f"{method} {path} {role}")
