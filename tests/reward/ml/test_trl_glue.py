"""The adaptation of TRL's RewardTrainer to images: processor, collator, sampler, augmentation, and the
loss being TRL's own Bradley–Terry loss (with margin and reward centring as TRL defines them)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from trl import RewardConfig

from reward.ml.data import PreferenceExample
from reward.ml.model import HeadshotRewardConfig, HeadshotRewardModel
from reward.ml.trl_glue import (
    HeadshotImageProcessor,
    ImagePreferenceCollator,
    ImageRewardTrainer,
    WeightedPairSampler,
    augment_pairs,
    preference_dataset,
)
from tests.factories.preferences import sharpness_pairs


@pytest.fixture(scope="module")
def pairs() -> list[PreferenceExample]:
    return sharpness_pairs(range(0, 4), 2, seed=5)[0]


def make_trainer(tmp_path, pairs, use_margin: bool = False, **config) -> ImageRewardTrainer:
    processor = HeadshotImageProcessor(image_size=32)
    args = RewardConfig(output_dir=str(tmp_path), report_to=[], disable_tqdm=True, max_length=None,
                        bf16=False, activation_checkpointing=False, use_cpu=True, max_steps=1, **config)
    model = HeadshotRewardModel(HeadshotRewardConfig(image_size=32, channels=[8, 16]))
    return ImageRewardTrainer(model=model, args=args, data_collator=ImagePreferenceCollator(processor),
                              train_dataset=preference_dataset(pairs, processor, use_margin),
                              processing_class=processor)


def test_processor_resizes_any_size_and_answers_trls_tokenizer_checks(tmp_path):
    processor = HeadshotImageProcessor(image_size=32)
    images = [np.full((96, 96, 3), 255, np.uint8), np.zeros((20, 20, 3), np.uint8)]
    x = processor(images)
    assert x.shape == (2, 3, 32, 32)
    assert x.dtype == torch.float32
    assert x[0].min() == 1.0
    assert x[1].max() == -1.0
    assert processor.pad_token in processor.get_vocab()  # RewardTrainer.__init__ checks this
    assert processor.get_vocab()[processor.pad_token] == processor.pad_token_id
    processor.save_pretrained(tmp_path)
    assert HeadshotImageProcessor.from_pretrained(tmp_path).image_size == 32


def test_collator_puts_chosen_first_and_counts_one_token_per_image(pairs):
    processor = HeadshotImageProcessor(image_size=32)
    rows = list(preference_dataset(pairs[:3], processor, use_margin=True))
    batch = ImagePreferenceCollator(processor)(rows)
    assert batch["headshot"].shape == (6, 3, 32, 32)
    assert batch["reference"].shape == (6, 3, 32, 32)
    assert torch.equal(batch["attention_mask"], torch.ones(6, 1, dtype=torch.long))
    assert torch.allclose(batch["margin"], torch.tensor([p.margin for p in pairs[:3]]))
    assert torch.equal(batch["headshot"][0], processor([pairs[0].chosen])[0])
    assert torch.equal(batch["headshot"][3], processor([pairs[0].rejected])[0])
    assert torch.equal(batch["reference"][0], batch["reference"][3])
    assert batch["headshot"].abs().max() <= 1
    no_margin = ImagePreferenceCollator(processor)(list(preference_dataset(pairs[:3], processor)))
    assert "margin" not in no_margin


@pytest.mark.parametrize(("margin", "center"), [(False, None), (True, None), (False, 0.5)])
def test_compute_loss_is_trls_bradley_terry_loss(tmp_path, pairs, margin, center):
    trainer = make_trainer(tmp_path, pairs, use_margin=margin, center_rewards_coefficient=center)
    batch = trainer.data_collator(list(trainer.train_dataset)[:4])
    assert ("margin" in batch) is margin
    loss = trainer.compute_loss(trainer.model, dict(batch))

    with torch.no_grad():
        rewards = trainer.model(batch["headshot"], batch["reference"]).logits[:, 0]
    chosen, rejected = rewards[:4], rewards[4:]
    offset = batch["margin"] if margin else 0.0
    expected = -F.logsigmoid(chosen - rejected - offset).mean()
    if center is not None:
        expected = expected + center * ((chosen + rejected) ** 2).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    if margin:  # a margin asks for a larger reward gap, so the loss is larger
        assert loss.item() > -F.logsigmoid(chosen - rejected).mean().item()


def test_trainer_keeps_image_columns_and_samples_by_weight(tmp_path, pairs):
    weighted = [PreferenceExample(p.chosen, p.rejected, p.reference, weight=float(i % 2))
                for i, p in enumerate(pairs)]
    trainer = make_trainer(tmp_path, weighted)
    loader = trainer.get_train_dataloader()
    assert set(next(iter(loader))) == {"headshot", "reference", "attention_mask"}
    sampler = trainer._get_train_sampler()
    assert isinstance(sampler, WeightedPairSampler)
    drawn = [i for epoch in range(5) for i in (sampler.set_epoch(epoch), list(sampler))[1]]
    assert set(drawn) <= {1, 3, 5, 7}  # weight-0 pairs are never drawn
    sampler.set_epoch(2)
    first = list(sampler)
    sampler.set_epoch(2)
    assert list(sampler) == first  # one epoch, one draw: resumed runs see the same pairs
    with pytest.raises(ValueError, match="not all 0"):
        WeightedPairSampler([0.0, 0.0])


def test_augmentation_mirrors_a_pair_and_its_reference_together():
    image = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).view(2, 3, 4, 4)  # two different pairs
    batch = {"headshot": torch.cat([image, image]), "reference": torch.cat([image, image])}
    mirrored = [augment_pairs(batch, torch.Generator().manual_seed(seed), max_shift=0) for seed in range(8)]
    for out in mirrored:
        for pair in range(2):
            flipped = not torch.equal(out["headshot"][pair], image[pair])
            expected = image[pair].flip(2) if flipped else image[pair]
            for row in (pair, pair + 2):  # chosen, rejected and the reference alike
                assert torch.equal(out["headshot"][row], expected)
                assert torch.equal(out["reference"][row], expected)
    assert any(not torch.equal(out["headshot"][0], image[0]) for out in mirrored)
    shifted = augment_pairs(batch, torch.Generator().manual_seed(0), max_shift=1)
    assert shifted["headshot"].shape == batch["headshot"].shape
