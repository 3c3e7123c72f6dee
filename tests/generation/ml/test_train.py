"""The training loop on 8 real faces and a tiny UNet: checkpoints, resume, cancellation, the CLI,
and the identity split."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from generation.ml.generator import GeneratorConfig, load_generator, sample, to_tensor
from generation.ml.train import (
    TrainConfig,
    dataset_fingerprint,
    group_balance_weights,
    group_shares,
    make_pairs,
    split_by_identity,
    split_keeping_heldout,
    train,
)
from tests.factories.images import TORCH_HOME

ROOT = Path(__file__).resolve().parents[3]
TINY = GeneratorConfig(image_size=32, block_out_channels=(32, 64), layers_per_block=1,
                       attention_resolutions=(16,), norm_num_groups=8)


def quick(**overrides) -> TrainConfig:
    settings = {"steps": 4, "batch_size": 4, "checkpoint_every": 2, "log_every": 1, "variants": 2,
                "degrade_size": 48, "device": "cpu", "warmup": 2}
    return TrainConfig(**{**settings, **overrides})


@pytest.fixture(scope="module")
def faces(corpus_images_by_name) -> np.ndarray:
    """8 real CelebA photos, centre-cropped square and shrunk to 48×48 (uint8 N×48×48×3)."""
    out = []
    for rgb in list(corpus_images_by_name.values())[:8]:
        h, w = rgb.shape[:2]
        top = (h - w) // 2
        out.append(cv2.resize(rgb[top:top + w], (48, 48), interpolation=cv2.INTER_AREA))
    return np.stack(out)


class Stop(Exception):
    pass


def test_train_writes_checkpoints_and_resumes(tmp_path, faces):
    first = train(faces, tmp_path, TINY, quick(steps=4))
    assert first["steps"] == 4
    assert first["start_step"] == 0
    assert [s for s, _ in first["loss_curve"]] == [1, 2, 3, 4]
    assert all(np.isfinite(loss) and loss > 0 for _, loss in first["loss_curve"])
    ckpt = tmp_path / "checkpoint"
    for name in ("unet.safetensors", "ema.safetensors", "state.pt", "meta.json"):
        assert (ckpt / name).is_file()
    assert set(load_file(ckpt / "ema.safetensors")) == set(load_file(ckpt / "unet.safetensors"))
    assert json.loads((ckpt / "meta.json").read_text())["step"] == 4

    seen = []
    second = train(faces, tmp_path, TINY, quick(steps=7), progress=lambda *args: seen.append(args))
    assert second["start_step"] == 4
    assert second["steps"] == 7
    assert [s for s, _ in second["loss_curve"]] == [1, 2, 3, 4, 5, 6, 7]  # the curve continues
    assert second["loss_curve"][:4] == first["loss_curve"]
    assert [(step, total) for step, total, _ in seen] == [(5, 7), (6, 7), (7, 7)]

    unet, config, sched, meta = load_generator(second["final"])
    assert config == TINY
    assert meta["steps"] == 7
    assert meta["fingerprint"] == json.loads((ckpt / "meta.json").read_text())["fingerprint"]
    casual = to_tensor(make_pairs(faces[:2], 32, 1, 48)[1][:, 0])
    out = sample(unet, sched, casual, steps=3, seeds=[0, 1])
    assert torch.isfinite(out).all()


def test_resumed_run_matches_an_uninterrupted_one(tmp_path, faces):
    straight = train(faces, tmp_path / "a", TINY, quick(steps=4))
    train(faces, tmp_path / "b", TINY, quick(steps=2))
    resumed = train(faces, tmp_path / "b", TINY, quick(steps=4))
    assert [s for s, _ in resumed["loss_curve"]] == [1, 2, 3, 4]
    assert [loss for _, loss in resumed["loss_curve"]] == pytest.approx(
        [loss for _, loss in straight["loss_curve"]], rel=1e-5)


def test_a_raising_progress_callback_stops_and_keeps_the_last_checkpoint(tmp_path, faces):
    def cancel(step, total, loss):
        if step == 3:
            raise Stop

    with pytest.raises(Stop):
        train(faces, tmp_path, TINY, quick(steps=10), progress=cancel)
    meta = json.loads((tmp_path / "checkpoint" / "meta.json").read_text())
    assert meta["step"] == 2  # written at step 2; step 3 was cancelled before its checkpoint
    assert not (tmp_path / "final").exists()
    done = train(faces, tmp_path, TINY, quick(steps=3))  # resumes from step 2
    assert done["start_step"] == 2
    assert load_generator(done["final"])[3]["steps"] == 3


def test_max_minutes_stops_cleanly_with_a_final_model(tmp_path, faces):
    done = train(faces, tmp_path, TINY, quick(steps=1000, max_minutes=0.0))
    assert done["stopped"] == "time"
    assert done["steps"] == 0
    assert (done["final"] / "unet" / "diffusion_pytorch_model.safetensors").is_file()


def test_fine_tuning_starts_from_a_parent_generator(tmp_path, faces):
    parent = train(faces, tmp_path / "parent", TINY, quick(steps=3))
    parent_weights = load_generator(parent["final"])[0].state_dict()
    # No steps: the child is exactly its parent.
    untouched = train(faces, tmp_path / "same", TINY, quick(steps=0, init_from=str(parent["final"])))
    for key, value in load_generator(untouched["final"])[0].state_dict().items():
        assert torch.equal(value, parent_weights[key]), key
    child = train(faces, tmp_path / "child", TINY, quick(steps=2, init_from=str(parent["final"])))
    fresh = train(faces, tmp_path / "fresh", TINY, quick(steps=2, seed=1))  # another initialisation
    child_weights = load_generator(child["final"])[0].state_dict()
    fresh_weights = load_generator(fresh["final"])[0].state_dict()
    # Two steps move the child a little from its parent, and far less than a fresh start is from it.
    def gap(a, b):
        return sum(float((a[k] - b[k]).abs().sum()) for k in a)
    assert 0 < gap(child_weights, parent_weights) < gap(fresh_weights, parent_weights) / 10
    meta = json.loads((tmp_path / "child" / "checkpoint" / "meta.json").read_text())
    assert meta["train"]["init_from"] == str(parent["final"])
    # A resumed fine-tuning run continues from its own checkpoint, not from the parent again.
    resumed = train(faces, tmp_path / "child", TINY, quick(steps=3, init_from=str(parent["final"])))
    assert resumed["start_step"] == 2


def test_fine_tuning_refuses_a_parent_of_another_architecture(tmp_path, faces):
    parent = train(faces, tmp_path / "parent", TINY, quick(steps=1))
    other = GeneratorConfig(image_size=32, block_out_channels=(32, 32), layers_per_block=1,
                            attention_resolutions=(16,), norm_num_groups=8)
    with pytest.raises(ValueError, match="block_out_channels"):
        train(faces, tmp_path / "child", other, quick(steps=1, init_from=str(parent["final"])))


def test_a_parent_grows_to_twice_its_size_with_its_weights(tmp_path, faces):
    assert TINY.at_size(64).attention_resolutions == (32,)  # attention stays on the second level
    assert TINY.at_size(64).block_out_channels == TINY.block_out_channels
    assert TINY.at_size(64).at_size(32) == TINY
    parent = train(faces, tmp_path / "parent", TINY, quick(steps=1))
    grown = train(faces, tmp_path / "grown", TINY.at_size(64), quick(steps=0, init_from=str(parent["final"])))
    unet, config, _, _ = load_generator(grown["final"])
    assert config.image_size == 64
    parent_weights = load_generator(parent["final"])[0].state_dict()
    for key, value in unet.state_dict().items():
        assert torch.equal(value, parent_weights[key]), key
    # At another size with the default layout (attention on another level) the weights do not fit.
    with pytest.raises(ValueError, match="attention_resolutions"):
        train(faces, tmp_path / "refused", GeneratorConfig(**{**TINY.to_dict(), "image_size": 64}),
              quick(steps=0, init_from=str(parent["final"])))


def test_perceptual_weight_needs_a_distance_and_changes_the_training(tmp_path, faces):
    with pytest.raises(ValueError, match="perceptual distance"):
        train(faces, tmp_path / "none", TINY, quick(steps=1, perceptual_weight=0.5))
    calls = []

    def distance(a, b):
        calls.append(a.shape)
        return (a - b).abs().flatten(1).mean(1)

    plain = train(faces, tmp_path / "plain", TINY, quick(steps=2))
    perceptual = train(faces, tmp_path / "perceptual", TINY, quick(steps=2, perceptual_weight=0.5),
                       perceptual=distance)
    assert len(calls) == 2
    assert calls[0][0] == 4  # one batch per step
    assert perceptual["loss_curve"][-1][1] > plain["loss_curve"][-1][1]  # the term is in the logged loss
    meta = json.loads((tmp_path / "perceptual" / "checkpoint" / "meta.json").read_text())
    assert meta["train"]["perceptual_weight"] == 0.5
    a = load_generator(plain["final"])[0].state_dict()
    b = load_generator(perceptual["final"])[0].state_dict()
    assert any(not torch.equal(a[k], b[k]) for k in a)


def test_checkpoint_of_other_data_is_refused(tmp_path, faces):
    train(faces, tmp_path, TINY, quick(steps=1))
    with pytest.raises(ValueError, match="other data"):
        train(faces[::-1].copy(), tmp_path, TINY, quick(steps=2))


def test_group_balance_weights_even_out_the_groups():
    groups = ["light"] * 6 + ["dark"] * 2 + [None]
    assert group_balance_weights(groups, 0.0).tolist() == [1.0] * 9  # uniform: today's sampling
    equal = group_balance_weights(groups, 1.0)
    assert equal.mean() == pytest.approx(1.0)
    assert group_shares(groups, equal) == pytest.approx({"dark": 1 / 3, "light": 1 / 3, "unknown": 1 / 3})
    assert group_shares(groups) == pytest.approx({"dark": 2 / 9, "light": 6 / 9, "unknown": 1 / 9})
    half = group_shares(groups, group_balance_weights(groups, 0.5))
    assert 2 / 9 < half["dark"] < 1 / 3  # square-root balancing lies in between
    with pytest.raises(ValueError, match="between 0 and 1"):
        group_balance_weights(groups, 1.5)


def test_weighted_sampling_is_part_of_the_fingerprint(tmp_path, faces):
    with pytest.raises(ValueError, match="8 positive finite numbers"):
        train(faces, tmp_path / "bad", TINY, quick(steps=1), sample_weights=np.ones(3))
    with pytest.raises(ValueError, match="positive finite"):
        train(faces, tmp_path / "bad", TINY, quick(steps=1), sample_weights=np.r_[np.ones(7), 0.0])
    plain = train(faces, tmp_path / "plain", TINY, quick(steps=1))
    only_first = np.r_[1.0, np.full(7, 1e-12)]  # practically always image 0
    weighted = train(faces, tmp_path / "weighted", TINY, quick(steps=1), sample_weights=only_first)
    fingerprints = [json.loads((r["final"] / "generator.json").read_text())["fingerprint"]
                    for r in (plain, weighted)]
    assert fingerprints[0] != fingerprints[1]
    with pytest.raises(ValueError, match="other data"):  # its checkpoint is not resumed unweighted
        train(faces, tmp_path / "weighted", TINY, quick(steps=2))
    a = load_generator(plain["final"])[0].state_dict()
    b = load_generator(weighted["final"])[0].state_dict()
    assert any(not torch.equal(a[k], b[k]) for k in a)  # other batches, other weights


def test_dataset_fingerprint_depends_on_bytes_and_config(faces):
    a = dataset_fingerprint(faces, TINY)
    assert a == dataset_fingerprint(faces.copy(), TINY)
    changed = faces.copy()
    changed[0, 0, 0, 0] ^= 1
    assert a != dataset_fingerprint(changed, TINY)
    assert a != dataset_fingerprint(faces, GeneratorConfig())
    assert len(a) == 64


def test_pairs_are_seeded_and_degraded(faces):
    clean, casual = make_pairs(faces[:3], 32, 2, 48)
    assert clean.shape == (3, 32, 32, 3)
    assert casual.shape == (3, 2, 32, 32, 3)
    assert np.array_equal(casual, make_pairs(faces[:3], 32, 2, 48)[1])
    assert not np.array_equal(casual[:, 0], casual[:, 1])
    assert np.abs(casual.astype(int) - clean[:, None].astype(int)).mean() > 5


def test_split_by_identity_keeps_each_person_on_one_side():
    rng = np.random.default_rng(0)
    people = rng.normal(size=(40, 128)) * 0.2  # far apart: distances ~ 0.2·√256 ≈ 3
    photos = np.repeat(people, 5, axis=0) + rng.normal(size=(200, 128)) * 0.01  # 5 near-duplicates each
    person = np.repeat(np.arange(40), 5)
    # a chain of look-alikes: a–b and b–c are close, a–c is not; all three must stay together
    chain = np.stack([np.zeros(128), np.full(128, 0.04), np.full(128, 0.08)]) + 5
    embeddings = np.concatenate([photos, chain])
    person = np.concatenate([person, [40, 40, 40]])
    assert np.linalg.norm(chain[0] - chain[2]) > 0.5 > np.linalg.norm(chain[0] - chain[1])

    for seed in range(5):
        train_idx, held_idx = split_by_identity(embeddings, heldout_fraction=0.2, threshold=0.5, seed=seed)
        assert sorted(np.concatenate([train_idx, held_idx]).tolist()) == list(range(len(embeddings)))
        assert not set(person[train_idx]) & set(person[held_idx])
        assert 0.1 * len(embeddings) <= len(held_idx) <= 0.2 * len(embeddings)
        distances = np.linalg.norm(embeddings[train_idx][:, None] - embeddings[held_idx][None], axis=2)
        assert distances.min() >= 0.5
    held = [split_by_identity(embeddings, 0.2, seed=seed)[1] for seed in (0, 1)]
    assert not np.array_equal(*held)


def test_cli_trains_without_django(tmp_path, faces):
    np.savez(tmp_path / "crops.npz", images=faces)
    done = subprocess.run(
        [sys.executable, "-m", "generation.ml.train", "--data", str(tmp_path / "crops.npz"),
         "--out", str(tmp_path / "run"), "--steps", "2", "--batch-size", "2", "--image-size", "32",
         "--log-every", "1", "--variants", "1", "--device", "cpu", "--beta-schedule", "linear"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},  # no DJANGO_SETTINGS_MODULE
    )
    assert done.returncode == 0, done.stderr
    config = load_generator(tmp_path / "run" / "final")[1]
    assert config.beta_schedule == "linear"
    assert config.prediction_type == "sample"  # the CLI's default: the report ranks it first
    assert "step 2/2 loss" in done.stdout
    assert f"final checkpoint: {tmp_path / 'run' / 'final'}" in done.stdout
    assert "django" not in done.stderr.lower()
    assert load_generator(tmp_path / "run" / "final")[3]["steps"] == 2


def test_cli_grows_a_parent_to_twice_its_size(tmp_path, faces):
    parent = train(faces, tmp_path / "parent", TINY, quick(steps=1, seed=4))["final"]
    np.savez(tmp_path / "crops.npz", images=faces)

    def cli(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "generation.ml.train", "--data", str(tmp_path / "crops.npz"),
             "--out", str(tmp_path / "grown"), "--steps", "1", "--batch-size", "2", "--variants", "1",
             "--device", "cpu", "--image-size", "64", "--init-from", str(parent), *extra],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
            env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},
        )

    refused = cli("--prediction-type", "epsilon")  # the parent predicts v; its weights do not fit
    assert refused.returncode != 0
    assert "prediction_type differ" in refused.stderr
    done = cli("--prediction-type", TINY.prediction_type)
    assert done.returncode == 0, done.stderr
    config = load_generator(tmp_path / "grown" / "final")[1]
    assert config == TINY.at_size(64)  # the parent's network: channels, levels and attention level kept
    assert "64 px" in done.stdout


def test_cli_perceptual_weight_uses_lpips_or_says_why_not(tmp_path, faces):
    np.savez(tmp_path / "crops.npz", images=faces)

    def run(torch_home: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "generation.ml.train", "--data", str(tmp_path / "crops.npz"),
             "--out", str(tmp_path / torch_home.name), "--steps", "1", "--batch-size", "2",
             "--image-size", "32", "--variants", "1", "--device", "cpu", "--log-every", "1",
             "--perceptual-weight", "0.2", "--torch-home", str(torch_home)],
            cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
            env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},
        )

    missing = run(tmp_path / "empty")
    assert missing.returncode == 2
    assert "--perceptual-weight needs LPIPS" in missing.stderr
    assert "alexnet" in missing.stderr.lower()
    done = run(TORCH_HOME)
    assert done.returncode == 0, done.stderr
    assert "step 1/1 loss" in done.stdout
    assert load_generator(tmp_path / TORCH_HOME.name / "final")[3]["train"]["perceptual_weight"] == 0.2


def test_a_decided_split_also_holds_out_the_same_person_stored_again():
    emb = np.zeros((4, 128))
    emb[1, 0] = 0.3  # photo 1 is photo 0's person again (closer than 0.5)
    emb[2, 0] = 2.0  # photos 2 and 3: other people
    emb[3, 1] = 2.0
    train_idx, held_idx = split_keeping_heldout(emb, np.array([True, False, False, False]))
    assert held_idx.tolist() == [0, 1]
    assert train_idx.tolist() == [2, 3]
    nothing_held = split_keeping_heldout(emb, np.zeros(4, dtype=bool))
    assert nothing_held[0].tolist() == [0, 1, 2, 3]
    assert nothing_held[1].tolist() == []
