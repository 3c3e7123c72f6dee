"""Small server-side SVG charts (review agreement, monitoring dashboards): plain Python, no Django,
no JavaScript.

Every chart is readable without colour: each bar or point carries its value as text, reference
lines are dashed differently and labelled, bars under a threshold are hatched and marked in words,
and a missing figure is written as "unavailable: <reason>". Text is XML-escaped here, so the
returned string can be put into a page as it is.

Axes are fitted to what they show (``nice_axis``): a share runs 0–1, a scale its own range (ratings
1–5), anything else from 0 to a round number at or above the largest value, interval end and
reference line, with ticks at round steps (1, 2, 2.5 or 5 × 10^k). The axis names its unit under
the ticks. A chart with no value at all draws no axis: there is nothing to measure on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from math import ceil, floor, isfinite, log10

WIDTH = 720
LABEL_W = 200  # left column: bar labels
VALUE_W = 210  # right column: values and markers
ROW_H = 26
TOP = 34  # room for reference-line labels
BOTTOM = 26  # room for the axis ticks
UNIT_H = 16  # room for the unit under the ticks
DASHES = ("6 3", "2 3", "10 4 2 4")
STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)  # round tick steps, times a power of ten
NEGLIGIBLE = 0.02  # a negative value this close to 0 (share of the range) keeps the axis at 0


@dataclass(frozen=True)
class Bar:
    """One row of a chart: ``value`` None means unavailable, with the reason in ``note``."""

    label: str
    value: float | None
    note: str = ""
    low: float | None = None  # interval, for point-and-whisker rows
    high: float | None = None


@dataclass(frozen=True)
class Reference:
    """A vertical reference line with its label (e.g. 0.8 "reliable", 0.5 "chance")."""

    at: float
    label: str


# --- Axes -----------------------------------------------------------------------------------------


def _decimals(step: float) -> int:
    """The decimals that write every multiple of ``step`` exactly (2.5 → 1, 0.01 → 2, 20 → 0)."""
    return next((d for d in range(13) if abs(round(step, d) - step) <= 1e-9 * step), 12)


def _plain(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    text = text.rstrip("0").rstrip(".") if decimals else text
    return "0" if text in ("-0", "") else text.replace("-", "−")


@dataclass(frozen=True)
class Axis:
    """The horizontal axis of a chart: ``lo`` to ``hi`` with a tick every ``step``; ``unit`` is
    written under it; ``percent`` writes a share's ticks as 0%…100%."""

    lo: float
    hi: float
    step: float
    unit: str = ""
    percent: bool = False

    @property
    def ticks(self) -> list[float]:
        count = round((self.hi - self.lo) / self.step)
        return [float(f"{self.lo + k * self.step:.12g}") for k in range(count + 1)]

    def tick_text(self, value: float) -> str:
        if self.percent:
            return _plain(value * 100, _decimals(self.step * 100)) + "%"
        return _plain(value, _decimals(self.step))


def nice_step(span: float, target: int = 5) -> float:
    """The smallest round step (1, 2, 2.5 or 5 × 10^k) that covers ``span`` in ``target`` steps or
    fewer."""
    raw = span / target
    magnitude = 10.0 ** floor(log10(raw))
    return next(float(f"{m * magnitude:.12g}") for m in STEPS if m * magnitude >= raw * (1 - 1e-9))


def nice_axis(values: Iterable[float | None], *, unit: str = "", share: bool = False,
              scale: tuple[float, float] | None = None, percent: bool = False, target: int = 5) -> Axis:
    """The axis for ``values`` (points, interval ends and reference lines; None is skipped).

    ``share``: 0 to 1 (a rate, a proportion), ticks every 0.2 (or 20 % with ``percent``).
    ``scale``: a fixed range such as a 1–5 rating, widened only by values outside it.
    Otherwise from 0 to a round number at or above the largest value, with about ``target`` round
    steps; below 0 only for a negative value further than ``NEGLIGIBLE`` of the range from 0 (an
    unbiased KID of −0.0003 beside 0.04 sits on the zero line, its text says −0.0003).
    """
    numbers = [float(v) for v in values if v is not None and isfinite(v)]
    start, end = (0.0, 1.0) if share else scale or (0.0, 0.0)
    lo, hi = min([start, *numbers]), max([end, *numbers])
    if start == 0 and lo < 0 and -lo <= NEGLIGIBLE * hi:
        lo = 0.0
    if hi <= lo:
        hi = lo + 1.0
    step = nice_step(hi - lo, target)
    lo = floor(lo / step + 1e-9) * step
    hi = ceil(hi / step - 1e-9) * step
    return Axis(lo=float(f"{lo:.12g}"), hi=float(f"{hi:.12g}"), step=step, unit=unit, percent=percent)


# --- Drawing --------------------------------------------------------------------------------------


def _fmt(value: float) -> str:
    return f"{value:.2f}".replace("-", "−")


def _number(value: float) -> str:
    """Four significant digits, for values on axes fitted to the data (FID ~100, KID ~0.04)."""
    return f"{value:.4g}".replace("-", "−")


def _scale(axis: Axis):
    plot_w = WIDTH - LABEL_W - VALUE_W

    def x(value: float) -> float:
        return LABEL_W + (min(max(value, axis.lo), axis.hi) - axis.lo) / (axis.hi - axis.lo) * plot_w

    return x


def _base(rows: int) -> int:
    """The y of the axis line, under ``rows`` rows."""
    return TOP + max(1, rows) * ROW_H


def _open(testid: str, title: str, rows: int, axis: Axis | None) -> list[str]:
    unit = axis.unit if axis else ""
    height = _base(rows) + (BOTTOM + (UNIT_H if unit else 0) if axis else 8)
    label = f"{title}; axis: {unit}" if unit else title
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-testid="{escape(testid)}" role="img" '
        f'aria-label="{escape(label)}" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'style="max-width:{WIDTH}px" font-family="system-ui, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<defs><pattern id="{escape(testid)}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#5d6678" stroke-width="3"/></pattern></defs>',
    ]


def _axis(parts: list[str], x, axis: Axis, base: int) -> None:
    parts.append(f'<line x1="{x(axis.lo):.1f}" y1="{base}" x2="{x(axis.hi):.1f}" y2="{base}" '
                 f'stroke="#1d2330" data-axis="{axis.lo:g} {axis.hi:g}"/>')
    for tick in axis.ticks:
        px = x(tick)
        parts.append(f'<line x1="{px:.1f}" y1="{base}" x2="{px:.1f}" y2="{base + 4}" stroke="#1d2330"/>'
                     f'<text x="{px:.1f}" y="{base + 16}" text-anchor="middle" data-tick="{tick:g}">'
                     f"{escape(axis.tick_text(tick))}</text>")
    if axis.unit:
        middle = (x(axis.lo) + x(axis.hi)) / 2
        parts.append(f'<text x="{middle:.1f}" y="{base + 16 + UNIT_H}" text-anchor="middle" '
                     f'data-unit="1">{escape(axis.unit)}</text>')
    if axis.lo < 0 < axis.hi:
        parts.append(f'<line x1="{x(0):.1f}" y1="{TOP - 4}" x2="{x(0):.1f}" y2="{base}" stroke="#1d2330"/>')


def _references(parts: list[str], x, references: Sequence[Reference], base: int) -> None:
    for n, ref in enumerate(references):
        px = x(ref.at)
        parts.append(f'<line x1="{px:.1f}" y1="{TOP - 6}" x2="{px:.1f}" y2="{base}" '
                     f'stroke="#1d2330" stroke-dasharray="{DASHES[n % len(DASHES)]}" '
                     f'data-reference="{ref.at:g}"/>')
        anchor = "end" if n % 2 == 0 else "start"
        dx = -3 if anchor == "end" else 3
        parts.append(f'<text x="{px + dx:.1f}" y="{TOP - 10 - 11 * (n % 2)}" text-anchor="{anchor}">'
                     f"{escape(ref.label)}</text>")


def _row_label(parts: list[str], y: int, label: str) -> None:
    parts.append(f'<text x="{LABEL_W - 8}" y="{y + 17}" text-anchor="end">{escape(label)}</text>')


def _row_unavailable(parts: list[str], y: int, reason: str) -> None:
    parts.append(f'<text x="{LABEL_W + 4}" y="{y + 17}" font-style="italic" data-unavailable="1">'
                 f"{escape(reason)}</text>")


def _row_value(parts: list[str], y: int, value: str, suffix: str) -> None:
    """The right column: ``value`` (already formatted), then ``suffix`` (escaped here)."""
    parts.append(f'<text x="{WIDTH - VALUE_W + 8}" y="{y + 17}">{value}{escape(suffix)}</text>')


def _close(parts: list[str], x, axis: Axis | None, rows: int) -> str:
    """The axis (none when no row has a value) and the end of the chart, as one string."""
    if not rows:
        parts.append(f'<text x="{LABEL_W + 4}" y="{TOP + 17}" font-style="italic">no data yet</text>')
    if axis is not None:
        _axis(parts, x, axis, _base(rows))
    parts.append("</svg>")
    return "".join(parts)


def _has_values(rows: Sequence[Bar]) -> bool:
    return any(row.value is not None for row in rows)


def bar_chart(bars: Sequence[Bar], *, testid: str, title: str, references: Sequence[Reference] = (),
              threshold: float | None = None, domain: tuple[float, float] = (0.0, 1.0),
              percent: bool = False, unit: str = "") -> str:
    """Horizontal bars from zero on ``domain`` (round ticks), widened for values outside it (alpha
    can be below zero). Bars under ``threshold`` are hatched and marked "below <t>"."""
    axis = nice_axis([b.value for b in bars], scale=domain, percent=percent, unit=unit) \
        if _has_values(bars) else None
    x = _scale(axis or Axis(0.0, 1.0, 0.2))
    parts = _open(testid, title, len(bars), axis)
    if axis is not None:
        _references(parts, x, references, _base(len(bars)))
    for row, bar in enumerate(bars):
        y = TOP + row * ROW_H
        _row_label(parts, y, bar.label)
        if bar.value is None:
            _row_unavailable(parts, y, f"unavailable: {bar.note}")
            continue
        start, end = sorted((x(max(0.0, axis.lo)), x(bar.value)))
        below = threshold is not None and bar.value < threshold
        fill = f"url(#{escape(testid)}-hatch)" if below else "#2855c8"
        parts.append(f'<rect x="{start:.1f}" y="{y + 5}" width="{max(end - start, 1):.1f}" '
                     f'height="{ROW_H - 10}" fill="{fill}" stroke="#1d2330" stroke-width="0.5">'
                     f"<title>{escape(bar.label)}: "
                     f"{_value_text(bar.value, percent)}</title></rect>")
        marker = f" (below {threshold:g})" if below else ""
        note = f" {bar.note}" if bar.note else ""
        _row_value(parts, y, _value_text(bar.value, percent), marker + note)
    return _close(parts, x, axis, len(bars))


def _value_text(value: float, percent: bool) -> str:
    return f"{value:.0%}" if percent else _fmt(value)


def interval_chart(points: Sequence[Bar], *, testid: str, title: str,
                   references: Sequence[Reference] = (Reference(0.5, "chance 50%"),),
                   domain: tuple[float, float] | None = (0.0, 1.0), percent: bool = True,
                   axis: Axis | None = None, unit: str = "") -> str:
    """A point with its interval whiskers per row: on a 0–100 % axis by default (e.g. blind
    detection rate); with ``domain=None`` on an axis from 0 fitted to the data; or on ``axis``
    (``nice_axis``: a share, a scale, a metric's own range). ``unit`` names what the axis measures.
    A row without a value shows its reason."""
    if not _has_values(points):
        axis = None
    elif axis is None:
        values = [v for p in points for v in (p.value, p.low, p.high)] + [r.at for r in references]
        axis = nice_axis(values, scale=domain, percent=percent, unit=unit)
    x = _scale(axis or Axis(0.0, 1.0, 0.2))

    def text(value: float) -> str:
        return f"{value:.0%}" if percent else _number(value)

    parts = _open(testid, title, len(points), axis)
    if axis is not None:
        _references(parts, x, references, _base(len(points)))
    for row, point in enumerate(points):
        y = TOP + row * ROW_H
        mid = y + ROW_H / 2
        _row_label(parts, y, point.label)
        if point.value is None:
            _row_unavailable(parts, y, point.note if point.note.startswith("unavailable")
                             else f"unavailable: {point.note}")
            continue
        if point.low is not None and point.high is not None:
            lo, hi = x(point.low), x(point.high)
            ink = 'stroke="#1d2330"'
            parts.append(f'<line x1="{lo:.1f}" y1="{mid}" x2="{hi:.1f}" y2="{mid}" {ink} stroke-width="2"/>'
                         f'<line x1="{lo:.1f}" y1="{mid - 6}" x2="{lo:.1f}" y2="{mid + 6}" {ink}/>'
                         f'<line x1="{hi:.1f}" y1="{mid - 6}" x2="{hi:.1f}" y2="{mid + 6}" {ink}/>')
        px = x(point.value)
        parts.append(f'<rect x="{px - 5:.1f}" y="{mid - 5}" width="10" height="10" fill="#2855c8" '
                     f'stroke="#1d2330" data-point="1"><title>{escape(point.label)}: '
                     f"{text(point.value)}</title></rect>")
        interval = (f" [{text(point.low)}–{text(point.high)}]"
                    if point.low is not None and point.high is not None else "")
        note = f" {point.note}" if point.note else ""
        _row_value(parts, y, text(point.value), interval + note)
    return _close(parts, x, axis, len(points))
