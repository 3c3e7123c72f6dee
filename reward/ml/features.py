"""A reward model on fixed image statistics: no convolution is learnt, only a small head.

``ImageStatistics`` turns an image into a short vector of measures a photographer would name, each
computed the same way every time (nothing in it is trained or downloaded):

* exposure and contrast: mean and standard deviation of luminance, the luminance of the centre
  (where the face is in an aligned crop) and of the border, and their ratio;
* colour: mean R, G, B, the warmth R − B of the centre, saturation;
* sharpness and noise: log variance of the Laplacian at full and half resolution and in the centre,
  log mean gradient magnitude;
* lighting balance: left/right luminance difference of the centre;
* likeness (needs the person's reference crop): mean absolute difference of 16×16 grey thumbnails,
  each normalised to its own mean and spread (so exposure does not count as unlikeness).

``HeadshotFeatureRewardModel`` standardises the vector with statistics fitted once on the training
images (stored as buffers, so a saved model scores exactly as it was trained), and scores
``[f_headshot, f_headshot − f_reference, likeness]`` with a two-layer head. It is a
``transformers.PreTrainedModel`` with the same ``features``/``score_features``/``forward`` as
``HeadshotRewardModel``, so TRL trains it through ``reward.ml.trl_glue`` and ``reward_scores``
scores with it unchanged. Scoring costs ~30 k multiply-adds per image beyond the statistics. No Django.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers import initialization as init
from transformers.modeling_outputs import SequenceClassifierOutput

STATISTICS = ("luminance_mean", "luminance_std", "centre_luminance", "border_luminance",
              "centre_border_ratio", "red_mean", "green_mean", "blue_mean", "centre_warmth", "saturation",
              "log_laplacian_var", "log_laplacian_var_half", "log_laplacian_var_centre", "log_gradient",
              "centre_left_right")
LUMA = (0.299, 0.587, 0.114)
THUMB = 16


def _laplacian_log_var(grey: torch.Tensor) -> torch.Tensor:
    """log(1 + var) of the 4-neighbour Laplacian of B×1×H×W grey images in [0, 255]."""
    kernel = grey.new_tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)
    lap = F.conv2d(grey, kernel)
    return torch.log1p(lap.flatten(1).var(dim=1))


class ImageStatistics(nn.Module):
    """Images B×3×S×S in [-1, 1] → B×len(STATISTICS) measures (see the module docstring)."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        rgb = (images.float() + 1.0) * 127.5  # back to 0–255
        grey = (rgb * rgb.new_tensor(LUMA).view(1, 3, 1, 1)).sum(dim=1, keepdim=True)
        side = rgb.shape[-1]
        lo, hi = side // 4, side - side // 4
        centre = grey[..., lo:hi, lo:hi]
        border = grey.sum(dim=(2, 3)) - centre.sum(dim=(2, 3))
        border_mean = border / (side * side - centre.shape[-1] * centre.shape[-2])
        centre_mean = centre.mean(dim=(2, 3))
        half = centre.shape[-1] // 2
        saturation = rgb.amax(dim=1) - rgb.amin(dim=1)
        gy, gx = grey[..., 1:, :-1] - grey[..., :-1, :-1], grey[..., :-1, 1:] - grey[..., :-1, :-1]
        columns = [
            grey.mean(dim=(2, 3)), grey.flatten(1).std(dim=1, keepdim=True), centre_mean, border_mean,
            centre_mean / (border_mean + 1.0),
            rgb[:, 0:1].mean(dim=(2, 3)), rgb[:, 1:2].mean(dim=(2, 3)), rgb[:, 2:3].mean(dim=(2, 3)),
            (rgb[:, 0:1, lo:hi, lo:hi] - rgb[:, 2:3, lo:hi, lo:hi]).mean(dim=(2, 3)),
            saturation.mean(dim=(1, 2)).unsqueeze(1),
            _laplacian_log_var(grey).unsqueeze(1), _laplacian_log_var(F.avg_pool2d(grey, 2)).unsqueeze(1),
            _laplacian_log_var(centre).unsqueeze(1), torch.log1p(torch.sqrt(gx**2 + gy**2).mean(dim=(2, 3))),
            centre[..., :half].mean(dim=(2, 3)) - centre[..., half:].mean(dim=(2, 3)),
        ]
        return torch.cat(columns, dim=1)


def thumbnail(images: torch.Tensor) -> torch.Tensor:
    """B×3×S×S in [-1, 1] → B×THUMB² grey thumbnails, each standardised to mean 0 and spread 1."""
    grey = (images.float() * images.new_tensor(LUMA).view(1, 3, 1, 1)).sum(dim=1, keepdim=True)
    small = F.adaptive_avg_pool2d(grey, THUMB).flatten(1)
    return (small - small.mean(dim=1, keepdim=True)) / (small.std(dim=1, keepdim=True) + 1e-3)


class HeadshotFeatureRewardConfig(PretrainedConfig):
    """The statistics model's shape. ``num_labels`` is always 1."""

    model_type = "headshot_reward_features"

    image_size: int = 64  # side every image is resized to
    head_hidden: int = 32  # width of the head's hidden layer

    def __post_init__(self, **kwargs) -> None:
        kwargs["num_labels"] = 1
        super().__post_init__(**kwargs)


class HeadshotFeatureRewardModel(PreTrainedModel):
    """Reward of each headshot from fixed statistics of it and of the person's reference crop."""

    config_class = HeadshotFeatureRewardConfig
    base_model_prefix = "reward"
    main_input_name = "headshot"

    def __init__(self, config: HeadshotFeatureRewardConfig) -> None:
        super().__init__(config)
        width = len(STATISTICS)
        self.statistics = ImageStatistics()
        self.register_buffer("feature_mean", torch.zeros(width))
        self.register_buffer("feature_std", torch.ones(width))
        self.head = nn.Sequential(nn.Linear(2 * width + 1, config.head_hidden), nn.SiLU())
        self.score = nn.Linear(config.head_hidden, 1)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            if module is self.score:
                init.normal_(module.weight, std=0.01)  # rewards start near 0: loss ≈ log 2
            else:
                init.kaiming_normal_(module.weight, nonlinearity="relu")
            init.zeros_(module.bias)

    @torch.no_grad()
    def fit_normalisation(self, images: torch.Tensor) -> None:
        """Set the standardisation from training images B×3×S×S in [-1, 1] (once, before training)."""
        raw = self.statistics(images)
        self.feature_mean.copy_(raw.mean(dim=0))
        self.feature_std.copy_(raw.std(dim=0).clamp_min(1e-3))

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Standardised statistics and the thumbnail, B×(len(STATISTICS) + THUMB²)."""
        standard = (self.statistics(images) - self.feature_mean) / self.feature_std
        return torch.cat([standard, thumbnail(images)], dim=1)

    def score_features(self, headshot_features: torch.Tensor, reference_features: torch.Tensor
                       ) -> torch.Tensor:
        """Rewards B×1 from ``features``; a single reference row is broadcast to every headshot."""
        width = len(STATISTICS)
        f_r = reference_features.expand_as(headshot_features)
        stats_h, stats_r = headshot_features[:, :width], f_r[:, :width]
        unlikeness = (headshot_features[:, width:] - f_r[:, width:]).abs().mean(dim=1, keepdim=True)
        return self.score(self.head(torch.cat([stats_h, stats_h - stats_r, unlikeness], dim=1)))

    def forward(self, headshot: torch.Tensor, reference: torch.Tensor,
                attention_mask: torch.Tensor | None = None, **unused) -> SequenceClassifierOutput:
        """Rewards for ``headshot`` (B×3×S×S) given ``reference`` (B×3×S×S, or 1×3×S×S for all)."""
        if reference.shape[0] not in (1, headshot.shape[0]):
            raise ValueError(f"{headshot.shape[0]} headshots but {reference.shape[0]} references")
        return SequenceClassifierOutput(logits=self.score_features(self.features(headshot),
                                                                   self.features(reference)))
