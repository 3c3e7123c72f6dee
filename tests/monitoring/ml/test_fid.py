"""FID and KID on real CelebA photos with the real TF-Inception features (no mocks).

Inception is slow on a CPU, so the sets are small (12 photos) and shared: the reference features are
computed once per module (and cached to .npz like in production).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from cleanfid import fid as cleanfid_fid

from hfplatform.ml.values import MetricValue
from monitoring.ml import fid as fid_module
from monitoring.ml.fid import (
    ReferenceStats,
    fid_from_features,
    fid_kid,
    folder_features,
    folder_fingerprint,
    images_features,
    kid_from_features,
    kid_resampled,
    reference_features,
)
from tests.factories.images import blur, noise, save_pngs

N = 12  # photos per set


@pytest.fixture(scope="module")
def reference_dir(corpus_images, tmp_path_factory):
    return save_pngs(list(corpus_images[:N]), tmp_path_factory.mktemp("reference"))


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("metric-cache")


@pytest.fixture(scope="module")
def reference(inception, reference_dir, cache_dir) -> np.ndarray:
    """Features of the reference folder, through the same cache fid_kid uses."""
    return ReferenceStats(cache_dir / "fid-reference", inception).features(reference_dir)


def test_features_are_inception_pool_features(reference):
    assert reference.shape == (N, 2048)
    assert reference.dtype == np.float32
    assert np.isfinite(reference).all()
    assert reference.min() >= 0  # average pool after ReLU
    assert len({row.tobytes() for row in reference}) == N


def test_fid_of_a_folder_against_itself_is_zero(reference):
    assert abs(fid_from_features(reference, reference)) < 1e-3


def test_reference_cache_is_used_and_keyed_by_the_folder(inception, reference, reference_dir, cache_dir,
                                                         monkeypatch):
    stats = ReferenceStats(cache_dir / "fid-reference", inception)
    cache_file = stats.cache_file(reference_dir)
    assert cache_file.is_file()

    def recompute(*args, **kwargs):
        raise AssertionError("reference features recomputed instead of read from the cache")

    with monkeypatch.context() as patched:
        patched.setattr(fid_module, "folder_features", recompute)  # read from the .npz, never recomputed
        again = reference_features(reference_dir, inception, cache_file)
    assert np.array_equal(again, reference)
    before = folder_fingerprint(reference_dir, inception.name)
    assert folder_fingerprint(reference_dir, "another extractor") != before
    extra = reference_dir.parent / "fingerprint-copy"
    save_pngs([np.zeros((8, 8, 3), np.uint8)], extra)
    assert folder_fingerprint(extra, inception.name) != before


def test_images_features_equal_folder_features(inception, corpus_images, tmp_path):
    images = [blur(p, 1) for p in corpus_images[N:N + 3]]
    from_folder = folder_features(save_pngs(images, tmp_path / "three"), inception)
    from_arrays = images_features(images, inception)
    assert from_arrays.shape == (3, 2048)
    assert np.allclose(from_arrays, from_folder, rtol=0, atol=1e-5)


def test_extractor_takes_clean_fid_batches_only(inception):
    with pytest.raises(ValueError, match="299"):
        inception(torch.zeros(1, 3, 64, 64))


@pytest.mark.slow
def test_fid_and_kid_grow_with_blur_and_with_noise(inception, corpus_images, reference):
    """Another 12 people, degraded more and more: both distances to the reference go up at each step."""
    others = list(corpus_images[N:2 * N])
    clean = images_features(others, inception)
    for degrade, levels in ((blur, (1.5, 4.0)), (noise, (12.0, 40.0))):
        degraded = [images_features([degrade(p, level) for p in others], inception) for level in levels]
        feats = [clean, *degraded]
        fids = [fid_from_features(f, reference) for f in feats]
        kids = [kid_from_features(f, reference) for f in feats]
        assert fids[0] < fids[1] < fids[2], (degrade.__name__, fids)
        assert kids[0] < kids[1] < kids[2], (degrade.__name__, kids)
        assert fids[2] > 1.2 * fids[0]


def test_fid_kid_from_folders(inception, corpus_images, reference_dir, cache_dir, tmp_path):
    generated = save_pngs([blur(p, 2) for p in corpus_images[N:N + 4]], tmp_path / "generated")
    fid, kid = fid_kid(generated, reference_dir, cache_dir=cache_dir, extractor=inception)
    for value, name in ((fid, "fid"), (kid, "kid")):
        assert value.available
        assert (value.name, value.n, value.extractor) == (name, 4, inception.name)
        assert value.to_json() == {"name": name, "value": value.value, "n": 4, "extractor": inception.name,
                                   "unavailable": None, "interval": None}
    assert fid.value > 0


def test_fid_kid_need_two_images_per_folder(corpus_images, reference_dir, tmp_path):
    generated = save_pngs(list(corpus_images[:1]), tmp_path / "one")
    fid, kid = fid_kid(generated, reference_dir, cache_dir=tmp_path / "nothing-needed")
    assert fid.value is None
    assert kid.value is None
    assert "generated folder" in fid.unavailable
    assert "1 image(s)" in kid.unavailable
    fid, _ = fid_kid(reference_dir, tmp_path / "missing", cache_dir=tmp_path)
    assert "reference folder" in fid.unavailable
    assert "0 image(s)" in fid.unavailable


# --- The distances alone -------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:The `disp` argument is deprecated:DeprecationWarning")
@pytest.mark.parametrize(("n_a", "n_b", "dim"), [(20, 30, 256), (30, 7, 256), (2, 2, 64), (300, 150, 64)])
def test_fid_matches_clean_fid(n_a, n_b, dim):
    rng = np.random.default_rng(n_a)
    a = rng.random((n_a, dim))
    b = rng.random((n_b, dim)) * 1.2 + 0.1
    expected = cleanfid_fid.fid_from_feats(a, b)  # scipy sqrtm: fine at these sizes
    assert fid_from_features(a, b) == pytest.approx(expected, rel=1e-6)
    assert fid_from_features(b, a) == pytest.approx(expected, rel=1e-6)


def test_kid_at_small_n_is_the_unbiased_mmd_of_the_whole_sets():
    rng = np.random.default_rng(1)
    a, b = rng.random((5, 16)), rng.random((5, 16)) + 0.2
    state = np.random.get_state()
    value = kid_from_features(a, b)
    assert np.random.get_state()[1].tolist() == state[1].tolist()  # global RNG left as it was

    def k(x, y):
        return (x @ y.T / 16 + 1) ** 3

    # subset size m = min(5, 5, 1000) = 5: every subset is both whole sets, so KID is plain MMD²_u
    m, kaa, kbb = 5, k(a, a), k(b, b)
    mmd2 = (kaa.sum() - np.trace(kaa) + kbb.sum() - np.trace(kbb)) / (m * (m - 1)) - 2 * k(a, b).mean()
    assert value == pytest.approx(mmd2, rel=1e-9)
    uneven = kid_from_features(a, np.vstack([b, b + 0.01]))  # m = 5 of 10: subsets drawn, seeded
    assert kid_from_features(a, np.vstack([b, b + 0.01])) == uneven
    assert kid_from_features(a, np.vstack([b, b + 0.01]), seed=1) != uneven


def test_kid_resampled_with_every_image_once_is_the_kid_of_the_whole_sets():
    rng = np.random.default_rng(2)
    a, b = rng.random((5, 16)), rng.random((5, 16)) + 0.2
    assert kid_resampled(a, b, np.ones((1, 5)))[0] == pytest.approx(kid_from_features(a, b), rel=1e-9)
    # Drawing an image twice adds no pair of it with itself: it counts as two distinct draws of its
    # value paired with the others, the same as a set holding an exact copy of it minus that one pair.
    def k(x, y):
        return (x @ y.T / 16 + 1) ** 3

    twice = np.array([[2.0, 1, 1, 1, 1]])
    x = np.vstack([a, a[:1]])  # the same draws as rows
    kxx = k(x, x)
    pairs = 6 * 5 - 2  # ordered pairs of different draws, less the two (copy, original) pairs
    xx = (kxx.sum() - np.trace(kxx) - 2 * kxx[0, 5]) / pairs
    kbb = k(b, b)
    expected = xx + (kbb.sum() - np.trace(kbb)) / 20 - 2 * k(x, b).mean()
    assert kid_resampled(a, b, twice)[0] == pytest.approx(expected, rel=1e-9)
    one_draw = kid_resampled(a, b, np.array([[0.0, 0, 3, 0, 0], [1.0, 1, 0, 0, 0]]))
    assert np.isnan(one_draw[0])  # one image drawn three times: no pair of different images
    assert np.isfinite(one_draw[1])
    further = kid_resampled(a, b + 0.5, np.ones((1, 5)))[0]
    assert further > kid_resampled(a, b, np.ones((1, 5)))[0]  # a reference further away: a larger KID
    with pytest.raises(ValueError, match="weights"):
        kid_resampled(a, b, np.ones((1, 4)))


def test_distances_refuse_bad_features():
    with pytest.raises(ValueError, match="at least 2"):
        fid_from_features(np.zeros((1, 8)), np.zeros((5, 8)))
    with pytest.raises(ValueError, match="same D"):
        kid_from_features(np.zeros((3, 8)), np.zeros((3, 9)))
    with pytest.raises(ValueError, match="NaN"):
        fid_from_features(np.full((3, 8), np.nan), np.zeros((3, 8)))


def test_metric_value_json():
    value = MetricValue("fid", float("nan"), 3, "x", interval=(1.0, float("inf")))
    assert value.to_json()["value"] is None
    assert value.to_json()["interval"] == [1.0, None]
    missing = MetricValue.missing("kid", "no weights", 4, "x")
    assert missing.unavailable == "unavailable: no weights"
    assert not missing.available
