"""The super-resolution network and its training (PyTorch; no Django).

A small SRResNet/ESPCN-style ×2 network (``SuperResConfig``: 3×3 head, residual blocks, PixelShuffle
tail, 78,348 parameters) that predicts a residual over bicubic upsampling, so an untrained network
starts close to bicubic; ``train_network`` fits it on native-resolution crops (L1, Adam, cosine
learning rate, random patches with flips; inputs are the crops' area-averaged reductions, some of
them softened like generator output). ``generation.ml.studio.superres`` is the stage that uses it and
the command line that trains and evaluates it; that module imports this one only when the network
is needed, so listing the stages does not load PyTorch.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from safetensors.torch import load_file, save_file
from torch import nn

from generation.ml.studio.base import StageUnavailable, as_rgb_uint8

DEFAULT_WEIGHTS = Path(__file__).resolve().parents[2] / "checkpoints" / "superres-x2"
WEIGHTS_FILE, CONFIG_FILE = "superres.safetensors", "config.json"


@dataclass
class SuperResConfig:
    """The architecture. Defaults: 78,348 parameters, ~45 ms for a 128-px input on one CPU thread."""

    channels: int = 32  # feature maps in every body convolution
    blocks: int = 4  # residual blocks (conv-ReLU-conv + skip)
    scale: int = 2  # upsampling factor of one pass (PixelShuffle)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


class SuperResNet(nn.Module):
    """B×3×H×W in [0, 1] → B×3×sH×sW: bicubic upsampling plus a learnt residual (not clamped)."""

    def __init__(self, config: SuperResConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or SuperResConfig()
        c, s = config.channels, config.scale
        self.head = nn.Conv2d(3, c, 3, padding=1)
        self.body = nn.Sequential(*(ResidualBlock(c) for _ in range(config.blocks)))
        self.tail = nn.Conv2d(c, 3 * s * s, 3, padding=1)
        self.shuffle = nn.PixelShuffle(s)
        with torch.no_grad():  # start close to plain bicubic
            self.tail.weight.mul_(0.1)
            self.tail.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base = F.interpolate(x, scale_factor=self.config.scale, mode="bicubic", align_corners=False)
        features = F.relu(self.head(x - 0.5))
        return base + self.shuffle(self.tail(features + self.body(features)))


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def save_network(net: SuperResNet, out_dir: Path, meta: dict[str, Any]) -> None:
    """``out_dir/superres.safetensors`` (fp32) and ``out_dir/config.json`` (architecture + ``meta``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().float().contiguous() for k, v in net.state_dict().items()}
    save_file(tensors, out_dir / WEIGHTS_FILE)
    (out_dir / WEIGHTS_FILE).chmod(0o644)
    config = {"architecture": {**asdict(net.config), "parameters": count_parameters(net),
                               "class": "SuperResNet", "residual_over": "bicubic (align_corners=False)"},
              **meta}
    (out_dir / CONFIG_FILE).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")


_NETWORKS: dict[tuple[Path, int], SuperResNet] = {}
_NETWORK_LOCK = threading.Lock()


def load_network(weights: Path | None = None) -> SuperResNet:
    """The network saved in the folder ``weights`` (default: the shipped checkpoint), in eval mode,
    on the CPU, loaded once per process; ``StageUnavailable`` naming the path when it is missing."""
    folder = Path(weights or DEFAULT_WEIGHTS).resolve()
    path = folder / WEIGHTS_FILE
    if not path.is_file() or not (folder / CONFIG_FILE).is_file():
        raise StageUnavailable(f"super-resolution weights missing: {path} (and {CONFIG_FILE} beside it)")
    key = (folder, path.stat().st_mtime_ns)
    with _NETWORK_LOCK:
        if key not in _NETWORKS:
            arch = json.loads((folder / CONFIG_FILE).read_text())["architecture"]
            net = SuperResNet(SuperResConfig(arch["channels"], arch["blocks"], arch["scale"]))
            net.load_state_dict({k: v.float() for k, v in load_file(path).items()})
            _NETWORKS[key] = net.eval().requires_grad_(False)
        return _NETWORKS[key]


def network_pass(net: SuperResNet, rgb: np.ndarray) -> np.ndarray:
    """One pass of ``net`` over an H×W×3 uint8 image: (sH)×(sW)×3 uint8."""
    x = torch.from_numpy(as_rgb_uint8(rgb).copy()).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        y = net(x).clamp(0, 1).mul(255).round()
    return y[0].permute(1, 2, 0).to(torch.uint8).numpy()



def shrink(images: np.ndarray, factor: int) -> np.ndarray:
    """N×S×S×3 uint8 → N×(S/f)×(S/f)×3 by f×f area averaging (how the generator's 64-px data is made)."""
    return np.stack([cv2.resize(im, None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA)
                     for im in images])


def soften(lr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A slightly soft version of a small image, like generator output: blur, then maybe noise and JPEG."""
    out = cv2.GaussianBlur(lr, (0, 0), rng.uniform(0.3, 0.9)).astype(np.float32)
    if rng.random() < 0.5:
        out += rng.normal(0, rng.uniform(1, 4), out.shape)
    out = np.clip(out, 0, 255).round().astype(np.uint8)
    if rng.random() < 0.5:
        quality = int(rng.integers(70, 96))
        _, data = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
        out = np.ascontiguousarray(cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1])
    return out


@dataclass
class TrainConfig:
    """The optimisation (L1 loss, Adam, cosine learning rate, random LR patches with flips)."""

    steps: int = 1800
    batch_size: int = 32
    patch: int = 32  # side of an input (low-resolution) patch; targets are scale × patch
    lr: float = 2e-3
    warmup: int = 50
    soft_variants: int = 3  # softened inputs per image (``soften`` with seed (seed, image, variant))
    soft_fraction: float = 0.3  # share of inputs taken from the softened variants
    seed: int = 0
    max_minutes: float | None = None  # stop early (after a full step) when the loop has run this long
    log_every: int = 100


def train_network(crops: np.ndarray, config: TrainConfig, net_config: SuperResConfig | None = None,
                  log: Callable[[str], None] = print) -> tuple[SuperResNet, dict[str, Any]]:
    """Train a fresh ``SuperResNet`` on ``crops`` (N×S×S×3 uint8 native-resolution targets; inputs are
    their area-averaged ×``scale`` reductions). Returns the network (eval mode) and run statistics."""
    torch.manual_seed(config.seed)
    net = SuperResNet(net_config)
    s, p = net.config.scale, config.patch
    lr_clean = shrink(crops, s)
    variants = [lr_clean] + [
        np.stack([soften(im, np.random.default_rng((config.seed, i, v))) for i, im in enumerate(lr_clean)])
        for v in range(config.soft_variants)]
    rng = np.random.default_rng(config.seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)

    def lr_at(step: int) -> float:
        warm = min(1.0, (step + 1) / max(1, config.warmup))
        return config.lr * warm * 0.5 * (1 + np.cos(np.pi * step / max(1, config.steps)))

    start, running, step = time.perf_counter(), [], 0
    net.train()
    while step < config.steps:
        x, y = _batch(variants, crops, rng, config, s, p)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
        loss = F.l1_loss(net(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        running.append(loss.item())
        step += 1
        elapsed = time.perf_counter() - start
        if step % config.log_every == 0 or step == config.steps:
            log(f"step {step}/{config.steps} l1 {np.mean(running):.5f} lr {lr_at(step - 1):.2e} "
                f"{elapsed:.0f} s ({elapsed / step:.3f} s/step)")
            running = []
        if config.max_minutes is not None and elapsed > 60 * config.max_minutes:
            log(f"time limit of {config.max_minutes} min reached after {step} steps")
            break
    seconds = time.perf_counter() - start
    stats = {"steps": step, "seconds": round(seconds, 1), "s_per_step": round(seconds / max(step, 1), 4)}
    return net.eval(), stats


def _batch(variants: list[np.ndarray], crops: np.ndarray, rng: np.random.Generator, config: TrainConfig,
           s: int, p: int) -> tuple[torch.Tensor, torch.Tensor]:
    n, side = len(crops), variants[0].shape[1]
    xs, ys = [], []
    for _ in range(config.batch_size):
        i = int(rng.integers(n))
        soft = len(variants) > 1 and rng.random() < config.soft_fraction
        v = int(rng.integers(1, len(variants))) if soft else 0
        r, c = (int(t) for t in rng.integers(0, side - p + 1, size=2))
        x = variants[v][i, r:r + p, c:c + p]
        y = crops[i, s * r:s * (r + p), s * c:s * (c + p)]
        if rng.random() < 0.5:
            x, y = x[:, ::-1], y[:, ::-1]
        xs.append(x)
        ys.append(y)

    def tensor(images: list[np.ndarray]) -> torch.Tensor:
        return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255

    return tensor(xs), tensor(ys)
