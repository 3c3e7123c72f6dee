"""The generator checkpoints committed in generation/checkpoints/: each loads, fits the 30 MB budget,
names its parent among the shipped ones, holds out the same people as its parent, and says how to
repeat it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from generation.ml.generator import load_generator, sample, to_tensor

CHECKPOINTS = Path(__file__).resolve().parents[3] / "generation" / "checkpoints"
SHIPPED = sorted(p for p in CHECKPOINTS.iterdir() if (p / "generator.json").is_file())


def test_there_are_shipped_checkpoints_and_make_run_registers_each():
    assert [p.name for p in SHIPPED][:1] == ["headshot-v1"]
    makefile = (CHECKPOINTS.parents[1] / "Makefile").read_text()
    for folder in SHIPPED:
        assert f"generation/checkpoints/{folder.name}" in makefile, folder.name


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: p.name)
def test_a_shipped_checkpoint_loads_and_says_how_it_was_made(folder):
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    assert size <= 30e6
    unet, config, sched, meta = load_generator(folder)
    assert unet.dtype == torch.float32
    out = sample(unet, sched, to_tensor(np.full((1, config.image_size, config.image_size, 3), 128, np.uint8)),
                 steps=2, seeds=[0])
    assert torch.isfinite(out).all()
    info = json.loads((folder / "dataset.json").read_text())
    assert len(info["heldout_refs"]) > 0
    assert "--steps" in info["reproduce_exactly"]
    assert meta["steps"] == info["steps"]
    if info["parent"] is not None:
        parent = CHECKPOINTS / info["parent"]
        assert parent in SHIPPED, info["parent"]
        parent_info = json.loads((parent / "dataset.json").read_text())
        assert sorted(parent_info["heldout_refs"]) == sorted(info["heldout_refs"])
        assert info["total_steps"] == parent_info.get("total_steps", parent_info["steps"]) + info["steps"]
        assert f"--init-from generation/checkpoints/{info['parent']}" in info["train_command"]
