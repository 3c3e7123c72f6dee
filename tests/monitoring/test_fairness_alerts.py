"""Fairness on constructed data (one group worse), the pipeline rejection rate, and the alert rules."""

from __future__ import annotations

import pytest

from monitoring.alerts import alert_rules, alerts_evaluate
from monitoring.services import fairness_report, pipeline_rejection_report


def _rows() -> list[dict]:
    rows = []
    # 20 images of light skin: 18 verified; 20 of dark skin: 9 verified (worse); 3 unmeasured (small n).
    for tone, verified, total in (("light", 18, 20), ("dark", 9, 20), ("unmeasured", 1, 3)):
        for i in range(total):
            ok = i < verified
            rows.append({"skin_tone": tone, "age_band": "25_34" if i % 2 else "not given",
                         "gender": "woman" if i % 2 else "man", "identity_verified": 1.0 if ok else 0.0,
                         "identity_distance": 0.4 if ok else 0.8, "lpips_likeness": 0.3})
    return rows


@pytest.mark.django_db
def test_worse_group_is_named_worst_with_the_right_ratio():
    report = fairness_report(_rows())
    verified = report["skin_tone"]["identity_verified"]
    assert verified["worst_group"] == "dark"
    assert verified["groups"]["dark"]["value"] == pytest.approx(0.45)
    assert verified["groups"]["light"]["value"] == pytest.approx(0.9)
    assert verified["ratio"] == pytest.approx(0.5)
    assert verified["difference"] == pytest.approx(0.45)
    assert verified["groups"]["unmeasured"]["small_n"] is True
    low, high = verified["groups"]["dark"]["interval"]
    assert low <= 0.45 <= high
    distance = report["skin_tone"]["identity_distance"]
    assert distance["worst_group"] == "dark"  # lower is better: the highest distance is the worst
    assert "not given" in report["age_band"]["identity_verified"]["groups"]


@pytest.mark.django_db
def test_rejection_rate_by_measured_skin_tone(ready_subject):
    from generation.models import PhotoStatus, SourcePhoto

    SourcePhoto.objects.all().delete()
    # light: 1 of 10 rejected; dark: 4 of 10 rejected (the detector fails it more); 3 without a face.
    for tone, rejected, total in (("light", 1, 10), ("dark", 4, 10), (None, 3, 3)):
        for i in range(total):
            SourcePhoto.objects.create(subject=ready_subject, original_name=f"{tone}-{i}.jpg",
                                       skin_tone_measured=tone,
                                       status=PhotoStatus.REJECTED if i < rejected else PhotoStatus.ACCEPTED)
    report = pipeline_rejection_report()
    assert report["higher_is_better"] is False
    assert report["groups"]["light"]["value"] == pytest.approx(0.1)
    assert report["groups"]["dark"]["value"] == pytest.approx(0.4)
    assert report["worst_group"] == "dark"
    assert report["ratio"] == pytest.approx(0.25)
    assert "unmeasured" not in report["groups"]  # rejected by construction: counted apart
    assert report["unmeasured"]["n"] == 3
    assert report["unmeasured"]["rejected"] == 3


def test_alerts_fire_on_a_constructed_case(settings):
    settings.MONITORING_ALERT_RULES = {"kid_worse_than_active_by": 0.01, "min_group_verification_rate": 0.8,
                                       "min_fairness_ratio": 0.8}
    figures = {"kid": {"value": 0.05}}
    fairness = {"skin_tone": {"identity_verified": {
        "ratio": 0.5, "worst_group": "dark",
        "groups": {"dark": {"value": 0.45, "n": 20, "small_n": False},
                   "light": {"value": 0.9, "n": 20, "small_n": False},
                   "unmeasured": {"value": 0.1, "n": 3, "small_n": True}}}}}
    alerts = alerts_evaluate(figures=figures, fairness=fairness, active_figures={"kid": {"value": 0.02}},
                             active_name="v1")
    rules = [a["rule"] for a in alerts]
    assert rules == ["kid_worse_than_active_by", "min_group_verification_rate", "min_fairness_ratio"]
    kid, group, ratio = alerts
    assert kid["value"] == pytest.approx(0.03)
    assert kid["threshold"] == 0.01
    assert "v1" in kid["message"]
    assert group["group"] == "dark"  # the small-n group is not alerted on
    assert "45%" in group["message"]
    assert ratio["value"] == 0.5
    assert ratio["threshold"] == 0.8


def test_alerts_quiet_when_within_limits_and_rules_configurable(settings):
    figures = {"kid": {"value": 0.021}}
    fairness = {"skin_tone": {"identity_verified": {"ratio": 0.95, "groups": {
        "dark": {"value": 0.9, "n": 20, "small_n": False}}}}}
    assert alerts_evaluate(figures=figures, fairness=fairness, active_figures={"kid": {"value": 0.02}}) == []
    settings.MONITORING_ALERT_RULES = '{"min_fairness_ratio": 0.99, "kid_worse_than_active_by": null}'
    assert alert_rules()["kid_worse_than_active_by"] is None
    alerts = alerts_evaluate(figures=figures, fairness=fairness, active_figures={"kid": {"value": 0.0}})
    assert [a["rule"] for a in alerts] == ["min_fairness_ratio"]


@pytest.mark.django_db
def test_a_single_value_is_one_small_group_not_a_crash():
    rows = [{"skin_tone": "dark", "age_band": "not given", "gender": "not given", "identity_verified": 1.0,
             "identity_distance": None, "lpips_likeness": None}]
    report = fairness_report(rows)
    verified = report["skin_tone"]["identity_verified"]
    assert verified["groups"]["dark"]["n"] == 1
    assert verified["groups"]["dark"]["small_n"] is True
    assert verified["worst_group"] is None
    assert report["skin_tone"]["identity_distance"]["overall"]["n"] == 0
