"""The studio stages' cost beside the plain library call each builds on, and beside generating the
candidates they are applied to, in one run. No Django.

    .venv/bin/python bench/stages.py                     # 12 corpus faces, headshot-v3, 4 candidates
    .venv/bin/python bench/stages.py --faces 4 --repeat 1

Inputs: the 64-px aligned crops of the first ``--faces`` corpus photos with a face (what the generator
gives), with their landmarks carried into that frame, as a generation job does. Each stage runs in the
pipeline's order, so lighting, colour and background see the 256-px output of super-resolution. For
each stage, ours (``generation.ml.studio``) and the plain library call it is compared with:

* super_resolution: ours (the network, two ×2 passes) | OpenCV Lanczos resize | Real-ESRGAN x4plus;
* lighting: ours (shading fit + ratio image) | OpenCV CLAHE on L* (a global fix that ignores the face);
* colour: ours (cast removal + Reinhard towards the portrait profile, skin lightness kept) |
  scikit-image ``match_histograms`` towards one clean portrait;
* background: ours (landmark trimap, GrabCut, closed-form matting) | ``cv2.grabCut`` from the face box.

Then the generator (``--generator``) samples ``--candidates`` candidates at the default steps for one
input, as a generation job does, and the default set's time for those candidates is set beside it (the
budget: the stages add at most as much time as the sampling), then the same with the background stage,
which a job asks for by name. The fastest of ``--repeat``
runs of each call is kept; times are per image.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generation.ml.studio.base import FaceContext  # noqa: E402


def best_of(repeat: int, call, *args, **kwargs) -> tuple[float, object]:
    """The fastest of ``repeat`` runs of ``call(*args, **kwargs)`` in seconds, and its result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = call(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best, out


def faces(count: int) -> list[tuple[np.ndarray, FaceContext]]:
    """(64-px aligned crop, its FaceContext) of the first ``count`` corpus photos with a face."""
    from generation.ml import FaceAnalyzer, corpus_photos, corpus_wheel, decode_photo
    from generation.ml.align import aligned_face

    analyzer, out = FaceAnalyzer(compute_embedding=False), []
    for _, data in corpus_photos(corpus_wheel(ROOT / "var" / "cache"), limit=count * 2):
        rgb = decode_photo(data)
        analysis = analyzer.analyze(rgb)
        if analysis.landmarks is None:
            continue
        crop, frame = aligned_face(rgb, np.asarray(analysis.landmarks, np.float64), 64)
        out.append((crop, FaceContext(landmarks=frame)))
        if len(out) == count:
            break
    return out


def plain_lighting(rgb: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    lab[..., 0] = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(lab[..., 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def plain_background(rgb: np.ndarray, face: FaceContext) -> np.ndarray:
    left, top = face.landmarks.min(axis=0)
    right, bottom = face.landmarks.max(axis=0)
    pad = 0.3 * (right - left)
    rect = (int(max(left - pad, 1)), int(max(top - 2 * pad, 1)), int(right - left + 2 * pad),
            int(min(rgb.shape[0] - 2, bottom + 3 * pad) - max(top - 2 * pad, 1)))
    mask = np.zeros(rgb.shape[:2], np.uint8)
    cv2.setRNGSeed(0)
    cv2.grabCut(rgb, mask, rect, np.zeros((1, 65)), np.zeros((1, 65)), 5, cv2.GC_INIT_WITH_RECT)
    person = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD))[..., None]
    return np.where(person, rgb, np.uint8(128))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--generator", type=Path, default=ROOT / "generation" / "checkpoints" / "headshot-v3")
    args = parser.parse_args()

    from skimage.exposure import match_histograms

    from generation.ml.generator import load_generator, sample, to_tensor
    from generation.ml.studio import background, colour, lighting, superres
    from generation.ml.studio.base import StageUnavailable
    from generation.ml.studio.pipeline import DEFAULT_STAGES, stages_apply, stages_check

    print(f"torch threads {torch.get_num_threads()}, OpenCV threads {cv2.getNumThreads()}, "
          f"{args.faces} faces, best of {args.repeat}", flush=True)
    cases = faces(args.faces)
    # the plain colour transfer matches the histograms of one clean portrait (the last face)
    target = cv2.resize(cases[-1][0], (256, 256), interpolation=cv2.INTER_LANCZOS4)
    # warm-up: loads the network, pymatting's compiled kernels and Real-ESRGAN once
    stages_apply(cases[0][0], cases[0][1], stages_check(None))

    rows: dict[str, dict[str, list[float]]] = {}

    def add(stage: str, name: str, seconds: float) -> None:
        rows.setdefault(stage, {}).setdefault(name, []).append(seconds)

    for small, face in cases:
        big_face = face.scaled(4.0)
        seconds, big = best_of(args.repeat, superres.upscale, small, 256, "network")
        add("super_resolution", "ours (network)", seconds)
        add("super_resolution", "OpenCV Lanczos", best_of(args.repeat, cv2.resize, small, (256, 256),
                                                          interpolation=cv2.INTER_LANCZOS4)[0])
        try:
            add("super_resolution", "Real-ESRGAN x4plus", best_of(1, superres.upscale, small, 256,
                                                                  "realesrgan")[0])
        except StageUnavailable as exc:
            print(f"Real-ESRGAN unavailable: {exc.reason}")
        add("lighting", "ours", best_of(args.repeat, lighting.relight, big, big_face)[0])
        add("lighting", "OpenCV CLAHE on L*", best_of(args.repeat, plain_lighting, big)[0])
        add("colour", "ours", best_of(args.repeat, colour.harmonise, big, big_face)[0])
        add("colour", "skimage match_histograms", best_of(args.repeat, match_histograms, big, target,
                                                          channel_axis=-1)[0])
        add("background", "ours", best_of(args.repeat, background.replace_background, big, big_face)[0])
        add("background", "cv2.grabCut from a box", best_of(args.repeat, plain_background, big, big_face)[0])

    print("\nstage              method                        ms/image   ratio to the plain call")
    totals = {}
    for stage, methods in rows.items():
        names = list(methods)
        plain = np.mean(methods[names[1]]) if len(names) > 1 else None
        for name in names:
            ms = 1000 * np.mean(methods[name])
            ratio = f"{np.mean(methods[name]) / plain:8.2f}" if plain else "       —"
            print(f"{stage:<18} {name:<29} {ms:9.1f}   {ratio}")
        totals[stage] = np.mean(methods[names[0]])
    stages_total = sum(totals[stage] for stage in DEFAULT_STAGES)

    unet, _, sched, _ = load_generator(args.generator)
    casual = to_tensor(np.stack([cases[0][0]] * args.candidates))
    seeds = list(range(args.candidates))
    gen_seconds, _ = best_of(args.repeat, sample, unet, sched, casual, steps=args.steps, seeds=seeds)
    print(f"\ngenerating {args.candidates} candidates ({args.generator.name}, {args.steps} steps): "
          f"{gen_seconds:.2f} s; the default stages for them: {args.candidates * stages_total:.2f} s "
          f"({args.candidates} × {stages_total:.3f} s); stages / sampling = "
          f"{args.candidates * stages_total / gen_seconds:.2f} ({', '.join(DEFAULT_STAGES)})")
    with_background = stages_total + totals["background"]
    print(f"with background too: {args.candidates * with_background:.2f} s "
          f"({args.candidates} × {with_background:.3f} s); stages / sampling = "
          f"{args.candidates * with_background / gen_seconds:.2f}")


if __name__ == "__main__":
    main()
