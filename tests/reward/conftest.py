"""Reward tests reuse the review fixtures (tiny real subjects, headshots and campaigns)."""

from __future__ import annotations

from tests.review import conftest as review_fixtures

review_world = review_fixtures.review_world
make_campaign = review_fixtures.make_campaign


import pytest  # noqa: E402


@pytest.fixture
def engineer_user(make_user):
    return make_user("ml_engineer")


from tests.generation import conftest as generation_fixtures  # noqa: E402

engineer = generation_fixtures.engineer
subject = generation_fixtures.subject
corpus_face = generation_fixtures.corpus_face
ready_subject = generation_fixtures.ready_subject
