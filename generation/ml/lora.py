"""LoRA adapters on the conditional generator (PEFT), in plain PyTorch; no Django.

A fine-tuned generator version is its parent UNet plus a low-rank adapter: ``with_lora`` wraps a
``UNet2DModel`` in a ``peft.PeftModel`` whose only trainable weights are the LoRA matrices
(``lora_A``/``lora_B``, B starts at zero so the wrapped model begins exactly as its parent).
``save_adapter`` writes PEFT's own format (``adapter_config.json`` + ``adapter_model.safetensors``, a
few hundred kB to a few MB), ``load_adapter`` puts one back onto a parent, and ``merge_adapter``
folds it into a plain ``UNet2DModel`` that ``generator.save_generator`` and plain diffusers handle.

``UNet2DModel`` has no ``add_adapter`` (no ``PeftAdapterMixin``), hence ``peft.get_peft_model``; the
parent's outputs are ``with model.disable_adapter(): ...``. See docs/finetuning.md.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from diffusers import UNet2DModel
from peft import LoraConfig, PeftModel, get_peft_model
from peft.tuners.tuners_utils import BaseTunerLayer

ATTENTION_MODULES = ("to_q", "to_k", "to_v", "to_out.0")  # self-attention projections (nn.Linear)
CONV_MODULES = ("conv1", "conv2")  # the two 3×3 convolutions of every ResNet block (nn.Conv2d)


@dataclass(frozen=True)
class LoraSettings:
    """Where the adapter goes and how big it is.

    Defaults (rank 8 on attention only) train 90 k weights (1.35 %) of the 6.67 M-parameter generator
    and save 363 kB; ``include_convs`` adds the ResNet conv1/conv2 (482 k weights, 7.2 %, 1.9 MB), which
    a generator without attention layers needs and which can change more than attention can.
    """

    rank: int = 8  # r: inner dimension of the low-rank update ΔW = B·A (1..64)
    alpha: float = 8.0  # the update is scaled by alpha / rank; alpha = rank keeps the scale at 1
    dropout: float = 0.0  # dropout on the adapter's input while training (0..0.5)
    include_convs: bool = False  # also adapt the ResNet conv1/conv2 layers

    def target_modules(self) -> list[str]:
        """PEFT target names (matched as suffixes of module names)."""
        return [*ATTENTION_MODULES, *(CONV_MODULES if self.include_convs else ())]

    def validate(self) -> None:
        """Raise ``ValueError`` saying what is wrong and what is allowed."""
        if not isinstance(self.rank, int) or isinstance(self.rank, bool) or not 1 <= self.rank <= 64:
            raise ValueError(f"LoRA rank must be a whole number from 1 to 64, not {self.rank!r}")
        if not self.alpha > 0:
            raise ValueError(f"LoRA alpha must be greater than 0, not {self.alpha!r}")
        if not 0 <= self.dropout <= 0.5:
            raise ValueError(f"LoRA dropout must be between 0 and 0.5, not {self.dropout!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoraSettings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _matches(name: str, target: str) -> bool:
    return name == target or name.endswith("." + target)


def _present_targets(unet: torch.nn.Module, settings: LoraSettings) -> list[str]:
    names = [name for name, _ in unet.named_modules()]
    present = [t for t in settings.target_modules() if any(_matches(n, t) for n in names)]
    has_attention = any(t in present for t in ATTENTION_MODULES)
    if not has_attention and not settings.include_convs:
        raise ValueError("this generator has no attention layers (to_q, to_k, to_v, to_out.0) for LoRA: "
                         "set include_convs=True to adapt the ResNet convolutions (conv1, conv2) instead")
    if not present:
        raise ValueError(f"this generator has none of the LoRA target layers {settings.target_modules()}")
    return present


def with_lora(unet: UNet2DModel, settings: LoraSettings) -> PeftModel:
    """``unet`` wrapped with a fresh adapter: the parent's weights frozen, only the LoRA weights trainable.

    The UNet is modified in place (its target layers become LoRA layers); the wrapped model's outputs
    equal the parent's until the adapter is trained. Raises ``ValueError`` for bad settings or a
    generator without the target layers.
    """
    settings.validate()
    targets = _present_targets(unet, settings)
    config = LoraConfig(r=settings.rank, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                        target_modules=targets, init_lora_weights=True, bias="none")
    return get_peft_model(unet, config)


def adapter_parameters(model: PeftModel) -> dict[str, torch.nn.Parameter]:
    """The trainable (adapter) parameters by name."""
    return {name: p for name, p in model.named_parameters() if p.requires_grad}


def save_adapter(model: PeftModel, folder: Path) -> Path:
    """Write the adapter in PEFT's format (``adapter_config.json``, ``adapter_model.safetensors``) into
    ``folder``; the parent's weights are not written. Returns ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    return folder


def load_adapter(unet: UNet2DModel, folder: Path, *, trainable: bool = False) -> PeftModel:
    """The adapter saved in ``folder`` put onto the parent ``unet`` (modified in place).

    With ``trainable`` the adapter weights take gradients (to go on fine-tuning) and the model stays in
    its current mode; otherwise everything is frozen and the model is in eval mode.
    """
    folder = Path(folder)
    if not (folder / "adapter_config.json").exists():
        raise ValueError(f"{folder} holds no LoRA adapter (adapter_config.json is missing)")
    return PeftModel.from_pretrained(unet, folder, is_trainable=trainable)


def merge_adapter(model: PeftModel) -> UNet2DModel:
    """A plain ``UNet2DModel`` with the adapter folded into its weights (W + alpha/rank · B·A).

    Works on a copy: ``model`` keeps its adapter and the parent's weights. The result saves with
    ``generator.save_generator`` and loads with plain ``UNet2DModel.from_pretrained``.
    """
    merged = copy.deepcopy(model).merge_and_unload()
    if not isinstance(merged, UNet2DModel):
        raise TypeError(f"merging gave {type(merged).__name__}, not a UNet2DModel")
    return merged


@contextmanager
def adapter_folded(model: torch.nn.Module) -> Iterator[None]:
    """Inside the block, an active unmerged adapter is folded into its layers' weights, so a forward
    pass costs what the merged model's does (no extra low-rank products per layer); afterwards the
    adapter is unmerged again and the parent's weights are restored bit for bit from a copy.

    For sampling (no gradients); a no-op for a plain UNet, a disabled adapter or one already merged.
    """
    layers = [m for m in model.modules()
              if isinstance(m, BaseTunerLayer) and not m.merged and not m.disable_adapters]
    if not layers:
        yield
        return
    saved = [m.get_base_layer().weight.detach().clone() for m in layers]
    with torch.no_grad():
        for m in layers:
            m.merge()
    try:
        yield
    finally:
        with torch.no_grad():
            for m, weight in zip(layers, saved, strict=True):
                m.unmerge()
                m.get_base_layer().weight.copy_(weight)
