"""The stage pipeline on stand-in stages defined here: order, defaults, checks, records, skips and the
face context following a size change. The real stages have their own tests."""

from __future__ import annotations

import numpy as np
import pytest

from generation.ml.studio import pipeline
from generation.ml.studio.base import FaceContext, Param, Stage, StageSkipped, StageUnavailable

HERE = __name__


def _double(rgb, face, *, factor=2):
    seen.append(("double", None if face.landmarks is None else face.landmarks.copy()))
    return np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)


def _tint(rgb, face, *, amount=10.0, mode="add"):
    seen.append(("tint", face.require_landmarks("tint").copy()))
    out = rgb.astype(np.int16) + (int(amount) if mode == "add" else -int(amount))
    return np.clip(out, 0, 255).astype(np.uint8)


def _missing(rgb, face, *, colour=""):
    raise StageUnavailable("needs libfoo (install it)")


seen: list = []
STAGES = {
    "double": Stage("double", "1", _double, "twice the size", {"factor": Param(2, 1, 4)}),
    "tint": Stage("tint", "3", _tint, "a tint", {"amount": Param(10.0, 0.0, 50.0),
                                                 "mode": Param("add", choices=("add", "subtract"))}),
    "missing": Stage("missing", "1", _missing, "never available", {"colour": Param("")}),
}


class _Module:
    def __init__(self, stage):
        self.STAGE = stage


@pytest.fixture(autouse=True)
def stand_in_stages(monkeypatch):
    modules = {name: f"stand-in-{name}" for name in STAGES}
    monkeypatch.setattr(pipeline, "STAGE_MODULES", modules)
    monkeypatch.setattr(pipeline, "STAGE_ORDER", tuple(STAGES))
    monkeypatch.setattr(pipeline, "DEFAULT_STAGES", ("double", "tint"))
    monkeypatch.setattr(pipeline.importlib, "import_module",
                        lambda path: _Module(STAGES[path.removeprefix("stand-in-")]))
    seen.clear()


def test_check_fills_defaults_and_keeps_pipeline_order():
    checked = pipeline.stages_check(["tint", {"name": "double", "params": {"factor": 3}}])
    assert checked == [{"name": "double", "params": {"factor": 3}},
                       {"name": "tint", "params": {"amount": 10.0, "mode": "add"}}]
    assert [s["name"] for s in pipeline.stages_check(None)] == ["double", "tint"]
    assert pipeline.stages_check([]) == []


@pytest.mark.parametrize(("request_", "message"), [
    (["sparkle"], "unknown stage 'sparkle'"),
    ([{"name": "tint", "params": {"amount": 99}}], "tint.amount must be between 0 and 50"),
    ([{"name": "tint", "params": {"mode": "glow"}}], "tint.mode must be one of add, subtract"),
    ([{"name": "tint", "params": {"gain": 1}}], "has no parameter gain"),
    ([{"name": "double", "params": {"factor": 2.5}}], "must be a whole number"),
    ([{"name": "tint", "params": {"amount": "lots"}}], "must be a number"),
    ([{"name": "tint", "params": {"amount": True}}], "must be a number"),
    (["tint", "tint"], "listed twice"),
    ([42], "each stage is a name"),
    ("tint", "must be a list"),
])
def test_bad_requests_say_what_is_wrong(request_, message):
    with pytest.raises(ValueError, match=message):
        pipeline.stages_check(request_)


def test_apply_records_every_stage_and_scales_the_face():
    rgb = np.full((8, 8, 3), 100, np.uint8)
    landmarks = np.tile([[2.0, 3.0]], (68, 1))
    face = FaceContext(landmarks=landmarks, box=(1, 1, 6, 6))
    stages = pipeline.stages_check(["double", {"name": "tint", "params": {"amount": 5}}, "missing"])
    out, records = pipeline.stages_apply(rgb, face, stages)
    assert out.shape == (16, 16, 3)
    assert (out == 105).all()
    assert [(r["name"], r["version"], r["status"]) for r in records] == [
        ("double", "1", "applied"), ("tint", "3", "applied"), ("missing", "1", "unavailable")]
    assert records[2]["reason"] == "needs libfoo (install it)"
    assert all(r["seconds"] >= 0 for r in records)
    # The tint stage saw the landmarks of the doubled image.
    np.testing.assert_allclose(seen[1][1], landmarks * 2)
    assert pipeline.stages_summary(records) == ("double, tint applied; missing unavailable "
                                                "(needs libfoo (install it))")


def test_a_stage_that_needs_landmarks_is_skipped_with_its_reason():
    rgb = np.full((8, 8, 3), 100, np.uint8)
    out, records = pipeline.stages_apply(rgb, FaceContext(), pipeline.stages_check(["tint"]))
    assert (out == rgb).all()
    assert records[0]["status"] == "skipped"
    assert "needs the face's 68 landmarks" in records[0]["reason"]


def test_apply_refuses_a_non_rgb_image():
    with pytest.raises(ValueError, match="uint8 RGB"):
        pipeline.stages_apply(np.zeros((8, 8), np.uint8), FaceContext(), [])


def test_face_context_scaled_and_landmark_check():
    face = FaceContext(landmarks=np.ones((68, 2)), box=(1, 2, 3, 4), yaw=5.0)
    half = face.scaled(0.5, 2.0)
    assert half.box == (0.5, 4.0, 1.5, 8.0)
    assert half.yaw == 5.0
    np.testing.assert_allclose(half.landmarks[0], [0.5, 2.0])
    with pytest.raises(StageSkipped, match="68 finite"):
        FaceContext(landmarks=np.ones((5, 2))).require_landmarks("x")
