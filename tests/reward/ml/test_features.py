"""The statistics reward model: fixed image measures that move the right way, a head trained through
TRL like the CNN, and a saved model that scores exactly as it was trained."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

from reward.ml.evaluate import evaluate_reward
from reward.ml.features import (
    STATISTICS,
    HeadshotFeatureRewardConfig,
    HeadshotFeatureRewardModel,
    ImageStatistics,
)
from reward.ml.model import images_to_tensor, load_reward_model, reward_scores
from reward.ml.options import RewardTrainConfig
from reward.ml.train import train_reward_model
from tests.factories.preferences import portrait

FAST = {"model": "statistics", "logging_steps": 10, "eval_steps": 50, "save_steps": 50}


def measure(image: np.ndarray) -> dict[str, float]:
    values = ImageStatistics()(images_to_tensor(image[None]))[0].tolist()
    return dict(zip(STATISTICS, values, strict=True))


def test_each_measure_moves_with_what_it_names():
    face, _ = portrait(5)
    base = measure(face)
    brighter = measure(np.clip(face.astype(int) + 40, 0, 255).astype(np.uint8))
    assert brighter["luminance_mean"] > base["luminance_mean"] + 30
    blurred = measure(np.asarray(Image.fromarray(face).filter(ImageFilter.GaussianBlur(2))))
    for name in ("log_laplacian_var", "log_laplacian_var_half", "log_laplacian_var_centre", "log_gradient"):
        assert blurred[name] < base[name], name
    warm = face.astype(int)
    warm[..., 0] += 30
    warm[..., 2] -= 30
    assert measure(np.clip(warm, 0, 255).astype(np.uint8))["centre_warmth"] > base["centre_warmth"] + 40
    lit_left = face.astype(float)
    lit_left[:, :32] *= 1.3
    left = measure(np.clip(lit_left, 0, 255).astype(np.uint8))
    assert left["centre_left_right"] > base["centre_left_right"]


def test_a_saved_statistics_model_scores_exactly_as_trained(tmp_path, sharpness_data):
    train = sharpness_data.train[:64]
    result = train_reward_model(train, [], RewardTrainConfig(max_steps=20, **FAST), tmp_path)
    model = load_reward_model(result["final"])
    assert isinstance(model, HeadshotFeatureRewardModel)
    # The standardisation was fitted on the training images and travels with the weights.
    assert not torch.equal(model.feature_mean, torch.zeros(len(STATISTICS)))
    assert (model.feature_std > 0).all()
    headshots = np.stack([pair.chosen for pair in sharpness_data.heldout[:8]])
    reference = sharpness_data.heldout[0].reference
    again = load_reward_model(result["final"])
    scores = reward_scores(model, headshots, reference)
    assert np.array_equal(scores, reward_scores(again, headshots, reference))
    fresh = HeadshotFeatureRewardModel(HeadshotFeatureRewardConfig())
    assert sum(p.numel() for p in fresh.parameters()) < 2000  # only the head learns
    assert not list(fresh.statistics.parameters())


def test_statistics_model_learns_the_sharpness_rule(tmp_path, sharpness_data):
    result = train_reward_model(sharpness_data.train, [], RewardTrainConfig(max_steps=100, **FAST), tmp_path)
    report = evaluate_reward(load_reward_model(result["final"]), sharpness_data.heldout)
    assert report["accuracy"]["value"] >= 0.8
    assert report["accuracy"]["interval"][0] > 0.7


def test_an_unknown_model_kind_is_refused(tmp_path, sharpness_data):
    with pytest.raises(ValueError, match="model must be one of cnn, statistics"):
        train_reward_model(sharpness_data.train, [], RewardTrainConfig(model="vit"), tmp_path)
