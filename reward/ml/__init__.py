"""The headshot reward model in plain PyTorch + TRL (no Django): preference pairs in, a network that
scores headshots out, and the reranking and evaluation around it.

* ``data``: ``PreferenceExample`` (chosen/rejected headshots, the subject's reference crop, weight,
  margin, group, dimension) and image resizing.
* ``model``: ``HeadshotRewardModel`` (small shared CNN trunk + head), ``load_reward_model``,
  ``reward_scores``.
* ``trl_glue``: what lets TRL's ``RewardTrainer`` train on images (processor, collator, subclass).
* ``train``: ``train_reward_model`` (checkpoints, resume, progress, cancellation).
* ``evaluate``: held-out accuracy with intervals, per group and dimension, calibration, the sharpness
  baseline, the reviewers' own agreement (``human_ceiling``).
* ``rerank``: ranks and the top k of n candidates (``from reward.ml.rerank import rerank``: the
  function shares its module's name, so the package does not re-export it).

Names are imported lazily (PEP 562), so ``import reward.ml`` and the pure-Python parts stay cheap;
the model, the trainer and ``evaluate_reward`` load transformers (~8 s on 2 cores the first time).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "reward.ml.data": ("PreferenceExample", "resize_images"),
    "reward.ml.model": ("HeadshotRewardConfig", "HeadshotRewardModel", "load_reward_model", "reward_scores"),
    "reward.ml.trl_glue": ("HeadshotImageProcessor", "ImagePreferenceCollator", "ImageRewardTrainer",
                           "preference_dataset"),
    "reward.ml.train": ("MIN_PAIRS", "RewardTrainConfig", "train_reward_model"),
    "reward.ml.evaluate": ("calibration_bins", "evaluate_reward", "human_ceiling", "pairwise_accuracy",
                           "sharpness"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "MIN_PAIRS",
    "HeadshotImageProcessor",
    "HeadshotRewardConfig",
    "HeadshotRewardModel",
    "ImagePreferenceCollator",
    "ImageRewardTrainer",
    "PreferenceExample",
    "RewardTrainConfig",
    "calibration_bins",
    "evaluate_reward",
    "human_ceiling",
    "load_reward_model",
    "pairwise_accuracy",
    "preference_dataset",
    "resize_images",
    "reward_scores",
    "sharpness",
    "train_reward_model",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'reward.ml' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from reward.ml.data import PreferenceExample, resize_images
    from reward.ml.evaluate import (
        calibration_bins,
        evaluate_reward,
        human_ceiling,
        pairwise_accuracy,
        sharpness,
    )
    from reward.ml.model import HeadshotRewardConfig, HeadshotRewardModel, load_reward_model, reward_scores
    from reward.ml.train import MIN_PAIRS, RewardTrainConfig, train_reward_model
    from reward.ml.trl_glue import (
        HeadshotImageProcessor,
        ImagePreferenceCollator,
        ImageRewardTrainer,
        preference_dataset,
    )
