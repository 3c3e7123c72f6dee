"""Reward: preference datasets from review answers, reward-model training (TRL) and versions, and the
best-of-n ranking that generation jobs use."""
