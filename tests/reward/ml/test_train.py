"""Training through TRL's RewardTrainer: the model learns the reviewers' rule, checkpoints, resume,
cancellation, progress reports and the refusal of too little data."""

from __future__ import annotations

import json
import socket

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from transformers import set_seed

from reward.ml.data import PreferenceExample
from reward.ml.evaluate import evaluate_reward
from reward.ml.model import HeadshotRewardConfig, HeadshotRewardModel, load_reward_model, reward_scores
from reward.ml.options import MIN_PAIRS, RewardTrainConfig
from reward.ml.train import train_reward_model
from tests.factories.preferences import sharpness_pairs

TINY = {"image_size": 32, "channels": (8, 16), "batch_size": 4, "logging_steps": 1, "eval_steps": 2,
        "save_steps": 2}


def tiny(**overrides) -> RewardTrainConfig:
    return RewardTrainConfig(**{**TINY, **overrides})


@pytest.fixture(scope="module")
def few_pairs() -> tuple[list, list]:
    train, _ = sharpness_pairs(range(0, 6), 2, seed=3)
    heldout, _ = sharpness_pairs(range(50, 52), 2, seed=4)
    return train, heldout


def test_reward_model_learns_the_reviewers_rule_on_heldout_subjects(trained, sharpness_data):
    """Reviewers prefer the sharper headshot (10 % of votes flipped): on subjects it never saw, the model
    picks the reviewers' choice and its scores follow sharpness."""
    model = load_reward_model(trained.final)
    report = evaluate_reward(model, sharpness_data.heldout)
    assert report["n"] == 120
    assert report["accuracy"]["value"] >= 0.75
    assert report["accuracy"]["interval"][0] > 0.6  # clearly above chance

    scores = np.array([reward_scores(model, image[None], reference)[0]
                       for image, reference, _ in sharpness_data.heldout_images])
    radius = np.array([r for _, _, r in sharpness_data.heldout_images])
    rho = spearmanr(scores, -radius).statistic
    assert rho >= 0.5

    result = trained.result
    assert result["steps"] == 100
    assert result["train_pairs"] == 256
    assert result["validation_pairs"] == 120
    assert [s for s, _ in result["eval_curve"]] == [50, 100]
    losses = [loss for _, loss in result["loss_curve"]]
    assert losses[-1] < 0.8 * losses[0]
    print(f"held-out accuracy {report['accuracy']['value']:.3f} {report['accuracy']['interval']}, "
          f"sharpness baseline {report['baseline']['value']:.3f}, Spearman {rho:.3f}, "
          f"training {result['seconds']:.1f} s")


def test_progress_reports_rising_steps_and_losses(trained):
    steps = [report["step"] for report in trained.progress if "loss" in report]
    assert steps == list(range(10, 101, 10))
    assert all(report["max_steps"] == 100 for report in trained.progress)
    losses = [report["loss"] for report in trained.progress if "loss" in report]
    assert all(np.isfinite(loss) and loss > 0 for loss in losses)
    evals = [(r["step"], r["eval_accuracy"]) for r in trained.progress if "eval_accuracy" in r]
    assert [step for step, _ in evals] == [50, 100]
    assert all(0 <= accuracy <= 1 for _, accuracy in evals)


def test_checkpoints_resume_and_the_final_model_reloads(tmp_path, few_pairs, monkeypatch):
    connections = []

    def refuse(self, address):
        connections.append(address)
        raise OSError("no network in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)  # nothing may reach a hub
    train, heldout = few_pairs
    first_seen = []
    first = train_reward_model(train, heldout, tiny(max_steps=4), tmp_path, progress=first_seen.append)
    assert first["steps"] == 4
    assert first["start_step"] == 0
    assert [s for s, _ in first["loss_curve"]] == [1, 2, 3, 4]
    assert [s for s, _ in first["eval_curve"]] == [2, 4]
    for step in (2, 4):
        folder = tmp_path / "checkpoints" / f"checkpoint-{step}"
        assert (folder / "model.safetensors").is_file()
        assert (folder / "optimizer.pt").is_file()
        assert (folder / "preprocessor_config.json").is_file()
    assert [r["step"] for r in first_seen if "loss" in r] == [1, 2, 3, 4]

    second_seen = []
    second = train_reward_model(train, heldout, tiny(max_steps=6), tmp_path, progress=second_seen.append)
    assert second["start_step"] == 4
    assert second["steps"] == 6
    assert [s for s, _ in second["loss_curve"]] == [1, 2, 3, 4, 5, 6]  # the curve goes on
    assert second["loss_curve"][:4] == first["loss_curve"]
    assert [r["step"] for r in second_seen if "loss" in r] == [5, 6]
    assert second["checkpoint"].endswith("checkpoint-6")

    # The final model is the checkpoint with the lowest validation loss (kept beside the last one).
    model = load_reward_model(second["final"])
    assert second["best_step"] in (2, 4, 6)
    checkpoint = load_reward_model(tmp_path / "checkpoints" / f"checkpoint-{second['best_step']}")
    assert model.config.image_size == 32
    assert model.config.channels == [8, 16]
    headshots = np.stack([pair.chosen for pair in heldout])
    scores = reward_scores(model, headshots, heldout[0].reference)
    reloaded = load_reward_model(second["final"])
    assert np.array_equal(scores, reward_scores(reloaded, headshots, heldout[0].reference))
    assert np.array_equal(scores, reward_scores(checkpoint, headshots, heldout[0].reference))
    saved = json.loads((tmp_path / "final" / "training.json").read_text())
    assert saved["steps"] == 6

    set_seed(0)  # the run's initial weights: every parameter has been trained
    initial = HeadshotRewardModel(HeadshotRewardConfig(image_size=32, channels=[8, 16]))
    for (name, before), after in zip(initial.named_parameters(), model.parameters(), strict=True):
        assert not torch.equal(before, after), name
    assert connections == []


def test_resumed_run_matches_an_uninterrupted_one(tmp_path, few_pairs):
    train, _ = few_pairs
    straight = train_reward_model(train, [], tiny(max_steps=5), tmp_path / "a")
    seen = []  # the same run, stopped after two steps as a killed worker would be
    stopped = train_reward_model(train, [], tiny(max_steps=5), tmp_path / "b", progress=seen.append,
                                 should_stop=lambda: len(seen) >= 2)
    assert stopped["stopped"] is True
    assert 0 < stopped["steps"] < 5
    resumed = train_reward_model(train, [], tiny(max_steps=5), tmp_path / "b")
    assert resumed["start_step"] == stopped["steps"]
    assert [loss for _, loss in resumed["loss_curve"]] == pytest.approx(
        [loss for _, loss in straight["loss_curve"]], rel=1e-4)


def test_should_stop_ends_training_cleanly_and_it_can_resume(tmp_path, few_pairs):
    train, heldout = few_pairs
    seen = []
    stopped = train_reward_model(train, heldout, tiny(max_steps=50, save_steps=20), tmp_path,
                                 progress=seen.append, should_stop=lambda: len(seen) >= 3)
    assert stopped["stopped"] is True
    assert stopped["steps"] == 3
    assert (tmp_path / "checkpoints" / "checkpoint-3" / "model.safetensors").is_file()
    assert (tmp_path / "final" / "model.safetensors").is_file()
    done = train_reward_model(train, heldout, tiny(max_steps=4), tmp_path)
    assert (done["start_step"], done["steps"], done["stopped"]) == (3, 4, False)


def test_resume_false_starts_over_and_other_pairs_are_refused(tmp_path, few_pairs):
    train, _ = few_pairs
    train_reward_model(train, [], tiny(max_steps=2), tmp_path)
    with pytest.raises(ValueError, match="other pairs"):
        train_reward_model(train[::-1], [], tiny(max_steps=3), tmp_path)
    options = {"use_margin": True, "center_rewards_coefficient": 0.01}  # TRL's options go through
    again = train_reward_model(train[::-1], [], tiny(max_steps=1, **options), tmp_path, resume=False)
    assert (again["start_step"], again["steps"]) == (0, 1)
    assert np.isfinite(again["loss_curve"][0][1])


def test_too_few_pairs_are_refused_with_a_clear_message(tmp_path, few_pairs):
    train, _ = few_pairs
    with pytest.raises(ValueError, match=f"at least {MIN_PAIRS} training pairs, got {MIN_PAIRS - 1}"):
        train_reward_model(train[:MIN_PAIRS - 1], [], tiny(), tmp_path)
    assert not (tmp_path / "checkpoints").exists()


def test_validation_people_choose_when_to_stop_and_which_model_to_keep(tmp_path, sharpness_data):
    """Validation pairs that reverse the training rule: the better the model learns the rule, the worse
    its validation loss, so training stops after ``patience`` evaluations and keeps the first model."""
    train = sharpness_data.train
    reversed_validation = [PreferenceExample(chosen=p.rejected, rejected=p.chosen, reference=p.reference)
                           for p in sharpness_data.heldout[:40]]
    config = tiny(max_steps=200, eval_steps=10, save_steps=10, early_stopping_patience=2, logging_steps=5,
                  learning_rate=3e-3)
    stopped = train_reward_model(train, reversed_validation, config, tmp_path / "reversed")
    assert stopped["stopped_early"] is True
    assert stopped["steps"] < 200
    losses = dict(stopped["eval_loss_curve"])
    assert stopped["best_step"] == min(losses, key=losses.get)
    assert stopped["steps"] == stopped["best_step"] + 2 * 10  # two evaluations without a lower loss
    final = load_reward_model(stopped["final"])
    best = load_reward_model(tmp_path / "reversed" / "checkpoints" / f"checkpoint-{stopped['best_step']}")
    headshots = np.stack([p.chosen for p in sharpness_data.heldout[:6]])
    reference = sharpness_data.heldout[0].reference
    scores = reward_scores(final, headshots, reference)
    assert np.array_equal(scores, reward_scores(best, headshots, reference))

    without = train_reward_model(train, [], tiny(max_steps=30, logging_steps=5), tmp_path / "none")
    assert without["steps"] == 30  # no validation pairs: the cap is the length
    assert without["stopped_early"] is False
    assert without["best_step"] == 30
