"""Alignment puts the eyes and mouth on the canonical spots, checked by re-detecting the aligned face."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from generation.ml import (
    ALIGN_SIZES,
    CANONICAL,
    DlibHogDetector,
    align_face,
    alignment_matrix,
    face_landmarks,
)
from generation.ml.align import face_points, similarity_transform, transform_points
from tests.factories.images import FRONTAL, GOOD


def test_defaults():
    assert ALIGN_SIZES == (64, 128)
    left, right, mouth = CANONICAL
    assert left[1] == right[1]
    assert left[0] + right[0] == pytest.approx(1.0)
    assert mouth[0] == 0.5


def test_a_known_similarity_is_recovered_exactly():
    angle, scale, shift = np.radians(25), 1.7, np.array([12.0, -40.0])
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    src = np.array([[10.0, 20.0], [60.0, 22.0], [35.0, 70.0], [5.0, 5.0]])
    dst = src @ rotation.T + shift
    matrix = similarity_transform(src, dst)
    assert matrix == pytest.approx(np.hstack([rotation, shift[:, None]]), abs=1e-9)
    mirrored = dst * [-1, 1]  # a reflection is not a similarity: the fit must not produce one
    assert np.linalg.det(similarity_transform(src, mirrored)[:, :2]) > 0


@pytest.mark.parametrize("size", ALIGN_SIZES)
def test_eyes_and_mouth_land_on_the_canonical_spots(photo, analyzer, size):
    detector = DlibHogDetector(upsample=1)
    for name in FRONTAL:
        rgb = photo(name)
        landmarks = analyzer.analyze(rgb).landmarks
        target = CANONICAL * size
        mapped = transform_points(alignment_matrix(landmarks, size), face_points(landmarks))
        assert np.abs(mapped - target).max() < 2.0, name  # least squares over 3 points
        aligned = align_face(rgb, landmarks, size)
        assert aligned.shape == (size, size, 3)
        assert aligned.dtype == np.uint8
        # The pixels really moved: the face found again in the aligned frame sits on the spots.
        boxes = detector.detect(aligned)
        assert len(boxes) == 1, name
        found = face_points(face_landmarks(aligned, boxes[0]))
        assert np.abs(found - target).max() < 0.025 * size + 1.0, (name, found - target)


def test_a_tilted_face_comes_out_level(corpus_images_by_name, analyzer):
    rgb = corpus_images_by_name[GOOD]
    h, w = rgb.shape[:2]
    tilted = cv2.warpAffine(rgb, cv2.getRotationMatrix2D((w / 2, h / 2), 25, 1.0), (w, h),
                            borderMode=cv2.BORDER_REPLICATE)
    aligned = align_face(tilted, analyzer.analyze(tilted).landmarks, 128)
    straight = align_face(rgb, analyzer.analyze(rgb).landmarks, 128)
    centre = (slice(32, 96), slice(32, 96))  # the face, away from the repeated borders
    assert np.abs(aligned[centre].astype(int) - straight[centre]).mean() < 6
    assert np.abs(np.rot90(aligned)[centre].astype(int) - straight[centre]).mean() > 25


def test_a_big_photo_aligns_like_its_small_original(corpus_images_by_name, analyzer):
    rgb = corpus_images_by_name[GOOD]
    landmarks = analyzer.analyze(rgb).landmarks
    big = cv2.resize(rgb, (rgb.shape[1] * 5, rgb.shape[0] * 5), interpolation=cv2.INTER_CUBIC)
    small_frame = align_face(rgb, landmarks, 64)
    big_frame = align_face(big, landmarks * 5 + 2.0, 64)  # pixel centres scale about the half pixel
    assert np.abs(big_frame.astype(int) - small_frame).mean() < 2  # a 2 px shift gives ~11


def test_the_carried_landmarks_match_the_face_found_in_the_crop(photo, analyzer):
    """``aligned_face``'s landmarks are where the face pipeline finds them again in its crop."""
    from generation.ml.align import aligned_face

    rgb = photo(FRONTAL[0])
    crop, points = aligned_face(rgb, analyzer.analyze(rgb).landmarks, 128)
    assert np.array_equal(crop, align_face(rgb, analyzer.analyze(rgb).landmarks, 128))
    found = analyzer.analyze(crop).landmarks
    assert points.shape == (68, 2)
    assert np.median(np.linalg.norm(points - found, axis=1)) < 2.5
