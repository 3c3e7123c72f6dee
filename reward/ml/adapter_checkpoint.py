"""Checkpoints of an adapter fine-tuning run (Diffusion-DPO, RAFT), shared by both loops; no Django.

Layout of ``out_dir/checkpoint``::

    tensors.safetensors   the adapter's weights and any other tensors of the run (fp32)
    state.pt              optimizer, LR schedule, step, curve, RNG states, loop state (torch.save)
    meta.json             the run's fingerprint and configs

A checkpoint is written into a fresh folder that then replaces the old one, so an interrupted run
(or a progress callback that raises) leaves the last complete checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from generation.ml.lora import adapter_parameters


def fingerprint(tensors: list[torch.Tensor], settings: dict[str, Any]) -> str:
    """sha256 of the tensors (shapes and values) and the JSON-able ``settings``: a resumed run must see
    the same data and settings."""
    digest = hashlib.sha256()
    for t in tensors:
        t = t.detach().to("cpu", torch.float32).contiguous()
        digest.update(f"{tuple(t.shape)}|".encode())
        digest.update(t.numpy().tobytes())
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def warmup_schedule(optimizer: torch.optim.Optimizer, warmup_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup_steps``, then constant (diffusers' ``constant_with_warmup``)."""
    warmup = max(1, warmup_steps)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup))


def rng_state(generator: torch.Generator) -> dict[str, Any]:
    state = {"generator": generator.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(generator: torch.Generator, state: dict[str, Any]) -> None:
    generator.set_state(state["generator"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def write_checkpoint(folder: Path, tensors: dict[str, torch.Tensor], state: dict[str, Any],
                     meta: dict[str, Any]) -> None:
    """Replace ``folder`` by a complete checkpoint (written beside it, then renamed)."""
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tensors = {k: v.detach().float().contiguous().cpu() for k, v in tensors.items()}
    save_file(tensors, tmp / "tensors.safetensors")
    torch.save(state, tmp / "state.pt")
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
    old = folder.with_name(folder.name + ".old")
    if folder.exists():
        shutil.rmtree(old, ignore_errors=True)
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def read_checkpoint(folder: Path, expected_fingerprint: str
                    ) -> tuple[dict[str, torch.Tensor], dict[str, Any]] | None:
    """``(tensors, state)`` of the checkpoint in ``folder`` (or the one left aside by an interrupted
    replace), None when there is none; ``ValueError`` when it belongs to other data or settings."""
    folder = Path(folder)
    if not (folder / "state.pt").exists() and (folder.with_name(folder.name + ".old") / "state.pt").exists():
        folder = folder.with_name(folder.name + ".old")
    if not (folder / "state.pt").exists():
        return None
    meta = json.loads((folder / "meta.json").read_text())
    if meta.get("fingerprint") != expected_fingerprint:
        raise ValueError(f"{folder} belongs to a run on other data or settings: use another folder "
                         "or delete it")
    tensors = load_file(folder / "tensors.safetensors")
    state = torch.load(folder / "state.pt", map_location="cpu", weights_only=True)
    return tensors, state


# ------------------------------------------------------------------- what both fine-tuning loops share

NO_ADAPTER = "the model has no trainable adapter weights: use with_lora or load_adapter(trainable=True)"


def trainable_adapter(model: torch.nn.Module) -> dict[str, torch.nn.Parameter]:
    """The adapter's trainable parameters by name; ``ValueError`` when there are none."""
    params = adapter_parameters(model)
    if not params:
        raise ValueError(NO_ADAPTER)
    return params


def run_fingerprint(model: torch.nn.Module, data: list[torch.Tensor], settings: dict[str, Any]) -> str:
    """``fingerprint`` of the data, the settings, the adapter's names and the frozen parent's weights
    (one sum per tensor: a run does not resume onto another parent)."""
    parent = torch.stack([p.detach().double().sum() for p in model.parameters() if not p.requires_grad])
    names = sorted(name for name, p in model.named_parameters() if p.requires_grad)
    return fingerprint([*data, parent], {**settings, "adapter": names})


class RunCheckpoint:
    """The checkpoint of one run: the adapter, extra tensors, the optimizer, LR schedule, RNG and the
    loop's own state (a dict of plain values)."""

    def __init__(self, folder: Path, run_id: str, params: dict[str, torch.nn.Parameter],
                 optimizer: torch.optim.Optimizer, lr_schedule, generator: torch.Generator,
                 meta: dict[str, Any]) -> None:
        self.folder, self.run_id, self.params, self.meta = Path(folder), run_id, params, meta
        self.optimizer, self.lr_schedule, self.generator = optimizer, lr_schedule, generator

    def save(self, loop: dict[str, Any], extra: dict[str, torch.Tensor]) -> None:
        tensors = {f"adapter.{n}": p for n, p in self.params.items()} | extra
        state = {"optimizer": self.optimizer.state_dict(), "lr_schedule": self.lr_schedule.state_dict(),
                 "rng": rng_state(self.generator), "loop": loop}
        write_checkpoint(self.folder, tensors, state, {"fingerprint": self.run_id, **self.meta})

    def restore(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]] | None:
        """Load the adapter, optimizer, schedule and RNG; ``(loop state, extra tensors)``, or None."""
        loaded = read_checkpoint(self.folder, self.run_id)
        if loaded is None:
            return None
        tensors, state = loaded
        with torch.no_grad():
            for name, p in self.params.items():
                p.copy_(tensors.pop(f"adapter.{name}"))
        self.optimizer.load_state_dict(state["optimizer"])
        self.lr_schedule.load_state_dict(state["lr_schedule"])
        set_rng_state(self.generator, state["rng"])
        return state["loop"], tensors


def adapter_step(loss: torch.Tensor, params: dict[str, torch.nn.Parameter], optimizer: torch.optim.Optimizer,
                 lr_schedule: torch.optim.lr_scheduler.LRScheduler, grad_clip: float) -> torch.Tensor:
    """One optimizer step on the adapter: backward, clip the global gradient norm, step the optimizer
    and the schedule; the loss, detached."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(list(params.values()), grad_clip)
    optimizer.step()
    lr_schedule.step()
    return loss.detach()
