"""Small server-side SVG charts (review agreement, monitoring dashboards): plain Python, no Django,
no JavaScript.

Every chart is readable without colour: each bar or point carries its value as text, reference
lines are dashed differently and labelled, bars under a threshold are hatched and marked in words,
and a missing figure is written as "unavailable: <reason>". Text is XML-escaped here, so the
returned string can be put into a page as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from math import floor

WIDTH = 720
LABEL_W = 200  # left column: bar labels
VALUE_W = 210  # right column: values and markers
ROW_H = 26
TOP = 34  # room for reference-line labels
BOTTOM = 26  # room for the axis ticks
DASHES = ("6 3", "2 3", "10 4 2 4")


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


def _fmt(value: float) -> str:
    return f"{value:.2f}".replace("-", "−")


def _number(value: float) -> str:
    """Four significant digits, for axes fitted to the data (FID ~100, KID ~0.04)."""
    return f"{value:.4g}".replace("-", "−")


def _scale(domain: tuple[float, float]):
    lo, hi = domain
    plot_w = WIDTH - LABEL_W - VALUE_W

    def x(value: float) -> float:
        return LABEL_W + (min(max(value, lo), hi) - lo) / (hi - lo) * plot_w

    return x


def _open(testid: str, title: str, rows: int) -> tuple[list[str], int]:
    height = TOP + rows * ROW_H + BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-testid="{escape(testid)}" role="img" '
        f'aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'style="max-width:{WIDTH}px" font-family="system-ui, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<defs><pattern id="{escape(testid)}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#5d6678" stroke-width="3"/></pattern></defs>',
    ]
    return parts, height


def _axis(parts: list[str], x, domain: tuple[float, float], height: int, percent: bool) -> None:
    lo, hi = domain
    base = height - BOTTOM
    parts.append(f'<line x1="{x(lo):.1f}" y1="{base}" x2="{x(hi):.1f}" y2="{base}" stroke="#1d2330"/>')
    quarters = (hi - lo) / 0.25
    fitted = abs(quarters - round(quarters)) > 1e-9 or quarters > 8  # an axis fitted to the data
    ticks = [lo + (hi - lo) * k / 4 for k in range(5)] if fitted else [
        lo + i * 0.25 for i in range(round(quarters) + 1)]
    for tick in ticks:
        text = f"{tick:.0%}" if percent else (_number(tick) if fitted else _fmt(tick))
        px = x(tick)
        parts.append(f'<line x1="{px:.1f}" y1="{base}" x2="{px:.1f}" y2="{base + 4}" stroke="#1d2330"/>'
                     f'<text x="{px:.1f}" y="{base + 16}" text-anchor="middle">{escape(text)}</text>')
    if lo < 0 < hi:
        parts.append(f'<line x1="{x(0):.1f}" y1="{TOP - 4}" x2="{x(0):.1f}" y2="{base}" stroke="#1d2330"/>')


def _references(parts: list[str], x, references: Sequence[Reference], height: int) -> None:
    for n, ref in enumerate(references):
        px = x(ref.at)
        parts.append(f'<line x1="{px:.1f}" y1="{TOP - 6}" x2="{px:.1f}" y2="{height - BOTTOM}" '
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


def _close(parts: list[str], x, domain: tuple[float, float], height: int, percent: bool,
           empty: bool) -> str:
    """The axis and the end of the chart (saying "no data yet" when it has no row), as one string."""
    if empty:
        parts.append(f'<text x="{LABEL_W + 4}" y="{TOP + 17}" font-style="italic">no data yet</text>')
    _axis(parts, x, domain, height, percent)
    parts.append("</svg>")
    return "".join(parts)


def _domain(values: Sequence[float | None], default: tuple[float, float]) -> tuple[float, float]:
    lo = min([default[0], *[v for v in values if v is not None]])
    return (floor(lo * 4) / 4, default[1])


def bar_chart(bars: Sequence[Bar], *, testid: str, title: str, references: Sequence[Reference] = (),
              threshold: float | None = None, domain: tuple[float, float] = (0.0, 1.0),
              percent: bool = False) -> str:
    """Horizontal bars from zero. Bars under ``threshold`` are hatched and marked "below <t>";
    the domain widens to the left for negative values (alpha can be below zero)."""
    domain = _domain([b.value for b in bars], domain)
    x = _scale(domain)
    parts, height = _open(testid, title, max(1, len(bars)))
    if any(b.value is not None for b in bars):
        _references(parts, x, references, height)
    for row, bar in enumerate(bars):
        y = TOP + row * ROW_H
        _row_label(parts, y, bar.label)
        if bar.value is None:
            _row_unavailable(parts, y, f"unavailable: {bar.note}")
            continue
        start, end = sorted((x(0.0 if domain[0] <= 0 else domain[0]), x(bar.value)))
        below = threshold is not None and bar.value < threshold
        fill = f"url(#{escape(testid)}-hatch)" if below else "#2855c8"
        parts.append(f'<rect x="{start:.1f}" y="{y + 5}" width="{max(end - start, 1):.1f}" '
                     f'height="{ROW_H - 10}" fill="{fill}" stroke="#1d2330" stroke-width="0.5">'
                     f"<title>{escape(bar.label)}: "
                     f"{_value_text(bar.value, percent)}</title></rect>")
        marker = f" (below {threshold:g})" if below else ""
        note = f" {bar.note}" if bar.note else ""
        _row_value(parts, y, _value_text(bar.value, percent), marker + note)
    return _close(parts, x, domain, height, percent, empty=not bars)


def _value_text(value: float, percent: bool) -> str:
    return f"{value:.0%}" if percent else _fmt(value)


def _fitted_domain(points: Sequence[Bar]) -> tuple[float, float]:
    numbers = [v for p in points for v in (p.value, p.low, p.high) if v is not None]
    lo, hi = (min([0.0, *numbers]), max(numbers)) if numbers else (0.0, 1.0)
    return (lo, hi + (hi - lo) * 0.05) if hi > lo else (lo, lo + 1.0)


def interval_chart(points: Sequence[Bar], *, testid: str, title: str,
                   references: Sequence[Reference] = (Reference(0.5, "chance 50%"),),
                   domain: tuple[float, float] | None = (0.0, 1.0), percent: bool = True) -> str:
    """A point with its interval whiskers per row: on a 0–100 % axis by default (e.g. blind
    detection rate), or with ``domain=None, percent=False`` on an axis fitted to the data (FID,
    KID, LPIPS). A row without a value shows its reason."""
    domain = domain or _fitted_domain(points)
    x = _scale(domain)

    def text(value: float) -> str:
        return f"{value:.0%}" if percent else _number(value)

    parts, height = _open(testid, title, max(1, len(points)))
    _references(parts, x, references, height)
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
    return _close(parts, x, domain, height, percent, empty=not points)
