"""The reward network and scoring: shapes, sizes, determinism, saving, and no Django under reward/ml."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

from reward.ml.data import PreferenceExample, resize_images
from reward.ml.model import HeadshotRewardConfig, HeadshotRewardModel, load_reward_model, reward_scores
from tests.factories.preferences import headshot, portrait

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def model() -> HeadshotRewardModel:
    torch.manual_seed(0)
    return HeadshotRewardModel(HeadshotRewardConfig())


@pytest.fixture(scope="module")
def candidates() -> tuple[np.ndarray, np.ndarray]:
    reference, _ = portrait(7)
    rng = np.random.default_rng(0)
    return np.stack([headshot(reference, r, rng) for r in np.linspace(0, 2, 8)]), reference


def test_config_is_a_one_label_reward_model(model):
    config = model.config
    assert (config.model_type, config.num_labels, config.image_size, config.channels) == (
        "headshot_reward", 1, 64, [16, 32, 64])
    out = model(torch.zeros(4, 3, 64, 64), torch.zeros(4, 3, 64, 64), attention_mask=torch.ones(4, 1),
                margin=torch.zeros(2), use_cache=False)  # what TRL's compute_loss passes
    assert out.logits.shape == (4, 1)
    assert sum(p.numel() for p in model.parameters()) < 200_000
    with pytest.raises(ValueError, match="3 headshots but 2 references"):
        model(torch.zeros(3, 3, 64, 64), torch.zeros(2, 3, 64, 64))


def test_scores_are_deterministic_and_a_shared_reference_equals_repeated_ones(model, candidates):
    images, reference = candidates
    model.train()
    shared = reward_scores(model, images, reference)
    assert model.training  # the caller's mode is restored
    assert shared.shape == (8,)
    assert shared.dtype == np.float64
    assert np.array_equal(shared, reward_scores(model, images, reference))
    repeated = reward_scores(model, images, np.repeat(reference[None], 8, axis=0), batch_size=3)
    assert np.allclose(shared, repeated, atol=1e-5)
    with torch.no_grad():  # the same numbers as the network's forward pass
        direct = model.eval()(torch.tensor(images).permute(0, 3, 1, 2).float() / 127.5 - 1,
                              torch.tensor(reference[None]).permute(0, 3, 1, 2).float() / 127.5 - 1)
    assert np.allclose(shared, direct.logits[:, 0].numpy(), atol=1e-5)


def test_any_square_size_is_resized_to_the_models(model, candidates):
    images, reference = candidates
    big = np.stack([np.kron(image, np.ones((2, 2, 1), np.uint8)) for image in images])  # 128 px
    assert big.shape[1:] == (128, 128, 3)
    assert resize_images(big, 64).shape == (8, 64, 64, 3)
    scores = reward_scores(model, big, np.kron(reference, np.ones((2, 2, 1), np.uint8)))
    assert np.allclose(scores, reward_scores(model, images, reference), atol=0.05)
    with pytest.raises(ValueError, match="uint8"):
        reward_scores(model, images.astype(np.float32), reference)


def test_save_and_load_keep_the_scores(tmp_path, model, candidates):
    images, reference = candidates
    model.save_pretrained(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} >= {"config.json", "model.safetensors"}
    loaded = load_reward_model(tmp_path)
    assert not loaded.training
    assert np.array_equal(reward_scores(loaded, images, reference), reward_scores(model, images, reference))


def test_preference_example_checks_its_images():
    image = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="reference must be an H×W×3 uint8 image"):
        PreferenceExample(chosen=image, rejected=image, reference=np.zeros((8, 8), np.uint8))
    with pytest.raises(ValueError, match="weight"):
        PreferenceExample(chosen=image, rejected=image, reference=image, weight=-1.0)


def test_reward_ml_imports_no_django():
    for path in sorted((ROOT / "reward" / "ml").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in {"django", "rest_framework", "huey"}, (path, name)
                assert not name.startswith("reward.") or name.startswith("reward.ml"), (path, name)
