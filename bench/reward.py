"""Reward-model cost: scoring throughput beside the bare forward pass, for each model kind (the CNN and
the image-statistics model), the reranking overhead of a generation job, and the training step through
TRL beside a bare PyTorch step, in one run.

    .venv/bin/python bench/reward.py                          # random-init models of both kinds
    .venv/bin/python bench/reward.py --reward DIR             # a trained one (DIR/config.json)

Scoring. Ours: ``reward_scores(model, uint8 headshots, one uint8 reference)`` (size check, uint8 →
float, the reference's features once, trunk + head, no_grad). Bare: ``model(headshot, reference)``
on ready float tensors under ``torch.no_grad()``. Batches of 8 and 64 headshots at the model's size,
alternately, ``--repeat`` times after a warm-up; the fastest of each is kept. The weights do not change
the cost, so a random-init model times the same as a trained one.

Reranking overhead. ``sample()`` of the shipped generator (``--checkpoint``, default
generation/checkpoints/headshot-v1, fp32 on the CPU) for ``--n`` candidates with ``--steps`` DDIM steps,
then ``to_uint8`` + ``reward_scores`` + ``rerank`` on its outputs; the share is scoring time / sampling
time (target < 5 %).

Training. Ours: steps inside ``train_reward_model`` (TRL ``RewardTrainer``: Arrow rows, our collator
and augmentation, TRL's loss and metrics, gradient clipping, LR schedule, logging), timed between
progress reports after 5 warm-up steps. Bare: collate the same rows, ``augment_pairs``, forward,
``-logsigmoid(r_c - r_r).mean()``, backward, AdamW step. Batch 16 pairs. No Django.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

started_import = time.perf_counter()
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402, N812
import transformers  # noqa: E402
import trl  # noqa: E402

from generation.ml.generator import load_generator, sample, to_tensor, to_uint8  # noqa: E402
from reward.ml.data import PreferenceExample  # noqa: E402
from reward.ml.model import (  # noqa: E402
    HeadshotRewardConfig,
    HeadshotRewardModel,
    images_to_tensor,
    load_reward_model,
    reward_scores,
)
from reward.ml.options import MODELS, RewardTrainConfig  # noqa: E402
from reward.ml.rerank import rerank  # noqa: E402
from reward.ml.train import build_model, train_reward_model  # noqa: E402
from reward.ml.trl_glue import (  # noqa: E402
    HeadshotImageProcessor,
    ImagePreferenceCollator,
    augment_pairs,
    preference_dataset,
)

IMPORT_SECONDS = time.perf_counter() - started_import
DEFAULT_GENERATOR = ROOT / "generation" / "checkpoints" / "headshot-v1"


def best_of(fn, repeat: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def scoring(model, repeat: int) -> None:
    side = model.config.image_size
    rng = np.random.default_rng(0)
    reference = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
    for batch in (8, 64):
        headshots = rng.integers(0, 256, (batch, side, side, 3), dtype=np.uint8)
        h, r = images_to_tensor(headshots), images_to_tensor(reference[None])

        def bare(h=h, r=r):
            with torch.no_grad():
                return model(h, r).logits

        def ours(headshots=headshots):
            return reward_scores(model, headshots, reference)

        ours_times, bare_times = [], []
        for _ in range(repeat):  # alternately, so both see the same machine load
            ours_times.append(best_of(ours, 1))
            bare_times.append(best_of(bare, 1))
        ours_t, bare_t = min(ours_times), min(bare_times)
        print(f"scoring batch {batch:2d}: ours reward_scores {ours_t * 1e3:7.2f} ms "
              f"{batch / ours_t:7.0f} headshots/s | bare forward {bare_t * 1e3:7.2f} ms "
              f"{batch / bare_t:7.0f} headshots/s | ratio ours/bare headshots/s {bare_t / ours_t:5.3f}")


def generation(args) -> tuple[float, np.ndarray]:
    """Seconds to sample ``args.n`` candidates with the generator, and the candidates (uint8)."""
    unet, config, sched, _ = load_generator(args.checkpoint, "cpu", torch.float32)
    side = config.image_size
    casual = to_tensor(np.random.default_rng(1).integers(0, 256, (args.n, side, side, 3), dtype=np.uint8))
    seeds = list(range(args.n))
    out = {}

    def generate():
        out["images"] = sample(unet, sched, casual, steps=args.steps, seeds=seeds, sampler="ddim")

    gen_t = best_of(generate, args.repeat)
    print(f"generation: {args.n} candidates {side}x{side}, DDIM {args.steps} steps, "
          f"{args.checkpoint.name} fp32: {gen_t:6.3f} s")
    return gen_t, to_uint8(out["images"])


def rerank_overhead(model, gen_t: float, images: np.ndarray, args) -> None:
    side = images.shape[1]
    reference = np.random.default_rng(2).integers(0, 256, (side, side, 3), dtype=np.uint8)

    def score_and_rank():
        scores = reward_scores(model, images, reference)
        return rerank(scores.tolist(), keep=min(4, args.n))

    score_t = best_of(score_and_rank, args.repeat * 5)
    print(f"reranking : reward_scores + rerank(keep {min(4, args.n)}): {score_t * 1e3:6.2f} ms = "
          f"{100 * score_t / gen_t:5.2f} % of generation time (target < 5 %)")


def training(args) -> None:
    rng = np.random.default_rng(3)

    def image():
        return rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)

    pairs = [PreferenceExample(image(), image(), image()) for _ in range(64)]
    config = RewardTrainConfig(max_steps=args.train_steps + 5, logging_steps=1, save_steps=10_000)
    stamps = []
    with tempfile.TemporaryDirectory() as out:
        train_reward_model(pairs, [], config, Path(out), progress=lambda r: stamps.append((r["step"],
                                                                                            time.perf_counter())))
    (s0, t0), (s1, t1) = stamps[4], stamps[-1]  # after 5 warm-up steps
    ours_t = (t1 - t0) / (s1 - s0)

    torch.manual_seed(0)
    model = HeadshotRewardModel(HeadshotRewardConfig()).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate)
    processor = HeadshotImageProcessor(config.image_size)
    rows = list(preference_dataset(pairs[:config.batch_size], processor))
    collate = ImagePreferenceCollator(processor)

    generator = torch.Generator().manual_seed(0)

    def bare_step():
        batch = augment_pairs(collate(rows), generator, 3)
        rewards = model(batch["headshot"], batch["reference"]).logits[:, 0]
        chosen, rejected = rewards.chunk(2)
        loss = -F.logsigmoid(chosen - rejected).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    bare_t = best_of(bare_step, args.train_steps)
    print(f"training step, batch {config.batch_size} pairs: ours RewardTrainer {ours_t:6.3f} s/step | "
          f"bare PyTorch {bare_t:6.3f} s/step | ratio ours/bare steps/s {bare_t / ours_t:5.3f} "
          f"({args.train_steps} steps each)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reward", type=Path, help="a saved reward model folder (default: random init)")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_GENERATOR, help="generator folder")
    parser.add_argument("--n", type=int, default=8, help="candidates per generation job (default 8)")
    parser.add_argument("--steps", type=int, default=25, help="DDIM steps (default 25)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per side; the fastest is kept")
    parser.add_argument("--train-steps", type=int, default=20, help="timed training steps (0: skip)")
    args = parser.parse_args()

    if args.reward:
        models = {f"model {args.reward}": load_reward_model(args.reward)}
    else:  # the weights do not change the cost: random-init models of each kind time like trained ones
        rng = np.random.default_rng(4)
        pairs = [PreferenceExample(*(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(3)))
                 for _ in range(32)]
        models = {f"random-init {kind} model (timing only)": build_model(RewardTrainConfig(model=kind),
                                                                          pairs).eval()
                  for kind in MODELS}
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"transformers {transformers.__version__}, trl {trl.__version__}, "
          f"Python {platform.python_version()}")
    print(f"first import of torch, transformers, trl, our modules: {IMPORT_SECONDS:.1f} s (once per worker)")
    gen_t, images = generation(args)
    for name, model in models.items():
        params = sum(p.numel() for p in model.parameters())
        print(f"--- {name}, {model.config.image_size}x{model.config.image_size}, "
              f"{params:,} parameters ({params * 4 / 1e6:.2f} MB fp32)")
        scoring(model, args.repeat)
        rerank_overhead(model, gen_t, images, args)
    if args.train_steps > 0:
        training(args)


if __name__ == "__main__":
    main()
