"""The feedback loop in one call: refusals before anything is created, and a tiny round end to end
(two datasets on disjoint people, a reward model on each, the fine-tuned child with its lineage, the
gate judged by the judging reward model, promotion exactly when it passed)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from generation.generator.services import generator_version_register
from generation.models import GeneratorVersion
from hfplatform.errors import ApplicationError
from hfplatform.jobs.models import Job, JobStatus
from monitoring.feedback_loop import feedback_loop_run, loop_people_split
from monitoring.models import PromotionDecision
from reward.models import GeneratorFineTuning, PreferenceDataset, RewardModelVersion
from reward.services import preference_dataset_create
from tests.factories.generation import tiny_generator
from tests.factories.review import compare_all

pytestmark = pytest.mark.django_db

LORA = {"rank": 4, "alpha": 4}
DPO_HYPER = {"max_steps": 4, "batch_size": 2, "eval_every": 2, "save_every": 2, "log_every": 1,
             "warmup_steps": 1, "validation_draws": 1, "beta": 500.0}
REWARD_HYPER = {"model": "statistics", "max_steps": 10}
GATE = {"steps": 2, "candidates": 1}


@pytest.fixture
def loop_world(review_world, make_campaign, make_user, settings, tmp_path):
    """8 people whose 4 headshots a reviewer compared (the lower candidate index wins), 6 pairs each."""
    settings.GENERATOR_ROOT = tmp_path / "generators"
    settings.REWARD_ROOT = tmp_path / "reward"
    world = review_world(subjects=8, per_subject=4, portraits=0)
    campaign = make_campaign(world, task_kinds=["pairwise"], overlap=1, pairs_per_job=6)
    compare_all(campaign, make_user("reviewer"),
                lambda item: "a" if item.headshot.candidate_index < item.headshot_b.candidate_index else "b")
    world.campaign = campaign
    return world


def _active_parent(tmp_path, heldout):
    return generator_version_register(name="loop-parent", heldout=heldout, activate=True,
                                      files_dir=tiny_generator(tmp_path / "parent", attention=True))


def _counts() -> tuple[int, ...]:
    return (Job.objects.count(), PreferenceDataset.objects.count(), RewardModelVersion.objects.count(),
            GeneratorFineTuning.objects.count(), GeneratorVersion.objects.count(),
            PromotionDecision.objects.count())


def test_the_people_split_is_seeded_disjoint_and_never_empty():
    tuning, judging = loop_people_split(range(1, 11), judge_share=0.5, seed=3)
    assert sorted(tuning + judging) == list(range(1, 11))
    assert len(judging) == 5
    assert loop_people_split(set(range(10, 0, -1)), judge_share=0.5, seed=3) == (tuning, judging)
    assert loop_people_split(range(1, 11), judge_share=0.5, seed=4) != (tuning, judging)
    assert [len(part) for part in loop_people_split([1, 2], judge_share=0.99, seed=0)] == [1, 1]


def test_a_dataset_of_some_people_keeps_only_their_pairs(loop_world, engineer):
    people = [s.pk for s in loop_world.subjects[:3]]
    dataset = preference_dataset_create(name="three", campaign_ids=[loop_world.campaign.pk],
                                        created_by=engineer, subjects=people)
    assert set(dataset.pairs.values_list("subject_id", flat=True)) == set(people)
    assert dataset.options["subjects"] == sorted(people)
    with pytest.raises(ApplicationError) as refused:
        preference_dataset_create(name="none", campaign_ids=[loop_world.campaign.pk], created_by=engineer,
                                  subjects=[])
    assert "subjects" in refused.value.extra["fields"]


@pytest.mark.parametrize(("change", "field"), [
    ({"campaign_ids": [999999]}, "campaigns"),
    ({"campaign_ids": []}, "campaigns"),
    ({"method": "ppo"}, "method"),
    ({"judge_share": 1.0}, "judge_share"),
    ({"judge_share": 0.95}, "judge_share"),  # a one-person tuning part
    ({"name": "Not a slug"}, "name"),
    ({"name": "loop-parent"}, "name"),  # taken
    ({"lora": {"rank": 0}}, "lora"),
    ({"hyper": {"rounds": 2}}, "hyper.rounds"),  # a RAFT setting on a DPO loop
    ({"reward_hyper": {"max_steps": 1}}, "max_steps"),
    ({"gate": {"judge": "x"}}, "gate"),
    ({"gate": {"people": 2}}, "gate.people"),
])
def test_bad_input_is_refused_before_anything_is_created(loop_world, tmp_path, engineer, change, field):
    _active_parent(tmp_path, loop_world.subjects[:4])  # their sketches stand in for the gate's people
    before = _counts()
    request = {"campaign_ids": [loop_world.campaign.pk], "method": "dpo", "name": "loop-child", "lora": LORA,
               "hyper": DPO_HYPER, "reward_hyper": REWARD_HYPER, "gate": GATE, **change}
    with pytest.raises(ApplicationError) as refused:
        feedback_loop_run(started_by=engineer, **request)
    assert field in refused.value.extra.get("fields", {}), refused.value.message
    assert _counts() == before


def test_without_an_active_version_nothing_starts(loop_world, engineer):
    before = _counts()
    with pytest.raises(ApplicationError, match="No generator version is active"):
        feedback_loop_run(campaign_ids=[loop_world.campaign.pk], method="dpo", name="loop-child",
                          started_by=engineer)
    assert _counts() == before


def test_the_command_turns_bad_input_into_a_command_error(loop_world, tmp_path):
    _active_parent(tmp_path, None)
    before = _counts()
    with pytest.raises(CommandError, match="Unknown campaign"):
        call_command("feedback_loop", "--campaign", "999999", "--method", "dpo", "--name", "loop-child")
    with pytest.raises(CommandError, match="does not apply to dpo"):
        call_command("feedback_loop", "--campaign", str(loop_world.campaign.pk), "--method", "dpo",
                     "--name", "loop-child", "--rounds", "2")
    assert _counts() == before


@pytest.mark.slow
def test_one_round_chains_datasets_reward_models_fine_tune_gate_and_promotion(loop_world, corpus_subjects,
                                                                             tmp_path, engineer):
    corpus_people = [s for s in corpus_subjects if s.source == "corpus"][:5]  # not the campaign's people
    parent = _active_parent(tmp_path, corpus_people)
    said: list[str] = []
    result = feedback_loop_run(
        campaign_ids=[loop_world.campaign.pk], method="dpo", started_by=engineer, name="loop-child",
        lora=LORA, hyper=DPO_HYPER, reward_hyper=REWARD_HYPER, gate={**GATE, "people": 4}, say=said.append)
    assert not result.failed_step, result.error

    # Two datasets of the campaign on disjoint people, together everyone who answered about.
    tuning, judging = result.tuning_dataset, result.judging_dataset
    tuning_people = set(tuning.pairs.values_list("subject_id", flat=True))
    judging_people = set(judging.pairs.values_list("subject_id", flat=True))
    assert tuning_people
    assert judging_people
    assert not tuning_people & judging_people
    assert tuning_people | judging_people == {s.pk for s in loop_world.subjects}
    assert tuning.options["subjects"] == sorted(tuning_people)
    assert tuning.campaigns == judging.campaigns == [loop_world.campaign.pk]

    # A trained reward model on each.
    assert result.tuning_reward_model.dataset == tuning
    assert result.judge.dataset == judging
    assert {result.tuning_reward_model.status, result.judge.status} == {"candidate"}

    # The child version: its lineage names the tuning dataset and reward model, never the judge's.
    child = result.candidate
    assert child.parent == parent
    lineage = child.training_config
    assert lineage["method"] == "dpo"
    assert lineage["preference_dataset"]["name"] == tuning.name
    assert lineage["reward_model"]["name"] == result.tuning_reward_model.name
    assert judging.name not in str(lineage)
    assert result.judge.name not in str(lineage)

    # The stored decision: judged by the judging reward model, against the parent (the active version).
    decision = PromotionDecision.objects.get(pk=result.decision.pk)
    assert decision.judge == result.judge
    assert decision.training_reward_model == result.tuning_reward_model.name
    assert (decision.candidate, decision.baseline) == (child, parent)

    # Each step is a job started by the engineer; promoted exactly when the gate passed.
    jobs = [job for step in result.jobs.values() for job in step]
    assert [j.kind for j in jobs] == ["feedback_loop_datasets", "reward_training", "reward_training",
                                     "generator_finetune", "promotion_gate"]
    assert all(j.status == JobStatus.SUCCEEDED and j.started_by == engineer for j in jobs)
    child.refresh_from_db()
    assert result.promoted == decision.promoted == (decision.outcome == "passed")
    assert (child.status == "active") == result.promoted
    assert any(line.startswith("gate:") for line in said)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # the command runs the loop in a thread with its own connection
def test_the_command_prints_each_step_and_the_gate_table(loop_world, corpus_subjects, tmp_path, make_user):
    from io import StringIO

    corpus_people = [s for s in corpus_subjects if s.source == "corpus"][:5]
    _active_parent(tmp_path, corpus_people)
    make_user("ml_engineer", username="loop-runner")
    out = StringIO()
    arguments = ["feedback_loop", "--campaign", str(loop_world.campaign.pk), "--method", "dpo", "--name",
                 "loop-cmd", "--rank", "4", "--steps", "3", "--beta", "500", "--gate-people", "4",
                 "--gate-steps", "2", "--reward-steps", "10", "--reward-kind", "statistics", "--no-promote",
                 "--user", "loop-runner"]
    error = ""
    try:
        call_command(*arguments, stdout=out)
    except CommandError as exc:  # the exit status of a refusal
        error = str(exc)
    text = out.getvalue()
    decision = PromotionDecision.objects.get(candidate__name="loop-cmd")
    assert ("Refused by the promotion gate" in error) == (decision.outcome != "passed")
    for step in ("datasets: job", "reward models: job", "fine-tune: job", "gate: job"):
        assert step in text
    assert f"Decision: {decision.outcome.upper()}" in text
    assert f"judge {decision.judge_name}" in text
    assert decision.judge.name == "loop-cmd-judge"
    assert not decision.promoted  # --no-promote
    loop_jobs = Job.objects.exclude(kind="generation")  # the world's own generation jobs
    assert loop_jobs.count() == 5
    assert set(loop_jobs.values_list("started_by__username", flat=True)) == {"loop-runner"}
