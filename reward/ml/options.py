"""The reward trainer's configuration and its defaults, importable without torch: services record a
training's whole ``RewardTrainConfig`` (defaults included) when it is asked for, and the reward app's
API and form check and show the same numbers (``reward.options``)."""

from __future__ import annotations

from dataclasses import dataclass

MIN_PAIRS = 8  # fewer training pairs than this cannot train anything meaningful
MODELS = ("cnn", "statistics")  # learnt convolutions, or fixed image statistics with a learnt head
DEFAULT_MODEL = "cnn"
DEFAULT_MAX_STEPS = 3000  # optimizer steps at most: early stopping on the validation loss ends sooner
DEFAULT_BATCH_SIZE = 16  # pairs per step (32 headshots + their 32 references through the trunk)
DEFAULT_LEARNING_RATE = 1e-3  # AdamW peak after warm-up (bench/reward_learning.py: above 3e-4 everywhere)
DEFAULT_LR_SCHEDULER = "cosine"  # over max_steps after warm-up
LR_SCHEDULERS = ("cosine", "linear", "constant_with_warmup")
DEFAULT_WARMUP_RATIO = 0.02  # share of max_steps the learning rate rises over
DEFAULT_EVAL_STEPS = 50  # steps between validation evaluations (and checkpoints)
DEFAULT_EARLY_STOPPING_PATIENCE = 6  # evaluations without a lower validation loss before stopping
VALIDATION_SHARE = 0.2  # share of the training people whose pairs choose the stopping point


@dataclass
class RewardTrainConfig:
    """The network size and the optimisation. At the defaults a step takes ~0.07–0.15 s on 2 CPU cores."""

    model: str = DEFAULT_MODEL  # "cnn" (learnt convolutions) or "statistics" (fixed measures + a head)
    image_size: int = 64  # side every image is resized to (the generator's resolution)
    max_steps: int = DEFAULT_MAX_STEPS  # at most, in total (a resumed run counts on from its checkpoint)
    batch_size: int = DEFAULT_BATCH_SIZE  # pairs per step
    learning_rate: float = DEFAULT_LEARNING_RATE  # AdamW peak, after warm-up
    lr_scheduler: str = DEFAULT_LR_SCHEDULER  # transformers' schedule over max_steps after warm-up
    warmup_ratio: float = DEFAULT_WARMUP_RATIO  # share of max_steps the learning rate rises over
    early_stopping_patience: int = DEFAULT_EARLY_STOPPING_PATIENCE  # evaluations without a better loss
    weight_decay: float = 0.0
    seed: int = 0  # model init, pair sampling
    use_margin: bool = False  # TRL's margin: loss -logsigmoid(r_c - r_r - margin) with each pair's margin
    center_rewards_coefficient: float | None = None  # TRL's reward centring (e.g. 0.01): rewards near 0
    eval_steps: int = DEFAULT_EVAL_STEPS  # steps between evaluations on the validation pairs
    save_steps: int = DEFAULT_EVAL_STEPS  # steps between checkpoints (with validation: = eval_steps)
    channels: tuple[int, ...] = (16, 32, 64)  # trunk width per stage, see HeadshotRewardConfig
    logging_steps: int = 10  # steps between loss-curve points and progress calls
    augment: bool = True  # mirror pairs, shift images ±3 px in training batches (trl_glue.augment_pairs)
    eval_batch_size: int = 64  # pairs per evaluation batch (TRL's eval accuracy is a mean of batch means)
