"""Sign-in limits: after repeated failures an account (or an address) must wait, doubling each time,
then is locked out, on the token API and the login page alike; 429 with Retry-After; a success
clears the account's failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from rest_framework.test import APIClient

from hfplatform.accounts.models import LoginFailure
from tests.factories.accounts import PASSWORD

pytestmark = pytest.mark.django_db


def _token(client: APIClient, username: str, password: str):
    return client.post("/api/auth/token/", {"username": username, "password": password}, format="json")


def _age_failures(seconds: float) -> None:
    """Move every recorded failure ``seconds`` into the past (time passing)."""
    for row in LoginFailure.objects.all():
        LoginFailure.objects.filter(pk=row.pk).update(created_at=row.created_at - timedelta(seconds=seconds))


def test_the_token_api_slows_then_locks_out_an_account(make_user, settings):
    user = make_user("reviewer")
    client = APIClient()
    for _ in range(settings.LOGIN_DELAY_AFTER):
        assert _token(client, user.username, "wrong").status_code == 401
    slowed = _token(client, user.username, "wrong")
    assert slowed.status_code == 429
    assert slowed["Retry-After"] == "1"
    assert slowed.json()["code"] == "too_many_attempts"
    assert LoginFailure.objects.count() == settings.LOGIN_DELAY_AFTER  # a refused try is not counted
    _age_failures(1.5)
    for expected_wait in (2, 4, 8, 16):
        assert _token(client, user.username, "wrong").status_code == 401
        refused = _token(client, user.username, PASSWORD)  # even the right password waits
        assert refused.status_code == 429
        assert refused["Retry-After"] == str(expected_wait)
        _age_failures(expected_wait + 0.5)
    assert _token(client, user.username, "wrong").status_code == 401  # the 10th failure: locked
    locked = _token(client, user.username, PASSWORD)
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == settings.LOGIN_LOCKOUT_SECONDS
    assert "15 minutes" in locked.json()["detail"]
    _age_failures(settings.LOGIN_LOCKOUT_SECONDS + 1)
    assert _token(client, user.username, PASSWORD).status_code == 200
    assert not LoginFailure.objects.filter(username=user.username.lower()).exists()  # cleared


def test_an_address_that_guesses_many_accounts_is_slowed_too(make_user, settings):
    client = APIClient()
    limit = settings.LOGIN_DELAY_AFTER * settings.LOGIN_ADDRESS_FACTOR
    for i in range(limit):
        assert _token(client, f"nobody-{i}", "guess").status_code == 401
    fresh = make_user("reviewer")
    refused = _token(client, fresh.username, PASSWORD)
    assert refused.status_code == 429
    elsewhere = APIClient(REMOTE_ADDR="10.0.0.9")
    assert _token(elsewhere, fresh.username, PASSWORD).status_code == 200


def test_the_login_page_has_the_same_limits(make_user, settings):
    user = make_user("reviewer")
    client = Client()
    for _ in range(settings.LOGIN_DELAY_AFTER):
        page = client.post("/accounts/login/", {"username": user.username, "password": "wrong"})
        assert page.status_code == 200
    refused = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"
    assert "Too many failed sign-ins: try again in 1 second." in refused.content.decode()
    _age_failures(2)
    signed_in = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert signed_in.status_code == 302
    assert not LoginFailure.objects.exists()


def test_limits_can_be_turned_off(make_user, settings):
    settings.LOGIN_LIMITS = False
    user = make_user("reviewer")
    client = APIClient()
    for _ in range(settings.LOGIN_LOCKOUT_AFTER + 2):
        assert _token(client, user.username, "wrong").status_code == 401
    assert _token(client, user.username, PASSWORD).status_code == 200
