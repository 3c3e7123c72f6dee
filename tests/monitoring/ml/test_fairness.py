"""Per-group reports with Fairlearn's MetricFrame on constructed data sets whose answers are known."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from monitoring.ml.fairness import MIN_GROUP_N, group_report


def verified_data() -> tuple[list[float], list[str]]:
    """Verified 1/0 per image: light 9/10, medium 6/8, dark 5/10 (the worst), tiny 0/3 (too small)."""
    values = [1.0] * 9 + [0.0] + [1.0] * 6 + [0.0] * 2 + [1.0] * 5 + [0.0] * 5 + [0.0] * 3
    groups = ["light"] * 10 + ["medium"] * 8 + ["dark"] * 10 + ["tiny"] * 3
    return values, groups


def test_worst_group_difference_and_ratio_by_hand():
    values, groups = verified_data()
    report = group_report(values, groups, name="verification_rate")

    assert report["name"] == "verification_rate"
    assert report["higher_is_better"] is True
    assert report["unavailable"] is None
    assert report["min_n"] == MIN_GROUP_N == 5
    assert report["method"] == "fairlearn MetricFrame; 95% bootstrap intervals"
    assert report["overall"]["n"] == 31
    assert report["overall"]["value"] == pytest.approx(20 / 31)
    expected = {"light": (0.9, 10), "medium": (0.75, 8), "dark": (0.5, 10), "tiny": (0.0, 3)}
    assert set(report["groups"]) == set(expected)
    for label, (mean, n) in expected.items():
        group = report["groups"][label]
        assert group["value"] == pytest.approx(mean), label
        assert group["n"] == n
        assert group["small_n"] is (n < 5)
    assert report["worst_group"] == "dark"  # "tiny" (0/3) is lower but too small to be chosen
    assert report["difference"] == pytest.approx(0.9 - 0.5)
    assert report["ratio"] == pytest.approx(0.5 / 0.9)


def test_group_means_match_a_plain_groupby():
    rng = np.random.default_rng(3)
    values = rng.random(200)
    groups = rng.choice(["I", "II", "III", "IV", "unknown"], size=200).tolist()
    report = group_report(values, groups, name="lpips", higher_is_better=False)
    expected = pd.Series(values).groupby(groups).agg(["mean", "count"])
    for label, row in expected.iterrows():
        assert report["groups"][label]["value"] == pytest.approx(row["mean"])
        assert report["groups"][label]["n"] == row["count"]
    assert report["overall"]["value"] == pytest.approx(values.mean())


def test_lower_is_better_picks_the_highest_mean_and_ratio_is_best_over_worst():
    values = [0.1, 0.2] * 3 + [0.3, 0.5] * 3 + [0.9, 0.9]
    groups = ["a"] * 6 + ["b"] * 6 + ["c"] * 2
    report = group_report(values, groups, name="lpips_to_source", higher_is_better=False)
    assert report["higher_is_better"] is False
    assert report["groups"]["a"]["value"] == pytest.approx(0.15)
    assert report["groups"]["b"]["value"] == pytest.approx(0.4)
    assert report["groups"]["c"]["small_n"] is True
    assert report["worst_group"] == "b"  # "c" has the highest distance but only 2 values
    assert report["difference"] == pytest.approx(0.25)
    assert report["ratio"] == pytest.approx(0.15 / 0.4)  # best / worst: 1.0 = parity, lower = worse


def test_rejection_rate_lower_is_better():
    values = [1, 0, 0, 0, 0, 1, 1, 0, 0, 0]  # rejection: x 1/5, y 2/5
    report = group_report(values, ["x"] * 5 + ["y"] * 5, name="rejection_rate", higher_is_better=False)
    assert report["worst_group"] == "y"
    assert report["difference"] == pytest.approx(0.2)
    assert report["ratio"] == pytest.approx(0.5)


def test_parity_gives_ratio_one_and_zero_difference():
    report = group_report([0.0] * 12, ["a"] * 6 + ["b"] * 6, name="rejection_rate", higher_is_better=False)
    assert report["difference"] == 0.0
    assert report["ratio"] == 1.0
    assert report["worst_group"] == "a"  # ties broken by label


def test_small_groups_are_flagged_not_merged_and_not_compared():
    values = [1.0] * 5 + [0.0] * 4 + [1.0]
    groups = ["big"] * 5 + ["s1"] * 2 + ["s2"] * 2 + ["s3"]
    report = group_report(values, groups, name="verification_rate")
    assert set(report["groups"]) == {"big", "s1", "s2", "s3"}
    assert [report["groups"][g]["small_n"] for g in ("big", "s1", "s2", "s3")] == [False, True, True, True]
    assert report["groups"]["s3"]["n"] == 1
    assert report["groups"]["s3"]["interval"] == [1.0, 1.0]
    assert report["worst_group"] == "big"  # the only group with n >= min_n
    assert report["difference"] is None  # fewer than two comparable groups
    assert report["ratio"] is None


def test_min_n_is_a_parameter():
    values, groups = verified_data()
    report = group_report(values, groups, name="verification_rate", min_n=3)
    assert report["min_n"] == 3
    assert report["groups"]["tiny"]["small_n"] is False
    assert report["worst_group"] == "tiny"
    assert report["difference"] == pytest.approx(0.9)
    assert report["ratio"] == 0.0


def test_no_group_large_enough_gives_no_worst_group():
    report = group_report([1.0, 0.0, 1.0], ["a", "b", "c"], name="verification_rate")
    assert report["unavailable"] is None
    assert report["overall"]["value"] == pytest.approx(2 / 3)
    assert report["worst_group"] is None
    assert report["difference"] is None
    assert report["ratio"] is None


def test_intervals_are_seeded_95_percent_bootstraps():
    values, groups = verified_data()
    one = group_report(values, groups, name="verification_rate", seed=1)
    assert one == group_report(values, groups, name="verification_rate", seed=1)
    for group in [one["overall"], *one["groups"].values()]:
        low, high = group["interval"]
        assert low <= group["value"] <= high
    low, high = one["groups"]["dark"]["interval"]
    assert 0.1 < low < 0.5 < high < 0.9  # 5/10: wide at n = 10
    assert one["groups"]["tiny"]["interval"] == [0.0, 0.0]


def test_empty_is_unavailable():
    report = group_report([], [], name="verification_rate")
    assert report["unavailable"].startswith("unavailable: ")
    assert "no values" in report["unavailable"]
    assert report["overall"] == {"value": None, "n": 0, "interval": None}
    assert report["groups"] == {}
    assert report["worst_group"] is None
    assert report["difference"] is None
    assert report["ratio"] is None
    assert report["method"] == "fairlearn MetricFrame; 95% bootstrap intervals"


def test_report_is_json_ready():
    values, groups = verified_data()
    report = group_report(np.asarray(values), groups, name="verification_rate")
    assert json.loads(json.dumps(report)) == report
    assert all(isinstance(label, str) for label in report["groups"])


def test_labels_become_strings():
    report = group_report([1.0] * 10, [1] * 5 + [None] * 5, name="verification_rate")
    assert set(report["groups"]) == {"1", "None"}


@pytest.mark.parametrize(("values", "groups", "message"), [
    ([1.0, 0.0], ["a"], "2 values but 1 group labels"),
    ([1.0, math.nan], ["a", "b"], "NaN"),
])
def test_bad_input_raises(values, groups, message):
    with pytest.raises(ValueError, match=message):
        group_report(values, groups, name="verification_rate")


def test_a_single_value_is_one_small_group():
    report = group_report([0.5], ["a"], name="x")
    assert report["groups"]["a"]["n"] == 1
    assert report["groups"]["a"]["small_n"] is True
    assert report["worst_group"] is None
    assert report["ratio"] is None
