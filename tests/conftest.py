"""Fixtures shared by every test: media in a temp folder, users by role, API clients; the plugins of
``tests/fixtures/`` listed in ``pytest_plugins`` add the shared corpus, metric, subject and review data."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractUser
from rest_framework.test import APIClient

from hfplatform.accounts.roles import Role
from hfplatform.accounts.services import token_for, user_create
from tests.factories.accounts import PASSWORD

pytest_plugins = ["tests.fixtures.metrics", "tests.fixtures.review", "tests.fixtures.subjects"]


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _fresh_rate_counts():
    """The API's per-user rate counts (the memory cache) start empty in every test."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(scope="session", autouse=True)
def _empty_test_queue():
    """Tests enqueue real huey messages; start and end with an empty test queue."""
    from huey.contrib.djhuey import HUEY

    HUEY.flush()
    yield
    HUEY.flush()


@pytest.fixture
def make_user(db) -> Callable[..., AbstractUser]:
    counter = {"n": 0}

    def make(role: Role | str = Role.REVIEWER, username: str | None = None) -> AbstractUser:
        counter["n"] += 1
        name = username or f"{Role(role).value}{counter['n']}"
        user, _ = user_create(username=name, role=role, password=PASSWORD)
        return user

    return make


@pytest.fixture
def api_client_for(make_user) -> Callable[..., APIClient]:
    """An API client authenticated with a token for a new user of ``role`` (None: anonymous)."""

    def make(role: Role | str | None) -> APIClient:
        client = APIClient()
        if role is not None:
            user = make_user(role)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=user)}")
            client.user = user
        return client

    return make


@pytest.fixture
def client_for(make_user, client) -> Callable[..., object]:
    """A browser-like Django test client logged in as a new user of ``role`` (None: anonymous)."""

    def make(role: Role | str | None):
        if role is not None:
            user = make_user(role)
            client.force_login(user)
            client.user = user
        return client

    return make


def pytest_report_header(config):
    """Say which database and queue backend this run really uses (CI: PostgreSQL and Redis)."""
    from django.conf import settings
    from huey.contrib.djhuey import HUEY

    return [f"database: {settings.DATABASES['default']['ENGINE']}; queue: {type(HUEY).__name__}"]
