"""LoRA fine-tuning costs on the shipped generator, side by side in one run; no Django.

    .venv/bin/python bench/finetune.py                 # the fine-tuning defaults (about 18 min on 2 cores)
    .venv/bin/python bench/finetune.py --sampling-only # step, size and sampling figures (about 2 min)
    .venv/bin/python bench/finetune.py --repeat 2 --dpo-steps 2 --raft-rounds 1 --raft-steps 2 --people 2 \
        --candidates 2                                  # a smoke run

Prints:
* time per training step (``training_loss`` + backward + AdamW) with a LoRA adapter (default
  ``LoraSettings``) vs the whole UNet trainable, same batch, same generator;
* the adapter's size on disk (PEFT's safetensors) at the default settings and with ``include_convs``;
* ``sample()`` time with the parent alone, merged (``merge_adapter``), and unmerged (folded into the
  weights while sampling, as ``sample`` does, and without folding: every adapted layer adds its
  low-rank product), for the default attention adapter and one that also adapts the ResNet convs;
* wall time of one Diffusion-DPO fine-tune at the ``DpoConfig`` defaults (all ``max_steps``, no early
  stop: the longest it takes, validations included) and one RAFT fine-tune at the ``RaftConfig``
  defaults (every round: sampling + ranking + ``steps_per_round`` steps) for ``--people`` people
  (24: a loop round's tuning people).

Data: the generator's own outputs. Smooth random colour fields are the first conditions; the
parent's samples for them are the "headshots"; ``degrade`` (the training degradations) turns those
into casual inputs. DPO pairs are two samples of one input ranked by mean brightness, RAFT's reward is
mean brightness and its anchors are (degraded sample, sample) pairs. The figures are costs, not quality.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from unittest import mock

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import generation.ml.generator as generator_module  # noqa: E402
from generation.ml.degrade import degrade  # noqa: E402
from generation.ml.generator import (  # noqa: E402
    load_generator,
    make_scheduler,
    sample,
    to_tensor,
    to_uint8,
    training_loss,
)
from generation.ml.lora import LoraSettings, merge_adapter, save_adapter, with_lora  # noqa: E402
from reward.ml.dpo import DpoConfig, DpoPairs, train_dpo  # noqa: E402
from reward.ml.raft import RaftConfig, train_raft  # noqa: E402

SHIPPED = ROOT / "generation" / "checkpoints" / "headshot-v3"


def fields(n: int, size: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand((n, 3, 4, 4), generator=g) * 1.6 - 0.8
    return F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)


def degraded(images: torch.Tensor, seed: int) -> torch.Tensor:
    return to_tensor(np.stack([degrade(img, seed=seed + i) for i, img in enumerate(to_uint8(images))]))


def generate(unet, sched, conditions: torch.Tensor, first_seed: int) -> torch.Tensor:
    out = [sample(unet, sched, conditions[i:i + 32], steps=10,
                  seeds=list(range(first_seed + i, first_seed + i + len(conditions[i:i + 32]))))
           for i in range(0, len(conditions), 32)]
    return torch.cat(out)


def brightness(images: torch.Tensor, person: int = 0) -> list[float]:
    return images.float().mean(dim=(1, 2, 3)).tolist()


def step_time(model, sched, clean, casual, repeat: int) -> float:
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    scheduler, g, times = make_scheduler(sched, "ddpm"), torch.Generator().manual_seed(0), []
    model.train()
    for i in range(repeat + 1):  # the first is a warm-up
        start = time.perf_counter()
        loss = training_loss(model, scheduler, clean, casual, g)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if i:
            times.append(time.perf_counter() - start)
    model.eval()
    return min(times)


def sample_time(model, sched, casual, steps: int, repeat: int) -> float:
    seeds = list(range(len(casual)))
    sample(model, sched, casual[:1], steps=2, seeds=seeds[:1])  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        sample(model, sched, casual, steps=steps, seeds=seeds)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=SHIPPED)
    parser.add_argument("--batch-size", type=int, default=8, help="training step batch (both sides)")
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions; the fastest is kept")
    parser.add_argument("--n", type=int, default=8, help="images per sample() call")
    parser.add_argument("--steps", type=int, default=25, help="sampler steps")
    parser.add_argument("--pairs", type=int, default=64, help="DPO pairs (half train, half validation)")
    parser.add_argument("--people", type=int, default=24, help="RAFT training people")
    parser.add_argument("--dpo-steps", type=int, default=DpoConfig.max_steps, help="steps of the DPO run")
    parser.add_argument("--raft-rounds", type=int, default=RaftConfig.rounds)
    parser.add_argument("--raft-steps", type=int, default=RaftConfig.steps_per_round)
    parser.add_argument("--candidates", type=int, default=RaftConfig.candidates)
    parser.add_argument("--sample-steps", type=int, default=RaftConfig.sample_steps,
                        help="RAFT sampler steps")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--sampling-only", action="store_true",
                        help="stop after the step, size and sampling figures (no DPO / RAFT runs)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    parent, config, sched, _ = load_generator(args.checkpoint)
    size = config.image_size
    params = sum(p.numel() for p in parent.parameters())
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch "
          f"{torch.__version__}, {torch.get_num_threads()} threads; generator {args.checkpoint.name} "
          f"({params:,} parameters, {size} px, {config.prediction_type})")

    # data: the parent's own outputs for smooth random inputs, then degraded into casual inputs
    start = time.perf_counter()
    first = fields(max(args.batch_size * 2, args.n, args.pairs, args.people), size, seed=0)
    outputs = generate(parent, sched, first, 0)
    casual = degraded(outputs, seed=0)
    print(f"data: {len(outputs)} generator outputs + degraded inputs in {time.perf_counter() - start:.1f} s")

    settings = LoraSettings()
    lora = with_lora(copy.deepcopy(parent), settings)
    full = copy.deepcopy(parent).requires_grad_(True)
    trainable = sum(p.numel() for p in lora.parameters() if p.requires_grad)
    clean_b, casual_b = outputs[:args.batch_size], casual[:args.batch_size]
    t_lora = step_time(lora, sched, clean_b, casual_b, args.repeat)
    t_full = step_time(full, sched, clean_b, casual_b, args.repeat)
    print(f"\ntraining step, batch {args.batch_size}:")
    print(f"  LoRA r={settings.rank} attention ({trainable:,} trainable) {t_lora:7.3f} s")
    print(f"  full UNet ({sum(p.numel() for p in full.parameters()):,} trainable)     {t_full:7.3f} s"
          f"   LoRA/full = {t_lora / t_full:.2f}")
    del full

    with tempfile.TemporaryDirectory() as tmp:
        for name, s in (("default", settings), ("include_convs", LoraSettings(include_convs=True))):
            folder = save_adapter(with_lora(copy.deepcopy(parent), s), Path(tmp) / name)
            size_kb = (folder / "adapter_model.safetensors").stat().st_size / 1024
            print(f"adapter on disk ({name}, r={s.rank}): {size_kb:,.0f} kB")

    def trained_looking(model):  # random B, so that folding or merging has something to add
        with torch.no_grad():
            for name, p in model.named_parameters():
                if "lora_B" in name:
                    p.normal_(0, 0.01)
        return model

    cond = casual[:args.n]
    t_parent = sample_time(parent, sched, cond, args.steps, args.repeat)
    lora = trained_looking(lora)
    t_merged = sample_time(merge_adapter(lora), sched, cond, args.steps, args.repeat)
    print(f"\nsample(), {args.n} images, {args.steps} DDIM steps (speed ratio: parent time / time):")
    print(f"  parent {t_parent:6.2f} s   merged {t_merged:6.2f} s ({t_parent / t_merged:.2f})")
    with_convs = trained_looking(with_lora(copy.deepcopy(parent), LoraSettings(include_convs=True)))
    for name, adapter in (("attention", lora), ("attention + convs", with_convs)):
        t_unmerged = sample_time(adapter, sched, cond, args.steps, args.repeat)
        with mock.patch.object(generator_module, "adapter_folded", return_value=nullcontext()):
            t_unfolded = sample_time(adapter, sched, cond, args.steps, args.repeat)
        print(f"  unmerged, {name:<17}: folded {t_unmerged:6.2f} s ({t_parent / t_unmerged:.2f})   "
              f"without folding {t_unfolded:6.2f} s ({t_parent / t_unfolded:.2f})")
    if args.sampling_only:
        return

    n = args.pairs
    a, b = outputs[:n], generate(parent, sched, first[:n], 10_000)  # two outputs of one input
    brighter = (a.mean(dim=(1, 2, 3)) >= b.mean(dim=(1, 2, 3))).view(-1, 1, 1, 1)
    pairs = DpoPairs(torch.where(brighter, a, b), torch.where(brighter, b, a), casual[:n], torch.ones(n))
    half = n // 2
    train = DpoPairs(pairs.winner[half:], pairs.loser[half:], pairs.condition[half:], pairs.weight[half:])
    val = DpoPairs(pairs.winner[:half], pairs.loser[:half], pairs.condition[:half], pairs.weight[:half])
    dpo_config = DpoConfig(max_steps=args.dpo_steps, eval_every=min(DpoConfig.eval_every, args.dpo_steps),
                           patience=args.dpo_steps)  # no early stop: the longest run
    with tempfile.TemporaryDirectory() as tmp:
        model = with_lora(copy.deepcopy(parent), settings)
        start = time.perf_counter()
        result = train_dpo(model, sched, train, val, dpo_config, Path(tmp),
                           prediction_type=config.prediction_type)
        t_dpo = time.perf_counter() - start
    print(f"\nDPO fine-tune: {args.dpo_steps} steps × {dpo_config.batch_size} pairs + a validation every "
          f"{dpo_config.eval_every} steps on {half} pairs × {dpo_config.validation_draws} draws: "
          f"{t_dpo:.1f} s ({t_dpo / 60:.1f} min, {t_dpo / args.dpo_steps:.2f} s/step); "
          f"best validation implicit accuracy {result['validation_implicit_accuracy']:.2f}")

    raft_config = RaftConfig(rounds=args.raft_rounds, steps_per_round=args.raft_steps,
                             candidates=args.candidates, sample_steps=args.sample_steps)
    people = casual[:args.people]
    anchors = (casual[-args.batch_size:], outputs[-args.batch_size:])
    with tempfile.TemporaryDirectory() as tmp:
        model = with_lora(copy.deepcopy(parent), settings)
        start = time.perf_counter()
        result = train_raft(model, sched, people, anchors, brightness, raft_config, Path(tmp),
                            prediction_type=config.prediction_type)
        t_raft = time.perf_counter() - start
    kept = ", ".join(f"round {i + 1}: kept {r['kept']}, mean reward {r['mean_reward']:.3f}, kept "
                     f"{r['mean_kept_reward']:.3f}" for i, r in enumerate(result["rounds"]))
    print(f"RAFT fine-tune: {args.raft_rounds} rounds × ({args.people} people × {args.candidates} "
          f"candidates × {args.sample_steps} sampler steps + {args.raft_steps} steps × "
          f"{raft_config.batch_size}): "
          f"{t_raft:.1f} s ({t_raft / 60:.1f} min); {kept}")


if __name__ == "__main__":
    main()
