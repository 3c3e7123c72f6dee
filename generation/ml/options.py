"""The choices the generator understands, importable without torch (forms, serializers, commands and
services validate against these; ``generation.ml.generator`` uses the same tuples)."""

PREDICTION_TYPES = ("epsilon", "v_prediction", "sample")
BETA_SCHEDULES = ("squaredcos_cap_v2", "linear")
SAMPLERS = ("ddim", "dpm")
SAMPLER_LABELS = {"ddim": "DDIM", "dpm": "DPM-Solver++"}
# What the training entry points (CLI, Django job, API, form) use unless told: the report ranks
# `sample` first (docs/generator.md, "Prediction type and noise schedule, by the report's figures").
TRAINING_PREDICTION_TYPE = "sample"
