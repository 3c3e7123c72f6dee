"""Identity distances on real CelebA photos with the dlib embeddings of generation.ml."""

from __future__ import annotations

import numpy as np
import pytest

from generation.ml import SAME_PERSON_THRESHOLD, FaceAnalyzer, corpus_photo
from monitoring.ml.identity import (
    embedding_pair_distances,
    face_embeddings,
    identity_distances,
    mean_identity_distance,
    verification_rate,
)
from tests.factories.images import GOOD, OTHER, blur, decode, jpeg


def test_same_person_close_other_person_far_no_face_none(corpus_wheel_path):
    good = decode(corpus_photo(corpus_wheel_path, GOOD))
    other = decode(corpus_photo(corpus_wheel_path, OTHER))
    degraded = jpeg(blur(good, 1), 60)
    grey = np.full_like(good, 127)
    same, different, no_face, no_face_out = identity_distances(
        [good, good, grey, good], [degraded, other, good, grey], analyzer=FaceAnalyzer())
    assert same < SAME_PERSON_THRESHOLD == 0.6
    assert different > SAME_PERSON_THRESHOLD
    assert no_face is None
    assert no_face_out is None


def test_embedding_once_gives_the_same_distances(corpus_wheel_path):
    """A reference embedded once and compared with several outputs matches pair-by-pair embedding."""
    good = decode(corpus_photo(corpus_wheel_path, GOOD))
    other = decode(corpus_photo(corpus_wheel_path, OTHER))
    outputs = [jpeg(blur(good, 1), 60), other, np.full_like(good, 127)]
    analyzer = FaceAnalyzer()
    reference, = face_embeddings([good], analyzer)
    embedded = face_embeddings(outputs, analyzer)
    assert reference.shape == (128,)
    assert embedded[2] is None  # no face
    once = embedding_pair_distances([reference] * 3, embedded)
    assert once == identity_distances([good] * 3, outputs, analyzer=analyzer)
    assert once[0] < SAME_PERSON_THRESHOLD < once[1]
    assert embedding_pair_distances([None], [reference]) == [None]
    with pytest.raises(ValueError, match="1 sources but 2 outputs"):
        embedding_pair_distances([reference], embedded[:2])


def test_identity_distances_need_pairs():
    with pytest.raises(ValueError, match="2 sources but 1 outputs"):
        identity_distances([np.zeros((8, 8, 3), np.uint8)] * 2, [np.zeros((8, 8, 3), np.uint8)])


def test_verification_rate_counts_missing_faces_as_failures():
    rate = verification_rate([0.3, 0.7, None, 0.59, 0.6])
    assert rate.value == pytest.approx(2 / 5)  # 0.3 and 0.59; 0.6 is not below the threshold
    assert rate.n == 5
    assert rate.available
    low, high = rate.interval
    assert 0 <= low <= 0.4 <= high <= 1
    assert "threshold 0.6" in rate.extractor
    assert verification_rate([0.3, 0.7, None], threshold=0.8).value == pytest.approx(2 / 3)
    assert verification_rate([None, None]).value == 0.0
    assert verification_rate([0.1] * 4).interval == (1.0, 1.0)


def test_verification_rate_of_nothing_is_unavailable():
    empty = verification_rate([])
    assert empty.value is None
    assert empty.unavailable == "unavailable: no pairs to verify"
    assert empty.to_json()["n"] == 0


def test_mean_identity_distance_skips_pairs_without_a_face():
    mean = mean_identity_distance([0.2, None, 0.4, 0.6], name="identity_distance_to_portrait")
    assert mean.name == "identity_distance_to_portrait"
    assert mean.value == pytest.approx(0.4)
    assert mean.n == 3  # the pair without a face is not a distance
    low, high = mean.interval
    assert 0.2 <= low <= 0.4 <= high <= 0.6
    assert "dlib" in mean.extractor
    assert mean_identity_distance([0.3]).interval is None
    nothing = mean_identity_distance([None, None])
    assert nothing.value is None
    assert nothing.unavailable == "unavailable: no face found in any pair"
    assert verification_rate([0.1, 0.9], name="identity_verification_rate_to_portrait").name == (
        "identity_verification_rate_to_portrait")
