"""Diffusion-DPO on a tiny real generator: the loss against numbers worked out by hand, the SNR weighting
of the clean-image loss, training that learns a preference (brighter winners), early stopping on the
validation implicit accuracy, and a resumed run that ends exactly where an uninterrupted one does."""

from __future__ import annotations

import math

import pytest
import torch

from generation.ml.generator import make_scheduler
from generation.ml.lora import LoraSettings, load_adapter, with_lora
from reward.ml.dpo import DpoConfig, DpoPairs, diffusion_losses, dpo_loss, train_dpo
from tests.factories.finetuning import brightness_pairs, one_torch_thread, tiny_unet


@pytest.fixture(autouse=True)
def _one_thread():
    with one_torch_thread():
        yield


FAST = {"learning_rate": 5e-3, "batch_size": 4, "warmup_steps": 1, "weight_decay": 0.0, "validation_draws": 1}


def _model(seed: int = 0):
    unet, _, sched = tiny_unet(seed)
    return with_lora(unet, LoraSettings(rank=4, alpha=4)), sched


def _adapter(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def test_dpo_loss_matches_a_hand_computed_case():
    # pair 1: (0.10 − 0.15) − (0.20 − 0.15) = −0.10 → inside = −β/2 · −0.10 = 1 → −log σ(1) = 0.3132617
    # pair 2: (0.30 − 0.20) − (0.10 − 0.20) = +0.20 → inside = −2 → −log σ(−2) = 2.1269280
    # weights 3 and 1: (3 · 0.3132617 + 2.1269280) / 4 = 0.7666783
    # the model favours the winner more than the reference does in pair 1 only: accuracy 1/2
    loss, accuracy = dpo_loss(torch.tensor([0.10, 0.30]), torch.tensor([0.20, 0.10]),
                              torch.tensor([0.15, 0.20]), torch.tensor([0.15, 0.20]),
                              beta=20.0, weights=torch.tensor([3.0, 1.0]))
    assert loss.item() == pytest.approx(0.7666783, abs=1e-6)
    by_formula = (3 * math.log1p(math.exp(-1)) + math.log1p(math.exp(2))) / 4
    assert loss.item() == pytest.approx(by_formula, rel=1e-6)
    assert accuracy.item() == 0.5
    same = torch.tensor([0.2, 0.4, 0.1])
    loss, accuracy = dpo_loss(same, same, same, same, beta=2500.0, weights=torch.ones(3))
    assert loss.item() == pytest.approx(math.log(2))
    assert accuracy.item() == 0.0


class _Fixed(torch.nn.Module):
    """A 'network' that always predicts ``pred`` (what diffusion_losses reads: ``.sample``)."""

    def __init__(self, pred: torch.Tensor) -> None:
        super().__init__()
        self.pred = pred

    def forward(self, x, t):
        return type("Out", (), {"sample": self.pred})()


def test_sample_loss_is_the_epsilon_loss_up_to_the_snr_clamp():
    scheduler = make_scheduler(tiny_unet()[2], "ddpm")
    g = torch.Generator().manual_seed(0)
    clean, noise, pred = (torch.randn((4, 3, 8, 8), generator=g) for _ in range(3))
    t = torch.tensor([999, 700, 300, 5])
    alpha_bar = scheduler.alphas_cumprod[t].view(-1, 1, 1, 1)
    snr = (alpha_bar / (1 - alpha_bar)).flatten()
    assert snr[0] < 1 < 5 < snr[3]
    noisy = scheduler.add_noise(clean, noise, t)
    implied_eps = (noisy - alpha_bar.sqrt() * pred) / (1 - alpha_bar).sqrt()
    eps_mse = ((implied_eps - noise) ** 2).mean(dim=(1, 2, 3))
    x0_mse = ((pred - clean) ** 2).mean(dim=(1, 2, 3))
    cond = torch.zeros_like(clean)
    weighted = diffusion_losses(_Fixed(pred), scheduler, clean, cond, noise, t, prediction_type="sample",
                                snr_clamp=5.0)
    low = snr <= 5
    torch.testing.assert_close(weighted[low], eps_mse[low], rtol=1e-4, atol=1e-6)  # the ε-loss itself
    torch.testing.assert_close(weighted[~low], 5.0 * x0_mse[~low], rtol=1e-5, atol=1e-6)  # clamped
    plain = diffusion_losses(_Fixed(pred), scheduler, clean, cond, noise, t, prediction_type="epsilon",
                             snr_clamp=5.0)
    torch.testing.assert_close(plain, ((pred - noise) ** 2).mean(dim=(1, 2, 3)))


def test_training_learns_the_preference_and_changes_only_the_adapter(tmp_path):
    model, sched = _model()
    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
    before = _adapter(model)
    seen: list[dict] = []
    config = DpoConfig(max_steps=8, eval_every=4, save_every=4, log_every=2, **FAST)
    result = train_dpo(model, sched, brightness_pairs(16, seed=0), brightness_pairs(8, seed=1), config,
                       tmp_path, progress=seen.append)

    assert result["steps"] == 8
    assert not result["stopped_early"]
    assert [p["step"] for p in result["curve"]] == [4, 8]
    assert all(math.isfinite(p["loss"]) and math.isfinite(p["validation_loss"]) for p in result["curve"])
    # brighter winners on people it never saw: the adapter prefers them more than the parent does
    assert result["validation_implicit_accuracy"] >= 0.75
    assert result["curve"][-1]["validation_loss"] < math.log(2)  # log 2: the parent's own DPO loss
    assert [s["step"] for s in seen] == [2, 4, 6, 8]
    assert "validation_implicit_accuracy" in seen[1]
    assert all(not torch.equal(before[n], p) for n, p in _adapter(model).items())
    assert all(torch.equal(frozen[n], p) for n, p in model.named_parameters() if not p.requires_grad)
    # the best adapter is in the model and on disk in PEFT's format
    reloaded = load_adapter(tiny_unet()[0], result["adapter"])
    x, t = torch.randn((2, 6, 32, 32)), torch.tensor([3, 600])
    with torch.no_grad():
        torch.testing.assert_close(reloaded(x, t).sample, model(x, t).sample, atol=1e-5, rtol=0)


def test_early_stopping_keeps_the_best_adapter(tmp_path):
    # validation pairs that prefer the darker image: training on brighter winners only makes them worse
    train = brightness_pairs(16, seed=0)
    flipped = brightness_pairs(8, seed=1)
    flipped = DpoPairs(flipped.loser, flipped.winner, flipped.condition, flipped.weight)
    model, sched = _model()
    config = DpoConfig(max_steps=20, eval_every=1, save_every=10, patience=1, **FAST)
    result = train_dpo(model, sched, train, flipped, config, tmp_path / "run")
    assert result["stopped_early"]
    assert result["steps"] == 2
    assert result["best_step"] == 1
    assert result["curve"][1]["validation_loss"] > result["curve"][0]["validation_loss"]

    once, _ = _model()
    train_dpo(once, sched, train, flipped, DpoConfig(max_steps=1, eval_every=1, **FAST), tmp_path / "one")
    after_one = _adapter(once)
    assert all(torch.equal(after_one[n], p) for n, p in _adapter(model).items())  # the step-1 adapter


class _Interrupt(Exception):
    pass


@pytest.mark.slow
def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(tmp_path):
    train, validation = brightness_pairs(16, seed=0), brightness_pairs(8, seed=1)
    config = DpoConfig(max_steps=6, eval_every=3, save_every=2, log_every=1, patience=10, **FAST)
    whole, sched = _model()
    expected = train_dpo(whole, sched, train, validation, config, tmp_path / "whole")

    def stop_at_5(report: dict) -> None:
        if report["step"] == 5:
            raise _Interrupt

    interrupted, _ = _model()
    with pytest.raises(_Interrupt):
        train_dpo(interrupted, sched, train, validation, config, tmp_path / "run", progress=stop_at_5)
    resumed, _ = _model()  # a new process: the parent again, the adapter from the step-4 checkpoint
    result = train_dpo(resumed, sched, train, validation, config, tmp_path / "run")

    assert result["start_step"] == 4
    assert result["steps"] == 6
    assert result["curve"] == expected["curve"]
    want = _adapter(whole)
    assert all(torch.equal(want[n], p) for n, p in _adapter(resumed).items())

    with pytest.raises(ValueError, match="other data or settings"):
        train_dpo(_model()[0], sched, train, validation, DpoConfig(**{**config.__dict__, "beta": 1000.0}),
                  tmp_path / "run")


def test_bad_config_and_pairs_are_refused(tmp_path):
    model, sched = _model()
    pairs = brightness_pairs(4, seed=0)
    with pytest.raises(ValueError, match="beta"):
        train_dpo(model, sched, pairs, pairs, DpoConfig(beta=0), tmp_path)
    bad = DpoPairs(pairs.winner, pairs.loser[:3], pairs.condition, pairs.weight)
    with pytest.raises(ValueError, match="one shape"):
        train_dpo(model, sched, bad, pairs, DpoConfig(), tmp_path)
    with pytest.raises(ValueError, match="predicts 'sample'"):
        train_dpo(model, sched, pairs, pairs, DpoConfig(), tmp_path, prediction_type="epsilon")
    unet, _, _ = tiny_unet()
    with pytest.raises(ValueError, match="adapter"):
        train_dpo(unet.requires_grad_(False), sched, pairs, pairs, DpoConfig(), tmp_path)
