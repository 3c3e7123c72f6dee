"""What a generation or training request may ask for: the one source that forms, serializers,
commands and services (here and in monitoring) validate against. The choices the network itself
understands (prediction types, samplers) are in ``generation.ml.options``."""

MAX_CANDIDATES = 16  # per generation job, and per person in a metric snapshot
DEFAULT_CANDIDATES = 4
MAX_STEPS = 200  # sampler steps of a generation job
MAX_EVALUATION_STEPS = 1000  # sampler steps of a held-out evaluation (report, snapshot)
DEFAULT_STEPS = 25
MIN_GUIDANCE, MAX_GUIDANCE = 0.0, 10.0  # classifier-free guidance (1 = plain conditional)
DEFAULT_GUIDANCE = 1.0
# Spreading a job's candidates: guidance from `guidance` to `guidance_max` (evenly over the
# candidates) and stochastic DDIM with `eta` (0 = deterministic DDIM, 1 = DDPM's variance).
MIN_ETA, MAX_ETA = 0.0, 1.0
DEFAULT_ETA = 0.0
ETA_SAMPLERS = ("ddim",)  # the samplers that take eta
MAX_SEED = 2**62
MAX_TRAINING_STEPS = 1_000_000
MAX_BATCH_SIZE = 512
DEFAULT_BATCH_SIZE = 32
MIN_TRAINING_MINUTES = 0.1  # a training job's optional time limit
DEFAULT_IMAGE_SIZE = 64
DEFAULT_HELDOUT_FRACTION = 0.1  # share of the people kept out of training (for evaluation)
