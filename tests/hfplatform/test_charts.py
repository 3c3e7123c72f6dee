"""The SVG charts of the dashboards: values said in text, labels escaped, axes with round ticks and
units, fitted to what they show."""

from __future__ import annotations

import re

import pytest

from hfplatform.charts import Bar, Reference, bar_chart, interval_chart, nice_axis, nice_step


def _ticks(svg: str) -> list[str]:
    return re.findall(r'data-tick="[^"]*">([^<]*)<', svg)


def test_charts_carry_values_as_text_and_escape_labels():
    svg = bar_chart([Bar("<script>", 0.5), Bar("likeness", None, "no variation"), Bar("appeal", 0.9)],
                    testid="chart-alpha", title="Alpha", threshold=0.667,
                    references=[Reference(0.667, "0.667 tentative"), Reference(0.8, "0.8 reliable")])
    assert svg.startswith("<svg")
    assert 'data-testid="chart-alpha"' in svg
    assert 'role="img"' in svg
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "0.50 (below 0.667)" in svg  # the threshold is said in words, not only by the hatching
    assert 'fill="url(#chart-alpha-hatch)"' in svg
    assert "unavailable: no variation" in svg
    assert 'data-reference="0.667"' in svg
    assert "0.8 reliable" in svg
    assert _ticks(svg) == ["0", "0.2", "0.4", "0.6", "0.8", "1"]
    negative = bar_chart([Bar("pairwise", -0.3)], testid="chart-x", title="x")
    assert "−0.30" in negative
    assert _ticks(negative) == ["−0.5", "0", "0.5", "1"]  # widened to the left, still round
    points = interval_chart([Bar("all", 0.6, "n=20", 0.39, 0.78)], testid="chart-blind", title="Blind")
    assert "60% [39%–78%] n=20" in points
    assert "chance 50%" in points
    assert _ticks(points) == ["0%", "20%", "40%", "60%", "80%", "100%"]


@pytest.mark.parametrize(("values", "kwargs", "expected"), [
    ([82.4], {}, ["0", "20", "40", "60", "80", "100"]),
    ([0.032], {}, ["0", "0.01", "0.02", "0.03", "0.04"]),
    ([183.0, 224.0], {}, ["0", "50", "100", "150", "200", "250"]),
    ([9.1], {}, ["0", "2", "4", "6", "8", "10"]),
    ([0.0, 0.0], {}, ["0", "0.2", "0.4", "0.6", "0.8", "1"]),  # nothing above 0: a unit axis
    ([-0.0003, 0.044], {}, ["0", "0.01", "0.02", "0.03", "0.04", "0.05"]),  # a KID a hair below 0
    ([-0.4, 1.2], {}, ["−0.5", "0", "0.5", "1", "1.5"]),  # a negative reward score widens it
    ([0.45, 0.9, None], {"share": True}, ["0", "0.2", "0.4", "0.6", "0.8", "1"]),
    ([0.05], {"share": True, "percent": True}, ["0%", "20%", "40%", "60%", "80%", "100%"]),
    ([3.5], {"scale": (1.0, 5.0)}, ["1", "2", "3", "4", "5"]),  # the 1-5 rating scale
])
def test_nice_axis_has_round_bounds_and_ticks(values, kwargs, expected):
    axis = nice_axis(values, **kwargs)
    assert [axis.tick_text(t) for t in axis.ticks] == expected
    numbers = [v for v in values if v is not None]
    assert axis.lo <= max(0.0, min(numbers)) + 0.001
    assert axis.hi >= max(numbers)


def test_nice_axis_ends_at_the_round_number_above_value_interval_and_reference():
    axis = nice_axis([82.4, 101.0])
    assert (axis.lo, axis.hi, axis.step) == (0.0, 125.0, 25.0)


@pytest.mark.parametrize(("span", "step"), [(1.0, 0.2), (1.05, 0.25), (4.0, 1.0), (0.032, 0.01),
                                            (250.0, 50.0), (0.0012, 0.00025)])
def test_nice_steps_are_1_2_2_5_or_5_times_a_power_of_ten(span, step):
    assert nice_step(span) == step


def test_an_fid_chart_fits_its_axis_and_names_its_unit():
    axis = nice_axis([97.84, 91.0, 104.5], unit="FID (lower is better)")
    svg = interval_chart([Bar("v1", 97.84, "n=178", 91.0, 104.5), Bar("v2", None, "unavailable: no weights")],
                         testid="chart-fid", title="FID", references=(), percent=False, axis=axis)
    assert svg.count("data-point") == 1
    assert "97.84 [91–104.5] n=178" in svg
    assert "unavailable: no weights" in svg
    assert "unavailable: unavailable" not in svg
    assert _ticks(svg) == ["0", "25", "50", "75", "100", "125"]
    assert "0.2625" not in svg
    assert "1.05" not in svg
    assert 'data-unit="1">FID (lower is better)</text>' in svg
    assert 'aria-label="FID; axis: FID (lower is better)"' in svg
    fitted = interval_chart([Bar("v1", 0.0421, "n=12")], testid="chart-kid", title="KID", references=(),
                            domain=None, percent=False, unit="KID")
    assert _ticks(fitted) == ["0", "0.01", "0.02", "0.03", "0.04", "0.05"]
    assert "0.0421 n=12" in fitted
    assert 'data-unit="1">KID</text>' in fitted


def test_a_chart_without_any_value_draws_no_axis():
    svg = interval_chart([Bar("v1", None, "unavailable: Inception weights missing")], testid="chart-fid",
                         title="FID", references=(Reference(0.5, "chance 50%"),), domain=None, percent=False,
                         unit="FID")
    assert "unavailable: Inception weights missing" in svg
    assert "data-tick" not in svg
    assert "data-axis" not in svg
    assert "data-unit" not in svg
    assert "data-reference" not in svg
    empty = bar_chart([], testid="chart-none", title="None")
    assert "no data yet" in empty
    assert "data-tick" not in empty
