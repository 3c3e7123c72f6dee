"""The lighting stage: light estimated from a face's shading, evened out, skin tone kept.

Known light comes from rendering: a real aligned corpus face (256 px) has its own low-frequency
shading divided out (``evaluate.flat_albedo``) and is then lit with ambient 0.3 + Lambert on the
stage's generic face shape (``evaluate.lambertian_light``). Faces are near-frontal (|yaw| < 6°)
photos the pipeline accepts. Tolerances come from the same renders over many such faces
(``bench/stage_figures.py``, figures in docs/studio.md); these three faces measure ≤ 5°.
"""

from __future__ import annotations

import numpy as np
import pytest

from generation.ml.align import align_face, alignment_matrix, transform_points
from generation.ml.skin_tone import measure_skin_tone
from generation.ml.studio.base import FaceContext, StageSkipped
from generation.ml.studio.evaluate import flat_albedo, lambertian_light
from generation.ml.studio.lighting import (
    STAGE,
    LightEstimate,
    _directions_around,
    _fit_lambert,
    direction_from_angles,
    estimate_light,
    face_asymmetry,
    light_direction_error,
    relight,
)

SIZE = 256
FACES = ("000012.jpg", "000018.jpg", "000047.jpg")  # intermediate, very light, brown
SIDE_LIGHTS = ((-60.0, 0.0), (-45.0, 20.0), (50.0, -10.0))  # (azimuth, elevation) degrees
GROUPS = {"very_light": "000018.jpg", "light": "000043.jpg", "intermediate": "000012.jpg",
          "tan": "000110.jpg", "brown": "000047.jpg", "dark": "000331.jpg"}  # measured on the 256-px crops


@pytest.fixture(scope="module")
def aligned(photo, analyzer):
    """``aligned(name)`` → (256-px aligned crop, its 68 landmarks), computed once per name."""
    cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def get(name: str) -> tuple[np.ndarray, np.ndarray]:
        if name not in cache:
            rgb = photo(name)
            landmarks = analyzer.analyze(rgb).landmarks
            matrix = alignment_matrix(landmarks, SIZE)
            cache[name] = (align_face(rgb, landmarks, SIZE), transform_points(matrix, landmarks))
        return cache[name]

    return get


@pytest.fixture(scope="module")
def side_lit(aligned):
    """[(name, landmarks, true direction, side-lit crop, relit crop)] for every face and side light."""
    cases = []
    for name in FACES:
        rgb, landmarks = aligned(name)
        albedo = flat_albedo(rgb, landmarks)
        for azimuth, elevation in SIDE_LIGHTS:
            direction = direction_from_angles(azimuth, elevation)
            image = lambertian_light(albedo, landmarks, direction)
            relit = relight(image, FaceContext(landmarks=landmarks))
            cases.append((name, landmarks, direction, image, relit))
    return cases


def test_light_on_a_uniform_face_is_recovered_exactly(aligned):
    """One colour, the model's own shading: the fit itself must be exact (first-order harmonics alone
    read the 60° light as ~90°; the clamped-cosine refinement gets it)."""
    _, landmarks = aligned(FACES[0])
    grey = np.full((SIZE, SIZE, 3), 180, np.uint8)
    for azimuth, elevation in ((0.0, 0.0), (-60.0, 0.0), (-45.0, 20.0), (60.0, -10.0)):
        direction = direction_from_angles(azimuth, elevation)
        estimate = estimate_light(lambertian_light(grey, landmarks, direction), landmarks)
        assert light_direction_error(estimate, direction) < 1.0
        assert estimate.residual < 0.02


def test_side_light_on_real_faces_is_recovered(side_lit):
    for name, landmarks, direction, image, _ in side_lit:
        estimate = estimate_light(image, landmarks)
        assert light_direction_error(estimate, direction) < 10.0, name
        assert np.sign(estimate.azimuth) == np.sign(direction[0]), name  # the lit side is right


def test_frontal_light_reads_as_frontal(aligned):
    frontal = np.array([0.0, 0.0, 1.0])
    for name in FACES:
        rgb, landmarks = aligned(name)
        rendered = lambertian_light(flat_albedo(rgb, landmarks), landmarks, frontal)
        assert light_direction_error(estimate_light(rendered, landmarks), frontal) < 5.0, name
        # The photos themselves are studio-lit from the front (measured 5-10°).
        assert light_direction_error(estimate_light(rgb, landmarks), frontal) < 15.0, name


def test_relight_halves_the_asymmetry_of_side_light(side_lit):
    for name, landmarks, _, image, relit in side_lit:
        before, after = face_asymmetry(image, landmarks), face_asymmetry(relit, landmarks)
        assert before > 0.3, name
        assert after <= 0.5 * before, (name, before, after)


def test_relight_keeps_the_skin_tone_reading(aligned, side_lit):
    """ITA° is held to ``ITA_MATCH`` (0.5°) where the reading allows: on side-lit faces and on the
    clean crops of every skin-tone group."""
    for name, landmarks, _, image, relit in side_lit:
        before, after = measure_skin_tone(image, landmarks)[0], measure_skin_tone(relit, landmarks)[0]
        assert abs(after - before) <= 1.0, name
    for group, name in GROUPS.items():
        rgb, landmarks = aligned(name)
        before, category = measure_skin_tone(rgb, landmarks)
        assert category == group
        after, after_category = measure_skin_tone(relight(rgb, FaceContext(landmarks=landmarks)), landmarks)
        assert abs(after - before) <= 1.0, group
        assert after_category == group


def test_strength_blends_and_zero_is_unchanged(side_lit):
    _, landmarks, _, image, full = side_lit[0]
    face = FaceContext(landmarks=landmarks)
    assert np.array_equal(relight(image, face, strength=0.0), image)
    half = relight(image, face, strength=0.5)
    asymmetry = [face_asymmetry(x, landmarks) for x in (full, half, image)]
    assert asymmetry == sorted(asymmetry)


def test_turned_heads_are_left_alone(side_lit):
    _, landmarks, _, image, _ = side_lit[0]
    assert np.array_equal(relight(image, FaceContext(landmarks=landmarks, yaw=35.0)), image)


def test_relight_is_deterministic(side_lit):
    _, landmarks, _, image, relit = side_lit[1]
    assert np.array_equal(relight(image.copy(), FaceContext(landmarks=landmarks)), relit)


def test_without_landmarks_the_stage_is_skipped():
    with pytest.raises(StageSkipped, match="lighting"):
        relight(np.zeros((64, 64, 3), np.uint8), FaceContext())
    with pytest.raises(StageSkipped, match="skin pixels"):  # landmarks that enclose no face
        relight(np.zeros((64, 64, 3), np.uint8), FaceContext(landmarks=np.zeros((68, 2))))
    assert STAGE.name == "lighting"
    assert STAGE.apply is relight
    assert STAGE.params["strength"].default == 1.0


def test_metrics(aligned):
    rgb, landmarks = aligned(FACES[0])
    mirrored = rgb[:, ::-1].copy()
    mirrored_landmarks = landmarks.copy()
    mirrored_landmarks[:, 0] = SIZE - 1 - landmarks[:, 0]
    # Image-left/right swap: the same asymmetry (landmark order does not matter to the split).
    assert face_asymmetry(mirrored, mirrored_landmarks) == pytest.approx(face_asymmetry(rgb, landmarks),
                                                                         abs=0.03)
    darker = rgb.copy()
    darker[:, : int(landmarks[27, 0])] //= 2
    assert face_asymmetry(darker, landmarks) > face_asymmetry(rgb, landmarks) + 0.3
    estimate = LightEstimate(direction=(0.0, 0.0, 1.0), ambient=0.1, strength=0.5, residual=0.0, pixels=1)
    assert light_direction_error(estimate, (1.0, 0.0, 0.0)) == pytest.approx(90.0)
    assert light_direction_error((0.0, 1.0, 1.0), (0.0, 2.0, 2.0)) == pytest.approx(0.0, abs=1e-6)
    assert (estimate.azimuth, estimate.elevation) == (0.0, 0.0)
    turned = LightEstimate(tuple(direction_from_angles(-30.0, 10.0)), 0.0, 1.0, 0.0, 1)
    assert (turned.azimuth, turned.elevation) == pytest.approx((-30.0, 10.0))


def test_a_face_whose_tone_reading_swings_gets_less_light_correction_not_a_new_tone(aligned):
    """On this dark face (ITA° −55) the full correction moved the reading by 11.7° whatever the face
    gain: the stage backs off to a smaller share of the correction that holds it."""
    rgb, landmarks = aligned("000154.jpg")
    before, category = measure_skin_tone(rgb, landmarks)
    assert category == "dark"
    out = relight(rgb, FaceContext(landmarks=landmarks))
    after, after_category = measure_skin_tone(out, landmarks)
    assert abs(after - before) <= 1.0
    assert after_category == "dark"
    assert not np.array_equal(out, rgb)  # some correction is still applied


def test_the_lambert_fit_from_sums_equals_the_fit_pixel_by_pixel():
    rng = np.random.default_rng(0)
    normals = rng.normal(size=(3000, 3))
    normals[:, 2] = np.abs(normals[:, 2])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    directions = _directions_around(np.array([0.3, 0.1, 0.9]), 40.0, 4.0)
    for y in (0.2 + 0.6 * np.maximum(normals @ directions[100], 0) + rng.normal(0, 0.02, 3000),
              -0.1 + 0.9 * np.maximum(normals @ directions[7], 0) + rng.normal(0, 0.02, 3000)):  # a < 0
        best, a, b = _fit_lambert(normals, y, directions)
        errors = []
        for direction in directions:  # each direction's constrained least squares, one at a time
            c = np.maximum(normals @ direction, 0.0)
            slope = max(np.cov(c, y, bias=True)[0, 1], 0.0) / max(c.var(), 1e-12)
            offset = y.mean() - slope * c.mean()
            if offset < 0:
                offset, slope = 0.0, (c @ y) / max(c @ c, 1e-12)
            errors.append((((y - offset - slope * c) ** 2).sum(), offset, slope))
        expected = int(np.argmin([e[0] for e in errors]))
        assert best == expected
        assert a == pytest.approx(errors[expected][1], abs=1e-9)
        assert b == pytest.approx(errors[expected][2], abs=1e-9)
