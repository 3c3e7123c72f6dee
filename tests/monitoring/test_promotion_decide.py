"""The promotion gate's decision on constructed figures, and its paired statistics on constructed values
(no database): the judge must rise, guards hold within their tolerance, reward hacking is named."""

from __future__ import annotations

import numpy as np

from monitoring.options import GATE_TOLERANCES
from monitoring.promotion import (
    HACKING,
    JUDGE,
    NOT_COMPARED,
    TRAINING_REWARD,
    group_ratio,
    paired_figure,
    promotion_decide,
    resample_counts,
)


def _fig(name, kind, baseline, candidate, interval=None, *, higher=True, tolerance=None, relative=False,
         **extra):
    return {"name": name, "label": name, "kind": kind, "higher_is_better": higher, "baseline": baseline,
            "candidate": candidate, "difference": candidate - baseline, "interval": interval, "n": 8,
            "tolerance": tolerance, "tolerance_kind": "relative" if relative else "absolute",
            "unavailable": None, "note": "", "verdict": "", **extra}


def _figures(**changes):
    figures = {
        JUDGE: _fig(JUDGE, "judge", 0.30, 0.40, [0.05, 0.15]),
        "kid": _fig("kid", "guard", 0.050, 0.052, higher=False, tolerance=0.10, relative=True),
        "lpips_likeness": _fig("lpips_likeness", "guard", 0.40, 0.41, [0.0, 0.02], higher=False,
                               tolerance=0.02),
        "identity_verification_rate": _fig("identity_verification_rate", "guard", 0.80, 0.78, [-0.1, 0.05],
                                           tolerance=0.05),
        "fairness_skin_tone_identity_verified": _fig("fairness_skin_tone_identity_verified", "fairness", 0.9,
                                                     0.88, [-0.1, 0.05], tolerance=0.05),
        "fid": _fig("fid", "info", 80.0, 95.0, higher=False),
    }
    figures.update(changes)
    return figures


def test_a_better_candidate_within_every_tolerance_passes():
    decision = promotion_decide(_figures(), GATE_TOLERANCES)
    assert decision.outcome == "passed"
    assert decision.reasons == []
    verdicts = {name: f["verdict"] for name, f in decision.figures.items()}
    assert verdicts == {JUDGE: "pass", "kid": "pass", "lpips_likeness": "pass",
                        "identity_verification_rate": "pass", "fairness_skin_tone_identity_verified": "pass",
                        "fid": "info"}


def test_the_judge_needs_its_lower_bound_above_zero():
    flat = _fig(JUDGE, "judge", 0.30, 0.33, [-0.01, 0.07])
    decision = promotion_decide(_figures(**{JUDGE: flat}), GATE_TOLERANCES)
    assert decision.outcome == "refused"
    assert decision.figures[JUDGE]["verdict"] == "fail"
    assert len(decision.reasons) == 1
    assert "lower bound must be above 0" in decision.reasons[0]
    assert "[95% -0.01, +0.07]" in decision.reasons[0]


def test_each_guard_beyond_its_tolerance_refuses_with_its_figures():
    worse = {
        "kid": _fig("kid", "guard", 0.050, 0.0560, higher=False, tolerance=0.10, relative=True),  # +12%
        "lpips_likeness": _fig("lpips_likeness", "guard", 0.40, 0.43, [0.01, 0.05], higher=False,
                               tolerance=0.02),
        "identity_verification_rate": _fig("identity_verification_rate", "guard", 0.80, 0.70, [-0.2, 0.0],
                                           tolerance=0.05),
        "fairness_skin_tone_identity_verified": _fig("fairness_skin_tone_identity_verified", "fairness",
                                                     0.90, 0.80, [-0.2, 0.0], tolerance=0.05),
    }
    for name, figure in worse.items():
        decision = promotion_decide(_figures(**{name: figure}), GATE_TOLERANCES)
        assert decision.outcome == "refused", name
        assert decision.figures[name]["verdict"] == "fail"
        assert len(decision.reasons) == 1
        assert decision.reasons[0].startswith(f"{name} is worse than the active version's beyond")
    # Within the tolerance (KID +8% relative, verification -4 points) it passes.
    fine = _figures(kid=_fig("kid", "guard", 0.050, 0.054, higher=False, tolerance=0.10, relative=True),
                    identity_verification_rate=_fig("identity_verification_rate", "guard", 0.80, 0.76,
                                                    [-0.1, 0.0], tolerance=0.05))
    assert promotion_decide(fine, GATE_TOLERANCES).outcome == "passed"


def test_unmeasured_guards_refuse_and_small_groups_are_not_compared():
    missing = _fig("lpips_likeness", "guard", 0.4, 0.4, higher=False, tolerance=0.02)
    missing.update(baseline=None, candidate=None, difference=None,
                   unavailable="unavailable: no LPIPS weights")
    small = _fig("fairness_skin_tone_identity_verified", "fairness", 0.9, 0.1, tolerance=0.05,
                 verdict=NOT_COMPARED)
    decision = promotion_decide(_figures(lpips_likeness=missing, fairness_skin_tone_identity_verified=small),
                                GATE_TOLERANCES)
    assert decision.outcome == "refused"
    assert decision.reasons == ["lpips_likeness could not be checked: unavailable: no LPIPS weights."]
    assert decision.figures["fairness_skin_tone_identity_verified"]["verdict"] == NOT_COMPARED


def test_training_reward_up_and_judge_flat_is_possible_reward_hacking():
    figures = _figures(**{JUDGE: _fig(JUDGE, "judge", 0.3, 0.3, [-0.02, 0.02]),
                          TRAINING_REWARD: _fig(TRAINING_REWARD, "training_reward", 1.0, 2.0, [0.8, 1.2])})
    decision = promotion_decide(figures, GATE_TOLERANCES)
    assert decision.outcome == "refused"
    assert any(reason.lower().startswith(HACKING) for reason in decision.reasons)
    assert decision.figures[TRAINING_REWARD]["verdict"] == "info"
    # Both rising is no hacking; the figures handed in are not changed.
    both = _figures(**{TRAINING_REWARD: _fig(TRAINING_REWARD, "training_reward", 1.0, 2.0, [0.8, 1.2])})
    assert promotion_decide(both, GATE_TOLERANCES).outcome == "passed"
    assert both[JUDGE]["verdict"] == ""


def test_paired_bootstrap_resamples_people_once_for_every_figure():
    counts = resample_counts(6, seed=1, n_boot=500)
    assert counts.shape == (500, 6)
    assert (counts.sum(axis=1) == 6).all()
    assert np.array_equal(counts, resample_counts(6, seed=1, n_boot=500))
    baseline = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    figure = paired_figure("x", "x", "guard", True, baseline, baseline + 0.05, counts)
    # A constant paired difference has a zero-width interval: pairing removes the people's spread.
    assert np.allclose([figure["difference"], *figure["interval"]], 0.05)
    assert figure["n"] == 6
    assert figure["baseline"] == baseline.mean()
    noisy = paired_figure("x", "x", "guard", True, baseline, baseline + np.array([0, 0.1, 0, 0.1, 0, 0.1]),
                          counts)
    low, high = noisy["interval"]
    assert low < noisy["difference"] < high


def test_group_ratio_is_worst_over_best_group_and_resamples_people():
    sums = np.array([2.0, 2.0, 1.0, 0.0])  # per person: values summed over their images
    sizes = np.array([2.0, 2.0, 2.0, 2.0])
    groups = [np.array([True, True, False, False]), np.array([False, False, True, True])]
    point = group_ratio(np.ones((1, 4)), sums, sizes, groups)[0]
    assert point == 0.25  # group 2: 1/4 verified; group 1: 4/4
    only_first = group_ratio(np.array([[2.0, 2.0, 0.0, 0.0]]), sums, sizes, groups)[0]
    assert np.isnan(only_first)  # one group left in the resample: no ratio
    assert group_ratio(np.ones((1, 4)), np.zeros(4), sizes, groups)[0] == 1.0  # all zero: parity


def _evaluation(features, reference, people=6, images=3):
    """An Evaluation of constructed Inception-like features: ``images`` per person, in per-image order."""
    from types import SimpleNamespace

    from monitoring.evaluation import Evaluation

    kid = {"value": 0.05, "n": people * images}
    return Evaluation(
        version="v", settings={}, rows={"generated": {"kid": kid}}, notes=[],
        per_image=[{"subject": 100 + p} for p in range(people) for _ in range(images)],
        photos=[SimpleNamespace(subject_id=100 + p) for p in range(people)], candidates=[], clean=[],
        casual=[], kid_features=(features, reference))


def test_the_kid_difference_gets_a_paired_bootstrap_interval_over_the_people():
    from monitoring.promotion import kid_figure

    rng = np.random.default_rng(0)
    reference = rng.normal(size=(20, 32))
    same = rng.normal(size=(18, 32))
    counts = resample_counts(6, seed=0, n_boot=400)
    baseline = _evaluation(same, reference)
    unchanged = kid_figure(baseline, _evaluation(same.copy(), reference), counts, tolerance=0.1)
    assert unchanged["interval"] == [0.0, 0.0]  # the same images: every resample's difference is 0
    drifted = kid_figure(baseline, _evaluation(same + 1.5, reference), counts, tolerance=0.1)
    low, high = drifted["interval"]
    assert 0 < low < high  # further from the portraits in every resample of the people
    assert "paired bootstrap over the people" in drifted["note"]
    assert "relative change [95% +" in drifted["note"]
    no_features = _evaluation(same, reference)
    no_features.kid_features = None  # measured without the features (an older evaluation): point values only
    assert kid_figure(baseline, no_features, counts, tolerance=0.1)["interval"] is None
