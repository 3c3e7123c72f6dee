"""Activating generator versions over the API and the page: a retired version can be brought back, and
who did it is recorded (``GeneratorActivation``)."""

from __future__ import annotations

import pytest

from generation.generator.services import generator_version_register
from generation.models import GeneratorVersion
from generation.models.generator import GeneratorActivation
from tests.factories.generation import tiny_generator

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions(tmp_path):
    first = generator_version_register(name="tiny-a", files_dir=tiny_generator(tmp_path / "a"), activate=True)
    second = generator_version_register(name="tiny-b", files_dir=tiny_generator(tmp_path / "b", 1),
                                        activate=True)
    return first, second


def test_a_retired_version_comes_back_over_the_api_and_the_page(api_client_for, client_for, versions):
    engineer = api_client_for("ml_engineer")
    assert GeneratorVersion.objects.get(name="tiny-a").status == "retired"
    response = engineer.post("/api/generator/versions/tiny-a/activate/")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "active"
    latest = GeneratorActivation.objects.first()
    assert (latest.activated.name, latest.retired.name, latest.activated_by) == ("tiny-a", "tiny-b",
                                                                                engineer.user)
    page = client_for("ml_engineer")
    assert page.post("/generator/tiny-b/activate/").status_code == 302
    assert dict(GeneratorVersion.objects.values_list("name", "status")) == {"tiny-a": "retired",
                                                                            "tiny-b": "active"}
    assert GeneratorActivation.objects.first().activated_by == page.user
    assert GeneratorActivation.objects.count() == 4  # two registrations, then two activations
