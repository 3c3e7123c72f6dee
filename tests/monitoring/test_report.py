"""The generator report: the held-out evaluation with its baselines and targets, stored on the version."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from generation.generator.services import generator_version_register
from hfplatform.errors import ApplicationError
from monitoring.services import generator_report
from tests.factories.generation import tiny_generator

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_report_on_held_out_people_names_every_extractor(corpus_subjects, tmp_path, capsys):
    heldout = list(corpus_subjects[:6])
    version = generator_version_register(name="tiny-r", files_dir=tiny_generator(tmp_path / "r"),
                                         heldout=heldout)
    figures = generator_report(version=version, steps=3)
    assert set(figures["rows"]) == {"casual_input", "generated", "sdedit_baseline"}
    generated = figures["rows"]["generated"]
    assert generated["fid"]["value"] is not None
    assert "inception" in generated["fid"]["extractor"].lower()
    assert generated["fid"]["n"] == figures["people"]
    assert 0 < generated["lpips_likeness"]["value"] < 1.5
    assert generated["lpips_likeness"]["interval"][0] <= generated["lpips_likeness"]["value"]
    # An untrained network makes noise: it must not beat the casual photos it was given.
    assert generated["kid"]["value"] > figures["rows"]["casual_input"]["kid"]["value"]
    # Identity against the input and against the person's clean portrait. A casual photo is itself
    # (distance 0) wherever dlib finds its face; it is a degraded copy of the portrait.
    casual = figures["rows"]["casual_input"]
    assert casual["identity_distance"]["value"] == pytest.approx(0.0, abs=1e-6)
    found_share = casual["identity_distance"]["n"] / figures["people"]
    assert casual["identity_verification_rate"]["value"] == found_share
    assert 0 < casual["identity_distance_to_portrait"]["value"] < 0.6
    assert "dlib" in generated["identity_verification_rate_to_portrait"]["extractor"]
    assert generated["identity_verification_rate_to_portrait"]["n"] == figures["people"]
    # A perfect restoration (the clean portrait itself) against the input; no pair can be verified
    # where the input's face is not found.
    assert figures["portrait_vs_input"]["value"] <= casual["identity_verification_rate"]["value"]
    targets = {t["target"]: t for t in figures["targets"]}
    note = targets["identity_verification_rate ≥ 90%"]["note"]
    assert f"whose face dlib finds in {casual['identity_verification_rate']['value']:.0%}" in note
    assert f"the clean portrait itself scores {figures['portrait_vs_input']['value']:.0%}" in note
    assert targets["kid below the casual inputs'"]["met"] is False
    to_portrait = generated["identity_verification_rate_to_portrait"]["value"]
    assert targets["identity_verification_rate_to_portrait ≥ 90%"]["value"] == to_portrait
    version.refresh_from_db()
    assert version.report["people"] == figures["people"]
    call_command("generator_report", version="tiny-r", steps=2, subjects=4, guidance=2.5)
    out = capsys.readouterr().out
    assert "casual_input" in out
    assert "sdedit_baseline" in out
    assert "guidance 2.5" in out
    assert "identity_verification_rate_to_portrait" in out
    assert "kid below the casual inputs': " in out
    assert "NOT met" in out
    version.refresh_from_db()
    assert version.report["guidance"] == 2.5
    assert version.report["people"] == 4


def test_report_refuses_too_few_held_out_people(tmp_path):
    version = generator_version_register(name="tiny-e", files_dir=tiny_generator(tmp_path / "e"))
    with pytest.raises(ApplicationError, match="at least 4 held-out people"):
        generator_report(version=version)


def test_report_refuses_guidance_out_of_range(corpus_subjects, tmp_path):
    version = generator_version_register(name="tiny-g", files_dir=tiny_generator(tmp_path / "g"),
                                         heldout=list(corpus_subjects[:4]))
    with pytest.raises(ApplicationError, match="guidance"):
        generator_report(version=version, guidance=11.0)


def test_report_says_unavailable_when_weights_are_missing(corpus_subjects, tmp_path, settings):
    settings.METRICS_CACHE = tmp_path / "empty-cache"
    settings.TORCH_HOME = tmp_path / "empty-torch"
    version = generator_version_register(name="tiny-w", files_dir=tiny_generator(tmp_path / "w"),
                                         heldout=list(corpus_subjects[:5]))
    figures = generator_report(version=version, steps=2)
    row = figures["rows"]["generated"]
    assert row["fid"]["value"] is None
    assert row["fid"]["unavailable"].startswith("unavailable:")
    assert row["lpips_likeness"]["value"] is None
    assert "LPIPS AlexNet backbone missing" in row["lpips_likeness"]["unavailable"]


