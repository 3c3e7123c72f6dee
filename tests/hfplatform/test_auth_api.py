"""Token auth and the API's bad-input answers."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories.accounts import PASSWORD

pytestmark = pytest.mark.django_db


def test_token_for_good_credentials_works_on_the_api(make_user):
    user = make_user("ml_engineer")
    client = APIClient()
    response = client.post("/api/auth/token/", {"username": user.username, "password": PASSWORD},
                           format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["roles"] == ["ml_engineer"]
    # The same token comes back on a second login, and it authenticates.
    again = client.post("/api/auth/token/", {"username": user.username, "password": PASSWORD},
                        format="json")
    assert again.json()["token"] == body["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    me = client.get("/api/me/")
    assert me.status_code == 200
    assert me.json()["username"] == user.username


def test_wrong_password_is_401_with_a_reason(make_user):
    user = make_user()
    response = APIClient().post("/api/auth/token/",
                                {"username": user.username, "password": "nope"}, format="json")
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Wrong username or password, or the account is disabled.",
        "code": "invalid_credentials",
    }


def test_disabled_account_gets_no_token(make_user):
    user = make_user()
    user.is_active = False
    user.save()
    response = APIClient().post("/api/auth/token/",
                                {"username": user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 401


def test_missing_fields_name_the_fields():
    response = APIClient().post("/api/auth/token/", {"username": "x"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "password" in body["fields"]


def test_malformed_json_is_400_not_500():
    response = APIClient().post("/api/auth/token/", data='{"username": "x", ',
                                content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_bad_token_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/me/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token."


def test_a_token_signs_in_with_its_roles_in_one_statement(make_user):
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hfplatform.accounts.services import token_for

    user = make_user("auditor")
    user.groups.add(Group.objects.get(name="ml_engineer"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=user)}")
    with CaptureQueriesContext(connection) as queries:
        me = client.get("/api/me/")
    assert me.status_code == 200
    assert sorted(me.json()["roles"]) == ["auditor", "ml_engineer"]
    roles_apart = [q["sql"] for q in queries.captured_queries
                   if "auth_group" in q["sql"] and "authtoken" not in q["sql"]]
    assert not roles_apart
    # An engineer's endpoint takes the token; a disabled account's token no longer works.
    assert client.get("/api/jobs/").status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    refused = client.get("/api/me/")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "User inactive or deleted."


def test_unknown_api_route_is_json_404(client):
    response = client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_unknown_page_is_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"There is nothing at this address" in response.content


def test_login_page_logs_in_and_wrong_password_shows_a_form_error(client, make_user):
    user = make_user("auditor")
    bad = client.post("/accounts/login/", {"username": user.username, "password": "x"})
    assert bad.status_code == 200
    assert b"Wrong username or password" in bad.content
    good = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert good.status_code == 302
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302
