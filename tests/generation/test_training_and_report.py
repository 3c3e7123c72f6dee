"""Generator training as a job on stored crops, the held-out split, and the quality report."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from generation.generator_services import generator_version_register
from generation.models import GeneratorStatus, Subject
from generation.report_services import generator_report
from generation.services import face_corpus_import
from generation.training_services import generator_training_start, training_set_build
from hfplatform.errors import ApplicationError
from hfplatform.jobs.models import JobStatus
from hfplatform.jobs.services import job_run
from tests.generation.conftest import tiny_generator

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def corpus_subjects():
    face_corpus_import(limit=14)
    return Subject.objects.all()


def test_training_needs_enough_photos(engineer):
    with pytest.raises(ApplicationError, match="at least 8 accepted photos"):
        training_set_build(image_size=64)


def test_split_keeps_held_out_people_out_of_training(corpus_subjects):
    images, train, heldout = training_set_build(image_size=64, heldout_fraction=0.25)
    assert images.shape[1:] == (128, 128, 3)  # degraded at the largest crop size, then shrunk
    assert len(images) == len(train)
    assert heldout
    assert not {s.pk for s in train} & {s.pk for s in heldout}


def test_training_job_registers_a_candidate_with_its_lineage(corpus_subjects, engineer, settings,
                                                             tmp_path):
    settings.GENERATOR_ROOT = tmp_path / "generators"
    job = generator_training_start(started_by=engineer, name="tiny-train", steps=2, batch_size=2,
                                   enqueue=False)
    done = job_run(job_id=job.pk)
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert done.result["version"] == "tiny-train"
    assert done.result["steps"] == 2
    assert done.result["loss_curve"]
    from generation.models import GeneratorVersion

    version = GeneratorVersion.objects.get(name="tiny-train")
    assert version.status == GeneratorStatus.CANDIDATE
    assert version.training_job == done
    assert version.created_by == engineer
    assert version.heldout_subjects
    assert len(version.dataset_fingerprint) == 64
    assert (tmp_path / "generators" / f"job-{job.pk}" / "checkpoint").is_dir()
    with pytest.raises(ApplicationError, match="already exists"):
        generator_training_start(started_by=engineer, name="tiny-train", steps=2)


def test_fine_tuning_job_starts_from_its_parent_and_keeps_its_held_out_people(
        corpus_subjects, engineer, settings, tmp_path):
    import torch

    from generation.generator_services import generator_load
    from generation.models import GeneratorVersion

    settings.GENERATOR_ROOT = tmp_path / "generators"
    heldout = list(corpus_subjects[:3])
    parent = generator_version_register(name="tiny-parent", files_dir=tiny_generator(tmp_path / "p"),
                                        heldout=heldout)
    job = generator_training_start(started_by=engineer, name="tiny-child", steps=1, batch_size=2,
                                   parent="tiny-parent", enqueue=False)
    done = job_run(job_id=job.pk)
    assert done.status == JobStatus.SUCCEEDED, done.error
    child = GeneratorVersion.objects.get(name="tiny-child")
    assert child.parent == parent
    assert sorted(child.heldout_subjects) == sorted(s.pk for s in heldout)
    assert child.training_config["train"]["init_from"].endswith("p")
    assert "fine-tuned from tiny-parent" in child.notes
    # One small step from the parent's weights, not a new initialisation.
    a, b = generator_load(parent)[0].state_dict(), generator_load(child)[0].state_dict()
    assert generator_load(child)[1] == generator_load(parent)[1]
    change = max(float((a[k] - b[k]).abs().max()) for k in a)
    assert 0 < change < 0.01
    assert not torch.equal(a["conv_in.weight"], b["conv_in.weight"])


def test_fine_tuning_refuses_an_unknown_parent_or_another_config(corpus_subjects, engineer, tmp_path):
    generator_version_register(name="tiny-p2", files_dir=tiny_generator(tmp_path / "p2"))
    with pytest.raises(ApplicationError, match="No generator version named 'nobody'") as unknown:
        generator_training_start(started_by=engineer, name="c1", steps=1, parent="nobody")
    assert unknown.value.extra["fields"] == {"parent": ["unknown version"]}
    with pytest.raises(ApplicationError, match="image_size must be the parent's"):
        generator_training_start(started_by=engineer, name="c2", steps=1, parent="tiny-p2", image_size=128)
    from hfplatform.jobs.models import Job

    assert not Job.objects.exists()


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
    assert 0 < generated["lpips_to_clean"]["value"] < 1.5
    assert generated["lpips_to_clean"]["interval"][0] <= generated["lpips_to_clean"]["value"]
    # An untrained network makes noise: it must not beat the casual photos it was given.
    assert generated["kid"]["value"] > figures["rows"]["casual_input"]["kid"]["value"]
    # Identity against the input and against the person's clean portrait. A casual photo is itself
    # (distance 0) wherever dlib finds its face; it is a degraded copy of the portrait.
    casual = figures["rows"]["casual_input"]
    assert casual["identity_distance"]["value"] == pytest.approx(0.0, abs=1e-6)
    assert casual["verified_share"]["value"] == casual["identity_distance"]["n"] / figures["people"]
    assert 0 < casual["identity_distance_to_portrait"]["value"] < 0.6
    assert "dlib" in generated["verified_as_person"]["extractor"]
    assert generated["verified_as_person"]["n"] == figures["people"]
    # A perfect restoration (the clean portrait itself) against the input; no pair can be verified
    # where the input's face is not found.
    assert figures["ideal_verified_vs_input"]["value"] <= casual["verified_share"]["value"]
    targets = {t["target"]: t for t in figures["targets"]}
    note = targets["verified_share ≥ 90%"]["note"]
    assert f"whose face dlib finds in {casual['verified_share']['value']:.0%}" in note
    assert f"the clean portrait itself scores {figures['ideal_verified_vs_input']['value']:.0%}" in note
    assert targets["kid below the casual inputs'"]["met"] is False
    assert targets["verified_as_person ≥ 90%"]["value"] == generated["verified_as_person"]["value"]
    version.refresh_from_db()
    assert version.report["people"] == figures["people"]
    call_command("generator_report", version="tiny-r", steps=2, subjects=4, guidance=2.5)
    out = capsys.readouterr().out
    assert "casual_input" in out
    assert "sdedit_baseline" in out
    assert "guidance 2.5" in out
    assert "verified→person" in out
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
    assert row["lpips_to_clean"]["value"] is None
    assert "LPIPS AlexNet backbone missing" in row["lpips_to_clean"]["unavailable"]


@pytest.mark.django_db(transaction=True)
def test_train_generator_command_runs_the_training_job(corpus_subjects, settings, tmp_path, capsys):
    settings.GENERATOR_ROOT = tmp_path / "generators"
    call_command("train_generator", name="cmd-tiny", steps=2, batch_size=2)
    assert "Registered generator cmd-tiny after 2 steps." in capsys.readouterr().out
    from generation.models import GeneratorVersion

    assert GeneratorVersion.objects.get(name="cmd-tiny").training_job.status == JobStatus.SUCCEEDED


def test_a_shipped_checkpoint_names_its_held_out_people_and_parent(corpus_subjects, tmp_path, capsys):
    import json

    from generation.models import GeneratorVersion

    heldout = list(corpus_subjects[:2])
    call_command("generator_register", str(tiny_generator(tmp_path / "v1")), name="ship-v1")
    child = tiny_generator(tmp_path / "v2", seed=1)
    (child / "dataset.json").write_text(json.dumps(
        {"parent": "ship-v1", "heldout_refs": [s.source_ref for s in heldout] + ["not-imported.jpg"]}))
    call_command("generator_register", str(child), name="ship-v2", activate=True)
    v2 = GeneratorVersion.objects.get(name="ship-v2")
    assert v2.parent.name == "ship-v1"
    assert sorted(v2.heldout_subjects) == sorted(s.pk for s in heldout)
    assert v2.status == GeneratorStatus.ACTIVE
    # --parent names it explicitly; an unknown one is a command error that registers nothing.
    call_command("generator_register", str(tiny_generator(tmp_path / "v3")), name="ship-v3", parent="ship-v2")
    assert GeneratorVersion.objects.get(name="ship-v3").parent == v2
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No generator version named 'nope'"):
        call_command("generator_register", str(tmp_path / "v3"), name="ship-v4", parent="nope")
    assert not GeneratorVersion.objects.filter(name="ship-v4").exists()


def test_register_command_and_demo_headshots(corpus_subjects, tmp_path, capsys):
    from generation.models import Headshot

    folder = tiny_generator(tmp_path / "demo")
    call_command("generator_register", str(folder), name="demo-tiny", activate=True)
    call_command("generator_register", str(folder), name="demo-tiny", activate=True, if_missing=True)
    out = capsys.readouterr().out
    assert "Registered demo-tiny (active)." in out
    assert "already registered" in out
    call_command("seed_demo_headshots", candidates=2, subjects=3)
    assert "Generated candidates for" in capsys.readouterr().out
    assert Headshot.objects.count() >= 2
    assert Headshot.objects.values("subject").distinct().count() == Headshot.objects.count() // 2
