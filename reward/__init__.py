"""Preference datasets, reward-model training, reranking and fine-tuning runs (issue 6)."""
