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

from hfplatform.ml.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "reward.ml.data": ("PreferenceExample", "resize_images"),
    "reward.ml.model": ("HeadshotRewardConfig", "HeadshotRewardModel", "load_reward_model", "reward_scores"),
    "reward.ml.trl_glue": ("HeadshotImageProcessor", "ImagePreferenceCollator", "ImageRewardTrainer",
                           "preference_dataset"),
    "reward.ml.options": ("MIN_PAIRS", "RewardTrainConfig"),
    "reward.ml.train": ("train_reward_model",),
    "reward.ml.evaluate": ("calibration_bins", "evaluate_reward", "human_ceiling", "pairwise_accuracy",
                           "sharpness"),
})
