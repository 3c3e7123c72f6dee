"""How well reward training learns what simulated reviewers mean: held-out accuracy against the
noiseless objective for each training arm, side by side in one run. No Django.

    .venv/bin/python bench/reward_learning.py                       # 3 objectives × 4 arms, spread 0.25
    .venv/bin/python bench/reward_learning.py --objectives sharpness --arms lr1e-3 statistics

World. People are head-and-shoulders drawings (``hfplatform.demo.portrait_sketch``); each has
``--candidates`` headshots: the drawing shifted by ±2 px with its exposure (gain 1 ± 0.3·s), colour
cast (R+, B− by ±20·s) and blur (0 to 2·s px) drawn at random, s = ``--spread``. s = 1 spreads
candidates widely; s = 0.25 makes them near-identical against reviewer noise, as generated
candidates are.

Reviewers. A panel of ``--reviewers`` simulated reviewers (``review.ml.simulate.panel``: bias
N(0, 0.3), noise 0.25–0.75 standard units of the objective over all headshots) votes on every pair
of a person's candidates, ``--overlap`` votes per pair by different reviewers; ties are dropped.
Training people: ``--people``; 20 % of them are set aside as validation people (the stopping
point); 20 held-out people are scored against the noiseless objective (``review.ml.objectives``).

Arms. ``previous``: 300 steps, linear decay, no warm-up, no validation, lr 3e-4 (the former
defaults); ``lr3e-4``: the CNN with early stopping on the validation people (3000 steps at most,
cosine) at lr 3e-4; ``lr1e-3``: the same at lr 1e-3 (today's defaults); ``statistics``: the
image-statistics model, early stopping, lr 3e-4. Prints one row per objective and arm.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from PIL import Image, ImageFilter  # noqa: E402

from hfplatform.demo import portrait_sketch  # noqa: E402
from review.ml.objectives import objective_get  # noqa: E402
from review.ml.simulate import Calibration, panel  # noqa: E402
from reward.ml.data import PreferenceExample  # noqa: E402
from reward.ml.evaluate import evaluate_reward  # noqa: E402
from reward.ml.model import load_reward_model  # noqa: E402
from reward.ml.options import RewardTrainConfig  # noqa: E402
from reward.ml.train import train_reward_model  # noqa: E402

SIZE = 64
ARMS = {
    "previous": {"max_steps": 300, "lr_scheduler": "linear", "warmup_ratio": 0.0, "learning_rate": 3e-4,
                 "validation": False},
    "lr3e-4": {"learning_rate": 3e-4},
    "lr1e-3": {"learning_rate": 1e-3},
    "statistics": {"model": "statistics", "learning_rate": 3e-4},
}


def person(seed: int, candidates: int, spread: float, rng: np.random.Generator
           ) -> tuple[np.ndarray, list[np.ndarray]]:
    """A drawn person's reference crop and ``candidates`` varied headshots of them."""
    reference = np.asarray(portrait_sketch(seed, 256).resize((SIZE, SIZE), Image.LANCZOS))
    shots = []
    for _ in range(candidates):
        image = np.roll(reference, tuple(rng.integers(-2, 3, size=2)), axis=(0, 1)).astype(np.float64)
        image *= 1 + spread * rng.uniform(-0.3, 0.3)
        cast = spread * rng.uniform(-20, 20)
        image[..., 0] += cast
        image[..., 2] -= cast
        blurred = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).filter(
            ImageFilter.GaussianBlur(float(spread * rng.uniform(0, 2.0))))
        shots.append(np.asarray(blurred))
    return reference, shots


def world(seeds: range, candidates: int, spread: float, seed: int) -> list[tuple[int, np.ndarray, list]]:
    rng = np.random.default_rng(seed)
    return [(s, *person(s, candidates, spread, rng)) for s in seeds]


def votes(people: list, objective, calibration: Calibration, reviewers: int, overlap: int, seed: int
          ) -> list[PreferenceExample]:
    """Every pair of a person's candidates, ``overlap`` votes each by distinct simulated reviewers."""
    rng = np.random.default_rng(seed)
    raters = panel(reviewers, noise=0.5, bias_spread=0.3, seed=seed)
    examples = []
    for s, reference, shots in people:
        z = [calibration.standard(objective(shot)) for shot in shots]
        for i, j in itertools.combinations(range(len(shots)), 2):
            for r in rng.choice(reviewers, overlap, replace=False):
                answer = raters[r].choose(z[i], z[j], rng)
                if answer == "tie":
                    continue
                chosen, rejected = (i, j) if answer == "a" else (j, i)
                examples.append(PreferenceExample(
                    chosen=shots[chosen], rejected=shots[rejected], reference=reference,
                    chosen_id=s * 100 + chosen, rejected_id=s * 100 + rejected, person=s))
    return examples


def run(objective_name: str, arm: str, args) -> dict:
    objective = objective_get(objective_name)
    train_people = world(range(0, args.people), args.candidates, args.spread, seed=1)
    heldout = world(range(10_000, 10_020), args.candidates, args.spread, seed=2)
    values = [objective(shot) for _, _, shots in train_people + heldout for shot in shots]
    calibration = Calibration.fit(values)
    cut = args.people - max(1, round(0.2 * args.people))
    train = votes(train_people[:cut], objective, calibration, args.reviewers, args.overlap, seed=3)
    validation = votes(train_people[cut:], objective, calibration, args.reviewers, args.overlap, seed=4)
    test = votes(heldout, objective, calibration, args.reviewers, args.overlap, seed=5)
    settings = dict(ARMS[arm])
    if not settings.pop("validation", True):
        train, validation = train + validation, []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        result = train_reward_model(train, validation, RewardTrainConfig(**settings), Path(out), resume=False)
        report = evaluate_reward(load_reward_model(result["final"]), test, objective=objective)
    return {"objective": objective_name, "arm": arm, "train_pairs": len(train), "steps": result["steps"],
            "best_step": result["best_step"], "objective_accuracy": report["objective"],
            "consensus": report["consensus"], "single_votes": report["accuracy"],
            "ceiling": report["human_ceiling"], "seconds": time.perf_counter() - started}


def cell(figure: dict) -> str:
    low, high = figure["interval"]
    return f"{figure['value']:.3f} [{low:.2f}–{high:.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objectives", nargs="+", default=["sharpness", "exposure", "warmth"])
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    parser.add_argument("--spread", type=float, default=0.25)
    parser.add_argument("--people", type=int, default=36, help="training people (20 %% of them validate)")
    parser.add_argument("--candidates", type=int, default=6)
    parser.add_argument("--reviewers", type=int, default=6)
    parser.add_argument("--overlap", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    print(f"reward learning bench: spread {args.spread}, {args.people} training people × "
          f"{args.candidates} candidates, {args.reviewers} simulated reviewers, overlap {args.overlap}, "
          "20 held-out people")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'objective':<10} {'arm':<11} {'pairs':>5} {'steps':>5} {'best':>5}  "
          f"{'vs objective [95% CI]':<22} {'vs consensus':<22} {'vs single votes':<22} {'ceiling':<22} "
          "seconds")
    for objective_name in args.objectives:
        for arm in args.arms:
            r = run(objective_name, arm, args)
            print(f"{r['objective']:<10} {r['arm']:<11} {r['train_pairs']:>5} {r['steps']:>5} "
                  f"{r['best_step']:>5}  {cell(r['objective_accuracy']):<22} {cell(r['consensus']):<22} "
                  f"{cell(r['single_votes']):<22} {cell(r['ceiling']):<22} {r['seconds']:.0f}", flush=True)


if __name__ == "__main__":
    main()
