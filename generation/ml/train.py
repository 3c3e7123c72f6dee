"""Training loop for the conditional generator: (casual, clean) pairs made by ``degrade``, resumable.

    python -m generation.ml.train --data crops.npz --out var/generator --minutes 8

``crops.npz`` holds ``images`` (N×H×W×3 uint8 aligned crops, the training split only; see
``python -m generation.ml.dataset``). Runs on CUDA when available (bf16 autocast), else CPU. No Django.

Layout of ``out_dir``::

    checkpoint/unet.safetensors, ema.safetensors   weights (fp32)
    checkpoint/state.pt                            optimizer, LR schedule, step, loss curve, RNG states
    checkpoint/meta.json                           configs and the data fingerprint
    final/                                         the EMA generator (see generator.save_generator)

A checkpoint is written every ``checkpoint_every`` steps and at the end, into a fresh folder that then
replaces the old one, so an interrupted run (or a progress callback that raises) leaves the last complete
checkpoint. Calling ``train`` again with the same data and configs resumes from it.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from safetensors.torch import load_file, save_file

from generation.ml.degrade import DEGRADE_VERSION, degrade
from generation.ml.generator import (
    EMA,
    GeneratorConfig,
    Perceptual,
    build_unet,
    generator_config,
    load_generator,
    make_scheduler,
    save_generator,
    scheduler_config,
    training_loss,
)
from generation.ml.options import BETA_SCHEDULES, PREDICTION_TYPES, TRAINING_PREDICTION_TYPE

Progress = Callable[[int, int, float], None]


@dataclass
class TrainConfig:
    """The optimisation. On an H100 GPU, bf16, 64×64, batch 64: ~0.11 s per step (docs/generator.md)."""

    steps: int = 20_000  # total optimizer steps (a resumed run counts on from its checkpoint)
    batch_size: int = 64
    lr: float = 2e-4  # AdamW, constant after a linear warm-up
    warmup: int = 500  # warm-up steps
    weight_decay: float = 0.0
    grad_clip: float = 1.0  # max global gradient norm
    checkpoint_every: int = 1000  # steps between checkpoints (one is also written at the end)
    seed: int = 0
    device: str = "auto"  # "auto" (CUDA if available), "cuda", "cpu", ...
    mixed_precision: str = "auto"  # "auto" (bf16 autocast on CUDA, none on CPU), "bf16" (also on CPU) or "no"
    max_minutes: float | None = None  # stop cleanly (checkpoint + final) this long after the loop starts
    variants: int = 16  # degraded versions of each image, seeds from (image index, variant)
    degrade_size: int = 128  # side at which photos are degraded before resizing to image_size
    flip: bool = True  # random horizontal flips (same for both images of a pair)
    log_every: int = 50  # steps between loss-curve points and progress calls
    init_from: str | None = None  # a saved generator folder to start from (fine-tuning a parent version)
    perceptual_weight: float = 0.0  # weight of the perceptual term (LPIPS of the predicted clean image)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _group_keys(groups: list[str | None]) -> list[str]:
    return ["unknown" if g is None else str(g) for g in groups]


def group_balance_weights(groups: list[str | None], strength: float = 1.0) -> np.ndarray:
    """Per-image sampling weights that even out groups (e.g. measured skin tone): image i gets
    count(group_i) ** -strength, scaled to mean 1. ``strength`` 0 leaves sampling uniform, 1 draws every
    group equally often, 0.5 is in between (square-root balancing). ``None`` is the group "unknown"."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"group balance strength must be between 0 and 1, not {strength}")
    keys = _group_keys(groups)
    counts = Counter(keys)
    weights = np.array([counts[key] ** -strength for key in keys], dtype=np.float64)
    return weights / weights.mean() if len(weights) else weights


def group_shares(groups: list[str | None], weights: np.ndarray | None = None) -> dict[str, float]:
    """Each group's share of the draws under ``weights`` (uniform when None): what a balanced run
    records beside its weights."""
    w = np.ones(len(groups)) if weights is None else np.asarray(weights, dtype=np.float64)
    shares: Counter[str] = Counter()
    for key, value in zip(_group_keys(groups), w / (w.sum() or 1.0), strict=True):
        shares[key] += float(value)
    return dict(sorted(shares.items()))


def dataset_fingerprint(images: np.ndarray, config: Any) -> str:
    """sha256 of the image array (shape, dtype, bytes) and a config (dataclass or JSON-able mapping)."""
    images = np.ascontiguousarray(images)
    data = asdict(config) if hasattr(config, "__dataclass_fields__") else dict(config)
    digest = hashlib.sha256(f"{images.shape}|{images.dtype}|".encode())
    digest.update(memoryview(images).cast("B"))
    digest.update(json.dumps(data, sort_keys=True, default=list).encode())
    return digest.hexdigest()


IDENTITY_LINK_THRESHOLD = 0.5  # embeddings closer than this (dlib's 128-D space) count as one person


def split_keeping_heldout(embeddings: np.ndarray, heldout: np.ndarray,
                          threshold: float = IDENTITY_LINK_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """``(train_idx, heldout_idx)`` for a split that is already decided (``heldout``: a boolean mask,
    e.g. a parent version's held-out people): those photos, and any photo closer than ``threshold``
    to one of them (the same person stored again), are held out."""
    emb = np.asarray(embeddings, np.float64)
    held = np.asarray(heldout, dtype=bool).copy()
    if held.any():
        gaps = np.linalg.norm(emb[:, None, :] - emb[None, held, :], axis=2)
        held |= (gaps < threshold).any(axis=1)
    return np.flatnonzero(~held), np.flatnonzero(held)


def split_by_identity(embeddings: np.ndarray, heldout_fraction: float = 0.1,
                      threshold: float = IDENTITY_LINK_THRESHOLD,
                      seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(train_idx, heldout_idx)`` with no person on both sides.

    Photos whose embeddings are closer than ``threshold`` (Euclidean, dlib's 128-D space) are linked,
    and whole connected components (people, and chains of look-alikes) go to one side. Components are
    shuffled with ``seed`` and moved to the held-out side while they fit in ``heldout_fraction`` · N.
    """
    emb = np.asarray(embeddings, np.float64)
    n = len(emb)
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    sq = (emb**2).sum(axis=1)
    for start in range(0, n, 1024):  # blocks of rows keep the distance matrix small
        d2 = sq[start:start + 1024, None] + sq[None, :] - 2 * emb[start:start + 1024] @ emb.T
        for i, j in zip(*np.nonzero(d2 < threshold**2), strict=True):
            a, b = find(start + int(i)), find(int(j))
            if a != b:
                parent[max(a, b)] = min(a, b)
    roots = np.array([find(i) for i in range(n)])
    components = [np.flatnonzero(roots == r) for r in np.unique(roots)]
    order = np.random.default_rng(seed).permutation(len(components))
    target, held = round(heldout_fraction * n), []
    for k in order:
        if len(held) + len(components[k]) <= target:
            held.extend(components[k].tolist())
    if not held and target > 0:  # every component is too big: take the smallest
        held = min(components, key=len).tolist()
    heldout = np.array(sorted(held), dtype=np.int64)
    return np.setdiff1d(np.arange(n), heldout), heldout


def make_pairs(images: np.ndarray, image_size: int, variants: int, degrade_size: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """``(clean N×S×S×3, casual N×V×S×S×3)`` uint8 at ``image_size`` S. Casual variant v of image i is
    ``degrade(image at degrade_size, seed=i * 1000 + v)``, then shrunk to S with area averaging."""
    def resize(img: np.ndarray, side: int) -> np.ndarray:
        if img.shape[:2] == (side, side):
            return img
        shrink = side < img.shape[0]
        return cv2.resize(img, (side, side), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)

    clean = np.stack([resize(img, image_size) for img in images])
    casual = np.empty((len(images), variants, image_size, image_size, 3), np.uint8)

    def one(i: int) -> None:
        big = resize(images[i], degrade_size)
        for v in range(variants):
            casual[i, v] = resize(degrade(big, seed=i * 1000 + v), image_size)

    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:  # OpenCV releases the GIL
        list(pool.map(one, range(len(images))))
    return clean, casual


def _save_checkpoint(folder: Path, unet, ema: EMA, optimizer, lr_schedule, generator: torch.Generator,
                     step: int, curve: list, meta: dict) -> None:
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file({k: v.float().contiguous() for k, v in unet.state_dict().items()}, tmp / "unet.safetensors")
    save_file({k: v.float().contiguous() for k, v in ema.model.state_dict().items()}, tmp / "ema.safetensors")
    torch.save({"optimizer": optimizer.state_dict(), "lr_schedule": lr_schedule.state_dict(), "step": step,
                "loss_curve": curve, "generator": generator.get_state(),
                "torch_rng": torch.get_rng_state()}, tmp / "state.pt")
    (tmp / "meta.json").write_text(json.dumps({**meta, "step": step}, indent=2, sort_keys=True))
    old = folder.with_name(folder.name + ".old")
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def _load_checkpoint(folder: Path, unet, ema: EMA, optimizer, lr_schedule, generator: torch.Generator,
                     fingerprint: str) -> tuple[int, list]:
    if not folder.exists() and folder.with_name(folder.name + ".old").exists():
        folder = folder.with_name(folder.name + ".old")  # interrupted between the two renames
    if not (folder / "state.pt").exists():
        return 0, []
    meta = json.loads((folder / "meta.json").read_text())
    if meta["fingerprint"] != fingerprint:
        raise ValueError(f"{folder} was trained on other data or configs (fingerprint {meta['fingerprint']});"
                         " use another --out or delete it")
    device = next(unet.parameters()).device
    unet.load_state_dict(load_file(folder / "unet.safetensors", device=str(device)))
    ema.model.load_state_dict(load_file(folder / "ema.safetensors", device=str(device)))
    state = torch.load(folder / "state.pt", map_location="cpu", weights_only=True)
    optimizer.load_state_dict(state["optimizer"])
    lr_schedule.load_state_dict(state["lr_schedule"])
    generator.set_state(state["generator"])
    torch.set_rng_state(state["torch_rng"])
    return int(state["step"]), [tuple(p) for p in state["loss_curve"]]


def _init_weights(unet, ema: EMA, folder: Path, gen_config: GeneratorConfig) -> None:
    """Start ``unet`` and its EMA from the saved generator in ``folder``: the same architecture, or the
    same network at another image size (``GeneratorConfig.at_size``: growing a version to 128 px)."""
    parent, parent_config, _, _ = load_generator(Path(folder))
    with contextlib.suppress(ValueError):  # no layout of the parent at this size: the check names it
        parent_config = parent_config.at_size(gen_config.image_size)
    if parent_config.to_dict() != gen_config.to_dict():
        changed = sorted(k for k, v in gen_config.to_dict().items() if parent_config.to_dict().get(k) != v)
        raise ValueError(f"{folder} has another generator config ({', '.join(changed)} differ)")
    state = parent.state_dict()
    unet.load_state_dict(state)
    ema.model.load_state_dict(state)


def train(clean_images: np.ndarray, out_dir: Path, gen_config: GeneratorConfig, train_config: TrainConfig,
          progress: Progress | None = None, perceptual: Perceptual | None = None,
          sample_weights: np.ndarray | None = None) -> dict[str, Any]:
    """Train (or resume training) the generator on clean aligned crops; see the module docstring.

    ``progress(step, total_steps, mean_loss)`` is called every ``log_every`` steps and may raise to stop.
    ``perceptual`` (a differentiable distance per image pair, e.g. ``LpipsMetric.differentiable``) is
    required when ``train_config.perceptual_weight`` is positive; see ``training_loss``.
    ``sample_weights`` (one positive number per image, e.g. ``group_balance_weights``) draws batches
    with those relative probabilities instead of uniformly; they are part of the data fingerprint, so
    a checkpoint of a differently weighted run is refused.
    Returns ``steps`` (done in total), ``start_step``, ``loss_curve`` [(step, mean loss)],
    ``seconds_per_step`` (this call), ``stopped`` ("steps" or "time"), ``checkpoint`` and ``final`` paths.
    """
    gc, tc, out_dir = gen_config, train_config, Path(out_dir)
    if tc.perceptual_weight > 0 and perceptual is None:
        raise ValueError("perceptual_weight > 0 needs a perceptual distance (e.g. LPIPS)")
    device = resolve_device(tc.device)
    amp = tc.mixed_precision == "bf16" or (tc.mixed_precision == "auto" and device.type == "cuda")
    torch.manual_seed(tc.seed)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    data_config = {"generator": gc.to_dict(), "variants": tc.variants, "degrade_size": tc.degrade_size,
                   "degrade_version": DEGRADE_VERSION}
    weights = None
    if sample_weights is not None:
        weights = np.asarray(sample_weights, dtype=np.float64)
        if weights.shape != (len(clean_images),) or not np.all(np.isfinite(weights)) or weights.min() <= 0:
            raise ValueError(f"sample_weights must be {len(clean_images)} positive finite numbers, "
                             "one per image")
        data_config["sample_weights"] = hashlib.sha256(np.round(weights, 9).tobytes()).hexdigest()
    fingerprint = dataset_fingerprint(clean_images, data_config)

    unet = build_unet(gc).to(device).train()
    ema = EMA(unet, gc.ema_decay)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=tc.lr, weight_decay=tc.weight_decay,
                                  fused=device.type == "cuda")
    warmup = max(1, tc.warmup)
    lr_schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup))
    noise_schedule = make_scheduler(scheduler_config(gc), "ddpm")
    generator = torch.Generator(device).manual_seed(tc.seed)
    ckpt = out_dir / "checkpoint"
    step, curve = _load_checkpoint(ckpt, unet, ema, optimizer, lr_schedule, generator, fingerprint)
    if step == 0 and tc.init_from:  # a fresh run fine-tuning a parent; a resumed run has its own weights
        _init_weights(unet, ema, Path(tc.init_from), gc)
    start_step = step
    meta = {"fingerprint": fingerprint, "generator": gc.to_dict(), "train": asdict(tc),
            "images": len(clean_images)}

    clean_np, casual_np = make_pairs(clean_images, gc.image_size, tc.variants, tc.degrade_size)
    clean = torch.from_numpy(clean_np).to(device).permute(0, 3, 1, 2).contiguous()  # uint8 N×3×S×S
    casual = torch.from_numpy(casual_np).to(device).permute(0, 1, 4, 2, 3).contiguous()  # N×V×3×S×S
    n = len(clean)
    draw = None if weights is None else torch.from_numpy(weights).to(device=device, dtype=torch.float32)

    started, stopped = time.perf_counter(), "steps"
    loss_sum, loss_count = torch.zeros((), device=device), 0
    while step < tc.steps:
        if tc.max_minutes is not None and time.perf_counter() - started > tc.max_minutes * 60:
            stopped = "time"
            break
        if draw is None:
            idx = torch.randint(0, n, (tc.batch_size,), generator=generator, device=device)
        else:
            idx = torch.multinomial(draw, tc.batch_size, replacement=True, generator=generator)
        var = torch.randint(0, tc.variants, (tc.batch_size,), generator=generator, device=device)
        x0 = clean[idx].float().div(127.5).sub(1)
        xc = casual[idx, var].float().div(127.5).sub(1)
        if tc.flip:
            flip = (torch.rand(tc.batch_size, generator=generator, device=device) < 0.5).view(-1, 1, 1, 1)
            x0, xc = torch.where(flip, x0.flip(3), x0), torch.where(flip, xc.flip(3), xc)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            loss = training_loss(unet, noise_schedule, x0, xc, generator, gc.cond_dropout,
                                 perceptual, tc.perceptual_weight)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), tc.grad_clip)
        optimizer.step()
        lr_schedule.step()
        optimizer.zero_grad(set_to_none=True)
        ema.update(unet, step)
        step += 1
        loss_sum += loss.detach()
        loss_count += 1
        if step % tc.log_every == 0 or step == tc.steps:
            mean = float(loss_sum) / loss_count
            curve.append((step, mean))
            loss_sum.zero_()
            loss_count = 0
            if progress is not None:
                progress(step, tc.steps, mean)  # may raise: the last checkpoint stays as it was
        if step % tc.checkpoint_every == 0:
            _save_checkpoint(ckpt, unet, ema, optimizer, lr_schedule, generator, step, curve, meta)
    elapsed = time.perf_counter() - started
    if loss_count:
        curve.append((step, float(loss_sum) / loss_count))

    _save_checkpoint(ckpt, unet, ema, optimizer, lr_schedule, generator, step, curve, meta)
    extra = {"fingerprint": fingerprint, "steps": step, "seed": tc.seed, "train": asdict(tc),
             "images": len(clean_images), "command": " ".join(sys.argv), "loss_curve": curve[-20:]}
    final = save_generator(ema.model, gc, out_dir / "final", extra)
    return {"steps": step, "start_step": start_step, "loss_curve": curve, "stopped": stopped,
            "seconds_per_step": elapsed / max(1, step - start_step), "device": str(device),
            "checkpoint": ckpt, "final": final}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="npz with `images` N×H×W×3 uint8")
    parser.add_argument("--out", type=Path, required=True, help="run folder (resumes from it if present)")
    parser.add_argument("--steps", type=int, default=TrainConfig.steps)
    parser.add_argument("--minutes", type=float, default=None, help="stop cleanly after this long")
    parser.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    parser.add_argument("--lr", type=float, default=TrainConfig.lr)
    parser.add_argument("--image-size", type=int, default=GeneratorConfig.image_size)
    parser.add_argument("--prediction-type", default=TRAINING_PREDICTION_TYPE,
                        choices=PREDICTION_TYPES)
    parser.add_argument("--beta-schedule", default=GeneratorConfig.beta_schedule, choices=BETA_SCHEDULES,
                        help="the noise schedule: cosine (squaredcos_cap_v2) or linear")
    parser.add_argument("--variants", type=int, default=TrainConfig.variants)
    parser.add_argument("--checkpoint-every", type=int, default=TrainConfig.checkpoint_every)
    parser.add_argument("--log-every", type=int, default=TrainConfig.log_every)
    parser.add_argument("--device", default=TrainConfig.device)
    parser.add_argument("--mixed-precision", default=TrainConfig.mixed_precision,
                        choices=("auto", "bf16", "no"))
    parser.add_argument("--seed", type=int, default=TrainConfig.seed)
    parser.add_argument("--warmup", type=int, default=TrainConfig.warmup)
    parser.add_argument("--init-from", default=None,
                        help="a saved generator folder (e.g. a version's files) to fine-tune from")
    parser.add_argument("--perceptual-weight", type=float, default=TrainConfig.perceptual_weight,
                        help="add this weight × LPIPS (AlexNet) of the predicted clean image to the loss")
    parser.add_argument("--torch-home", type=Path, default=Path(os.environ.get("TORCH_HOME", "var/torch")),
                        help="folder holding the LPIPS AlexNet weights (python -m hfplatform.ml.weights)")
    args = parser.parse_args(argv)
    if args.perceptual_weight < 0:
        parser.error("--perceptual-weight must be >= 0")

    with np.load(args.data) as data:
        images = data["images"]
    gc = GeneratorConfig(image_size=args.image_size, prediction_type=args.prediction_type,
                         beta_schedule=args.beta_schedule)
    if args.init_from:  # the parent's network, at --image-size (grown: the same levels keep attention)
        try:
            grown = generator_config(Path(args.init_from)).at_size(gc.image_size)
            gc = replace(grown, prediction_type=gc.prediction_type, beta_schedule=gc.beta_schedule)
        except ValueError as exc:
            parser.error(f"--init-from {args.init_from}: {exc}")
    tc = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, max_minutes=args.minutes,
                     variants=args.variants, checkpoint_every=args.checkpoint_every, log_every=args.log_every,
                     device=args.device, mixed_precision=args.mixed_precision, seed=args.seed,
                     warmup=args.warmup, init_from=args.init_from, perceptual_weight=args.perceptual_weight)
    perceptual = None
    if tc.perceptual_weight > 0:
        from hfplatform.ml.lpips import LpipsMetric  # plain PyTorch too; only needed for this term
        from hfplatform.ml.weights import WeightsUnavailable

        try:
            perceptual = LpipsMetric(args.torch_home, device=resolve_device(tc.device)).differentiable
        except WeightsUnavailable as exc:
            parser.error(f"--perceptual-weight needs LPIPS: {exc}")
    params = sum(p.numel() for p in build_unet(gc).parameters())
    print(f"{len(images)} images {images.shape[1]}×{images.shape[2]} → {gc.image_size} px, "
          f"device {resolve_device(tc.device)}, {params:,} params", flush=True)
    last = [time.perf_counter(), None]

    def report(step: int, total: int, loss: float) -> None:
        now = time.perf_counter()
        rate = "" if last[1] is None else f" {(now - last[0]) / (step - last[1]):.3f} s/step"
        print(f"step {step}/{total} loss {loss:.4f}{rate}", flush=True)
        last[:] = [now, step]

    result = train(images, args.out, gc, tc, report, perceptual)
    print(f"done: {result['steps']} steps ({result['stopped']}), {result['seconds_per_step']:.3f} s/step "
          f"on {result['device']}")
    print(f"final checkpoint: {result['final']}")


if __name__ == "__main__":
    main()
