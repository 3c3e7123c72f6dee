"""RAFT on a tiny real generator with a reward defined here (mean brightness): which candidates are
kept (checked against a ranking done by hand), the adapter left alone when nothing is kept, and
checkpoint/resume."""

from __future__ import annotations

import pytest
import torch

from generation.ml.generator import sample
from generation.ml.lora import LoraSettings, with_lora
from reward.ml.raft import RaftConfig, candidate_seeds, train_raft
from tests.factories.finetuning import brightness, one_torch_thread, smooth_images, tiny_unet

FAST = {"candidates": 4, "steps_per_round": 6, "batch_size": 4, "learning_rate": 5e-3, "warmup_steps": 1,
        "anchor_share": 0.25, "sample_steps": 3, "save_every": 3, "log_every": 2}


@pytest.fixture(autouse=True)
def _one_thread():
    with one_torch_thread():
        yield


def _model():
    unet, _, sched = tiny_unet(0)
    return with_lora(unet, LoraSettings(rank=4, alpha=4)), sched


def _adapter(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def _data():
    people = smooth_images(3, seed=2) * 0.7
    anchor_clean = smooth_images(4, seed=3)
    return people, (anchor_clean * 0.7, anchor_clean)


def _score(images: torch.Tensor, person: int) -> list[float]:
    return brightness(images)


def test_candidate_seeds_are_distinct_across_rounds_and_people():
    seeds = [s for r in range(3) for p in range(50) for s in candidate_seeds(7, r, p, 8)]
    assert len(set(seeds)) == len(seeds)


def test_a_round_keeps_each_persons_best_candidate_that_beats_the_others_by_the_margin(tmp_path):
    people, anchors = _data()
    model, sched = _model()
    # the first round samples from the parent (a fresh adapter): rank its candidates here by hand
    gaps, rewards, best = [], [], []
    for person in range(len(people)):
        casual = people[person:person + 1].expand(4, -1, -1, -1)
        with torch.no_grad(), model.disable_adapter():
            images = sample(model, sched, casual, steps=3, seeds=candidate_seeds(0, 0, person, 4))
        values = brightness(images)
        top = max(values)
        gaps.append(top - (sum(values) - top) / 3)
        rewards += values
        best.append(top)
    margin = sorted(gaps)[1]  # between the smallest and the largest gap: some people pass, some do not
    passing = [b for b, gap in zip(best, gaps, strict=True) if gap >= margin]
    assert 0 < len(passing) < len(people)

    seen: list[dict] = []
    config = RaftConfig(rounds=1, margin=margin, **FAST)
    result = train_raft(model, sched, people, anchors, _score, config, tmp_path, progress=seen.append)
    first = result["rounds"][0]
    assert first["kept"] == len(passing)
    assert first["people"] == len(people)
    assert first["mean_reward"] == pytest.approx(sum(rewards) / len(rewards), abs=1e-6)
    assert first["mean_kept_reward"] == pytest.approx(sum(passing) / len(passing), abs=1e-6)
    assert first["mean_kept_reward"] > first["mean_reward"]
    assert first["loss"] is not None
    assert [p["step"] for p in result["curve"]] == [2, 4, 6]
    assert [s["step"] for s in seen] == [0, 2, 4, 6]  # the round's ranking, then every log_every steps
    assert seen[0]["kept"] == len(passing)
    assert (tmp_path / "adapter" / "adapter_model.safetensors").exists()

    kept_all = train_raft(_model()[0], sched, people, anchors, _score, RaftConfig(rounds=1, **FAST),
                          tmp_path / "margin0")
    assert kept_all["rounds"][0]["kept"] == len(people)  # margin 0: everyone's best is kept


def test_nothing_is_kept_below_the_margin_and_the_adapter_stays(tmp_path):
    people, anchors = _data()
    model, sched = _model()
    before = _adapter(model)
    config = RaftConfig(rounds=1, margin=10.0, **{**FAST, "sample_steps": 2})
    result = train_raft(model, sched, people, anchors, _score, config, tmp_path)
    assert result["rounds"][0]["kept"] == 0
    assert result["rounds"][0]["loss"] is None
    assert all(torch.equal(before[n], p) for n, p in _adapter(model).items())


class _Interrupt(Exception):
    pass


@pytest.mark.slow
def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(tmp_path):
    people, anchors = _data()
    config = RaftConfig(rounds=2, **FAST)
    whole, sched = _model()
    expected = train_raft(whole, sched, people, anchors, _score, config, tmp_path / "whole")

    def stop(report: dict) -> None:
        if report["step"] == 10:  # round 2, step 4: the last checkpoint is round 2's step 3
            raise _Interrupt

    with pytest.raises(_Interrupt):
        train_raft(_model()[0], sched, people, anchors, _score, config, tmp_path / "run", progress=stop)
    resumed, _ = _model()
    result = train_raft(resumed, sched, people, anchors, _score, config, tmp_path / "run")
    assert [r["kept"] for r in result["rounds"]] == [3, 3]
    assert result["rounds"] == expected["rounds"]
    assert result["curve"] == expected["curve"]
    want = _adapter(whole)
    assert all(torch.equal(want[n], p) for n, p in _adapter(resumed).items())


def test_bad_config_is_refused(tmp_path):
    people, anchors = _data()
    model, sched = _model()
    cases = ((RaftConfig(candidates=1), "candidates"), (RaftConfig(anchor_share=1.0), "anchor_share"),
             (RaftConfig(sampler="euler"), "sampler"), (RaftConfig(rounds=0), "rounds"))
    for bad, words in cases:
        with pytest.raises(ValueError, match=words):
            train_raft(model, sched, people, anchors, _score, bad, tmp_path)
