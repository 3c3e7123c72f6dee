"""The SVG charts of the dashboards: values said in text, labels escaped, axes fitted to the data."""

from __future__ import annotations

from hfplatform.charts import Bar, Reference, bar_chart, interval_chart


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
    assert "unavailable: no variation" in svg
    assert 'data-reference="0.667"' in svg
    assert "0.8 reliable" in svg
    negative = bar_chart([Bar("pairwise", -0.3)], testid="chart-x", title="x")
    assert "−0.30" in negative
    points = interval_chart([Bar("all", 0.6, "n=20", 0.39, 0.78)], testid="chart-blind", title="Blind")
    assert "60% [39%–78%] n=20" in points
    assert "chance 50%" in points


def test_interval_chart_fits_its_axis_to_the_data():
    svg = interval_chart([Bar("v1", 97.84, "n=178"), Bar("v2", None, "unavailable: no weights")],
                         testid="chart-fid", title="FID", references=(), domain=None, percent=False)
    assert svg.count("data-point") == 1
    assert "97.84 n=178" in svg
    assert "unavailable: no weights" in svg
    assert "unavailable: unavailable" not in svg
    assert ">102.7<" in svg  # the last tick: 5% above the largest value
