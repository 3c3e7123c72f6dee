"""Fine-tuning a generator from feedback as a job: refusals before anything is created, a tiny
Diffusion-DPO run end to end (child version with its lineage, parent untouched, merged weights that
load), RAFT with a tiny reward model, resume after a killed worker, and failure leaving nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from generation.generator.services import generator_files, generator_load, generator_version_register
from generation.models import GeneratorStatus, GeneratorVersion
from hfplatform.jobs.models import Job, JobStatus
from hfplatform.jobs.services import job_run, jobs_recover
from reward.finetuning import finetune_dir, generator_finetune_start
from reward.models import GeneratorFineTuning, RewardModelVersion
from tests.factories.generation import tiny_generator
from tests.factories.review import compare_all

pytestmark = pytest.mark.django_db

#: A few steps of everything, evaluated and checkpointed every other step.
DPO_HYPER = {"max_steps": 4, "batch_size": 2, "eval_every": 2, "save_every": 2, "log_every": 1,
             "warmup_steps": 1, "validation_draws": 1}
RAFT_HYPER = {"rounds": 2, "candidates": 2, "steps_per_round": 2, "sample_steps": 2, "batch_size": 2,
              "log_every": 1, "save_every": 1, "warmup_steps": 1}


def _files_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def parent(tmp_path, settings):
    settings.GENERATOR_ROOT = tmp_path / "generators"
    return generator_version_register(name="tiny-parent",
                                      files_dir=tiny_generator(tmp_path / "parent", attention=True))


@pytest.fixture
def world(review_world):
    return review_world(subjects=5, per_subject=4, portraits=0)


@pytest.fixture
def dataset(world, make_campaign, make_user, engineer_user):
    """Reviewers prefer the lower candidate index; 1 of the 5 people is the dataset's test split."""
    from reward.services import preference_dataset_create

    campaign = make_campaign(world, task_kinds=["pairwise"], overlap=1)
    compare_all(campaign, make_user("reviewer"),
                lambda item: "a" if item.headshot.candidate_index < item.headshot_b.candidate_index else "b")
    return preference_dataset_create(name="lower-index", campaign_ids=[campaign.pk], created_by=engineer_user,
                                     test_share=0.2)


@pytest.fixture
def reward_model(dataset, tmp_path):
    """An untrained (seeded) reward network saved as a trained candidate is."""
    import torch

    from reward.ml.model import HeadshotRewardConfig, HeadshotRewardModel

    torch.manual_seed(3)
    folder = tmp_path / "reward-model"
    HeadshotRewardModel(HeadshotRewardConfig()).save_pretrained(folder)
    return RewardModelVersion.objects.create(name="rm-tiny", dataset=dataset, dimension="overall",
                                             dataset_fingerprint=dataset.fingerprint, status="candidate",
                                             files_dir=str(folder))


def _nothing_started() -> None:
    assert not GeneratorFineTuning.objects.exists()
    assert not Job.objects.filter(kind="generator_finetune").exists()


# --- Refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "field"), [
    ({"parent": "no-such-version"}, "parent"),
    ({"method": "ppo"}, "method"),
    ({"name": "tiny-parent"}, "name"),  # taken
    ({"name": "Not a slug!"}, "name"),
    ({"dataset": None}, "dataset"),  # DPO learns from pairs
    ({"dataset": 999999}, "dataset"),
    ({"dimension": "sparkle"}, "dimension"),
    ({"lora": {"rank": 0}}, "lora.rank"),
    ({"lora": {"rank": 65}}, "lora.rank"),
    ({"lora": {"dropout": 0.9}}, "lora.dropout"),
    ({"lora": {"size": 4}}, "lora.size"),
    ({"hyper": {"beta": -1.0}}, "hyper.beta"),
    ({"hyper": {"max_steps": 0}}, "hyper.max_steps"),
    ({"hyper": {"rounds": 2}}, "hyper.rounds"),  # a RAFT setting on a DPO run
])
def test_bad_dpo_requests_are_a_400_naming_the_field_and_create_nothing(api_client_for, parent, dataset,
                                                                         change, field):
    body = {"parent": parent.name, "method": "dpo", "name": "tiny-dpo", "dataset": dataset.pk,
            "lora": {"rank": 4}, "hyper": DPO_HYPER}
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    response = api_client_for("ml_engineer").post("/api/generator/finetunes/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"], response.json()
    assert response.json()["detail"]
    _nothing_started()


def test_a_retired_parent_is_refused(api_client_for, parent, dataset):
    GeneratorVersion.objects.filter(pk=parent.pk).update(status=GeneratorStatus.RETIRED)
    response = api_client_for("ml_engineer").post("/api/generator/finetunes/", {
        "parent": parent.name, "method": "dpo", "name": "tiny-dpo", "dataset": dataset.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "parent_retired"
    _nothing_started()


def test_a_parent_without_attention_needs_the_convolutions(api_client_for, dataset, tmp_path):
    plain = generator_version_register(name="plain", files_dir=tiny_generator(tmp_path / "plain"))
    response = api_client_for("ml_engineer").post("/api/generator/finetunes/", {
        "parent": plain.name, "method": "dpo", "name": "tiny-dpo", "dataset": dataset.pk}, format="json")
    assert response.status_code == 400
    assert "lora.include_convs" in response.json()["fields"]
    _nothing_started()


def test_too_few_usable_pairs_says_how_many_are_needed(parent, dataset, engineer_user):
    from hfplatform.errors import ApplicationError

    train = dataset.pairs.filter(split="train", dimension="overall")
    train.exclude(pk__in=list(train.values_list("pk", flat=True)[:5])).delete()
    with pytest.raises(ApplicationError, match=r"has 5 usable training pairs .* at least 6") as refused:
        generator_finetune_start(parent=parent, method="dpo", started_by=engineer_user, name="tiny-dpo",
                                 dataset=dataset, hyper=DPO_HYPER)
    assert refused.value.extra["fields"] == {"dataset": [refused.value.message]}
    assert refused.value.code == "too_few_pairs"
    _nothing_started()


def test_pairs_of_two_source_photos_ties_and_held_out_people_are_left_out(parent, dataset, world):
    from reward.finetuning_data import dpo_pair_rows

    everyone = dpo_pair_rows(dataset=dataset, parent=parent, dimension="overall", seed=0)
    assert everyone.dropped == {}
    assert everyone.split == "dataset"
    pair = everyone.train[0]
    stranger = next(h for h in world.headshots if h.subject_id != pair.subject_id)
    pair.rejected.source_photo = stranger.source_photo
    pair.rejected.save(update_fields=["source_photo"])
    dataset.pairs.filter(pk=everyone.train[1].pk).update(tie=True)
    parent.heldout_subjects = [everyone.validation[0].subject_id]  # the dataset's only test person
    rows = dpo_pair_rows(dataset=dataset, parent=parent, dimension="overall", seed=0)
    moved = [p for p in everyone.train[2:] if pair.rejected_id in (p.chosen_id, p.rejected_id)]
    assert rows.dropped == {"different_source_photos": 1 + len(moved), "ties": 1,
                            "heldout_people": len(everyone.validation)}
    assert rows.split == "seeded"  # no test pairs left: a seeded share of the training people validates
    assert rows.validation
    assert not {p.subject_id for p in rows.train} & set(rows.validation_people)


@pytest.mark.parametrize(("change", "code"), [
    ({"reward_model": None}, "invalid"),
    ({"reward_model": "no-such-model"}, "unknown_reward_model"),
    ({"status": "training"}, "reward_model_not_trained"),
    ({"status": "failed"}, "reward_model_not_trained"),
    ({"hyper": {"candidates": 1}}, "invalid"),
])
def test_bad_raft_requests_are_refused(api_client_for, parent, reward_model, change, code):
    if "status" in change:
        RewardModelVersion.objects.filter(pk=reward_model.pk).update(status=change.pop("status"))
    body = {"parent": parent.name, "method": "raft", "name": "tiny-raft", "reward_model": reward_model.name,
            **change}
    body = {k: v for k, v in body.items() if v is not None}
    response = api_client_for("ml_engineer").post("/api/generator/finetunes/", body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == code
    _nothing_started()


# --- Runs -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_dpo_fine_tune_registers_a_child_version_with_its_lineage(api_client_for, parent, dataset, world,
                                                                  tmp_path):
    import torch

    from generation.ml.generator import load_generator, sample
    from generation.ml.lora import load_adapter

    held_out = world.subjects[0].pk
    GeneratorVersion.objects.filter(pk=parent.pk).update(heldout_subjects=[held_out])
    parent.refresh_from_db()
    before = _files_digest(generator_files(parent))
    engineer = api_client_for("ml_engineer")
    started = engineer.post("/api/generator/finetunes/", {
        "parent": parent.name, "method": "dpo", "name": "tiny-dpo", "dataset": dataset.pk,
        "lora": {"rank": 4, "alpha": 4}, "hyper": {**DPO_HYPER, "beta": 500.0}}, format="json")
    assert started.status_code == 202, started.json()
    body = started.json()
    assert body["status"] == "queued"
    assert body["child"] is None
    assert body["config"]["hyper"]["learning_rate"] == 5e-4  # every default recorded
    assert body["config"]["lora"] == {"rank": 4, "alpha": 4, "dropout": 0.0, "include_convs": False}
    assert body["fingerprints"]["preference_dataset"] == {"name": dataset.name,
                                                          "fingerprint": dataset.fingerprint}
    pairs = body["config"]["pairs"]
    assert pairs["dropped"].get("heldout_people", 0) > 0  # the parent's held-out person is never trained on
    finetuning = GeneratorFineTuning.objects.get(pk=body["id"])
    assert held_out not in {p.subject_id for p in dataset.pairs.filter(split="train")} or \
        held_out not in pairs["validation_people"]

    job = job_run(job_id=body["job"]["id"])
    assert job.status == JobStatus.SUCCEEDED, job.error
    child = GeneratorVersion.objects.get(name="tiny-dpo")
    assert child.status == GeneratorStatus.CANDIDATE
    assert child.parent == parent
    assert child.image_size == parent.image_size
    assert child.heldout_subjects == [held_out]
    assert child.training_job_id == job.pk
    assert child.created_by == engineer.user
    config = child.training_config
    assert config["method"] == "dpo"
    assert config["parent"] == "tiny-parent"
    assert config["lora"]["rank"] == 4
    assert config["hyper"]["beta"] == 500.0
    assert config["preference_dataset"]["fingerprint"] == dataset.fingerprint
    assert config["reward_model"] is None
    assert config["started_by"] == engineer.user.username
    assert config["seeds"] == {"lora_init": 0, "training": 0}
    assert config["result"]["steps"] == 4
    assert config["result"]["best_step"] in (2, 4)
    adapter = Path(config["adapter_dir"])
    assert (adapter / "adapter_config.json").exists()
    assert (adapter / "adapter_model.safetensors").exists()
    finetuning.refresh_from_db()
    assert finetuning.child == child
    assert finetuning.adapter_dir == str(adapter)
    assert finetuning.status == JobStatus.SUCCEEDED
    # The job page draws the curve from the result: loss by step, validation implicit accuracy as dots.
    assert [s for s, _ in job.result["loss_curve"]] == [2, 4]
    assert all(0 <= acc <= 1 for _, acc in job.result["eval_curve"])

    # The parent's files are untouched; the child's merged weights load and equal parent + adapter.
    assert _files_digest(generator_files(parent)) == before
    unet, _, scheduler, _ = generator_load(child)
    base, _, _, _ = load_generator(generator_files(parent))
    with_adapter = load_adapter(base, adapter)
    casual = torch.rand(1, 3, 64, 64) * 2 - 1
    merged_out = sample(unet, scheduler, casual, steps=2, seeds=[1])
    adapter_out = sample(with_adapter, scheduler, casual, steps=2, seeds=[1])
    assert torch.allclose(merged_out, adapter_out, atol=1e-4)
    trained = [p for n, p in with_adapter.named_parameters() if "lora_B" in n]
    assert any(float(p.abs().max()) > 0 for p in trained)  # the adapter learnt something

    detail = engineer.get(f"/api/generator/finetunes/{finetuning.pk}/").json()
    assert detail["child"] == "tiny-dpo"
    assert detail["lineage"] == ["tiny-parent"]
    assert detail["status"] == "succeeded"
    assert detail["job"]["progress"] == 100
    listed = api_client_for("auditor").get("/api/generator/finetunes/").json()
    assert [row["name"] for row in listed] == ["tiny-dpo"]


@pytest.mark.slow
def test_raft_fine_tune_with_a_tiny_reward_model(parent, reward_model, engineer_user):
    finetuning = generator_finetune_start(parent=parent, method="raft", started_by=engineer_user,
                                          name="tiny-raft", reward_model=reward_model.name,
                                          lora={"rank": 2}, hyper=RAFT_HYPER, enqueue=False)
    assert finetuning.dataset == reward_model.dataset  # the reward model's dataset is recorded
    assert len(finetuning.config["people"]) == 5
    job = job_run(job_id=finetuning.job_id)
    assert job.status == JobStatus.SUCCEEDED, job.error
    child = GeneratorVersion.objects.get(name="tiny-raft")
    config = child.training_config
    assert config["method"] == "raft"
    assert child.parent == parent
    assert config["reward_model"] == {"name": "rm-tiny",
                                      "dataset_fingerprint": reward_model.dataset_fingerprint}
    rounds = config["result"]["rounds"]
    assert [r["round"] for r in rounds] == [0, 1]
    assert all(r["people"] == 5 for r in rounds)
    assert [r for r, _ in job.result["reward_curve"]] == [0, 1]
    assert job.result["loss_curve"]
    generator_load(child)  # the merged weights load


class WorkerKilled(BaseException):
    """What a killed worker looks like to the code after it: the handler never returns or fails."""


@pytest.mark.slow
def test_a_killed_fine_tune_resumes_from_its_checkpoint_and_finishes(parent, dataset, engineer_user,
                                                                     monkeypatch):
    from reward import finetuning as module

    finetuning = generator_finetune_start(parent=parent, method="dpo", started_by=engineer_user,
                                          name="tiny-dpo", dataset=dataset, lora={"rank": 2},
                                          hyper=DPO_HYPER, enqueue=False)
    report = module._Curves.__call__

    def dies_at_step_3(self, event):
        report(self, event)
        if event["step"] == 3:
            raise WorkerKilled

    monkeypatch.setattr(module._Curves, "__call__", dies_at_step_3)
    with pytest.raises(WorkerKilled):
        job_run(job_id=finetuning.job_id)
    job = Job.objects.get(pk=finetuning.job_id)
    assert job.status == JobStatus.RUNNING
    assert job.result["loss_curve"]
    assert (finetune_dir(finetuning) / "checkpoint" / "state.pt").exists()
    assert not GeneratorVersion.objects.filter(name="tiny-dpo").exists()

    monkeypatch.setattr(module._Curves, "__call__", report)
    assert jobs_recover(on_startup=True)["resumed"] == 1  # a starting consumer finds it
    job = job_run(job_id=finetuning.job_id)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts == 2
    assert "resuming" in job.log_tail
    assert job.result["start_step"] == 2
    assert job.result["steps"] == 4
    assert GeneratorVersion.objects.get(name="tiny-dpo").parent == parent


def test_a_failed_registration_leaves_no_version_and_no_files(parent, dataset, engineer_user, monkeypatch):
    finetuning = generator_finetune_start(parent=parent, method="dpo", started_by=engineer_user,
                                          name="tiny-dpo", dataset=dataset, lora={"rank": 2},
                                          hyper={**DPO_HYPER, "max_steps": 2}, enqueue=False)

    def disk_full(**kwargs):
        GeneratorVersion.objects.create(name=kwargs["name"], files_dir=str(kwargs["files_dir"]))
        raise OSError("disk full")

    monkeypatch.setattr("reward.finetuning.generator_version_register", disk_full)
    job = job_run(job_id=finetuning.job_id)
    assert job.status == JobStatus.FAILED
    assert "disk full" in job.error
    assert not GeneratorVersion.objects.filter(name="tiny-dpo").exists()
    assert not finetune_dir(finetuning).exists()
    finetuning.refresh_from_db()
    assert finetuning.child is None
    assert finetuning.status == JobStatus.FAILED


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_command_runs_a_fine_tune_and_refuses_bad_input(parent, dataset, capsys):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="LoRA rank must be"):
        call_command("finetune_generator", parent=parent.name, method="dpo", name="cmd-dpo",
                     dataset=dataset.pk, rank=0)
    with pytest.raises(CommandError, match="does not apply to dpo"):
        call_command("finetune_generator", parent=parent.name, method="dpo", name="cmd-dpo",
                     dataset=dataset.pk, rounds=2)
    call_command("finetune_generator", parent=parent.name, method="dpo", name="cmd-dpo", dataset=dataset.pk,
                 rank=2, steps=2, batch_size=2, hyper=["eval_every=1", "save_every=1", "validation_draws=1"])
    out = capsys.readouterr().out
    assert "Registered generator cmd-dpo (candidate), fine-tuned from tiny-parent." in out
    assert GeneratorVersion.objects.get(name="cmd-dpo").training_config["hyper"]["max_steps"] == 2


def test_the_fine_tunings_page_shows_progress_and_links_the_job(client_for, parent, dataset, engineer_user):
    finetuning = generator_finetune_start(parent=parent, method="dpo", started_by=engineer_user,
                                          name="tiny-dpo", dataset=dataset, hyper=DPO_HYPER, enqueue=False)
    Job.objects.filter(pk=finetuning.job_id).update(
        status="running", progress=50,
        result={"loss_curve": [[1, 0.69], [2, 0.6]], "eval_curve": [[2, 0.75]]})
    page = client_for("auditor").get("/reward/finetunes/").content.decode()
    assert "tiny-dpo" in page
    assert f"/jobs/{finetuning.job_id}/" in page
    assert "<polyline" in page
    assert "0.750" in page
    assert 'aria-valuenow="50"' in page
