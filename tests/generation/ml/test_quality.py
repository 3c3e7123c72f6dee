"""Every analysis gate fires on a crafted bad photo, and only that gate; the good photo passes all."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from generation.ml import REJECTION_CODES, REJECTION_MESSAGES, FaceAnalyzer, QualityThresholds
from generation.ml.quality import quality_rejections
from tests.factories.images import FRONTAL, GOOD, OTHER, TURNED


@pytest.fixture(scope="module")
def good(corpus_images_by_name) -> np.ndarray:
    return corpus_images_by_name[GOOD]


@pytest.fixture(scope="module")
def good_analysis(analyzer, good):
    return analyzer.analyze(good)


def covered(rgb: np.ndarray, landmarks: np.ndarray, points: slice, colour, margin: int) -> np.ndarray:
    """A copy with a flat rectangle over some landmarks (a bar over the eyes, a hand over the mouth)."""
    out = rgb.copy()
    (x0, y0), (x1, y1) = landmarks[points].min(axis=0) - margin, landmarks[points].max(axis=0) + margin
    out[int(y0):int(y1), int(x0):int(x1)] = colour
    return out


def motion_blurred(rgb: np.ndarray, length: int, direction: str) -> np.ndarray:
    """A horizontal or vertical camera shake of ``length`` pixels."""
    kernel = np.zeros((length, length))
    kernel[length // 2, :] = 1.0 / length
    return cv2.filter2D(rgb, -1, kernel if direction == "horizontal" else kernel.T)


def test_the_good_photo_passes_every_gate(good_analysis):
    assert good_analysis.rejections == []
    assert good_analysis.accepted
    q = good_analysis.quality
    assert q["sharpness"] > 2 * QualityThresholds().min_sharpness
    assert 0.3 < q["brightness"] < 0.7
    assert q["highlights"] < 0.05
    assert q["shadows"] < 0.1
    assert min(q["eye_left_texture"], q["eye_right_texture"], q["mouth_texture"]) > 0.25
    assert q["landmarks_outside"] == 0.0


@pytest.mark.parametrize("image", ["blank", "noise", "gradient"])
def test_no_face(analyzer, image):
    rng = np.random.default_rng(1)
    rgb = {
        "blank": np.full((300, 300, 3), 200, np.uint8),
        "noise": rng.integers(0, 256, (300, 300, 3), dtype=np.uint8),
        "gradient": np.dstack([np.tile(np.linspace(0, 255, 300, dtype=np.uint8), (300, 1))] * 3),
    }[image]
    result = analyzer.analyze(rgb)
    assert result.rejections == ["no_face"]
    assert result.face_count == 0
    assert result.box is None
    assert result.landmarks is None
    assert result.quality == {}
    assert result.pose is None
    assert result.ita is None


def test_multiple_faces_still_analyses_the_largest(analyzer, corpus_images_by_name, good):
    # a smaller face
    other = cv2.resize(corpus_images_by_name[OTHER], (116, 142), interpolation=cv2.INTER_AREA)
    canvas = np.full((218, 178 + 116, 3), 120, np.uint8)
    canvas[:, :178], canvas[:142, 178:] = good, other
    result = analyzer.analyze(canvas)
    assert result.rejections == ["multiple_faces"]
    assert result.face_count == 2
    assert len(result.boxes) == 2
    assert result.box == result.boxes[0]
    assert result.box.right <= 178
    assert result.boxes[1].left >= 178
    assert result.boxes[1].area < result.box.area
    assert result.landmarks is not None
    assert result.ita is not None


def test_face_too_small(analyzer, good):
    canvas = np.full((480, 480, 3), 128, np.uint8)
    canvas[180:289, 200:289] = cv2.resize(good, (89, 109), interpolation=cv2.INTER_AREA)
    result = analyzer.analyze(canvas)
    assert result.rejections == ["face_too_small"]
    assert result.quality["face_px"] < QualityThresholds().min_face_px


def test_too_blurry(analyzer, good, good_analysis):
    result = analyzer.analyze(cv2.GaussianBlur(good, (0, 0), 3))
    assert result.rejections == ["too_blurry"]
    assert result.quality["sharpness"] < good_analysis.quality["sharpness"] / 5


@pytest.mark.parametrize("direction", ["horizontal", "vertical"])
def test_camera_shake_is_too_blurry_through_motion_anisotropy(analyzer, good, good_analysis, direction):
    """A 7 px shake keeps enough detail across the motion to pass the sharpness gate on its own."""
    result = analyzer.analyze(motion_blurred(good, 7, direction))
    assert result.rejections == ["too_blurry"]
    assert result.quality["motion_anisotropy"] > QualityThresholds().max_anisotropy
    assert result.quality["sharpness"] > QualityThresholds().min_sharpness
    assert good_analysis.quality["motion_anisotropy"] < 0.4


def test_too_dark(analyzer, good):
    result = analyzer.analyze((good * 0.2).astype(np.uint8))
    assert result.rejections == ["too_dark"]


def test_dark_skin_in_good_light_is_not_too_dark(analyzer, photo):
    """Fairness: the mean brightness of these well-lit faces is under 0.2 because their skin is dark;
    the gate looks at the brightest 1% of the face (eye whites, teeth, sheen), which tracks the light."""
    for name in ("000300.jpg", "000536.jpg"):
        result = analyzer.analyze(photo(name))
        assert result.ita_category == "dark", name
        assert result.quality["brightness"] < 0.2, name
        assert result.rejections == [], name


def test_overexposed(analyzer, good):
    result = analyzer.analyze(np.clip(good * 1.8 + 60, 0, 255).astype(np.uint8))
    assert result.rejections == ["overexposed"]
    assert result.quality["highlights"] > QualityThresholds().max_highlights


def test_a_bar_over_the_eyes_is_occluded(analyzer, good, good_analysis):
    result = analyzer.analyze(covered(good, good_analysis.landmarks, slice(36, 48), (25, 25, 25), 5))
    assert result.rejections == ["occluded"]
    assert min(result.quality["eye_left_texture"], result.quality["eye_right_texture"]) < 0.05


def test_a_skin_coloured_patch_over_the_mouth_is_occluded(analyzer, good, good_analysis):
    result = analyzer.analyze(covered(good, good_analysis.landmarks, slice(48, 68), (200, 160, 140), 5))
    assert result.rejections == ["occluded"]
    assert result.quality["mouth_texture"] < 0.05


def test_real_sunglasses_are_occluded(analyzer, photo):
    result = analyzer.analyze(photo("000144.jpg"))  # dark sunglasses in the corpus
    assert "occluded" in result.rejections


def test_a_face_cut_by_the_frame_is_occluded(analyzer, good, good_analysis):
    mouth_top = int(good_analysis.landmarks[48:60, 1].min())
    result = analyzer.analyze(np.ascontiguousarray(good[: mouth_top + 2]))  # chin and mouth cut off
    assert result.rejections == ["occluded"]
    assert result.quality["landmarks_outside"] > QualityThresholds().max_landmarks_outside


def test_extreme_pose_on_a_real_turned_head(analyzer, photo):
    result = analyzer.analyze(photo(TURNED))
    assert result.rejections == ["extreme_pose"]
    assert result.pose["yaw"] > QualityThresholds().max_yaw


def test_extreme_pose_on_a_strongly_tilted_head(analyzer, photo):
    """Roll: the frontal photo rotated 35° counter-clockwise (HOG still finds it, roll ≈ −35°)."""
    rgb = photo(FRONTAL[3])
    h, w = rgb.shape[:2]
    padded = cv2.copyMakeBorder(rgb, 60, 60, 60, 60, cv2.BORDER_REPLICATE)
    matrix = cv2.getRotationMatrix2D((w / 2 + 60, h / 2 + 60), 35, 1.0)
    tilted = cv2.warpAffine(padded, matrix, (w + 120, h + 120), borderMode=cv2.BORDER_REPLICATE)
    result = analyzer.analyze(tilted)
    assert result.rejections == ["extreme_pose"]
    assert result.pose["roll"] < -QualityThresholds().max_roll


def test_thresholds_are_configurable(good):
    strict = FaceAnalyzer(thresholds=QualityThresholds(min_face_px=150, max_yaw=0.1), compute_embedding=False)
    assert strict.analyze(good).rejections == ["face_too_small", "extreme_pose"]
    assert FaceAnalyzer(thresholds=QualityThresholds(min_sharpness=1e9, max_pitch=1),
                        compute_embedding=False).analyze(good).rejections == ["too_blurry", "extreme_pose"]


def test_rejections_come_in_the_stable_order_of_the_codes():
    measures = {"face_px": 10, "sharpness": 1, "motion_anisotropy": 0.9, "brightness": 0.95,
                "peak_brightness": 0.1, "shadows": 0.9, "highlights": 0.9, "eye_left_texture": 0.0,
                "eye_right_texture": 0.0, "mouth_texture": 0.0, "landmarks_outside": 0.5}
    codes = quality_rejections(measures, {"yaw": 80, "pitch": 0, "roll": 0})
    assert codes == ["face_too_small", "too_blurry", "extreme_pose", "too_dark", "overexposed", "occluded"]
    assert codes == [c for c in REJECTION_CODES if c in codes]


def test_every_code_has_a_plain_message_that_says_what_to_do():
    assert set(REJECTION_MESSAGES) == set(REJECTION_CODES)
    assert {"no_face", "multiple_faces", "face_too_small", "too_blurry", "extreme_pose", "too_dark",
            "overexposed", "occluded", "not_an_image", "too_large"} == set(REJECTION_CODES)
    jargon = ("landmark", "threshold", "pixel", "px", "laplacian", "yaw", "pitch", "exposure", "detect")
    for code, message in REJECTION_MESSAGES.items():
        assert message.endswith("."), code
        assert 40 < len(message) < 200, code
        assert message.count(". ") >= 1, code  # what is wrong. What to do.
        assert not any(word in message.lower() for word in jargon), code
