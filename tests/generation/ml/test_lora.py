"""LoRA adapters on a tiny real generator: only the adapter trains, the parent stays as it was, and an
adapter saved, loaded and merged gives the unmerged model's outputs through plain diffusers."""

from __future__ import annotations

import pytest
import torch
from diffusers import UNet2DModel
from peft import PeftModel

from generation.ml.generator import load_generator, make_scheduler, sample, save_generator, training_loss
from generation.ml.lora import (
    LoraSettings,
    adapter_folded,
    load_adapter,
    merge_adapter,
    save_adapter,
    with_lora,
)
from tests.factories.finetuning import one_torch_thread, smooth_images, tiny_unet


@pytest.fixture(autouse=True)
def _one_thread():
    with one_torch_thread():
        yield


def _inputs(n: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(5)
    return torch.randn((n, 6, 32, 32), generator=g), torch.tensor([10, 700][:n])


def _nudged(model: PeftModel) -> PeftModel:
    """Give the adapter non-zero weights (a fresh one starts with B = 0, i.e. as the parent)."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.2)
    return model


def test_settings_defaults_round_trip_and_targets():
    settings = LoraSettings()
    assert (settings.rank, settings.alpha, settings.dropout, settings.include_convs) == (8, 8.0, 0.0, False)
    assert settings.target_modules() == ["to_q", "to_k", "to_v", "to_out.0"]
    assert LoraSettings(include_convs=True).target_modules()[-2:] == ["conv1", "conv2"]
    assert LoraSettings.from_dict({**LoraSettings(rank=4).to_dict(), "unknown": 1}) == LoraSettings(rank=4)


@pytest.mark.parametrize(("lora", "words"), [
    (LoraSettings(rank=0), "rank"), (LoraSettings(rank=65), "rank"), (LoraSettings(alpha=0), "alpha"),
    (LoraSettings(dropout=0.6), "dropout"),
])
def test_bad_settings_raise_a_clear_error(lora, words):
    with pytest.raises(ValueError, match=words):
        lora.validate()
    with pytest.raises(ValueError, match=words):
        with_lora(tiny_unet()[0], lora)


def test_a_generator_without_attention_needs_include_convs():
    unet = UNet2DModel(sample_size=32, in_channels=6, out_channels=3, block_out_channels=(16, 32),
                       layers_per_block=1, down_block_types=("DownBlock2D", "DownBlock2D"),
                       up_block_types=("UpBlock2D", "UpBlock2D"), norm_num_groups=8, add_attention=False)
    with pytest.raises(ValueError, match="include_convs"):
        with_lora(unet, LoraSettings())
    model = with_lora(unet, LoraSettings(rank=2, include_convs=True))
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert names
    assert all(".conv1." in n or ".conv2." in n for n in names)


def test_training_changes_only_the_adapter_and_leaves_the_parent_untouched():
    unet, _, sched = tiny_unet()
    parent = {k: v.clone() for k, v in unet.state_dict().items()}
    model = with_lora(unet, LoraSettings(rank=4, alpha=4))
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
    assert trainable
    assert all("lora_" in n for n in trainable)
    before = {n: p.detach().clone() for n, p in trainable.items()}
    x, t = _inputs()
    with torch.no_grad(), model.disable_adapter():
        parent_out = model(x, t).sample
    # B = 0: a fresh adapter gives the parent's outputs
    torch.testing.assert_close(model(x, t).sample, parent_out, atol=1e-6, rtol=0)

    optimizer = torch.optim.AdamW(trainable.values(), lr=1e-2)
    scheduler, g = make_scheduler(sched, "ddpm"), torch.Generator().manual_seed(0)
    clean = smooth_images(4, seed=0)
    model.train()
    for _ in range(3):
        loss = training_loss(model, scheduler, clean, clean * 0.5, g)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert all(not torch.equal(before[n], p) for n, p in trainable.items())
    assert all(torch.equal(frozen[n], p) for n, p in model.named_parameters() if not p.requires_grad)
    with torch.no_grad(), model.disable_adapter():
        torch.testing.assert_close(model(x, t).sample, parent_out, atol=1e-5, rtol=0)
    merged = merge_adapter(model)
    assert not torch.allclose(merged(x, t).sample, parent_out, atol=1e-5)
    base = {k.replace(".base_layer", ""): v for k, v in model.get_base_model().state_dict().items()
            if "lora_" not in k}
    assert all(torch.equal(parent[k], base[k]) for k in parent)


def test_save_load_merge_give_the_unmerged_outputs(tmp_path):
    model = _nudged(with_lora(tiny_unet()[0], LoraSettings(rank=4, alpha=8))).eval()
    x, t = _inputs()
    with torch.no_grad():
        expected = model(x, t).sample
        with model.disable_adapter():
            parent_out = model(x, t).sample
    assert (expected - parent_out).abs().max() > 1e-2

    folder = save_adapter(model, tmp_path / "adapter")
    assert {p.name for p in folder.iterdir()} >= {"adapter_config.json", "adapter_model.safetensors"}
    loaded = load_adapter(tiny_unet()[0], folder)
    assert not any(p.requires_grad for p in loaded.parameters())
    assert load_adapter(tiny_unet()[0], folder, trainable=True).get_nb_trainable_parameters()[0] > 0
    merged = merge_adapter(loaded)
    assert type(merged) is UNet2DModel
    with torch.no_grad():
        torch.testing.assert_close(loaded(x, t).sample, expected, atol=1e-5, rtol=0)
        torch.testing.assert_close(merged(x, t).sample, expected, atol=1e-4, rtol=0)
        torch.testing.assert_close(loaded(x, t).sample, expected, atol=1e-5, rtol=0)  # merge used a copy

    _, config, _ = tiny_unet()
    save_generator(merged, config, tmp_path / "merged")
    plain = UNet2DModel.from_pretrained(tmp_path / "merged" / "unet").eval()
    ours, _, _, _ = load_generator(tmp_path / "merged")
    with torch.no_grad():
        torch.testing.assert_close(plain(x, t).sample, expected, atol=1e-4, rtol=0)
        torch.testing.assert_close(ours(x, t).sample, expected, atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="adapter_config"):
        load_adapter(tiny_unet()[0], tmp_path / "merged")


def test_sample_works_with_an_unmerged_adapter():
    unet, _, sched = tiny_unet()
    model = _nudged(with_lora(unet, LoraSettings(rank=4))).eval()
    casual = smooth_images(2, seed=3)
    unmerged = sample(model, sched, casual, steps=3, seeds=[1, 2], guidance=2.0)
    merged = sample(merge_adapter(model), sched, casual, steps=3, seeds=[1, 2], guidance=2.0)
    with model.disable_adapter():
        parent = sample(model, sched, casual, steps=3, seeds=[1, 2], guidance=2.0)
    assert unmerged.shape == (2, 3, 32, 32)
    assert unmerged.dtype == torch.float32
    torch.testing.assert_close(unmerged, merged, atol=1e-4, rtol=0)
    assert (unmerged - parent).abs().max() > 1e-3


def test_sampling_folds_the_adapter_and_leaves_it_unmerged_with_the_parent_exact():
    unet, _, sched = tiny_unet()
    model = _nudged(with_lora(unet, LoraSettings(rank=4, include_convs=True))).eval()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    x, t = _inputs()
    with torch.no_grad():
        out_before = model(x, t).sample
        with adapter_folded(model):
            folded = [m for m in model.modules() if hasattr(m, "merged") and m.merged]
            out_folded = model(x, t).sample
    assert folded, "inside the block the adapter layers are merged"
    torch.testing.assert_close(out_folded, out_before, atol=1e-4, rtol=0)
    sample(model, sched, smooth_images(2, seed=3), steps=2, seeds=[1, 2])
    assert not any(getattr(m, "merged", False) for m in model.modules())
    for name, p in model.named_parameters():
        assert torch.equal(p, before[name]), name  # parent and adapter weights exactly as before
    with torch.no_grad():
        torch.testing.assert_close(model(x, t).sample, out_before, atol=0, rtol=0)


def test_folding_skips_a_disabled_adapter_and_a_plain_unet():
    unet, _, sched = tiny_unet()
    plain = sample(unet, sched, smooth_images(1, seed=3), steps=2, seeds=[4])
    model = _nudged(with_lora(unet, LoraSettings(rank=4))).eval()
    with model.disable_adapter():
        with adapter_folded(model):
            assert not any(getattr(m, "merged", False) for m in model.modules())
        torch.testing.assert_close(sample(model, sched, smooth_images(1, seed=3), steps=2, seeds=[4]), plain,
                                   atol=1e-6, rtol=0)
