"""The reward trainer's defaults, importable without torch: ``RewardTrainConfig`` uses them, and the
reward app's services, API and form check and show the same numbers (``reward.options``)."""

MIN_PAIRS = 8  # fewer training pairs than this cannot train anything meaningful
DEFAULT_MAX_STEPS = 300  # optimizer steps in total
DEFAULT_BATCH_SIZE = 16  # pairs per step (32 headshots + their 32 references through the trunk)
DEFAULT_LEARNING_RATE = 3e-4  # AdamW, linear decay to 0 at max_steps (1e-3 overfit noisy pairs)
