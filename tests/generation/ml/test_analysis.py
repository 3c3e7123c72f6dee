"""The whole pipeline on a real photo: every field filled, JSON-safe output, swappable detector."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from skimage import data as skdata

from generation.ml import (
    SAME_PERSON_THRESHOLD,
    FaceAnalysis,
    FaceAnalyzer,
    FaceBox,
    HaarCascadeDetector,
    QualityThresholds,
    embedding_distance,
)
from generation.ml.analysis import STEPS, confident_faces
from tests.factories.images import GOOD, OTHER


@pytest.fixture(scope="module")
def full(corpus_images_by_name):
    """The default analyzer, embedding included, on the good photo (the only full run here)."""
    return FaceAnalyzer().analyze(corpus_images_by_name[GOOD])


def test_a_good_photo_is_fully_analysed(full):
    assert isinstance(full, FaceAnalysis)
    assert full.accepted
    assert full.rejections == []
    assert (full.width, full.height, full.face_count) == (178, 218, 1)
    assert full.boxes == [full.box]
    assert full.box.width > 60
    assert full.landmarks.shape == (68, 2)
    (lx, ly), (rx, ry), (mx, my) = full.eye_left, full.eye_right, full.mouth_centre
    assert lx < mx < rx
    assert max(ly, ry) < my
    assert set(full.pose) == {"yaw", "pitch", "roll"}
    assert full.embedding.shape == (128,)
    assert full.embedding.dtype == np.float32
    assert full.ita is not None
    assert full.ita_category is not None
    assert {"face_px", "sharpness", "motion_anisotropy", "brightness", "peak_brightness", "shadows",
            "highlights", "eye_left_texture", "eye_right_texture", "mouth_texture",
            "landmarks_outside"} == set(full.quality)
    assert STEPS == ("detect", "landmarks", "pose", "quality", "skin_tone", "embedding")
    assert tuple(full.timings) == STEPS
    assert all(seconds > 0 for seconds in full.timings.values())


def test_to_json_is_json_safe_and_leaves_the_embedding_out(full):
    data = full.to_json()
    text = json.dumps(data, allow_nan=False)
    back = json.loads(text)
    assert "embedding" not in back
    assert back["accepted"] is True
    assert back["rejections"] == []
    assert len(back["landmarks"]) == 68
    assert len(back["landmarks"][0]) == 2
    assert back["box"] == {"left": full.box.left, "top": full.box.top, "right": full.box.right,
                           "bottom": full.box.bottom, "score": round(full.box.score, 4)}
    assert back["eye_left"] == pytest.approx(list(full.eye_left), abs=0.01)
    assert back["quality"]["sharpness"] == pytest.approx(full.quality["sharpness"], rel=1e-3)
    assert back["ita_category"] == full.ita_category
    assert set(back["timings"]) == set(STEPS)


def test_without_embedding_the_step_is_skipped(analyzer, corpus_images_by_name):
    result = analyzer.analyze(corpus_images_by_name[GOOD])
    assert result.embedding is None
    assert result.timings["embedding"] == 0.0
    assert result.accepted


def test_no_face_to_json(analyzer):
    result = analyzer.analyze(np.zeros((64, 64, 3), np.uint8))
    data = json.loads(json.dumps(result.to_json()))
    assert data["rejections"] == ["no_face"]
    assert data["accepted"] is False
    assert data["box"] is None
    assert data["boxes"] == []
    assert data["landmarks"] is None
    assert data["pose"] is None
    assert data["quality"] == {}
    assert data["ita"] is None
    assert data["timings"]["landmarks"] == 0.0
    assert data["timings"]["detect"] > 0


def test_the_embedding_tells_people_apart(full, corpus_images_by_name):
    other = FaceAnalyzer().analyze(corpus_images_by_name[OTHER]).embedding
    assert embedding_distance(full.embedding, other) > SAME_PERSON_THRESHOLD


def test_the_haar_backend_drives_the_same_pipeline(corpus_images_by_name):
    haar = FaceAnalyzer(detector=HaarCascadeDetector(), compute_embedding=False)
    result = haar.analyze(corpus_images_by_name[GOOD])
    assert result.face_count == 1
    assert result.accepted
    assert abs(result.pose["yaw"]) < 20


def test_weak_extra_detections_are_dropped_before_counting():
    strong, weak = FaceBox(0, 0, 90, 90, 1.5), FaceBox(200, 0, 260, 60, 0.3)
    big_weak = FaceBox(0, 100, 200, 300, 0.1)
    assert confident_faces([weak, strong, big_weak], 0.3) == [strong]
    assert confident_faces([weak, strong], 0.1) == [strong, weak]  # largest first
    assert confident_faces([], 0.3) == []


def test_measures_do_not_depend_on_resolution(analyzer, corpus_images_by_name):
    """The same photo 4× larger (a 712×872 upload) gives the same verdict and nearly the same numbers."""
    rgb = corpus_images_by_name[GOOD]
    small = analyzer.analyze(rgb)
    large = analyzer.analyze(cv2.resize(rgb, (178 * 4, 218 * 4), interpolation=cv2.INTER_CUBIC))
    assert large.rejections == small.rejections == []
    assert large.quality["face_px"] == pytest.approx(4 * small.quality["face_px"], rel=0.05)
    for key in ("sharpness", "brightness", "peak_brightness", "eye_left_texture", "mouth_texture"):
        assert large.quality[key] == pytest.approx(small.quality[key], rel=0.2), key
    for angle in ("yaw", "pitch", "roll"):
        assert large.pose[angle] == pytest.approx(small.pose[angle], abs=2), angle
    assert large.ita == pytest.approx(small.ita, abs=1)
    moved = np.abs(large.landmarks - (4 * small.landmarks + 1.5)).mean()  # pixel centres scale about 0.5
    assert moved < 4  # about a pixel of the small photo (its landmarks are whole pixels)


def test_a_stray_low_score_detection_is_not_a_second_face(analyzer):
    """HOG also fires (score ~0.1) on the astronaut's suit; she is still one face, accepted."""
    result = analyzer.analyze(skdata.astronaut())
    assert result.face_count == 1
    assert result.rejections == []
    assert result.box.top < 200


def test_bad_input_is_refused(analyzer):
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        analyzer.analyze(np.zeros((64, 64), np.uint8))
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        analyzer.analyze(np.zeros((64, 64, 4), np.uint8))


def test_thresholds_are_a_plain_documented_config():
    t = QualityThresholds()
    assert t.to_dict()["min_face_px"] == 64
    assert QualityThresholds(max_yaw=10).max_yaw == 10
    with pytest.raises(AttributeError):
        t.max_yaw = 5  # frozen: one analyzer's gates cannot drift
