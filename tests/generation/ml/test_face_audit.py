"""The face pipeline's fairness audit: per-group figures on constructed rows, the detector cascade on
a corpus photo HOG misses, controlled camera changes, the counterfactual on real corpus photos, and a
non-face set that must never be accepted."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from generation.ml import FaceAnalyzer
from generation.ml.face_audit import (
    PHONE_CHANGES,
    UNKNOWN,
    AuditRow,
    audit_row,
    contrast,
    counterfactual_report,
    exposure,
    group_report,
    per_group_sample,
    white_balance,
)
from generation.ml.faces import CascadeDetector, DlibCnnDetector, DlibHogDetector, FaceBox, make_detector

GOOD = "000001.jpg"
HOG_MISSES = "000003.jpg"  # a man in near profile: HOG finds nothing, MMOD finds him


def _rows_from(detects: dict[str, list[bool]]) -> list[AuditRow]:
    """Rows as a detector that finds the face (True) or not (False) would give them; a missed face keeps
    the group a second detector estimated."""
    rows = []
    for group, found in detects.items():
        for hit in found:
            rows.append(AuditRow(group, hit, () if hit else ("no_face",), hit, 0.1,
                                 "measured" if hit else "estimated", "hog" if hit else ""))
    return rows


def test_a_detector_that_misses_one_group_shows_as_a_low_ratio():
    rows = _rows_from({"very_light": [True] * 30, "dark": [True] * 15 + [False] * 10, "tan": [True] * 5})
    rows.append(AuditRow(UNKNOWN, False, ("no_face",), False, 0.2, "unknown"))
    report = group_report(rows, min_n=20)
    assert list(report["groups"]) == ["very_light", "tan", "dark", UNKNOWN]  # lightest first, unknown last
    dark = report["groups"]["dark"]
    assert dark["n"] == 25
    assert dark["acceptance_rate"] == pytest.approx(0.6)
    assert dark["detection_recall"] == pytest.approx(0.6)
    assert dark["rejection_rates"] == {"no_face": pytest.approx(0.4)}
    assert dark["estimated"] == 10
    assert dark["interval"][0] < 0.6 < dark["interval"][1]
    assert report["ratio"] == pytest.approx(0.6)  # dark 0.6 / very light 1.0
    assert (report["worst_group"], report["best_group"]) == ("dark", "very_light")
    assert not report["groups"]["tan"]["ranked"]  # n 5 < 20: shown, not ranked
    assert not report["groups"][UNKNOWN]["ranked"]
    assert report["photos"] == 61
    assert report["detection_recall"] == pytest.approx(50 / 61)

    even = group_report(_rows_from({"very_light": [True] * 30, "dark": [True] * 25}), min_n=20)
    assert even["ratio"] == 1.0
    assert group_report(_rows_from({"dark": [True] * 25}))["ratio"] is None  # one ranked group


class _Fixed:
    def __init__(self, boxes: list[FaceBox]) -> None:
        self.boxes, self.calls = boxes, 0

    def detect(self, rgb: np.ndarray) -> list[FaceBox]:
        self.calls += 1
        return list(self.boxes)


def test_the_cascade_asks_the_fallback_only_when_the_first_finds_nothing():
    rgb = np.zeros((10, 10, 3), np.uint8)
    found, fallback = _Fixed([FaceBox(0, 0, 5, 5, 1.0, "hog")]), _Fixed([FaceBox(1, 1, 6, 6, 0.9, "mmod")])
    assert CascadeDetector(found, fallback).detect(rgb)[0].detector == "hog"
    assert fallback.calls == 0
    assert CascadeDetector(_Fixed([]), fallback).detect(rgb)[0].detector == "mmod"
    assert fallback.calls == 1
    with pytest.raises(ValueError, match="unknown face detector 'yolo'"):
        make_detector("yolo")


def test_the_cascade_finds_the_face_hog_misses_and_keeps_hogs_box_otherwise(corpus_images_by_name):
    cascade = CascadeDetector()
    missed = corpus_images_by_name[HOG_MISSES]
    assert DlibHogDetector().detect(missed) == []
    boxes = cascade.detect(missed)
    assert len(boxes) == 1
    assert boxes[0].detector == "mmod"
    assert boxes == DlibCnnDetector(upsample=0).detect(missed)
    good = corpus_images_by_name[GOOD]
    assert cascade.detect(good) == DlibHogDetector().detect(good)
    result = FaceAnalyzer(compute_embedding=False).analyze(missed)  # the default pipeline uses it
    assert result.box is not None
    assert result.box.detector == "mmod"
    assert "no_face" not in result.rejections


def test_camera_changes_do_what_they_say():
    rng = np.random.default_rng(0)
    rgb = rng.integers(30, 200, (40, 40, 3), dtype=np.uint8)
    assert np.abs(exposure(rgb, 0.0).astype(int) - rgb).max() <= 1
    brighter, darker = exposure(rgb, 1.0), exposure(rgb, -1.0)
    assert brighter.mean() > rgb.mean() > darker.mean()
    grey = np.full((4, 4, 3), 128, np.uint8)  # sRGB 128 = 0.2159 linear; ×2 = 0.4317 linear = sRGB 175.6
    assert int(exposure(grey, 1.0)[0, 0, 0]) == 176
    assert contrast(rgb, 0.7).std() < rgb.std() < contrast(rgb, 1.3).std()
    warm, cool = white_balance(rgb, 0.15), white_balance(rgb, -0.15)
    ratio = lambda im: im[..., 0].mean() / im[..., 2].mean()  # noqa: E731
    assert ratio(warm) > ratio(rgb) > ratio(cool)
    for name, change in PHONE_CHANGES.items():
        out = change(rgb, 3)
        assert out.shape == rgb.shape, name
        assert out.dtype == np.uint8, name
        assert np.array_equal(out, change(rgb, 3)), f"{name} is not repeatable"


def test_counterfactual_on_real_corpus_photos(corpus_images_by_name, analyzer):
    photos = []
    for name in sorted(corpus_images_by_name)[:12]:
        rgb = corpus_images_by_name[name]
        result = analyzer.analyze(rgb)
        if result.accepted:
            photos.append((result.ita_category, rgb))
        if len(photos) == 4:
            break
    assert len(photos) == 4
    changes = {name: PHONE_CHANGES[name] for name in ("exposure -0.5 EV", "degrade jpeg")}
    changes["exposure -5 EV"] = lambda rgb, seed: exposure(rgb, -5.0)  # a photo in the dark
    report = counterfactual_report(lambda rgb: analyzer.analyze(rgb).accepted, photos, changes=changes,
                                   min_n=1)
    groups = report["groups"]
    assert sum(groups.values()) == 4
    reference = report["reference_group"]
    assert reference == next(iter(groups))  # the lightest group present
    dark = report["changes"]["exposure -5 EV"]
    assert all(share == 0.0 for share in dark["kept"].values())  # nothing stays accepted in the dark
    assert all(points == 0.0 for points in dark["extra_drop_points"].values())
    for name in ("exposure -0.5 EV", "degrade jpeg"):  # the same judgement, photo by photo, seed 0 + i
        kept: dict[str, list[bool]] = {}
        for i, (group, rgb) in enumerate(photos):
            kept.setdefault(group, []).append(analyzer.analyze(changes[name](rgb, i)).accepted)
        row = report["changes"][name]
        assert row["kept"] == {g: pytest.approx(sum(v) / len(v)) for g, v in kept.items()}
        drop = {g: 100 * (1 - sum(v) / len(v)) for g, v in kept.items()}
        assert row["extra_drop_points"] == {g: pytest.approx(d - drop[reference]) for g, d in drop.items()}


def _drawings() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    out = {
        "blank": np.full((320, 320, 3), 235, np.uint8),
        "black": np.zeros((320, 320, 3), np.uint8),
        "noise": rng.integers(0, 256, (320, 320, 3), dtype=np.uint8),
        "smooth noise": cv2.GaussianBlur(rng.integers(0, 256, (320, 320, 3), dtype=np.uint8), (0, 0), 6),
        "checkerboard": (np.kron((np.indices((8, 8)).sum(axis=0) % 2), np.ones((40, 40)))[..., None]
                         * np.array([255, 255, 255])).astype(np.uint8),
    }
    text = Image.new("RGB", (320, 320), "white")
    draw = ImageDraw.Draw(text)
    for i in range(12):
        draw.text((10, 10 + 25 * i), "Headshot feedback platform 0123456789", fill="black")
    out["text"] = np.asarray(text)
    smiley = Image.new("RGB", (320, 320), "white")
    draw = ImageDraw.Draw(smiley)
    draw.ellipse((60, 60, 260, 260), fill=(250, 210, 60), outline="black", width=4)
    draw.ellipse((115, 120, 135, 150), fill="black")
    draw.ellipse((185, 120, 205, 150), fill="black")
    draw.arc((110, 150, 210, 220), 20, 160, fill="black", width=5)
    out["smiley drawing"] = np.asarray(smiley)
    stick = Image.new("RGB", (320, 320), (200, 220, 255))
    draw = ImageDraw.Draw(stick)
    draw.ellipse((120, 40, 200, 120), outline="black", width=3)
    draw.line((160, 120, 160, 220), fill="black", width=3)
    draw.line((160, 220, 120, 300), fill="black", width=3)
    draw.line((160, 220, 200, 300), fill="black", width=3)
    out["stick figure"] = np.asarray(stick)
    return out


@pytest.mark.parametrize("name", list(_drawings()))
def test_non_faces_are_never_accepted(analyzer, name):
    result = analyzer.analyze(_drawings()[name])
    assert not result.accepted, f"{name} was accepted as a face"


def test_audit_rows_and_per_group_sample(corpus_images_by_name, analyzer):
    good = corpus_images_by_name[GOOD]
    row = audit_row(analyzer.analyze(good), good)
    assert row.accepted
    assert row.face_found
    assert row.group_source == "measured"
    assert row.detector == "hog"
    blank = np.full((200, 200, 3), 200, np.uint8)
    no_face = FaceAnalyzer(detector=DlibHogDetector(), compute_embedding=False)
    unknown = audit_row(no_face.analyze(blank), blank, estimator=DlibCnnDetector())
    assert (unknown.group, unknown.group_source, unknown.face_found) == (UNKNOWN, "unknown", False)
    missed = corpus_images_by_name[HOG_MISSES]
    estimated = audit_row(no_face.analyze(missed), missed, estimator=DlibCnnDetector(upsample=1))
    assert estimated.group_source == "estimated"
    assert estimated.group != UNKNOWN
    assert not estimated.face_found
    assert estimated.rejections == ("no_face",)

    accepted = [("light", f"{i:03d}.jpg", b"") for i in range(10)] + [("dark", "500.jpg", b"")]
    picked = per_group_sample(accepted, 3, seed=1)
    assert len(picked) == 4
    assert ("dark", "500.jpg", b"") in picked
    assert picked == per_group_sample(accepted, 3, seed=1)
    assert [name for _, name, _ in picked] == sorted(name for _, name, _ in picked)
