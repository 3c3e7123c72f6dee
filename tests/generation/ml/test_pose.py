"""Head pose: exact on synthetic projections, near frontal on frontal photos, signs as documented."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from generation.ml import head_pose
from generation.ml.pose import POSE_POINTS, TEMPLATE, camera_matrix
from tests.factories.images import FRONTAL, TURNED


def projected_landmarks(yaw: float, pitch: float, roll: float, size: int = 400) -> np.ndarray:
    """68 landmarks whose pose points are the template seen at these angles (others left at 0)."""
    def about(axis: int, degrees: float) -> np.ndarray:
        vector = np.zeros(3)
        vector[axis] = np.radians(degrees)
        return cv2.Rodrigues(vector)[0]

    rotation = about(2, roll) @ about(1, -yaw) @ about(0, -pitch)
    points, _ = cv2.projectPoints(TEMPLATE, cv2.Rodrigues(rotation)[0], np.array([20.0, -10.0, 2500.0]),
                                  camera_matrix(size, size), None)
    landmarks = np.zeros((68, 2))
    landmarks[list(POSE_POINTS)] = points[:, 0]
    return landmarks


@pytest.mark.parametrize(
    ("yaw", "pitch", "roll"), [(0, 0, 0), (30, 0, 0), (-25, 15, 0), (0, -20, 10), (20, 10, -25)]
)
def test_known_angles_are_recovered(yaw, pitch, roll):
    pose = head_pose(projected_landmarks(yaw, pitch, roll), 400, 400)
    assert pose == pytest.approx({"yaw": yaw, "pitch": pitch, "roll": roll}, abs=0.5)


def test_sign_conventions_match_the_picture():
    nose, eyes = 30, [36, 45]
    turned = projected_landmarks(30, 0, 0)
    assert turned[nose, 0] > turned[eyes, 0].mean()  # yaw > 0: nose towards the image's right
    raised = projected_landmarks(0, 20, 0)
    level = projected_landmarks(0, 0, 0)
    eyes_to_nose = lambda lm: lm[nose, 1] - lm[eyes, 1].mean()  # noqa: E731
    assert eyes_to_nose(raised) < eyes_to_nose(level)  # pitch > 0: the nose tip rises towards the eyes
    tilted = projected_landmarks(0, 0, 20)
    assert tilted[45, 1] > tilted[36, 1]  # roll > 0: the image-right eye is lower (clockwise)


def test_frontal_corpus_photos_are_near_frontal(photo, analyzer):
    for name in FRONTAL:
        pose = analyzer.analyze(photo(name)).pose
        assert max(abs(pose["yaw"]), abs(pose["pitch"])) < 20, (name, pose)
        assert abs(pose["roll"]) < 10, (name, pose)


def test_a_mirror_image_flips_yaw_and_roll(photo, analyzer):
    rgb = photo(TURNED)
    pose, mirrored = analyzer.analyze(rgb).pose, analyzer.analyze(np.ascontiguousarray(rgb[:, ::-1])).pose
    assert pose["yaw"] > 35  # a real head turned well towards the image's right
    assert mirrored["yaw"] == pytest.approx(-pose["yaw"], abs=4)
    assert mirrored["roll"] == pytest.approx(-pose["roll"], abs=3)
    assert mirrored["pitch"] == pytest.approx(pose["pitch"], abs=4)


def test_rotating_the_photo_changes_roll_by_the_rotation(photo, analyzer):
    rgb = photo(FRONTAL[3])
    h, w = rgb.shape[:2]
    base = analyzer.analyze(rgb).pose["roll"]
    for degrees in (-20, 15):  # cv2 angles are counter-clockwise; our roll is clockwise
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
        rotated = cv2.warpAffine(rgb, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
        assert analyzer.analyze(rotated).pose["roll"] == pytest.approx(base - degrees, abs=4)
