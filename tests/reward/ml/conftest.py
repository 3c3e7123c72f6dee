"""Shared data and one trained model for the reward-model tests (none of them touch the database).

The model is trained once per run on sharpness-rule pairs (see ``tests/factories/preferences.py``):
256 pairs from 64 drawn subjects, 100 steps at the default network size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from reward.ml.data import PreferenceExample
from tests.factories.preferences import Drawn, sharpness_pairs


@dataclass
class SharpnessData:
    train: list[PreferenceExample]
    heldout: list[PreferenceExample]  # pairs of subjects the training never saw
    heldout_images: list[Drawn]  # every held-out headshot with its reference and blur radius


@dataclass
class Trained:
    result: dict
    final: Path
    progress: list[dict]


@pytest.fixture(scope="session")
def sharpness_data() -> SharpnessData:
    train, _ = sharpness_pairs(range(0, 64), 4, seed=0)
    heldout, images = sharpness_pairs(range(1000, 1024), 5, seed=1)
    return SharpnessData(train, heldout, images)


@pytest.fixture(scope="session")
def trained(sharpness_data, tmp_path_factory) -> Trained:
    from reward.ml.options import RewardTrainConfig
    from reward.ml.train import train_reward_model

    out = tmp_path_factory.mktemp("reward")
    seen: list[dict] = []
    config = RewardTrainConfig(max_steps=100, eval_steps=50, save_steps=100)
    result = train_reward_model(sharpness_data.train, sharpness_data.heldout, config, out,
                                progress=seen.append)
    return Trained(result, Path(result["final"]), seen)
