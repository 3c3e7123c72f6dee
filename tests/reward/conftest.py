"""Fixtures for the reward tests (the review world, subjects and campaigns come from tests/fixtures/)."""

from __future__ import annotations

import pytest


@pytest.fixture
def engineer_user(make_user):
    return make_user("ml_engineer")
