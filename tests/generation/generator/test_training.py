"""Generator training as a job on stored crops, and the held-out split."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from generation.faces.services import face_corpus_import
from generation.generator.services import generator_version_register
from generation.generator.training import generator_training_start, training_set_build
from generation.models import GeneratorStatus, Subject
from hfplatform.errors import ApplicationError
from hfplatform.jobs.models import JobStatus
from hfplatform.jobs.services import job_run
from tests.factories.generation import tiny_generator

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def corpus_subjects():
    face_corpus_import(limit=14)
    return Subject.objects.all()


def test_training_needs_enough_photos(engineer):
    with pytest.raises(ApplicationError, match="at least 8 accepted photos"):
        training_set_build(image_size=64)


def test_split_keeps_held_out_people_out_of_training(corpus_subjects):
    images, train, heldout, groups = training_set_build(image_size=64, heldout_fraction=0.25)
    assert images.shape[1:] == (128, 128, 3)  # degraded at the largest crop size, then shrunk
    assert len(images) == len(train) == len(groups)
    assert set(groups) <= {"very_light", "light", "intermediate", "tan", "brown", "dark", None}
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
    assert done.result["group_balance"] == 0.0
    assert done.result["group_shares"]["draws"] == done.result["group_shares"]["photos"]


def test_a_balanced_training_job_records_its_group_shares(corpus_subjects, engineer, settings, tmp_path):
    settings.GENERATOR_ROOT = tmp_path / "generators"
    with pytest.raises(ApplicationError, match="group_balance must be between 0 and 1"):
        generator_training_start(started_by=engineer, name="tiny-balanced", steps=2, group_balance=1.5)
    job = generator_training_start(started_by=engineer, name="tiny-balanced", steps=2, batch_size=2,
                                   group_balance=1.0, enqueue=False)
    done = job_run(job_id=job.pk)
    assert done.status == JobStatus.SUCCEEDED, done.error
    shares = done.result["group_shares"]
    assert sum(shares["draws"].values()) == pytest.approx(1.0)
    for share in shares["draws"].values():  # every group equally often
        assert share == pytest.approx(1 / len(shares["draws"]))
    from generation.models import GeneratorVersion

    assert "skin-tone groups balanced at 1.0" in GeneratorVersion.objects.get(name="tiny-balanced").notes


def test_fine_tuning_job_starts_from_its_parent_and_keeps_its_held_out_people(
        corpus_subjects, engineer, settings, tmp_path):
    import torch

    from generation.generator.services import generator_load
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


def test_a_fine_tuning_job_grows_its_parent_to_128_px(corpus_subjects, engineer, settings, tmp_path):
    import torch

    from generation.generator.services import generator_load
    from generation.models import GeneratorVersion

    settings.GENERATOR_ROOT = tmp_path / "generators"
    parent = generator_version_register(name="tiny-64",
                                        files_dir=tiny_generator(tmp_path / "p", attention=True))
    job = generator_training_start(started_by=engineer, name="tiny-128", steps=1, batch_size=2,
                                   parent="tiny-64", image_size=128, enqueue=False)
    done = job_run(job_id=job.pk)
    assert done.status == JobStatus.SUCCEEDED, done.error
    child = GeneratorVersion.objects.get(name="tiny-128")
    assert "fine-tuned from tiny-64 and grown to 128 px" in child.notes
    (small, _, _, _), (grown, grown_config, _, _) = generator_load(parent), generator_load(child)
    assert grown_config.image_size == 128
    assert grown_config.attention_resolutions == (64,)  # the parent's attention level, at twice the side
    a, b = small.state_dict(), grown.state_dict()
    assert a.keys() == b.keys()  # the same network: every weight started from the parent's
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 0.01
    with torch.no_grad():
        out = grown(torch.zeros(1, 6, 128, 128), 10).sample
    assert out.shape == (1, 3, 128, 128)


def test_fine_tuning_refuses_an_unknown_parent_or_another_config(corpus_subjects, engineer, tmp_path):
    generator_version_register(name="tiny-p2", files_dir=tiny_generator(tmp_path / "p2"))
    with pytest.raises(ApplicationError, match="No generator version named 'nobody'") as unknown:
        generator_training_start(started_by=engineer, name="c1", steps=1, parent="nobody")
    assert unknown.value.extra["fields"] == {"parent": ["unknown version"]}
    with pytest.raises(ApplicationError, match="prediction_type must be the parent's") as other:
        generator_training_start(started_by=engineer, name="c2", steps=1, parent="tiny-p2",
                                 prediction_type="epsilon")
    assert other.value.extra["fields"] == {"prediction_type": ["the parent's is 'v_prediction'"]}
    with pytest.raises(ApplicationError, match="image_size must be one of the aligned crop sizes"):
        generator_training_start(started_by=engineer, name="c3", steps=1, parent="tiny-p2", image_size=96)
    from hfplatform.jobs.models import Job

    assert not Job.objects.exists()


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


def test_export_keeps_a_parents_held_out_people_out(corpus_subjects, tmp_path):
    import json

    import numpy as np
    from django.core.management.base import CommandError

    heldout = list(corpus_subjects[:3])
    generator_version_register(name="tiny-parent", files_dir=tiny_generator(tmp_path / "p"), heldout=heldout)
    out = tmp_path / "grow.npz"
    call_command("export_training_set", str(out), "--parent", "tiny-parent", "--image-size", "128")
    info = json.loads(out.with_name("grow.npz.json").read_text())
    assert info["parent"] == "tiny-parent"
    assert set(info["heldout_refs"]) >= {s.source_ref for s in heldout}
    assert not set(info["training_refs"]) & {s.source_ref for s in heldout}
    with np.load(out) as data:
        assert data["images"].shape == (len(info["training_refs"]), 128, 128, 3)
    with pytest.raises(CommandError, match="No generator version named 'nobody'"):
        call_command("export_training_set", str(tmp_path / "x.npz"), "--parent", "nobody")
    assert not (tmp_path / "x.npz").exists()
