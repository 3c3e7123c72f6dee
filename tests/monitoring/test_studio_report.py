"""``manage.py studio_report``: the studio stages measured on a tiny generator's held-out corpus people,
printed with the command line on top and stored beside the version's other report figures."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from generation.generator.services import generator_version_register
from generation.ml.studio.evaluate import SECTIONS
from generation.models import GeneratorVersion
from tests.factories.generation import tiny_generator

pytestmark = pytest.mark.django_db


@pytest.mark.slow
def test_the_command_measures_every_stage_and_keeps_the_other_report_figures(version):
    GeneratorVersion.objects.filter(pk=version.pk).update(report={"fid": {"value": 80.0}})
    out = io.StringIO()
    call_command("studio_report", version=version.name, people=2, stdout=out, stderr=io.StringIO())
    text = out.getvalue()
    command = f"$ python manage.py studio_report --version {version.name} --people 2 --seed 0"
    assert text.splitlines()[0] == command
    for heading in ("Super-resolution", "Lighting", "Colour", "Background", "All default stages",
                    "generated headshot"):
        assert heading in text
    version.refresh_from_db()
    assert version.report["fid"] == {"value": 80.0}
    studio = version.report["studio"]
    assert studio["version"] == version.name
    assert studio["people"] == studio["cases"] == 2
    assert studio["subjects"] == version.heldout_subjects[:2]
    for section in SECTIONS:
        assert studio[section]["n"] == 2
    assert studio["background"]["face_core_changed_max"] == 0
    # The untrained generator draws noise: one headshot per person, and dlib finds no face in it.
    identity = studio["all_stages"]["identity"]
    assert identity["staged"]["n"] == 2
    assert identity["raw_64"]["no_face"] == 2
    assert identity["raw_64"]["verified"]["share"] == 0


@pytest.mark.slow
def test_json_without_generated_headshots(version):
    out = io.StringIO()
    call_command("studio_report", "--version", version.name, "--people", "1", "--no-generate", "--json",
                 stdout=out, stderr=io.StringIO())
    figures = json.loads(out.getvalue())
    assert figures["command"] == (f"python manage.py studio_report --version {version.name} --people 1 "
                                  "--seed 0 --no-generate --json")
    assert figures["generated"] is False
    assert figures["all_stages"]["identity"] is None
    assert figures["super_resolution"]["n"] == 1
    version.refresh_from_db()
    assert version.report["studio"]["cases"] == 1


def test_a_version_without_held_out_people_is_refused(tmp_path):
    generator_version_register(name="tiny-none", files_dir=tiny_generator(tmp_path / "g"), heldout=[])
    with pytest.raises(CommandError, match="no held-out person"):
        call_command("studio_report", version="tiny-none", stdout=io.StringIO())
