"""Pages and role-checked files with an API token (``hfplatform.accounts.roles``): the token works
where a session does, with the same role rule; a bad token is a JSON 401, a refused role a JSON 403,
a missing object a JSON 404; without a token nothing changed (the login page, the HTML 403)."""

from __future__ import annotations

import pytest
from django.test import Client

from hfplatform.accounts.roles import token_sent
from hfplatform.accounts.services import token_for

pytestmark = pytest.mark.django_db


def _with_token(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {key}")


@pytest.mark.parametrize(("role", "expected"), [
    ("ml_engineer", 200), ("auditor", 200), ("admin", 200), ("reviewer", 403), ("photographer", 403)])
def test_a_token_opens_a_role_checked_page_with_the_same_rule(make_user, role, expected):
    response = _with_token(token_for(user=make_user(role))).get("/jobs/")
    assert response.status_code == expected
    if expected == 403:
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "This page is for: auditor, ml_engineer", "code": "forbidden"}


@pytest.mark.parametrize("header", ["Token not-a-real-key", "Token", "token a b"])
def test_a_bad_or_missing_token_is_a_json_401(header):
    response = Client(HTTP_AUTHORIZATION=header).get("/jobs/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    body = response.json()
    assert body["code"] == "authentication_failed"
    assert body["detail"]


def test_the_token_of_a_disabled_account_is_refused(make_user):
    user = make_user("ml_engineer")
    key = token_for(user=user)
    user.is_active = False
    user.save()
    response = _with_token(key).get("/jobs/")
    assert response.status_code == 401
    assert response.json()["detail"] == "User inactive or deleted."


def test_a_token_beats_a_session_and_is_never_stored_in_it(make_user):
    auditor, reviewer = make_user("auditor"), make_user("reviewer")
    client = Client(HTTP_AUTHORIZATION=f"Token {token_for(user=reviewer)}")
    client.force_login(auditor)
    assert client.get("/jobs/").status_code == 403  # the token's user (a reviewer), not the session's
    assert Client().get("/jobs/").status_code == 302
    session_only = Client()
    session_only.force_login(auditor)
    assert session_only.get("/jobs/").status_code == 200


def test_without_a_token_pages_behave_as_before(client_for):
    anonymous = Client().get("/jobs/")
    assert anonymous.status_code == 302
    assert "/login/" in anonymous["Location"]
    refused = client_for("reviewer").get("/jobs/")
    assert refused.status_code == 403
    assert b"Forbidden" in refused.content
    assert refused["Content-Type"].startswith("text/html")
    other_scheme = Client(HTTP_AUTHORIZATION="Bearer abc").get("/jobs/")
    assert other_scheme.status_code == 302  # not a DRF token: the session decides


def test_a_missing_page_answers_json_to_a_token(make_user):
    response = _with_token(token_for(user=make_user("ml_engineer"))).get("/headshots/999999/image/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert Client().get("/no-such-page/").status_code == 404


@pytest.mark.parametrize(("header", "sent"), [
    ("Token abc", True), ("token abc", True), ("Token", True), ("Bearer abc", False), ("", False),
    ("Tokens abc", False)])
def test_token_sent(rf, header, sent):
    request = rf.get("/", HTTP_AUTHORIZATION=header) if header else rf.get("/")
    assert token_sent(request) is sent
