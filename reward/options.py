"""What a preference dataset or a reward-model training request may ask for: the one source that the
services, the API and the forms validate against. The trainer's own defaults are in
``reward.ml.options``; the default margin and ties are settings (REWARD_RATING_MARGIN, REWARD_KEEP_TIES)."""

from reward.ml.options import LR_SCHEDULERS, MODELS

MARGIN = (0.0, 4.0)  # rating pairs: the two weighted mean scores must differ by at least this
TEST_SHARE = (0.0, 0.9)  # share of subjects held out for evaluation
DEFAULT_TEST_SHARE = 0.25
MAX_STEPS = (10, 20000)  # optimizer steps of one training run
BATCH_SIZE = (2, 256)  # pairs per step
LEARNING_RATE = (1e-6, 1.0)
MAX_SCORED_HEADSHOTS = 256  # headshots one request to the scores endpoint may name
EARLY_STOPPING_PATIENCE = (1, 100)  # validation evaluations without a lower loss before stopping
#: The training hyper-parameters a request may set: (lowest, highest), or the allowed names.
HYPER: dict[str, tuple] = {
    "model": MODELS, "max_steps": MAX_STEPS, "batch_size": BATCH_SIZE, "learning_rate": LEARNING_RATE,
    "lr_scheduler": LR_SCHEDULERS, "early_stopping_patience": EARLY_STOPPING_PATIENCE}
