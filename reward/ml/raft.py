"""RAFT, reward-ranked fine-tuning (Dong et al. 2023), on a LoRA adapter of the generator; no Django.

Each round: for every training person, sample ``candidates`` headshots from the current model
(``generation.ml.generator.sample``, seeds from the config seed, the round and the person), score them
with the reward (``score``), and keep the best one when it beats the mean of the others by at least
``margin`` reward units (a person whose candidates are all alike teaches nothing). Then fine-tune the
adapter for ``steps_per_round`` steps with the generator's ordinary training loss
(``generator.training_loss``) on (selfie → kept headshot) pairs, mixed with anchor pairs (casual →
clean photo) at ``anchor_share`` of each batch, which hold the model to real photos so it cannot
drift towards whatever the reward over-rates. The next round samples from the new adapter.

A checkpoint is written after each round's sampling and every ``save_every`` steps (see
``reward.ml.adapter_checkpoint``); a run resumes at the round and step where it stopped, with the
kept headshots of that round. See docs/finetuning.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from peft import PeftModel

from generation.ml.generator import make_scheduler, sample, training_loss
from generation.ml.lora import save_adapter
from generation.ml.options import SAMPLERS
from reward.ml.adapter_checkpoint import (
    RunCheckpoint,
    adapter_step,
    run_fingerprint,
    trainable_adapter,
    warmup_schedule,
)
from reward.ml.dpo import check_prediction_type

Score = Callable[[torch.Tensor, int], list[float]]
Progress = Callable[[dict[str, Any]], None]
MAX_CANDIDATES = 64


@dataclass
class RaftConfig:
    """Rounds of sample → rank → supervised LoRA fine-tune (LMFlow's RAFT-diffusion recipe: several
    short rounds, each from the last adapter)."""

    rounds: int = 2  # sample/rank/fine-tune rounds
    candidates: int = 8  # headshots sampled per person and round (2..64)
    margin: float = 0.0  # keep the best only if it beats the mean of the others by this (reward units)
    steps_per_round: int = 50  # optimizer steps per round
    batch_size: int = 8  # pairs per step (kept + anchors)
    learning_rate: float = 2e-4  # AdamW on the adapter; lower than DPO's: the targets are its own samples
    warmup_steps: int = 10  # linear LR warm-up at the start of the run, then constant
    grad_clip: float = 1.0  # max global norm of the adapter's gradient
    weight_decay: float = 0.0
    anchor_share: float = 0.5  # share of each batch drawn from the anchor (casual, clean) pairs, [0, 1)
    cond_dropout: float = 0.1  # as in the generator's training, so guidance keeps working
    sample_steps: int = 25  # sampler steps per candidate: as many as serving uses (fewer give softer
    # candidates, and training on them pulls towards blur); a round costs people × candidates × steps
    guidance: float = 1.0  # CFG scale of the candidates
    sampler: str = "ddim"
    seed: int = 0  # candidate seeds, batches, noise and timesteps
    save_every: int = 25  # steps between checkpoints inside a round
    log_every: int = 5  # steps between progress calls

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field."""
        for name in ("rounds", "steps_per_round", "batch_size", "learning_rate", "grad_clip", "sample_steps",
                     "guidance", "save_every", "log_every"):
            if not getattr(self, name) > 0:
                raise ValueError(f"RAFT {name} must be greater than 0, not {getattr(self, name)!r}")
        if not 2 <= self.candidates <= MAX_CANDIDATES:
            raise ValueError(f"RAFT candidates must be from 2 to {MAX_CANDIDATES}, not {self.candidates!r}")
        if self.margin < 0 or self.warmup_steps < 0 or self.weight_decay < 0:
            raise ValueError("RAFT margin, warmup_steps and weight_decay must be 0 or more")
        if not 0 <= self.anchor_share < 1 or not 0 <= self.cond_dropout < 1:
            raise ValueError("RAFT anchor_share and cond_dropout must be in [0, 1)")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"RAFT sampler must be one of {SAMPLERS}, not {self.sampler!r}")


def candidate_seeds(seed: int, round_index: int, person: int, candidates: int) -> list[int]:
    """Distinct sampling seeds for each (run seed, round, person, candidate)."""
    base = ((seed * 1_000 + round_index) * 1_000_000 + person) * MAX_CANDIDATES
    return [base + k for k in range(candidates)]


@torch.no_grad()
def rank_candidates(model: PeftModel, scheduler_config: dict[str, Any], conditions: torch.Tensor,
                    score: Score, config: RaftConfig, round_index: int
                    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, Any]]:
    """``(kept person indices, kept headshots, stats)`` of one round's sampling and ranking."""
    model.eval()
    kept_people, kept_images, rewards, kept_rewards = [], [], [], []
    for person in range(len(conditions)):
        casual = conditions[person:person + 1].expand(config.candidates, -1, -1, -1)
        images = sample(model, scheduler_config, casual, steps=config.sample_steps, guidance=config.guidance,
                        seeds=candidate_seeds(config.seed, round_index, person, config.candidates),
                        sampler=config.sampler)
        values = [float(v) for v in score(images, person)]
        if len(values) != config.candidates:
            raise ValueError(f"score returned {len(values)} values for {config.candidates} candidates")
        rewards += values
        best = max(range(len(values)), key=values.__getitem__)
        others = [v for k, v in enumerate(values) if k != best]
        if values[best] - sum(others) / len(others) >= config.margin:
            kept_people.append(person)
            kept_images.append(images[best])
            kept_rewards.append(values[best])
    stats = {"round": round_index, "kept": len(kept_people), "people": len(conditions),
             "mean_reward": sum(rewards) / len(rewards),
             "mean_kept_reward": sum(kept_rewards) / len(kept_rewards) if kept_rewards else None}
    shape = tuple(conditions.shape[1:])
    images = torch.stack(kept_images) if kept_images else torch.zeros((0, *shape), device=conditions.device)
    return torch.tensor(kept_people, dtype=torch.long, device=conditions.device), images, stats


def train_raft(model: PeftModel, scheduler_config: dict[str, Any], conditions: torch.Tensor,
               anchors: tuple[torch.Tensor, torch.Tensor], score: Score, config: RaftConfig, out_dir: Path,
               *, progress: Progress | None = None, prediction_type: str = "sample") -> dict[str, Any]:
    """Fine-tune ``model``'s adapter with RAFT (see the module docstring).

    ``conditions``: the training people's casual selfies (P×3×H×W in [-1, 1]); ``anchors``: (casual,
    clean) pairs of real photos; ``score(images K×3×H×W, person) -> K rewards``. Runs on the model's
    device and resumes from ``out_dir/checkpoint``. ``progress`` gets ``{"step", "total", "loss",
    "round"}`` every ``log_every`` steps and the round's stats after its ranking; it may raise to stop
    (the last checkpoint stays). A round where nobody's best beats the margin trains nothing. Leaves
    the last adapter in ``model`` (eval mode) and in ``out_dir/adapter``. Returns ``rounds`` (round,
    kept, people, mean_reward, mean_kept_reward, loss: the round's mean training loss or None),
    ``curve`` ([{"step", "round", "loss"}] every ``log_every`` steps), ``steps`` and ``adapter``.
    """
    config.validate()
    check_prediction_type(scheduler_config, prediction_type)
    anchor_casual, anchor_clean = anchors
    if conditions.dim() != 4 or len(conditions) == 0:
        raise ValueError("conditions must be P×3×H×W with at least one person")
    if anchor_casual.shape != anchor_clean.shape or anchor_casual.shape[1:] != conditions.shape[1:]:
        raise ValueError("anchor casual and clean photos must match each other and the conditions in shape")
    if config.anchor_share > 0 and len(anchor_casual) == 0:
        raise ValueError("anchor_share > 0 needs anchor pairs")
    params = trainable_adapter(model)
    device, out_dir = next(iter(params.values())).device, Path(out_dir)
    conditions = conditions.to(device, torch.float32)
    anchor_casual, anchor_clean = (x.to(device, torch.float32) for x in anchors)
    sched_config = {**scheduler_config, "prediction_type": prediction_type}
    noise_scheduler = make_scheduler(sched_config, "ddpm")

    optimizer = torch.optim.AdamW(list(params.values()), lr=config.learning_rate,
                                  weight_decay=config.weight_decay)
    lr_schedule = warmup_schedule(optimizer, config.warmup_steps)
    generator = torch.Generator(device).manual_seed(config.seed)
    torch.manual_seed(config.seed)  # LoRA dropout
    settings = {k: v for k, v in asdict(config).items() if k not in ("rounds", "save_every", "log_every")}
    run_id = run_fingerprint(model, [conditions, anchor_casual, anchor_clean],
                             {"config": settings, "prediction_type": prediction_type,
                              "scheduler": scheduler_config})
    checkpoint = RunCheckpoint(out_dir / "checkpoint", run_id, params, optimizer, lr_schedule, generator,
                               {"config": asdict(config), "prediction_type": prediction_type})
    # round/step: where the run stands; ranked: this round's candidates are sampled and ranked
    loop = {"round": 0, "step": 0, "ranked": False, "rounds": [], "curve": [], "running": [0.0, 0]}
    kept_people = torch.zeros(0, dtype=torch.long, device=device)
    kept_images = torch.zeros((0, *conditions.shape[1:]), device=device)
    restored = checkpoint.restore()
    if restored is not None:
        loop, tensors = restored
        kept_people, kept_images = tensors["kept_people"].long().to(device), tensors["kept_images"].to(device)

    def save() -> None:
        checkpoint.save(loop, {"kept_people": kept_people.float(), "kept_images": kept_images})

    total = config.rounds * config.steps_per_round
    n_anchor = min(round(config.batch_size * config.anchor_share), config.batch_size - 1)
    n_anchor = n_anchor if len(anchor_casual) else 0
    while loop["round"] < config.rounds:
        r = loop["round"]
        if not loop["ranked"]:
            kept_people, kept_images, stats = rank_candidates(model, sched_config, conditions, score,
                                                              config, r)
            loop["rounds"].append({**stats, "loss": None})
            loop.update(ranked=True, step=0, running=[0.0, 0])
            save()
            if progress is not None:
                progress({"step": r * config.steps_per_round, "total": total, "loss": None, **stats})
        n_kept = config.batch_size - n_anchor if len(kept_people) else 0
        while n_kept and loop["step"] < config.steps_per_round:
            model.train()
            k = torch.randint(0, len(kept_people), (n_kept,), generator=generator, device=device)
            a = torch.randint(0, max(1, len(anchor_casual)), (n_anchor,), generator=generator, device=device)
            clean = torch.cat([kept_images[k], anchor_clean[a]])
            casual = torch.cat([conditions[kept_people[k]], anchor_casual[a]])
            loss = training_loss(model, noise_scheduler, clean, casual, generator, config.cond_dropout)
            loss = adapter_step(loss, params, optimizer, lr_schedule, config.grad_clip)
            loop["step"] += 1
            step, running = loop["step"], loop["running"]
            running[:] = [running[0] + float(loss), running[1] + 1]
            loop["rounds"][-1]["loss"] = running[0] / running[1]
            global_step = r * config.steps_per_round + step
            if step % config.log_every == 0 or step == config.steps_per_round:
                loop["curve"].append({"step": global_step, "round": r, "loss": float(loss)})
                if progress is not None:
                    progress({"step": global_step, "total": total, "loss": float(loss), "round": r})
            if step % config.save_every == 0 and step < config.steps_per_round:
                save()
        loop.update(round=r + 1, ranked=False, step=0)
        save()

    model.eval()
    adapter = save_adapter(model, out_dir / "adapter")
    return {"rounds": loop["rounds"], "curve": loop["curve"], "steps": total, "adapter": adapter}
