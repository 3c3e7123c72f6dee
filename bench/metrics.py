"""Snapshot FID/KID time for N generated images against N reference images, with and without cached
reference statistics, beside clean-fid called directly on the same folders, in one run.

    .venv/bin/python bench/metrics.py                 # 500 + 500 images: ~10 minutes on 2 CPU cores
    .venv/bin/python bench/metrics.py --images 60     # a quick check (~1 minute)

Images: two folders of N 64×64 PNG portraits drawn with Pillow (seeded; the "generated" folder uses a
slightly different palette and blur), written to a temporary folder. Inception runs at ~4 images/s on
2 cores, so a full run reads 2,500 images in all (cold: 2N, cached: N, clean-fid: 2N).

Ours: ``monitoring.ml.fid.fid_kid(generated, reference, cache_dir=...)`` — clean-fid's file reading and
"clean" resize through ``get_files_features``, our exact small-n FID, clean-fid's ``kernel_distance``
for KID (100 subsets). *Cold*: an empty cache dir, so the reference features are computed and written.
*Cached*: the same call again; only the generated folder goes through Inception.

clean-fid direct: ``cleanfid.fid.get_folder_features`` on both folders with the same Inception
TorchScript adapter (``InceptionFeatures``) as ``model``, ``mode="clean"``, then ``fid_from_feats``
(SciPy ``sqrtm`` of a 2048×2048 matrix) and ``kernel_distance`` — what ``compute_fid`` + ``compute_kid``
do, with features read once. Same batch size, same worker count, same device. The model is loaded and
run once before timing. Target: ours (cold) / clean-fid ≤ 1.1. No Django.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from cleanfid import fid as cleanfid_fid  # noqa: E402

from monitoring.ml.fid import KID_SUBSETS, InceptionFeatures, fid_kid  # noqa: E402

SIDE = 64
SKIN = [(255, 224, 196), (234, 192, 134), (198, 134, 66), (141, 85, 36), (92, 51, 23)]
HAIR = [(20, 15, 10), (80, 50, 20), (160, 110, 50), (200, 170, 90), (120, 120, 120)]


def portrait(rng: np.random.Generator, shift: int) -> Image.Image:
    """A 64×64 drawn head-and-shoulders portrait; ``shift`` nudges the palette (the "generated" set)."""
    background = tuple(int(c) for c in np.clip(rng.integers(60, 230, 3) + shift, 0, 255))
    image = Image.new("RGB", (SIDE, SIDE), background)
    draw = ImageDraw.Draw(image)
    skin = tuple(int(c) for c in np.clip(np.array(SKIN[rng.integers(len(SKIN))]) + rng.integers(-15, 16, 3)
                                         + shift // 2, 0, 255))
    hair = HAIR[rng.integers(len(HAIR))]
    cloth = tuple(int(c) for c in rng.integers(0, 200, 3))
    cx, cy = 32 + int(rng.integers(-4, 5)), 28 + int(rng.integers(-3, 4))
    w, h = int(rng.integers(11, 15)), int(rng.integers(14, 18))
    draw.ellipse([cx - 26, cy + h - 2, cx + 26, cy + h + 40], fill=cloth)  # shoulders
    draw.ellipse([cx - w - 2, cy - h - 3, cx + w + 2, cy + h - 4], fill=hair)  # hair
    draw.ellipse([cx - w, cy - h, cx + w, cy + h], fill=skin)  # face
    for side in (-1, 1):  # eyes
        ex, ey = cx + side * w // 2, cy - h // 5
        draw.ellipse([ex - 2, ey - 1, ex + 2, ey + 1], fill=(250, 250, 250))
        draw.ellipse([ex - 1, ey - 1, ex + 1, ey + 1], fill=(40, 30, 20))
    mouth = cy + h // 2
    draw.arc([cx - 5, mouth - 3, cx + 5, mouth + 2], 20, 160, fill=(150, 60, 60), width=1)
    draw.line([cx, cy - 1, cx - 1, cy + 4], fill=tuple(max(0, c - 40) for c in skin))  # nose
    return image


def write_folder(folder: Path, n: int, seed: int, shift: int, blur: float) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        image = portrait(rng, shift)
        if blur:
            image = image.filter(ImageFilter.GaussianBlur(blur))
        image.save(folder / f"{i:05d}.png")
    return folder


def clean_fid_direct(generated: Path, reference: Path, extractor: InceptionFeatures, batch: int,
                     workers: int, seed: int) -> tuple[float, float, float]:
    """(FID, KID, seconds in the distances) with clean-fid's own functions on both folders."""
    kwargs = {"model": extractor, "num_workers": workers, "batch_size": batch, "device": extractor.device,
              "mode": "clean", "verbose": False}
    feats_gen = cleanfid_fid.get_folder_features(str(generated), **kwargs)
    feats_ref = cleanfid_fid.get_folder_features(str(reference), **kwargs)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)  # scipy sqrtm's `disp`
        fid = float(cleanfid_fid.fid_from_feats(feats_gen, feats_ref))
    np.random.seed(seed)
    kid = float(cleanfid_fid.kernel_distance(feats_gen, feats_ref, num_subsets=KID_SUBSETS))
    return fid, kid, time.perf_counter() - start


def timed(fn):
    start = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return out, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=500, help="images per folder (default 500, ~10 min)")
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "cache",
                        help="holds the Inception weights (python -m hfplatform.ml.weights)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--device", default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    extractor = InceptionFeatures.from_cache(args.cache, device=args.device)
    name = torch.cuda.get_device_name() if extractor.device.type == "cuda" else platform.processor() or "cpu"
    print(f"metrics bench: {args.images} generated + {args.images} reference {SIDE}x{SIDE} PNGs, "
          f"batch {args.batch}, {args.workers} workers")
    print(f"machine: {extractor.device} ({name}), torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as tmp:
        root = Path(tmp)
        generated = write_folder(root / "generated", args.images, seed=1, shift=25, blur=0.6)
        reference = write_folder(root / "reference", args.images, seed=2, shift=0, blur=0.0)
        extractor(torch.rand(2, 3, 299, 299) * 255)  # load and run once before timing

        (cf_fid, cf_kid, cf_dist), cf_t = timed(
            lambda: clean_fid_direct(generated, reference, extractor, args.batch, args.workers, args.seed))
        cache_dir = root / "cache"
        (fid_c, kid_c), cold_t = timed(lambda: fid_kid(
            generated, reference, cache_dir=cache_dir, extractor=extractor, batch_size=args.batch,
            num_workers=args.workers, seed=args.seed))
        (fid_w, kid_w), cached_t = timed(lambda: fid_kid(
            generated, reference, cache_dir=cache_dir, extractor=extractor, batch_size=args.batch,
            num_workers=args.workers, seed=args.seed))

    n = args.images
    print(f"clean-fid direct    : {cf_t:7.1f} s  (features {cf_t - cf_dist:6.1f} s for {2 * n} images, "
          f"FID+KID distances {cf_dist:5.1f} s)  FID {cf_fid:8.3f}  KID {cf_kid:.5f}")
    print(f"ours, cold reference: {cold_t:7.1f} s  ({2 * n} images through Inception){'':24s}"
          f"FID {fid_c.value:8.3f}  KID {kid_c.value:.5f}")
    print(f"ours, cached ref.   : {cached_t:7.1f} s  ({n} images through Inception){'':25s}"
          f"FID {fid_w.value:8.3f}  KID {kid_w.value:.5f}")
    print(f"ratio ours cold / clean-fid  : {cold_t / cf_t:.3f} (target <= 1.1)")
    print(f"ratio ours cached / clean-fid: {cached_t / cf_t:.3f}")
    print(f"|FID ours - clean-fid| = {abs(fid_c.value - cf_fid):.2e}, |KID ours - clean-fid| = "
          f"{abs(kid_c.value - cf_kid):.2e}")


if __name__ == "__main__":
    main()
