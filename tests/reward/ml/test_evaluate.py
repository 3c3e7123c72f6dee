"""Held-out evaluation: accuracy with intervals, groups, dimensions, calibration, the sharpness
baseline, and how often reviewers agree with each other."""

from __future__ import annotations

import numpy as np
import pytest

from reward.ml.data import PreferenceExample
from reward.ml.evaluate import (
    BASELINE_NAME,
    calibration_bins,
    evaluate_reward,
    human_ceiling,
    pairwise_accuracy,
    sharpness,
)
from reward.ml.model import load_reward_model
from tests.factories.preferences import headshot, portrait


def test_sharpness_is_lower_for_blurred_copies():
    reference, _ = portrait(3)
    rng = np.random.default_rng(0)
    values = [sharpness(headshot(reference, r, rng)) for r in (0.0, 0.8, 1.6, 2.4)]
    assert values == sorted(values, reverse=True)
    assert sharpness(np.full((16, 16, 3), 128, np.uint8)) == 0.0


def test_pairwise_accuracy_counts_ties_as_half():
    result = pairwise_accuracy(np.array([2.0, 1.0, 0.5, 3.0]), np.array([1.0, 1.0, 0.9, 0.0]))
    assert result["value"] == pytest.approx((1 + 0.5 + 0 + 1) / 4)
    assert result["n"] == 4
    low, high = result["interval"]
    assert 0 <= low <= result["value"] <= high <= 1
    assert pairwise_accuracy(np.zeros(0), np.zeros(0)) == {"value": None, "n": 0, "interval": None}


def test_calibration_bins_cover_zero_to_one():
    p = np.array([0.05, 0.15, 0.5, 0.55, 0.95, 1.0])
    won = np.array([0, 0, 1, 0, 1, 1])
    bins = calibration_bins(p, bins=5, outcomes=won)
    edges = [(0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.0)]
    assert [(b["low"], b["high"]) for b in bins] == edges
    assert [b["n"] for b in bins] == [2, 0, 2, 0, 2]
    assert bins[0]["observed"] == 0.0
    assert bins[2]["observed"] == 0.5
    assert bins[2]["predicted"] == pytest.approx(0.525)
    assert bins[1]["predicted"] is None
    assert bins[1]["observed"] is None
    assert all(b["observed"] == 1.0 for b in calibration_bins(p) if b["n"])  # pairs as stored


def test_evaluate_reward_reports_groups_dimensions_calibration_and_the_baseline(trained, sharpness_data):
    model = load_reward_model(trained.final)
    pairs = sharpness_data.heldout
    likeness = [PreferenceExample(p.chosen, p.rejected, p.reference, group=p.group, dimension="likeness")
                for p in pairs[:10]]
    report = evaluate_reward(model, pairs + likeness, seed=0)
    assert report["n"] == len(pairs) + 10
    assert set(report["groups"]) == {p.group for p in pairs}
    assert sum(g["n"] for g in report["groups"].values()) == report["n"]
    assert set(report["dimensions"]) == {"overall", "likeness"}
    assert report["dimensions"]["likeness"]["n"] == 10
    for row in [report["accuracy"], report["baseline"], *report["groups"].values()]:
        low, high = row["interval"]
        assert 0 <= low <= row["value"] <= high <= 1
    assert report["baseline"]["name"] == BASELINE_NAME
    assert report["baseline"]["n"] == report["n"]

    bins = report["calibration"]
    assert len(bins) == 5
    assert sum(b["n"] for b in bins) == report["n"]
    assert 0.3 * report["n"] < report["calibration_flipped"] < 0.7 * report["n"]
    filled = [b for b in bins if b["n"]]
    assert filled[0]["low"] < 0.5 < filled[-1]["high"]  # the flip spreads predictions over [0, 1]
    for b in filled:
        assert b["low"] <= b["predicted"] <= b["high"]
        assert 0 <= b["observed"] <= 1
    assert 0 <= report["calibration_error"] <= 1
    assert report["log_loss"] > 0
    again = evaluate_reward(model, pairs + likeness, seed=0)
    assert again["calibration"] == bins  # the flips are seeded


def test_human_ceiling_on_hand_made_votes():
    # unanimous item: 3 votes agree with the others; 2-1 item: each "a" sees a 1-1 tie (½), "b" sees "a"
    result = human_ceiling([["a", "a", "a"], ["a", "a", "b"], ["a", "b"]])
    assert result["value"] == pytest.approx((3 + 0.5 + 0.5 + 0) / 6)
    assert (result["n"], result["items"]) == (6, 2)
    low, high = result["interval"]
    assert low <= result["value"] <= high
    assert human_ceiling([["a", "a", "a", "a"]])["value"] == 1.0
    assert human_ceiling([["a", "b", "tie"]])["value"] == 0.0


def test_human_ceiling_needs_items_with_three_votes():
    result = human_ceiling([["a", "b"], ["a"], []])
    assert result["value"] is None
    assert result["reason"].startswith("unavailable:")
