"""Server-rendered SVG charts for the web pages (no JavaScript, no external resources).

``timeline_svg`` draws a subject's outcome scores over time: one panel per series (EASI, SCORAD,
PP-NRS, ...) stacked vertically on a shared date axis, severity bands shaded behind the EASI and
SCORAD panels, dose dates as dashed vertical lines. The band cuts and labels are read from the
instrument declarations, never copied here: EASI ``EASI.bandings[0].sets["leshem2015"]`` (Leshem
2015) and SCORAD ``SCORAD.bandings[0].sets["classic"]`` (ETFAD 1993 / Kunz 1997). The y range of a
known instrument comes from the label of its total output (``"EASI (0-72)"``).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from atopic.instruments import EASI, INSTRUMENTS, SCORAD
from atopic.instruments.ops import SCALAR
from atopic.instruments.spec import BandSet, band_units

BAND_SETS: dict[str, BandSet] = {
    "EASI": EASI.bandings[0].sets["leshem2015"],
    "SCORAD": SCORAD.bandings[0].sets["classic"],
}
"""Severity bands shaded behind a panel, by series label (case-insensitive)."""

BAND_FILLS = {
    "clear": "#dcefe0",
    "almost clear": "#e9f3d6",
    "mild": "#fbf3c8",
    "moderate": "#fde0c2",
    "severe": "#f8cfc8",
    "very severe": "#eccbdc",
}
"""Light fills by band label, from green (clear) to magenta (very severe)."""
_FALLBACK_FILLS = ("#e6eef7", "#eee6f4", "#f4ece0", "#e4f1ee")

SERIES_COLOURS = ("#1f4e8c", "#6b2a8f", "#8a4500", "#1d6b3a", "#9b1c31", "#333333")
"""Line colours in series order; each has a contrast ratio above 7:1 on white."""
DOSE_COLOUR = "#a1124f"
TODAY_COLOUR = "#555555"
TEXT = "#222222"
MUTED = "#4d4d4d"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

_RANGE = re.compile(r"\((-?\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)\)")
_DAY_STEPS = (1, 2, 7, 14, 28, 56, 91, 182, 364, 728, 1456, 2912)

# Layout, in px.
_LEFT = 46
_RIGHT = 100
_TITLE_H = 30
_DOSE_ROW = 13
_PANEL_HEAD = 18
_PANEL_GAP = 12
_AXIS_H = 40
_UNIT_H = 112
_PRIMARY_WEIGHT = 1.3
_PAD_X = 12
_CHAR_W = 0.6  # average glyph width per px of font size, for rough text widths


@dataclass(frozen=True)
class _Point:
    day: date
    value: Decimal
    y: float  # value as float, for geometry


@dataclass(frozen=True)
class _Panel:
    label: str
    points: tuple[_Point, ...]
    lo: float
    hi: float
    bands: BandSet | None
    colour: str
    weight: float


def timeline_svg(
    series: Mapping[str, Sequence[tuple[Any, Any]]],
    doses: Sequence[tuple[Any, str]],
    *,
    title: str,
    width: int = 720,
    height: int | None = None,
    band_instrument: str | None = "EASI",
    today: date | None = None,
) -> str:
    """A timeline of outcome scores as a self-contained, accessible SVG string.

    ``series`` maps a label (``"EASI"``, ``"SCORAD"``, ``"PP-NRS"``, ...) to ``(date, value)``
    points (any order; values int, float or Decimal; ``None`` and non-finite values are skipped);
    ``doses`` is a list of ``(date, label)``, e.g. ``(date(2026, 1, 12), "MSC dose")``.

    Draws one panel per series, in the order given, stacked on a shared x axis whose ticks read
    weeks (or days, for short spans) since the first assessment with the ISO date below. Each
    panel has its own y axis: the instrument's range for a known label (EASI 0-72, SCORAD 0-103,
    PP-NRS 0-10, read from the instrument's total output), else 0 to a round number above the
    largest value. EASI and SCORAD panels are shaded with their severity bands (see the module
    docstring for the source), each band named in the right margin. Points are a polyline with a
    circle marker each (a tooltip gives value and date); first and latest values are written next
    to their markers. Values outside the y range are clipped from the drawing and written as a
    small arrow and number at the panel edge. Doses are dashed vertical lines labelled at the top;
    ``today``, when given, is a grey line (the x axis reaches it). An empty series is a panel
    saying "no data".

    ``band_instrument`` names the primary series: its panel is drawn taller and the description
    opens with its latest value and severity band (None: no primary). ``height`` defaults to what
    the panels need; when given, the panels share what is left after the fixed parts. The
    ``<title>`` and ``<desc>`` (read by screen readers, ``role="img"``) state the title and, in
    words, each series' first and latest value, the doses and the band sources. All text is
    escaped; the same input always gives the same string.
    """
    primary = (band_instrument or "").casefold()
    panels = _panels(series, primary)
    marks = _marks(doses, today)
    all_days = [p.day for panel in panels for p in panel.points] + [d for d, _, _ in marks]
    origin = min((p.day for panel in panels for p in panel.points), default=None)

    plot_x0 = _LEFT
    plot_x1 = max(plot_x0 + 120, width - _RIGHT)
    width = max(width, plot_x1 + _RIGHT)

    span = _x_domain(all_days)
    scale_x = _XScale(span, plot_x0 + _PAD_X, plot_x1 - _PAD_X) if span else None
    placed = _place_marks(marks, scale_x, plot_x0, width - 4) if scale_x else []
    rows = max((m.row for m in placed), default=-1) + 1

    top = _TITLE_H + rows * _DOSE_ROW
    fixed = top + len(panels) * (_PANEL_HEAD + _PANEL_GAP) + _AXIS_H
    weights = sum(p.weight for p in panels)
    unit = _UNIT_H if height is None else max(36.0, (height - fixed) / weights)
    heights = [unit * p.weight for p in panels]
    height = max(height or 0, math.ceil(fixed + sum(heights) - 1e-6))

    uid = _uid(title, panels, marks, width, height)
    out: list[str] = []
    add = out.append
    add(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="{uid}-t {uid}-d" '
        f'font-family={quoteattr(FONT)} font-size="11" class="atopic-timeline">'
    )
    add(f'<title id="{uid}-t">{escape(title)}</title>')
    add(f'<desc id="{uid}-d">{escape(_describe(panels, marks, primary, today))}</desc>')
    add(f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>')
    if title:
        add(
            f'<text x="{_LEFT}" y="20" font-size="14" font-weight="600" fill="{TEXT}">'
            f"{escape(title)}</text>"
        )

    _marks_svg(add, placed, top, top + _PANEL_HEAD)
    y = float(top)
    for i, (panel, h) in enumerate(zip(panels, heights, strict=True)):
        plot_top = y + _PANEL_HEAD
        _panel_svg(add, panel, i, uid, plot_x0, plot_x1, plot_top, plot_top + h, scale_x, placed)
        y = plot_top + h + _PANEL_GAP
    if scale_x:
        _x_axis(add, scale_x, origin or scale_x.span[0], y - _PANEL_GAP)
    add("</svg>")
    return "".join(out)


# --- data ---------------------------------------------------------------------------------------


def _panels(series: Mapping[str, Sequence[tuple[Any, Any]]], primary: str) -> list[_Panel]:
    panels: list[_Panel] = []
    for i, (label, raw) in enumerate(series.items()):
        points = sorted(
            (p for p in (_point(d, v) for d, v in raw) if p is not None), key=lambda p: p.day
        )
        known = _known_range(label)
        if known is not None:
            lo, hi = known
        else:
            lo, hi = _nice_range([p.y for p in points])
        bands = next((b for k, b in BAND_SETS.items() if k.casefold() == label.casefold()), None)
        weight = _PRIMARY_WEIGHT if label.casefold() == primary else 1.0
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        panels.append(_Panel(str(label), tuple(points), lo, hi, bands, colour, weight))
    if not panels:
        panels.append(_Panel("", (), 0.0, 1.0, None, SERIES_COLOURS[0], 1.0))
    return panels


def _point(day: Any, value: Any) -> _Point | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        exact = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    if not exact.is_finite():
        return None
    return _Point(_day(day), exact, float(exact))


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _marks(doses: Sequence[tuple[Any, str]], today: date | None) -> list[tuple[date, str, str]]:
    marks = sorted(((_day(d), str(label), "dose") for d, label in doses), key=lambda m: m[0])
    if today is not None:
        marks.append((_day(today), "today", "today"))
    return marks


def _known_range(label: str) -> tuple[float, float] | None:
    instrument = INSTRUMENTS.get(label.casefold())
    if instrument is None:
        return None
    total = next((o for o in instrument.outputs if o.name == "total"), None)
    found = _RANGE.search(total.label) if total else None
    return (float(found.group(1)), float(found.group(2))) if found else None


def _nice_step(span: float, target: float = 5.0) -> float:
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw - 1e-12)


def _nice_range(values: list[float]) -> tuple[float, float]:
    hi = max(values, default=0.0)
    lo = min(0.0, min(values, default=0.0))
    if hi <= lo:
        return lo, lo + 1.0
    step = _nice_step(hi - lo)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step


def _band_of(value: Decimal, bands: BandSet) -> str:
    scale = 10000
    units = int((value * scale).to_integral_value(rounding=ROUND_HALF_UP))
    return str(band_units(max(units, 0), scale, bands, SCALAR))


# --- text ---------------------------------------------------------------------------------------


def _fmt(value: Decimal) -> str:
    rounded = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
    text = format(rounded, "f")
    return "0" if text in ("-0", "0") else text


def _n(x: float) -> str:
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _text_w(text: str, size: float) -> float:
    return len(text) * size * _CHAR_W


def _describe(
    panels: list[_Panel], marks: list[tuple[date, str, str]], primary: str, today: date | None
) -> str:
    parts: list[str] = []
    lead = next((p for p in panels if p.label.casefold() == primary and p.points), None)
    if lead is not None:
        last = lead.points[-1]
        band = f", {_band_of(last.value, lead.bands)}" if lead.bands else ""
        parts.append(f"Latest {lead.label} {_fmt(last.value)} on {last.day.isoformat()}{band}.")
    for panel in panels:
        if not panel.label:
            parts.append("No assessments recorded.")
            continue
        pts = panel.points
        if not pts:
            parts.append(f"{panel.label}: no data.")
            continue
        first, last = pts[0], pts[-1]
        if len(pts) == 1:
            text = f"{panel.label} {_fmt(first.value)} on {first.day.isoformat()} (1 point"
        else:
            text = (
                f"{panel.label} from {_fmt(first.value)} on {first.day.isoformat()} "
                f"to {_fmt(last.value)} on {last.day.isoformat()} ({len(pts)} points"
            )
        if panel.bands:
            text += f", latest band {_band_of(last.value, panel.bands)}"
        outside = [p for p in pts if not panel.lo <= p.y <= panel.hi]
        if outside:
            text += f", {len(outside)} outside the {_n(panel.lo)}-{_n(panel.hi)} scale"
        parts.append(text + ").")
    doses = [(d, label) for d, label, kind in marks if kind == "dose"]
    if doses:
        listed = "; ".join(f"{label} on {d.isoformat()}" for d, label in doses)
        parts.append(f"Doses: {listed}.")
    else:
        parts.append("No doses.")
    sources = [
        f"{p.label} {p.bands.name} ({p.bands.source})" for p in panels if p.bands is not None
    ]
    if sources:
        parts.append("Severity bands: " + "; ".join(sources) + ".")
    if today is not None:
        parts.append(f"Today: {today.isoformat()}.")
    return " ".join(parts)


def _uid(title: str, panels: list[_Panel], marks: list[Any], width: int, height: int) -> str:
    key = repr(
        (title, [(p.label, [(q.day, str(q.value)) for q in p.points]) for p in panels], marks)
    )
    return "tl" + hashlib.sha256(f"{key}|{width}|{height}".encode()).hexdigest()[:10]


# --- geometry -----------------------------------------------------------------------------------


def _x_domain(days: list[date]) -> tuple[date, date] | None:
    if not days:
        return None
    lo, hi = min(days), max(days)
    if lo == hi:
        lo, hi = lo - timedelta(days=7), hi + timedelta(days=7)
    return lo, hi


@dataclass(frozen=True)
class _XScale:
    span: tuple[date, date]
    x0: float
    x1: float

    def __call__(self, day: date) -> float:
        lo, hi = (d.toordinal() for d in self.span)
        return self.x0 + (day.toordinal() - lo) / (hi - lo) * (self.x1 - self.x0)


@dataclass(frozen=True)
class _Mark:
    day: date
    label: str
    kind: str  # "dose" or "today"
    x: float
    text: str | None  # label drawn for this mark (None: folded into an earlier mark's label)
    tx: float
    anchor: str
    row: int


def _place_marks(
    marks: list[tuple[date, str, str]], sx: _XScale, left: float, right: float
) -> list[_Mark]:
    """Lay out the labels of doses and today in up to three rows so that they do not overlap.

    Doses with the same label too close to label apart share one label, ``"MSC dose ×3"``.
    """
    groups: list[list[tuple[date, str, str, float]]] = []
    for day, label, kind in marks:
        x = sx(day)
        last = groups[-1] if groups else None
        if (
            last is not None
            and kind == "dose"
            and last[0][2] == "dose"
            and last[0][1] == label
            and x - last[0][3] < _text_w(f"{label} ×{len(last) + 1}", 10) + 6
        ):
            last.append((day, label, kind, x))
        else:
            groups.append([(day, label, kind, x)])
    ends: list[float] = []
    placed: list[_Mark] = []
    for group in groups:
        day, label, kind, x = group[0]
        text = label if len(group) == 1 else f"{label} ×{len(group)}"
        w = _text_w(text, 10)
        if x + 3 + w <= right:
            start, tx, anchor = x + 3, x + 3, "start"
        else:
            start, tx, anchor = max(left, x - 3 - w), x - 3, "end"
        row = next((r for r, end in enumerate(ends) if end + 6 <= start), None)
        if row is None:
            if len(ends) < 3:
                row = len(ends)
                ends.append(-math.inf)
            else:
                row = min(range(len(ends)), key=lambda r: (ends[r], r))
        ends[row] = max(ends[row], start + w)
        for k, (d, lab, kd, mx) in enumerate(group):
            placed.append(_Mark(d, lab, kd, mx, text if k == 0 else None, tx, anchor, row))
    return placed


# --- drawing ------------------------------------------------------------------------------------


def _panel_svg(
    add: Any,
    panel: _Panel,
    index: int,
    uid: str,
    x0: float,
    x1: float,
    top: float,
    bottom: float,
    sx: _XScale | None,
    placed: list[_Mark],
) -> None:
    def y(value: float) -> float:
        return bottom - (value - panel.lo) / (panel.hi - panel.lo) * (bottom - top)

    cls = f"panel panel-{index}"
    add(f'<g class="{cls}" data-series={quoteattr(panel.label)}>')
    if panel.label:
        scale = f"{_n(panel.lo)}–{_n(panel.hi)}"
        add(
            f'<text x="{_n(x0)}" y="{_n(top - 5)}" font-size="12" stroke="#ffffff" '
            f'stroke-width="3" stroke-linejoin="round" paint-order="stroke">'
            f'<tspan font-weight="700" '
            f'fill="{panel.colour}">{escape(panel.label)}</tspan>'
            f'<tspan fill="{MUTED}" font-size="10" dx="6">{escape(scale)}</tspan></text>'
        )
    w, h = x1 - x0, bottom - top
    if panel.bands:
        _bands_svg(add, panel.bands, panel, y, x0, x1, top, bottom)
    add(
        f'<rect x="{_n(x0)}" y="{_n(top)}" width="{_n(w)}" height="{_n(h)}" fill="none" '
        f'stroke="#8c8c8c" stroke-width="1"/>'
    )
    # y ticks (none on an empty panel whose range is not known)
    step = _nice_step(panel.hi - panel.lo)
    ticks = [panel.lo + k * step for k in range(int((panel.hi - panel.lo) / step + 1e-9) + 1)]
    if y(ticks[-1]) - y(panel.hi) > 12:
        ticks.append(panel.hi)
    if not panel.points and _known_range(panel.label) is None:
        ticks = []
    for t in ticks:
        ty = y(t)
        if not panel.bands and top < ty < bottom:
            add(
                f'<line x1="{_n(x0)}" y1="{_n(ty)}" x2="{_n(x1)}" y2="{_n(ty)}" '
                f'stroke="#e6e6e6" stroke-width="1"/>'
            )
        add(f'<line x1="{_n(x0 - 4)}" y1="{_n(ty)}" x2="{_n(x0)}" y2="{_n(ty)}" stroke="#8c8c8c"/>')
        add(
            f'<text x="{_n(x0 - 7)}" y="{_n(ty + 3.5)}" text-anchor="end" font-size="10" '
            f'fill="{MUTED}">{escape(_n(t))}</text>'
        )
    # dose and today lines across the plot
    for m in placed:
        colour, dash = (DOSE_COLOUR, "5 3") if m.kind == "dose" else (TODAY_COLOUR, "2 2")
        add(
            f'<line class="{m.kind}-line" x1="{_n(m.x)}" y1="{_n(top)}" x2="{_n(m.x)}" '
            f'y2="{_n(bottom)}" stroke="{colour}" stroke-width="1.2" stroke-dasharray="{dash}">'
            f"<title>{escape(m.label)}, {m.day.isoformat()}</title></line>"
        )
    if not panel.points or sx is None:
        add(
            f'<text class="no-data" x="{_n((x0 + x1) / 2)}" y="{_n((top + bottom) / 2 + 4)}" '
            f'text-anchor="middle" font-size="12" fill="{MUTED}">no data</text>'
        )
        add("</g>")
        return
    clip = f"{uid}-clip{index}"
    add(
        f'<clipPath id="{clip}"><rect x="{_n(x0)}" y="{_n(top - 5)}" width="{_n(w)}" '
        f'height="{_n(h + 10)}"/></clipPath>'
    )
    xy = [(sx(p.day), y(p.y)) for p in panel.points]
    add(f'<g clip-path="url(#{clip})">')
    coords = " ".join(f"{_n(a)},{_n(b)}" for a, b in xy)
    add(
        f'<polyline class="series" points="{coords}" fill="none" stroke="{panel.colour}" '
        f'stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>'
    )
    for p, (px, py) in zip(panel.points, xy, strict=True):
        add(
            f'<circle class="marker" cx="{_n(px)}" cy="{_n(py)}" r="3.5" fill="{panel.colour}" '
            f'stroke="#ffffff" stroke-width="1.5"><title>{escape(panel.label)} '
            f"{_fmt(p.value)} on {p.day.isoformat()}</title></circle>"
        )
    add("</g>")
    # values outside the scale: an arrow at the edge for each, never clipped, and the number for
    # the most extreme one and for as many others as fit without overlapping
    for above in (True, False):
        off = [
            (i, xy[i][0], p)
            for i, p in enumerate(panel.points)
            if (p.y > panel.hi if above else p.y < panel.lo)
        ]
        base, tip, ty = (
            (top + 7, top + 1, top + 17) if above else (bottom - 7, bottom - 1, bottom - 10)
        )
        for _, px, p in off:
            tri = f"{_n(px - 4)},{_n(base)} {_n(px + 4)},{_n(base)} {_n(px)},{_n(tip)}"
            add(
                f'<polygon class="off-scale" points="{tri}" fill="{panel.colour}"><title>'
                f"{escape(panel.label)} {_fmt(p.value)} on {p.day.isoformat()}</title></polygon>"
            )
        extreme = sorted(off, key=lambda o: (-o[2].y if above else o[2].y, o[0]))[:1]
        taken: list[tuple[float, float]] = []
        for _, px, p in extreme + [o for o in off if o not in extreme]:
            text = _fmt(p.value)
            w = _text_w(text, 10)
            a, b, anchor = (
                (px + 6, px + 6 + w, "start") if px + 6 + w <= x1 else (px - 6 - w, px - 6, "end")
            )
            if any(a < tb + 4 and ta < b + 4 for ta, tb in taken):
                continue
            taken.append((a, b))
            tx = a if anchor == "start" else b
            add(_halo_text(tx, ty, text, panel.colour, anchor, bold=False))
    # first and latest values, beside their markers
    ends = [0, len(xy) - 1] if len(xy) > 1 else [0]
    for k in ends:
        p, (px, py) = panel.points[k], xy[k]
        if not panel.lo <= p.y <= panel.hi:
            continue
        anchor = "start" if k == 0 else "end"
        tx = px + 6 if k == 0 else px - 6
        ty = py - 8 if py - 8 > top + 10 else py + 16
        add(_halo_text(tx, ty, _fmt(p.value), panel.colour, anchor, bold=True))
    add("</g>")


def _halo_text(x: float, y: float, text: str, colour: str, anchor: str, *, bold: bool) -> str:
    weight = ' font-weight="700"' if bold else ""
    return (
        f'<text class="value" x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" font-size="10"'
        f'{weight} fill="{colour}" stroke="#ffffff" stroke-width="3" stroke-linejoin="round" '
        f'paint-order="stroke">{escape(text)}</text>'
    )


def _bands_svg(
    add: Any,
    bands: BandSet,
    panel: _Panel,
    y: Any,
    x0: float,
    x1: float,
    top: float,
    bottom: float,
) -> None:
    cuts = bands.cuts
    spans = []
    for i, cut in enumerate(cuts):
        lo = max(float(cut.lower), panel.lo)
        hi = min(float(cuts[i + 1].lower) if i + 1 < len(cuts) else panel.hi, panel.hi)
        if hi <= lo:
            continue
        fill = BAND_FILLS.get(cut.label, _FALLBACK_FILLS[i % len(_FALLBACK_FILLS)])
        spans.append((cut.label, fill, y(hi), y(lo), lo, hi))
    add(f'<g class="bands" data-band-set={quoteattr(bands.name)}>')
    for label, fill, ytop, ybot, lo, hi in spans:
        add(
            f'<rect class="band" x="{_n(x0)}" y="{_n(ytop)}" width="{_n(x1 - x0)}" '
            f'height="{_n(ybot - ytop)}" fill="{fill}"><title>{escape(panel.label)} '
            f"{escape(label)}: {_n(lo)} to {_n(hi)} ({escape(bands.name)})</title></rect>"
        )
    # labels in the right margin, centred on their band, nudged apart, with a leader line
    ideal = [(ytop + ybot) / 2 for _, _, ytop, ybot, *_ in spans]
    placed = _spread(ideal, gap=11.0, lo=top + 5, hi=bottom - 4)
    for (label, fill, *_), want, at in zip(spans, ideal, placed, strict=True):
        add(
            f'<polyline points="{_n(x1)},{_n(want)} {_n(x1 + 4)},{_n(want)} '
            f'{_n(x1 + 9)},{_n(at)}" fill="none" stroke="#9a9a9a" stroke-width="0.8"/>'
        )
        add(
            f'<rect x="{_n(x1 + 10)}" y="{_n(at - 4)}" width="8" height="8" fill="{fill}" '
            f'stroke="#8c8c8c" stroke-width="0.6"/>'
        )
        add(
            f'<text class="band-label" x="{_n(x1 + 22)}" y="{_n(at + 3.5)}" font-size="10" '
            f'fill="{MUTED}">{escape(label)}</text>'
        )
    add("</g>")


def _spread(ideal: list[float], *, gap: float, lo: float, hi: float) -> list[float]:
    """Positions near ``ideal`` (any order) at least ``gap`` apart, kept within [lo, hi]."""
    order = sorted(range(len(ideal)), key=lambda i: (ideal[i], i))
    pos = [min(max(ideal[i], lo), hi) for i in order]
    for k in range(1, len(pos)):
        pos[k] = max(pos[k], pos[k - 1] + gap)
    if pos and pos[-1] > hi:
        pos[-1] = hi
        for k in range(len(pos) - 2, -1, -1):
            pos[k] = min(pos[k], pos[k + 1] - gap)
    out = [0.0] * len(ideal)
    for k, i in enumerate(order):
        out[i] = pos[k]
    return out


def _x_axis(add: Any, sx: _XScale, origin: date, y0: float) -> None:
    lo, hi = sx.span
    max_ticks = max(2, int((sx.x1 - sx.x0) // 78) + 1)
    first, last = lo.toordinal() - origin.toordinal(), hi.toordinal() - origin.toordinal()
    step = _DAY_STEPS[-1]
    for candidate in _DAY_STEPS:
        if last // candidate - (-(-first // candidate)) + 1 <= max_ticks:
            step = candidate
            break
    add('<g class="x-axis">')
    for k in range(-(-first // step), last // step + 1):
        day = origin + timedelta(days=k * step)
        x = sx(day)
        offset = k * step
        name = f"day {offset}" if step < 7 else f"wk {offset // 7}"
        add(f'<line x1="{_n(x)}" y1="{_n(y0)}" x2="{_n(x)}" y2="{_n(y0 + 4)}" stroke="#8c8c8c"/>')
        add(
            f'<text x="{_n(x)}" y="{_n(y0 + 15)}" text-anchor="middle" font-size="10" '
            f'fill="{TEXT}">{escape(name)}</text>'
        )
        add(
            f'<text x="{_n(x)}" y="{_n(y0 + 27)}" text-anchor="middle" font-size="9" '
            f'fill="{MUTED}">{day.isoformat()}</text>'
        )
    add("</g>")


def _marks_svg(add: Any, placed: list[_Mark], top: float, first_top: float) -> None:
    """Dose and today labels above the panels, each mark joined to the first panel by a line."""
    for m in placed:
        colour = DOSE_COLOUR if m.kind == "dose" else TODAY_COLOUR
        ty = top - 4 - m.row * _DOSE_ROW
        add(f'<g class="{m.kind}"><title>{escape(m.label)}, {m.day.isoformat()}</title>')
        y1 = ty - 9 if m.text is not None else ty + 3
        add(
            f'<line x1="{_n(m.x)}" y1="{_n(y1)}" x2="{_n(m.x)}" y2="{_n(first_top)}" '
            f'stroke="{colour}" stroke-width="1" stroke-dasharray="2 2" opacity="0.7"/>'
        )
        if m.text is not None:
            add(
                f'<text class="{m.kind}-label" x="{_n(m.tx)}" y="{_n(ty)}" '
                f'text-anchor="{m.anchor}" font-size="10" fill="{colour}">{escape(m.text)}</text>'
            )
        add("</g>")
