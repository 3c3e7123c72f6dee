"""Data for the promotion gate: tiny generators whose outputs differ in a known way, and reward models
whose score is known (the statistics model with a head set by hand, so "better" is measurable)."""

from __future__ import annotations

from pathlib import Path

from reward.ml.features import STATISTICS


def shifted_generator(folder: Path, *, shift: float = 0.0, seed: int = 0) -> Path:
    """An untrained 64-px generator that predicts the clean image directly, its output raised by
    ``shift`` (in [-1, 1] units): with the same seed, a shift of 0.3 makes the same images brighter."""
    import torch

    from generation.ml.generator import GeneratorConfig, build_unet, save_generator

    torch.manual_seed(seed)
    config = GeneratorConfig(image_size=64, block_out_channels=(16, 32), layers_per_block=1,
                             attention_resolutions=(), norm_num_groups=8, prediction_type="sample")
    unet = build_unet(config)
    with torch.no_grad():
        unet.conv_out.bias += shift
    return save_generator(unet, config, folder, {"fingerprint": f"shifted-{seed}-{shift}"})


def luminance_reward_files(folder: Path, *, weight: float = 1.0) -> Path:
    """A statistics reward model whose score is silu(weight × mean luminance / 255): with ``weight`` 1
    a brighter headshot scores higher; with 0 every headshot scores exactly 0 (a flat judge)."""
    import torch

    from reward.ml.features import HeadshotFeatureRewardConfig, HeadshotFeatureRewardModel

    model = HeadshotFeatureRewardModel(HeadshotFeatureRewardConfig())
    with torch.no_grad():
        for layer in (model.head[0], model.score):
            layer.weight.zero_()
            layer.bias.zero_()
        model.head[0].weight[0, STATISTICS.index("luminance_mean")] = weight / 255.0
        model.score.weight[0, 0] = 1.0
    model.save_pretrained(folder)
    return folder
