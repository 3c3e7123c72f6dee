"""The headshot reward network: how much reviewers will like a headshot of the person in a reference photo.

A small CNN trunk, shared by the headshot and the subject's source crop, turns each image into a
feature vector (a stride-2 stem, one stage of two 3×3 convolutions per entry of ``channels``, global
average pooling). A two-layer head scores ``[f_h, f_r, f_h·f_r, |f_h − f_r|]``, so the reward can
depend on the headshot alone (polish, artefacts) and on how it relates to the person (likeness).
At the default size (64×64, channels 16/32/64) it has 91 k parameters and needs ~12 M
multiply-adds per image: scoring a generation job's candidates costs milliseconds.

It is a ``transformers.PreTrainedModel`` with ``num_labels == 1`` and a
``SequenceClassifierOutput``, which is what TRL's ``RewardTrainer`` trains (see ``trl_glue``), and
what ``save_pretrained``/``from_pretrained`` store as ``config.json`` + ``model.safetensors``. The
model file knows nothing about training. Images go in as float B×3×S×S in [-1, 1]. No Django.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers import initialization as init
from transformers.modeling_outputs import SequenceClassifierOutput
from transformers.utils import logging as hf_logging

from reward.ml.data import resize_images


class HeadshotRewardConfig(PretrainedConfig):
    """The network's shape. ``num_labels`` is always 1 (one scalar reward per headshot)."""

    model_type = "headshot_reward"

    image_size: int = 64  # square side the processor resizes every image to (the generator's side)
    channels: list[int] | tuple[int, ...] = (16, 32, 64)  # trunk width per stage (see ConvTrunk)
    head_hidden: int = 64  # width of the head's hidden layer
    norm_groups: int = 8  # GroupNorm groups (gcd with the width): same behaviour in train and eval

    def __post_init__(self, **kwargs) -> None:
        self.channels = [int(c) for c in self.channels]
        if not self.channels or min(self.channels) < 1:
            raise ValueError(f"channels must be positive widths, got {self.channels}")
        if self.image_size < 2 ** len(self.channels):
            raise ValueError(f"image_size {self.image_size} is too small for {len(self.channels)} stages")
        kwargs["num_labels"] = 1
        super().__post_init__(**kwargs)


def _conv(c_in: int, c_out: int, groups: int, stride: int = 1) -> nn.Sequential:
    """3×3 convolution, GroupNorm (no batch statistics: train and eval behave alike), SiLU."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1),
                         nn.GroupNorm(math.gcd(groups, c_out), c_out), nn.SiLU())


class ConvTrunk(nn.Module):
    """Images B×3×S×S in [-1, 1] → features B×channels[-1].

    A stride-2 stem (its 3×3 kernels still see every pixel, so blur and fine detail register), then
    one stage of two convolutions per entry of ``channels``, each stage after the first halving the
    resolution (64 px: 32, 32, 16, 8), then global average pooling.
    """

    def __init__(self, channels: list[int], groups: int) -> None:
        super().__init__()
        layers = [_conv(3, channels[0], groups, stride=2)]
        previous = channels[0]
        for i, width in enumerate(channels):
            layers += [_conv(previous, width, groups, stride=2 if i else 1), _conv(width, width, groups)]
            previous = width
        self.layers = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.layers(images).mean(dim=(2, 3))


class HeadshotRewardModel(PreTrainedModel):
    """Reward of each headshot given the subject's reference crop: ``logits`` B×1 (higher is better)."""

    config_class = HeadshotRewardConfig
    base_model_prefix = "reward"
    main_input_name = "headshot"

    def __init__(self, config: HeadshotRewardConfig) -> None:
        super().__init__(config)
        width = config.channels[-1]
        self.trunk = ConvTrunk(config.channels, config.norm_groups)
        self.head = nn.Sequential(nn.Linear(4 * width, config.head_hidden), nn.SiLU())
        self.score = nn.Linear(config.head_hidden, 1)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        # He initialisation for a network trained from scratch; transformers' ``init`` functions skip
        # parameters that were loaded from a checkpoint.
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            if module is self.score:
                init.normal_(module.weight, std=0.01)  # rewards start near 0: loss ≈ log 2
            else:
                init.kaiming_normal_(module.weight, nonlinearity="relu")
            init.zeros_(module.bias)
        elif isinstance(module, nn.GroupNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The trunk's feature vectors, B×channels[-1], for images B×3×S×S in [-1, 1]."""
        return self.trunk(images)

    def score_features(self, headshot_features: torch.Tensor, reference_features: torch.Tensor
                       ) -> torch.Tensor:
        """Rewards B×1 from trunk features; a single reference row is broadcast to every headshot."""
        f_h, f_r = headshot_features, reference_features.expand_as(headshot_features)
        return self.score(self.head(torch.cat([f_h, f_r, f_h * f_r, (f_h - f_r).abs()], dim=1)))

    def forward(self, headshot: torch.Tensor, reference: torch.Tensor,
                attention_mask: torch.Tensor | None = None, **unused) -> SequenceClassifierOutput:
        """Rewards for ``headshot`` (B×3×S×S) given ``reference`` (B×3×S×S, or 1×3×S×S for all).

        ``attention_mask`` and other keyword arguments (``margin``, ``use_cache``) are what TRL's
        ``RewardTrainer.compute_loss`` passes along with the inputs; the model ignores them.
        """
        if reference.shape[0] not in (1, headshot.shape[0]):
            raise ValueError(f"{headshot.shape[0]} headshots but {reference.shape[0]} references")
        rewards = self.score_features(self.features(headshot), self.features(reference))
        return SequenceClassifierOutput(logits=rewards)


def images_to_tensor(images: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 N×S×S×3 (numpy or torch) → float32 N×3×S×S in [-1, 1] on ``device``."""
    if isinstance(images, np.ndarray):  # read-only arrays (e.g. np.asarray of a PIL image) are copied
        images = np.require(images, requirements=("C", "W"))
    x = torch.as_tensor(images)
    return x.to(device).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


@contextmanager
def quiet_progress_bars() -> Iterator[None]:
    """transformers' tqdm bars ("Loading weights", "Writing model shards") off inside the block: they
    would fill job logs for a model that loads and saves in milliseconds."""
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def load_reward_model(path: Path, device: torch.device | str = "cpu") -> PreTrainedModel:
    """A model saved with ``save_pretrained`` (config.json + model.safetensors), in eval mode, fp32: the
    CNN (``HeadshotRewardModel``) or the statistics model (``reward.ml.features``), by the
    ``model_type`` its config.json names.

    Only reads the local folder (``local_files_only``): nothing is fetched from a hub.
    """
    kind = json.loads((Path(path) / "config.json").read_text()).get("model_type")
    model_class: type[PreTrainedModel] = HeadshotRewardModel
    if kind == "headshot_reward_features":
        from reward.ml.features import HeadshotFeatureRewardModel

        model_class = HeadshotFeatureRewardModel
    with quiet_progress_bars():
        model = model_class.from_pretrained(Path(path), local_files_only=True, dtype=torch.float32)
    return model.to(device).eval()


@torch.no_grad()
def reward_scores(model: PreTrainedModel, headshots: np.ndarray, reference: np.ndarray,
                  batch_size: int = 64) -> np.ndarray:
    """Rewards (N, float64) of uint8 ``headshots`` N×H×W×3 given the subject's ``reference``.

    ``reference`` is one H×W×3 crop (shared by every headshot; its features are computed once) or
    N×H×W×3 (one per headshot). Images of any size are resized to ``config.image_size``. Runs in
    eval mode without gradients in fixed batches, so the same call gives the same numbers; the
    model's previous train/eval mode is restored afterwards.
    """
    side = model.config.image_size
    headshots = resize_images(np.asarray(headshots), side)
    reference = resize_images(np.asarray(reference), side)
    if headshots.ndim != 4:
        raise ValueError(f"headshots must be N×H×W×3, got {headshots.shape}")
    shared = reference.ndim == 3
    if not shared and len(reference) != len(headshots):
        raise ValueError(f"{len(headshots)} headshots but {len(reference)} references")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        if shared:
            shared_features = model.features(images_to_tensor(reference[None], device))
        out = []
        for start in range(0, len(headshots), batch_size):
            f_h = model.features(images_to_tensor(headshots[start:start + batch_size], device))
            f_r = shared_features if shared else model.features(
                images_to_tensor(reference[start:start + batch_size], device))
            out.append(model.score_features(f_h, f_r)[:, 0].float().cpu())
    finally:
        model.train(was_training)
    return torch.cat(out).double().numpy() if out else np.zeros(0)
