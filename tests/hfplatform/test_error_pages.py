"""The site's own error pages answer what a view raises, with DEBUG on as in production; routes that
do not exist keep Django's development page, and genuine crashes are not hidden in development."""

from __future__ import annotations

import pytest
from django.test import override_settings

from hfplatform.accounts.roles import Role


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize(("role", "path", "status"), [
    (Role.REVIEWER, "/jobs/999999/", 404),  # a real route, an object that is not there (or not theirs)
    (Role.ML_ENGINEER, "/reward/models/no-such-model/", 404),
    (Role.AUDITOR, "/monitoring/snapshots/999999/", 404),
    (Role.REVIEWER, "/subjects/", 403),  # a real route, not for this role
])
def test_a_view_error_is_the_site_page(client_for, role, path, status, debug):
    with override_settings(DEBUG=debug):
        response = client_for(role).get(path)
    assert response.status_code == status
    body = response.content.decode()
    assert 'data-testid="error-reason"' in body
    assert "URLconf" not in body
    assert "Traceback" not in body
    assert "DEBUG = True" not in body
    assert "text/html" in response["Content-Type"]


@pytest.mark.django_db
def test_the_api_answers_json_for_the_same_errors(api_client_for):
    with override_settings(DEBUG=True):
        response = api_client_for(Role.REVIEWER).get("/api/jobs/999999/")
    assert response.status_code == 404
    assert response.json()["detail"]


@pytest.mark.django_db
def test_an_unknown_address_keeps_the_development_page(client_for):
    with override_settings(DEBUG=True):
        response = client_for(Role.ML_ENGINEER).get("/no-such-page/")
    assert response.status_code == 404
    assert "URLconf" in response.content.decode()  # development only: lists the routes
    with override_settings(DEBUG=False):
        response = client_for(Role.ML_ENGINEER).get("/no-such-page/")
    assert 'data-testid="error-reason"' in response.content.decode()
