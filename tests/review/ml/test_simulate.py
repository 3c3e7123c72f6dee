"""How a simulated reviewer perceives and answers (plain NumPy, no Django)."""

from __future__ import annotations

import numpy as np
import pytest

from review.ml.simulate import BROKEN_MARGIN, TIE_BAND, Calibration, SimulatedRater, panel, rater_rng


def test_calibration_uses_every_scale_step_for_a_noiseless_reviewer():
    values = np.exp(np.linspace(0, 5, 50))  # skewed like a Laplacian variance
    calibration = Calibration.fit(values)
    steps = [calibration.step(calibration.standard(v)) for v in values]
    assert set(steps) == {1, 2, 3, 4, 5}
    assert max(np.bincount(steps)[1:]) - min(np.bincount(steps)[1:]) <= 1  # 10 each
    assert steps == sorted(steps)
    assert calibration.standard(float(np.median(values))) == pytest.approx(0.0)
    lowest = min(calibration.standard(v) for v in values)
    assert calibration.standard(1e9, broken=True) == pytest.approx(lowest - BROKEN_MARGIN)
    assert calibration.step(calibration.floor) == 1


def test_calibration_of_equal_values_and_no_values():
    flat = Calibration.fit([3.0, 3.0, 3.0])
    assert flat.spread == 1.0
    assert flat.step(flat.standard(3.0)) == 1
    with pytest.raises(ValueError, match="at least one"):
        Calibration.fit([float("nan")])


def test_a_noiseless_rater_answers_by_the_objective():
    rater = SimulatedRater(bias=0.0, noise=0.0)
    rng = rater_rng(0, 1)
    assert rater.choose(1.0, 0.0, rng) == "a"
    assert rater.choose(-1.0, 0.5, rng) == "b"
    assert rater.choose(0.3, 0.3 + TIE_BAND / 2, rng) == "tie"
    assert rater.judge(0.2, rng) == ("studio", 1)
    assert rater.judge(-1.6, rng) == ("ai", 4)
    assert rater.judge(9.0, rng) == ("studio", 5)
    calibration = Calibration.fit(np.arange(100.0))
    assert rater.rate(calibration.standard(99.0), calibration, rng) == (5, 5, 5)
    lenient = SimulatedRater(bias=10.0, noise=0.0)
    assert lenient.rate(calibration.floor, calibration, rng) == (5, 5, 5)  # passes nothing as bad


def test_noise_makes_answers_vary_and_a_seed_repeats_them():
    rater = SimulatedRater(bias=0.2, noise=1.0)
    first = [rater.perceive(0.0, rng) for rng in [rater_rng(3, 1)] for _ in range(200)]
    again = [rater.perceive(0.0, rng) for rng in [rater_rng(3, 1)] for _ in range(200)]
    other = [rater.perceive(0.0, rng) for rng in [rater_rng(3, 2)] for _ in range(200)]
    assert first == again
    assert first != other
    assert np.mean(first) == pytest.approx(0.2, abs=0.2)
    assert np.std(first) == pytest.approx(1.0, abs=0.15)


def test_panel_spreads_noise_and_draws_biases_from_the_seed():
    team = panel(5, noise=1.0, bias_spread=0.5, seed=4)
    assert [r.noise for r in team] == pytest.approx([0.5, 0.75, 1.0, 1.25, 1.5])
    assert [r.bias for r in team] == [r.bias for r in panel(5, noise=1.0, bias_spread=0.5, seed=4)]
    assert [r.bias for r in team] != [r.bias for r in panel(5, noise=1.0, bias_spread=0.5, seed=5)]
    assert [r.bias for r in panel(3, noise=1.0, bias_spread=0.5, seed=4)] == [r.bias for r in team[:3]]
    assert panel(1, noise=0.7, bias_spread=0.0, seed=0)[0] == SimulatedRater(bias=0.0, noise=0.7)
    with pytest.raises(ValueError, match="at least one"):
        panel(0, noise=1.0, bias_spread=0.0, seed=0)
    with pytest.raises(ValueError, match="negative"):
        panel(2, noise=-1.0, bias_spread=0.0, seed=0)
