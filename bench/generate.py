"""Generator sampling throughput next to the bare diffusers loop, in one run; training step time.

    .venv/bin/python bench/generate.py                      # default 64×64 config, random init
    .venv/bin/python bench/generate.py --checkpoint DIR     # a saved generator (DIR/generator.json)
    .venv/bin/python bench/generate.py --checkpoint DIR --heldout heldout.npz   # + held-out quality

Ours: ``generation.ml.generator.sample`` (per-image seeded noise, default sampler and steps,
guidance 1). Bare: the same UNet and the same scheduler class and config, ``set_timesteps``, then
``unet(cat(x, casual), t)`` and ``scheduler.step`` per step and nothing else. Both run ``--n`` candidates
in one batch, alternately, ``--repeat`` times after a warm-up; the fastest of each is kept. The training
step is ``training_loss`` + backward + AdamW step at ``TrainConfig.batch_size``. No Django.

With ``--heldout`` (an npz of clean aligned crops, e.g. from ``python -m generation.ml.dataset``), each
crop is degraded with seeds the training never uses and the generator's outputs are compared with the
clean crop (PSNR, mean absolute error): the casual input itself, ours at guidance 1 and 2, and SDEdit.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import diffusers  # noqa: E402

from generation.ml.degrade import degrade  # noqa: E402
from generation.ml.generator import (  # noqa: E402
    GeneratorConfig,
    build_unet,
    load_generator,
    make_scheduler,
    sample,
    scheduler_config,
    sdedit,
    to_tensor,
    to_uint8,
    training_loss,
)
from generation.ml.train import TrainConfig, resolve_device  # noqa: E402

HELDOUT_SEED = 10_000_000  # degradation seeds i * 1000 + v used in training stay below this


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


@torch.no_grad()
def bare(unet, sched_config: dict, casual: torch.Tensor, steps: int, sampler: str, seed: int) -> torch.Tensor:
    scheduler = make_scheduler(sched_config, sampler)
    scheduler.set_timesteps(steps, device=casual.device)
    generator = torch.Generator(casual.device).manual_seed(seed)
    x = torch.randn(casual.shape, generator=generator, device=casual.device)
    for t in scheduler.timesteps:
        x = scheduler.step(unet(torch.cat([x, casual], dim=1), t).sample, t, x).prev_sample
    return x


def timed(fn, device: torch.device) -> float:
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def psnr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).reshape(len(a), -1).mean(axis=1)
    return 10 * np.log10(255.0**2 / np.maximum(mse, 1e-10))


def heldout_report(unet, config: GeneratorConfig, sched: dict, path: Path, args, device) -> None:
    with np.load(path) as data:
        images = data["images"][: args.heldout_limit]
    seeds = list(range(len(images)))
    side, big = config.image_size, TrainConfig.degrade_size
    clean = np.stack([cv2.resize(img, (side, side), interpolation=cv2.INTER_AREA) for img in images])
    casual = np.stack([  # as make_pairs does, with seeds the training never uses
        cv2.resize(degrade(cv2.resize(img, (big, big), interpolation=cv2.INTER_AREA), HELDOUT_SEED + i),
                   (side, side), interpolation=cv2.INTER_AREA) for i, img in enumerate(images)])
    cond = to_tensor(casual, device)
    rows = {"casual input": casual}
    for g in (1.0, 2.0):
        outs = [sample(unet, sched, cond[i:i + 32], steps=args.steps, guidance=g, seeds=seeds[i:i + 32],
                       sampler=args.sampler) for i in range(0, len(cond), 32)]
        rows[f"ours guidance {g:g}"] = to_uint8(torch.cat(outs))
    outs = [sdedit(unet, sched, cond[i:i + 32], strength=0.5, steps=args.steps, seeds=seeds[i:i + 32],
                   sampler=args.sampler) for i in range(0, len(cond), 32)]
    rows["sdedit strength 0.5"] = to_uint8(torch.cat(outs))
    print(f"held-out quality: {len(images)} crops from {path}, {args.sampler} {args.steps} steps")
    for name, out in rows.items():
        mae = np.abs(out.astype(np.float64) - clean).mean()
        print(f"  {name:22s} PSNR {psnr(out, clean).mean():6.2f} dB   MAE {mae:6.2f} /255")
    if args.save:
        np.savez_compressed(args.save, clean=clean, **{k.replace(" ", "_"): v for k, v in rows.items()})
        print(f"  outputs saved to {args.save}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, help="a saved generator folder (default: random init)")
    parser.add_argument("--n", type=int, default=8, help="candidates per batch (default 8)")
    parser.add_argument("--steps", type=int, default=25, help="sampler steps (default 25)")
    parser.add_argument("--sampler", default="ddim", choices=("ddim", "dpm"))
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per side; the fastest is kept")
    parser.add_argument("--train-steps", type=int, default=2, help="timed training steps (0: skip)")
    parser.add_argument("--batch-size", type=int, default=TrainConfig.batch_size, help="training step batch")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--heldout", type=Path, help="npz of clean crops: also report held-out quality")
    parser.add_argument("--heldout-limit", type=int, default=96)
    parser.add_argument("--save", type=Path, help="with --heldout: save the outputs here (npz)")
    args = parser.parse_args()

    device = resolve_device(args.device)
    if args.checkpoint:
        unet, config, sched, _ = load_generator(args.checkpoint, device)
    else:
        torch.manual_seed(0)
        config = GeneratorConfig()
        unet, sched = build_unet(config).to(device).eval(), scheduler_config(config)
    params = sum(p.numel() for p in unet.parameters())
    casual = torch.rand(args.n, 3, config.image_size, config.image_size, device=device) * 2 - 1
    seeds = list(range(args.n))

    def ours_run():
        return sample(unet, sched, casual, steps=args.steps, seeds=seeds, sampler=args.sampler)

    def bare_run():
        return bare(unet, sched, casual, args.steps, args.sampler, 0)

    ours_run(), bare_run()  # warm up
    ours_times, bare_times = [], []
    for _ in range(args.repeat):
        ours_times.append(timed(ours_run, device))
        bare_times.append(timed(bare_run, device))
    ours_t, bare_t = min(ours_times), min(bare_times)

    print(f"generator bench: {args.n} candidates {config.image_size}x{config.image_size}, {args.sampler} "
          f"{args.steps} steps, guidance 1, best of {args.repeat}; "
          f"{'checkpoint ' + str(args.checkpoint) if args.checkpoint else 'random init'}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, device {device}, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"diffusers {diffusers.__version__}, Python {platform.python_version()}")
    print(f"UNet: {params:,} parameters ({params * 4 / 1e6:.1f} MB fp32), block_out_channels "
          f"{list(config.block_out_channels)}, attention at {list(config.attention_resolutions)} px")
    print(f"ours  sample()        : {ours_t:7.3f} s  {args.n / ours_t:7.2f} images/s")
    print(f"bare  diffusers loop  : {bare_t:7.3f} s  {args.n / bare_t:7.2f} images/s")
    print(f"ratio ours/bare images/s: {bare_t / ours_t:6.3f}")

    if args.train_steps > 0:
        tc = TrainConfig(batch_size=args.batch_size)
        net = build_unet(config).to(device).train()
        optimizer = torch.optim.AdamW(net.parameters(), lr=tc.lr, fused=device.type == "cuda")
        noise_sched = make_scheduler(scheduler_config(config), "ddpm")
        clean = torch.rand(tc.batch_size, 3, config.image_size, config.image_size, device=device) * 2 - 1
        cond = torch.rand_like(clean) * 2 - 1
        amp = device.type == "cuda"

        def step():
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                loss = training_loss(net, noise_sched, clean, cond, None, config.cond_dropout)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

        step()  # warm up
        t = min(timed(step, device) for _ in range(args.train_steps))
        print(f"training step, batch {tc.batch_size}{' bf16 autocast' if amp else ''}: {t:7.3f} s/step "
              f"({tc.batch_size / t:.1f} images/s), best of {args.train_steps}")

    if args.heldout:
        heldout_report(unet, config, sched, args.heldout, args, device)


if __name__ == "__main__":
    main()
