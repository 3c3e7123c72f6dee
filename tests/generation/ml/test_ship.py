"""Shipping a training run as a committed checkpoint folder: fp16 weights that load as the run's
generator, and a dataset.json that names the held-out people, the parent and the exact command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from generation.ml.generator import load_generator, sample, to_tensor
from generation.ml.ship import ship_generator

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def trained(corpus_images_by_name, tmp_path_factory) -> dict[str, Path]:
    """A 2-step run of the training CLI on 6 real faces, with the export's .json beside the npz."""
    folder = tmp_path_factory.mktemp("ship")
    faces = []
    for rgb in list(corpus_images_by_name.values())[:6]:
        h, w = rgb.shape[:2]
        top = (h - w) // 2
        faces.append(cv2.resize(rgb[top:top + w], (48, 48), interpolation=cv2.INTER_AREA))
    data = folder / "crops.npz"
    np.savez(data, images=np.stack(faces))
    data.with_name("crops.npz.json").write_text(json.dumps({
        "heldout_refs": ["000007.jpg", "000011.jpg"], "training_refs": [f"{i:06d}.jpg" for i in range(6)],
        "crop_size": 48, "image_size": 32, "seed": 0, "images_fingerprint": "abc"}))
    parent = folder / "parent"
    parent.mkdir()
    (parent / "dataset.json").write_text(json.dumps(
        {"heldout_refs": ["000011.jpg", "000007.jpg"], "total_steps": 10}))
    run = folder / "run"
    log = folder / "train.log"
    with log.open("w") as out:
        done = subprocess.run(
            [sys.executable, "-m", "generation.ml.train", "--data", str(data), "--out", str(run),
             "--steps", "2", "--minutes", "5", "--batch-size", "2", "--image-size", "32", "--variants", "1",
             "--device", "cpu", "--log-every", "1"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, timeout=180, check=False,
            env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"})
    assert done.returncode == 0, log.read_text()
    with log.open("a") as out:
        out.write("a warning that is not progress\n")
    return {"data": data, "parent": parent, "run": run, "log": log, "folder": folder}


def test_shipped_folder_loads_as_the_run_in_half_the_bytes(trained):
    out = trained["folder"] / "shipped"
    info = ship_generator(trained["run"], out, data=trained["data"], parent=trained["parent"],
                          hardware="test CPU", log=trained["log"])
    weights = load_file(out / "unet" / "diffusion_pytorch_model.safetensors")
    assert {t.dtype for t in weights.values()} == {torch.float16}
    fp32 = (trained["run"] / "final" / "unet" / "diffusion_pytorch_model.safetensors").stat().st_size
    assert (out / "unet" / "diffusion_pytorch_model.safetensors").stat().st_size < 0.55 * fp32
    shipped, _, sched, _ = load_generator(out)
    original, _, _, _ = load_generator(trained["run"] / "final")
    assert shipped.dtype == torch.float32
    casual = to_tensor(np.full((1, 32, 32, 3), 120, np.uint8))
    a = sample(shipped, sched, casual, steps=3, seeds=[4])
    b = sample(original, sched, casual, steps=3, seeds=[4])
    assert float((a - b).abs().max()) < 0.05  # fp16 rounding of the weights only

    assert info == json.loads((out / "dataset.json").read_text())
    assert info["parent"] == "parent"
    assert info["heldout_refs"] == ["000007.jpg", "000011.jpg"]
    assert info["training_images"] == 6
    assert (info["steps"], info["parent_steps"], info["total_steps"]) == (2, 10, 12)
    assert info["hardware"] == "test CPU"
    assert info["train_command"].startswith("python -m generation.ml.train --data crops.npz --out RUN ")
    assert str(trained["folder"]) not in info["train_command"]
    assert "--minutes 5" in info["train_command"]
    assert "--minutes" not in info["reproduce_exactly"]
    assert info["reproduce_exactly"].endswith("--steps 2")
    assert json.loads((out / "generator.json").read_text())["command"] == info["train_command"]
    log = (out / "train.log").read_text()
    assert "step 2/2 loss" in log
    assert "final checkpoint:" in log
    assert "warning" not in log


def test_a_training_set_that_holds_out_more_ships_with_the_parents_people(trained, tmp_path):
    parent = tmp_path / "parent"
    parent.mkdir()
    (parent / "dataset.json").write_text(json.dumps({"heldout_refs": ["000007.jpg"]}))  # the export: 2
    info = ship_generator(trained["run"], tmp_path / "child", data=trained["data"], parent=parent)
    assert info["heldout_refs"] == ["000007.jpg"]  # judged on the parent's people, like the parent


def test_ship_refuses_another_held_out_set_an_existing_folder_and_an_unfinished_run(trained, tmp_path):
    other = tmp_path / "other-parent"
    other.mkdir()
    (other / "dataset.json").write_text(json.dumps({"heldout_refs": ["000007.jpg", "000013.jpg"]}))
    with pytest.raises(ValueError, match="held-out people differ"):
        ship_generator(trained["run"], tmp_path / "a", data=trained["data"], parent=other)
    assert not (tmp_path / "a").exists()
    (tmp_path / "b").mkdir()
    with pytest.raises(FileExistsError):
        ship_generator(trained["run"], tmp_path / "b", data=trained["data"])
    with pytest.raises(FileNotFoundError, match="finished training run"):
        ship_generator(tmp_path, tmp_path / "c", data=trained["data"])
    done = subprocess.run(
        [sys.executable, "-m", "generation.ml.ship", "--run", str(trained["run"]), "--data",
         str(trained["data"]), "--out", str(tmp_path / "d"), "--parent", str(other)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"})
    assert done.returncode == 2
    assert "held-out people differ" in done.stderr


def test_ship_cli_prints_what_it_wrote(trained, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "generation.ml.ship", "--run", str(trained["run"]), "--data",
         str(trained["data"]), "--out", str(tmp_path / "v")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"})
    assert done.returncode == 0, done.stderr
    assert f"shipped {tmp_path / 'v'}" in done.stdout
    assert "2 steps, parent None, 2 held-out people" in done.stdout
    assert json.loads((tmp_path / "v" / "dataset.json").read_text())["total_steps"] == 2
