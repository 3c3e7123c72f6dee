"""Diffusion-DPO (Wallace et al. 2023) on a LoRA adapter of the conditional generator; no Django.

For a preference pair (winner, loser) of headshots of one casual selfie, both images get the same
noise and timestep; L is the per-example diffusion loss. With the adapter on (the model) and off (the
reference, the parent generator: ``with model.disable_adapter():``)::

    loss_i = −log σ(−β/2 · ((L_w − L_w_ref) − (L_l − L_l_ref)))

averaged over pairs with their weights. It lowers the model's loss on winners relative to losers,
measured against the parent, so the model moves towards what reviewers preferred without drifting
far from the parent. Implicit accuracy: the share of pairs where the model favours the winner more
than the reference does, ``(L_w − L_w_ref) < (L_l − L_l_ref)``.

The generator predicts the clean image (``prediction_type="sample"``), which the reference recipe
(diffusers ``examples/research_projects/diffusion_dpo``) does not cover: there L is the ε-MSE. The ε
error is the x₀ error times √SNR(t), so ``SNR(t)·‖x̂₀ − x₀‖²`` *is* the ε-MSE. L here is the x₀-MSE
weighted by ``min(SNR(t), snr_clamp)`` (min-SNR): exactly the ε-MSE for SNR ≤ snr_clamp (noisy steps,
about three quarters of the cosine schedule), damped at nearly clean steps, where SNR reaches 10⁵ and
one pair would swamp the batch. "epsilon" and "v_prediction" use the plain MSE of their target, as
the reference recipe does.

``train_dpo`` trains the adapter (AdamW, warm-up, grad clipping, seeded ``torch.Generator``), measures
the validation implicit accuracy every ``eval_every`` steps on fixed noise and timesteps, stops early
after ``patience`` evaluations without improvement, keeps the best adapter, and checkpoints into
``out_dir/checkpoint`` (see ``reward.ml.adapter_checkpoint``) so a run resumes where it stopped.
See docs/finetuning.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from diffusers.training_utils import compute_snr
from peft import PeftModel

from generation.ml.generator import make_scheduler
from generation.ml.lora import save_adapter
from generation.ml.options import PREDICTION_TYPES
from reward.ml.adapter_checkpoint import (
    RunCheckpoint,
    adapter_step,
    run_fingerprint,
    trainable_adapter,
    warmup_schedule,
)

Progress = Callable[[dict[str, Any]], None]


@dataclass
class DpoConfig:
    """The optimisation. Reference values: diffusers' Diffusion-DPO example (β 2500, LoRA lr ~5e-4 with
    warm-up, grad clip 1; the paper's full fine-tune uses β 5000 with a much smaller lr).

    β: this loss uses the ½ of the paper and of the diffusers example (−β/2 · Δ), and the SNR-weighted
    x₀-MSE equals the ε-MSE wherever SNR ≤ ``snr_clamp`` and is smaller elsewhere; so Δ has the ε
    formulation's scale (or less) and the reference β = 2500 carries over. A smaller β lets the adapter
    drift further from the parent; the reported failure at large β (winner and loser losses both
    rising) shows as validation accuracy falling, which early stopping catches.
    """

    beta: float = 2500.0  # KL strength (see above); larger keeps the model closer to the parent
    learning_rate: float = 5e-4  # AdamW on the adapter only (LoRA wants ~10× a full fine-tune's lr)
    max_steps: int = 300  # optimizer steps in total (a resumed run counts on from its checkpoint); ~13 min
    # on 2 CPU cores at batch 8 (bench/finetune.py), seconds on a GPU: raise it there
    batch_size: int = 8  # pairs per step (each pair is two images: 2·batch_size forward passes ×2)
    warmup_steps: int = 25  # linear LR warm-up, then constant
    grad_clip: float = 1.0  # max global norm of the adapter's gradient
    weight_decay: float = 1e-2  # AdamW decay pulls the adapter towards zero, i.e. the parent
    snr_clamp: float = 5.0  # γ of min-SNR: the x₀-MSE weight is min(SNR(t), γ) ("sample" prediction)
    seed: int = 0  # pairs, noise and timesteps of training; the fixed validation draws
    eval_every: int = 25  # steps between validation implicit-accuracy evaluations (and curve points)
    save_every: int = 50  # steps between checkpoints (one is also written at the end and on stopping)
    patience: int = 4  # evaluations without improvement before stopping early
    validation_draws: int = 2  # fixed (noise, timestep) draws per validation pair
    log_every: int = 5  # steps between progress calls (evaluations always call it)

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field."""
        positive = {"beta": self.beta, "learning_rate": self.learning_rate, "max_steps": self.max_steps,
                    "batch_size": self.batch_size, "grad_clip": self.grad_clip, "snr_clamp": self.snr_clamp,
                    "eval_every": self.eval_every, "save_every": self.save_every, "patience": self.patience,
                    "validation_draws": self.validation_draws, "log_every": self.log_every}
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"DPO {name} must be greater than 0, not {value!r}")
        if self.warmup_steps < 0 or self.weight_decay < 0:
            raise ValueError("DPO warmup_steps and weight_decay must be 0 or more")


@dataclass
class DpoPairs:
    """Preference pairs as tensors: winner and loser headshots and the casual selfie they were made
    from (N×3×H×W in [-1, 1]), and each pair's weight (N, e.g. reviewer agreement)."""

    winner: torch.Tensor
    loser: torch.Tensor
    condition: torch.Tensor
    weight: torch.Tensor

    def __len__(self) -> int:
        return int(self.winner.shape[0])

    def validate(self, name: str = "pairs") -> None:
        if self.winner.dim() != 4 or self.winner.shape[1] != 3:
            raise ValueError(f"{name}: images must be N×3×H×W, not {tuple(self.winner.shape)}")
        if self.loser.shape != self.winner.shape or self.condition.shape != self.winner.shape:
            raise ValueError(f"{name}: winner, loser and condition must have one shape")
        if self.weight.shape != (len(self),):
            raise ValueError(f"{name}: weight must hold one value per pair")
        if len(self) == 0:
            raise ValueError(f"{name}: no pairs")
        if bool((self.weight < 0).any()) or not float(self.weight.sum()) > 0:
            raise ValueError(f"{name}: weights must be ≥ 0 with a positive sum")

    def to(self, device: torch.device) -> DpoPairs:
        return DpoPairs(*(t.to(device, torch.float32) for t in (self.winner, self.loser, self.condition,
                                                               self.weight)))


# ---------------------------------------------------------------------------------------------- loss

def dpo_loss(model_w: torch.Tensor, model_l: torch.Tensor, ref_w: torch.Tensor, ref_l: torch.Tensor, *,
             beta: float, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(loss, implicit accuracy)`` from per-pair diffusion losses (each a tensor of N values).

    loss = Σ wᵢ · −log σ(−β/2 · ((L_w − L_w_ref) − (L_l − L_l_ref)))ᵢ / Σ wᵢ;
    implicit accuracy = share of pairs with (L_w − L_w_ref) < (L_l − L_l_ref).
    """
    model_diff = (model_w - ref_w) - (model_l - ref_l)
    losses = -F.logsigmoid(-0.5 * beta * model_diff)
    weights = weights.to(losses)
    loss = (weights * losses).sum() / weights.sum()
    accuracy = (model_diff < 0).float().mean()
    return loss, accuracy


def diffusion_losses(model: torch.nn.Module, noise_scheduler, clean: torch.Tensor, condition: torch.Tensor,
                     noise: torch.Tensor, t: torch.Tensor, *, prediction_type: str,
                     snr_clamp: float) -> torch.Tensor:
    """Per-example diffusion loss (B values) of ``model`` on clean images at timesteps ``t`` with
    ``noise``: the MSE of the prediction, for "sample" weighted by min(SNR(t), snr_clamp)."""
    noisy = noise_scheduler.add_noise(clean, noise, t)
    pred = model(torch.cat([noisy, condition], dim=1), t).sample.float()
    if prediction_type == "sample":
        target = clean
    elif prediction_type == "epsilon":
        target = noise
    elif prediction_type == "v_prediction":
        target = noise_scheduler.get_velocity(clean, noise, t)
    else:
        raise ValueError(f"prediction_type must be one of {PREDICTION_TYPES}, not {prediction_type!r}")
    losses = F.mse_loss(pred, target.float(), reduction="none").mean(dim=(1, 2, 3))
    if prediction_type == "sample":
        losses = losses * compute_snr(noise_scheduler, t).clamp(max=snr_clamp).to(losses)
    return losses


def pair_losses(model: PeftModel, noise_scheduler, winner: torch.Tensor, loser: torch.Tensor,
                condition: torch.Tensor, noise: torch.Tensor, t: torch.Tensor, *, prediction_type: str,
                snr_clamp: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(L_w, L_l, L_w_ref, L_l_ref)``: winner and loser share ``noise`` and ``t`` and go through the
    network in one batch; the reference is the same model with its adapter disabled, without grad."""
    clean = torch.cat([winner, loser])
    args = (noise_scheduler, clean, torch.cat([condition, condition]), torch.cat([noise, noise]),
            torch.cat([t, t]))
    kw = {"prediction_type": prediction_type, "snr_clamp": snr_clamp}
    model_w, model_l = diffusion_losses(model, *args, **kw).chunk(2)
    with torch.no_grad(), model.disable_adapter():
        ref_w, ref_l = diffusion_losses(model, *args, **kw).chunk(2)
    return model_w, model_l, ref_w, ref_l


def check_prediction_type(scheduler_config: dict[str, Any], prediction_type: str) -> None:
    if prediction_type not in PREDICTION_TYPES:
        raise ValueError(f"prediction_type must be one of {PREDICTION_TYPES}, not {prediction_type!r}")
    stored = scheduler_config.get("prediction_type", prediction_type)
    if stored != prediction_type:
        raise ValueError(f"the generator predicts {stored!r} but prediction_type is {prediction_type!r}")


# ---------------------------------------------------------------------------------------------- loop

class _Validation:
    """Validation pairs with fixed noise and timesteps (the same at every evaluation and on resume)."""

    def __init__(self, pairs: DpoPairs, config: DpoConfig, num_timesteps: int, device: torch.device) -> None:
        n, draws = len(pairs), config.validation_draws
        g = torch.Generator("cpu").manual_seed(config.seed + 7919)
        self.noise = torch.randn((draws * n, *pairs.winner.shape[1:]), generator=g).to(device)
        self.t = torch.randint(0, num_timesteps, (draws * n,), generator=g).to(device)
        self.index = torch.arange(n, device=device).repeat(draws)
        self.pairs, self.config = pairs, config

    @torch.no_grad()
    def evaluate(self, model: PeftModel, noise_scheduler, prediction_type: str) -> tuple[float, float]:
        p, chunk = self.pairs, max(16, self.config.batch_size)
        out: list[list[torch.Tensor]] = [[], [], [], []]
        for start in range(0, len(self.index), chunk):
            i = self.index[start:start + chunk]
            losses = pair_losses(model, noise_scheduler, p.winner[i], p.loser[i], p.condition[i],
                                 self.noise[start:start + chunk], self.t[start:start + chunk],
                                 prediction_type=prediction_type, snr_clamp=self.config.snr_clamp)
            for bucket, value in zip(out, losses, strict=True):
                bucket.append(value)
        model_w, model_l, ref_w, ref_l = (torch.cat(b) for b in out)
        loss, accuracy = dpo_loss(model_w, model_l, ref_w, ref_l, beta=self.config.beta,
                                  weights=p.weight[self.index])
        return float(loss), float(accuracy)


def train_dpo(model: PeftModel, scheduler_config: dict[str, Any], train: DpoPairs, validation: DpoPairs,
              config: DpoConfig, out_dir: Path, *, progress: Progress | None = None,
              prediction_type: str = "sample") -> dict[str, Any]:
    """Fine-tune ``model``'s adapter with Diffusion-DPO on ``train`` pairs (see the module docstring).

    Runs on the model's device. Resumes from ``out_dir/checkpoint`` when present (same data and
    settings, else ``ValueError``). ``progress`` gets ``{"step", "total", "loss", "implicit_accuracy"}``
    every ``log_every`` steps and also ``"validation_implicit_accuracy"`` after an evaluation; it may
    raise to stop the run (the last checkpoint stays). Leaves the best adapter (by validation implicit
    accuracy, then validation loss) in ``model`` (eval mode) and in ``out_dir/adapter`` (PEFT format).
    Returns ``steps``, ``start_step``, ``best_step``, ``stopped_early``, ``curve`` (one point per
    evaluation: step, loss and implicit_accuracy averaged since the last point, validation_loss,
    validation_implicit_accuracy), ``validation_implicit_accuracy`` (the best) and ``adapter``.
    """
    config.validate()
    train.validate("training pairs")
    validation.validate("validation pairs")
    check_prediction_type(scheduler_config, prediction_type)
    params = trainable_adapter(model)
    device, out_dir = next(iter(params.values())).device, Path(out_dir)
    train, validation = train.to(device), validation.to(device)
    noise_scheduler = make_scheduler({**scheduler_config, "prediction_type": prediction_type}, "ddpm")
    num_timesteps = noise_scheduler.config.num_train_timesteps

    optimizer = torch.optim.AdamW(list(params.values()), lr=config.learning_rate,
                                  weight_decay=config.weight_decay)
    lr_schedule = warmup_schedule(optimizer, config.warmup_steps)
    generator = torch.Generator(device).manual_seed(config.seed)
    torch.manual_seed(config.seed)  # LoRA dropout
    unchecked = ("max_steps", "save_every", "log_every", "patience")  # may change between resumes
    settings = {k: v for k, v in asdict(config).items() if k not in unchecked}
    data = [train.winner, train.loser, train.condition, train.weight,
            validation.winner, validation.loser, validation.condition, validation.weight]
    run_id = run_fingerprint(model, data, {"config": settings, "prediction_type": prediction_type,
                                           "scheduler": scheduler_config})
    checkpoint = RunCheckpoint(out_dir / "checkpoint", run_id, params, optimizer, lr_schedule, generator,
                               {"config": asdict(config), "prediction_type": prediction_type})
    loop = {"step": 0, "curve": [], "best": None, "bad_evals": 0, "stopped_early": False,
            "running": [0.0, 0.0, 0]}
    best_state: dict[str, torch.Tensor] | None = None
    restored = checkpoint.restore()
    if restored is not None:
        loop, tensors = restored
        if loop["best"] is not None:
            best_state = {name: tensors[f"best.{name}"].to(device) for name in params}
    start_step = loop["step"]

    checker = _Validation(validation, config, num_timesteps, device)
    n, shape = len(train), train.winner.shape[1:]
    while loop["step"] < config.max_steps and not loop["stopped_early"]:
        model.train()
        idx = torch.randint(0, n, (config.batch_size,), generator=generator, device=device)
        noise = torch.randn((config.batch_size, *shape), generator=generator, device=device)
        t = torch.randint(0, num_timesteps, (config.batch_size,), generator=generator, device=device)
        losses = pair_losses(model, noise_scheduler, train.winner[idx], train.loser[idx],
                             train.condition[idx], noise, t, prediction_type=prediction_type,
                             snr_clamp=config.snr_clamp)
        loss, accuracy = dpo_loss(*losses, beta=config.beta, weights=train.weight[idx])
        loss = adapter_step(loss, params, optimizer, lr_schedule, config.grad_clip)
        loop["step"] += 1
        step, running = loop["step"], loop["running"]
        running[:] = [running[0] + float(loss), running[1] + float(accuracy), running[2] + 1]
        report = {"step": step, "total": config.max_steps, "loss": float(loss),
                  "implicit_accuracy": float(accuracy)}
        if step % config.eval_every == 0 or step == config.max_steps:
            model.eval()
            val_loss, val_acc = checker.evaluate(model, noise_scheduler, prediction_type)
            loop["curve"].append({"step": step, "loss": running[0] / running[2],
                                  "implicit_accuracy": running[1] / running[2], "validation_loss": val_loss,
                                  "validation_implicit_accuracy": val_acc})
            running[:] = [0.0, 0.0, 0]
            best = loop["best"]
            if best is None or (val_acc, -val_loss) > (best["accuracy"], -best["loss"]):
                loop["best"] = {"step": step, "accuracy": val_acc, "loss": val_loss}
                best_state = {name: p.detach().clone() for name, p in params.items()}
                loop["bad_evals"] = 0
            else:
                loop["bad_evals"] += 1
                loop["stopped_early"] = loop["bad_evals"] >= config.patience
            report.update(validation_implicit_accuracy=val_acc, validation_loss=val_loss)
        if step % config.save_every == 0 or step == config.max_steps or loop["stopped_early"]:
            checkpoint.save(loop, {f"best.{name}": v for name, v in (best_state or {}).items()})
        if progress is not None and (step % config.log_every == 0 or "validation_loss" in report
                                     or step == config.max_steps):
            progress(report)

    if best_state is not None:
        with torch.no_grad():
            for name, p in params.items():
                p.copy_(best_state[name])
    model.eval()
    adapter = save_adapter(model, out_dir / "adapter")
    best = loop["best"] or {}
    return {"steps": loop["step"], "start_step": start_step, "best_step": best.get("step"),
            "stopped_early": loop["stopped_early"], "curve": loop["curve"],
            "validation_implicit_accuracy": best.get("accuracy"), "adapter": adapter}
