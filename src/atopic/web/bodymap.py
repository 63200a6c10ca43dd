"""Clickable body maps for extent entry: SCORAD (rule of nines) and EASI (four regions).

Pure functions that return an inline SVG string (no JavaScript, no external resources): a front and
a back figure drawn from simple shapes, infant proportions under 2 years (bigger head, shorter
limbs). Each region of the instrument is one or more ``<g role="button">`` elements carrying:

* ``data-field``: the name of the form field that holds the region's involvement
  (``extent.anterior_trunk`` for SCORAD, ``trunk.area_percent`` for EASI by default);
* ``aria-label`` (and a ``<title>`` tooltip): region, involvement and share of the body surface,
  e.g. ``Anterior trunk: 20 % involved (18 % of body surface)``;
* a fill from pale (0 %) to deep red (100 %); a region not yet set is hatched grey with a dashed
  outline, so "not set" never looks like 0 %.

A region drawn on both figures (SCORAD's limbs and head, for instance) is one field: both halves
carry the same ``data-field``. Only the first half is a tab stop (``tabindex="0"``); the other half
is ``tabindex="-1"`` (still clickable) so keyboard users meet each field once. Clicking a region is
wired up by the page (focus the number input named by ``data-field``), not here.

Shares come from ``atopic.instruments.scorad.SHARES`` and, under 2 years,
``atopic.instruments.unverified.SCORAD_INFANT_SHARES``; ``percent_bsa`` is SCORAD's A, computed
with the same integer arithmetic as the SCORAD kernel. Output is deterministic (no ids from
counters or hashes; coordinates rounded to 0.1).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from itertools import pairwise
from typing import Any

from atopic.instruments import easi, scorad
from atopic.instruments.ops import SCALAR
from atopic.instruments.unverified import SCORAD_INFANT_SHARES

__all__ = ["body_map_svg", "easi_regions_svg", "percent_bsa", "region_shares"]

SCORAD_NAMES = (scorad.SCORAD.name, scorad.OSCORAD.name, scorad.PO_SCORAD.name)
"""Instruments that use the SCORAD extent regions (``instrument`` of ``body_map_svg``)."""

EASI_SHORT_LABELS = {
    "head_neck": "Head and neck",
    "upper_limbs": "Upper limbs",
    "trunk": "Trunk",
    "lower_limbs": "Lower limbs",
}
"""Legend names for the EASI regions (the aria-labels use ``easi.REGION_LABELS`` in full)."""

_VIEW_W = 620
_VIEW_H = 460
_PANEL_W = 200
_FIG_TOP = 40
_LEGEND_X = 410

_OUTLINE = "#5b4a42"
_UNSET_STROKE = "#8a8a8a"
_TEXT = "#2b2b2b"
_FONT = "system-ui, -apple-system, 'Segoe UI', sans-serif"
# Colour scale for involvement 0-100 %: pale skin, salmon, deep red.
_SCALE = ((0.0, (252, 243, 234)), (0.5, (239, 138, 98)), (1.0, (178, 24, 43)))


# ---------------------------------------------------------------------------------------------
# Shares and A


def _age(age_years: object) -> float:
    age = scorad.AGE.units(age_years)
    if age is None:
        raise ValueError(f"age_years: {age_years!r} is not {scorad.AGE.describe()}")
    return age


def region_shares(age_years: float) -> dict[str, int]:
    """% of the body surface per SCORAD region at this age (rule of nines; infant shares under 2).

    >>> region_shares(34)["head_neck"], region_shares(1)["head_neck"]
    (9, 17)
    """
    infant = _age(age_years) < scorad.INFANT_AGE_LIMIT
    return {
        r: SCORAD_INFANT_SHARES.get(r, scorad.SHARES[r]) if infant else scorad.SHARES[r]
        for r in scorad.REGIONS
    }


def _checked(values: Mapping[str, object], regions: Sequence[str], domain: Any) -> dict[str, Any]:
    """Each region's value in the domain's units (None when not set); ValueError otherwise."""
    unknown = sorted(str(k) for k in values if k not in regions)
    if unknown:
        raise ValueError(
            f"unknown region(s) {', '.join(unknown)}; the regions are {', '.join(regions)}"
        )
    out: dict[str, Any] = {}
    for region in regions:
        value = values.get(region)
        if value is None:
            out[region] = None
            continue
        units = domain.units(value)
        if units is None:
            raise ValueError(f"{region}: {value!r} is not {domain.describe()}")
        out[region] = units
    return out


def percent_bsa(involvement: Mapping[str, object], age_years: float) -> Decimal:
    """SCORAD's A: % of the body surface involved, from each region's involvement (% of region).

    Every region must be given (0-100 in steps of 0.1, as SCORAD accepts); the result is exact and
    equal to ``compute_scorad(...).extent`` for the same input.

    >>> percent_bsa({"head_neck": 50, "anterior_trunk": 20, "back": 10, "left_upper_limb": 30,
    ...     "right_upper_limb": 30, "left_lower_limb": 10, "right_lower_limb": 10, "genitals": 0}, 34)
    Decimal('18.9')
    """
    tenths = _checked(involvement, scorad.REGIONS, scorad.INVOLVEMENT)
    missing = [r for r in scorad.REGIONS if tenths[r] is None]
    if missing:
        raise ValueError(f"percent_bsa needs every region; not set: {', '.join(missing)}")
    shares = region_shares(age_years)
    milli = sum(shares[r] * tenths[r] for r in scorad.REGIONS)
    return Decimal(milli) / Decimal(1000)


# ---------------------------------------------------------------------------------------------
# Formatting


def _num(value: Decimal | float | int) -> str:
    """A number as plain decimal text without trailing zeros (20, 12.5, 0.3)."""
    d = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    text = format(d.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _c(value: float) -> str:
    """A coordinate rounded to 0.1, as short text."""
    text = f"{round(value, 1):.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _attrs(pairs: Iterable[tuple[str, object]]) -> str:
    return "".join(f' {k}="{escape(str(v), quote=True)}"' for k, v in pairs)


def _colour(fraction: float) -> str:
    f = min(1.0, max(0.0, fraction))
    for (f0, c0), (f1, c1) in pairwise(_SCALE):
        if f <= f1:
            t = (f - f0) / (f1 - f0)
            rgb = (round(a + (b - a) * t) for a, b in zip(c0, c1, strict=True))
            return "#" + "".join(f"{x:02x}" for x in rgb)
    return "#" + "".join(f"{x:02x}" for x in _SCALE[-1][1])


def _text_colour(fraction: float) -> str:
    return "#ffffff" if fraction >= 0.55 else _TEXT


# ---------------------------------------------------------------------------------------------
# Geometry


@dataclass(frozen=True)
class _Build:
    """Proportions of a figure, in viewBox units (the adult is about 400 tall)."""

    head_rx: float
    head_ry: float
    neck_len: float
    neck_hw: float
    trunk_len: float
    shoulder_hw: float
    armpit_hw: float
    waist_hw: float
    hip_hw: float
    arm_len: float
    arm_angle: float
    arm_hw: float
    forearm_hw: float
    wrist_hw: float
    hand_hw: float
    leg_len: float
    thigh_hw: float
    knee_hw: float
    calf_hw: float
    ankle_hw: float
    foot_len: float


_ADULT = _Build(
    head_rx=17, head_ry=22, neck_len=12, neck_hw=7.5,
    trunk_len=142, shoulder_hw=44, armpit_hw=35, waist_hw=28, hip_hw=36,
    arm_len=160, arm_angle=9, arm_hw=10.5, forearm_hw=8, wrist_hw=5, hand_hw=7.5,
    leg_len=196, thigh_hw=17, knee_hw=10.5, calf_hw=11.5, ankle_hw=5.5, foot_len=14,
)  # fmt: skip
_INFANT = _Build(
    head_rx=29, head_ry=32, neck_len=4, neck_hw=11,
    trunk_len=122, shoulder_hw=37, armpit_hw=34, waist_hw=35, hip_hw=37,
    arm_len=104, arm_angle=20, arm_hw=12, forearm_hw=11, wrist_hw=7.5, hand_hw=9.5,
    leg_len=122, thigh_hw=18, knee_hw=14, calf_hw=14, ankle_hw=9, foot_len=13,
)  # fmt: skip

# A point of an outline: x, y and whether the outline has a corner there.
_Pt = tuple[float, float, bool]


def _path(points: Sequence[_Pt]) -> str:
    """Closed path through the points: Catmull-Rom curves, straight into and out of corners.

    A shared edge between two corners is drawn identically by both shapes (it only depends on the
    points of that edge and their neighbours on it), so adjacent regions tile without gaps.
    """
    n = len(points)
    d = [f"M{_c(points[0][0])} {_c(points[0][1])}"]
    for i in range(n):
        p0, p1, p2, p3 = (points[(i + k) % n] for k in (-1, 0, 1, 2))
        if p1[2] and p2[2]:
            d.append(f"L{_c(p2[0])} {_c(p2[1])}")
            continue
        c1 = (p1[0], p1[1]) if p1[2] else (p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6)
        c2 = (p2[0], p2[1]) if p2[2] else (p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6)
        d.append(f"C{_c(c1[0])} {_c(c1[1])} {_c(c2[0])} {_c(c2[1])} {_c(p2[0])} {_c(p2[1])}")
    return "".join(d) + "Z"


@dataclass(frozen=True)
class _Part:
    """One drawn piece of a figure: outline, optional decoration lines, optional label anchor."""

    name: str
    shapes: tuple[str, ...]
    decor: tuple[tuple[str, float], ...] = ()  # (path, stroke width): lines drawn on top
    anchor: tuple[float, float] | None = None
    align: str = "middle"  # "start"/"end": the label sits outside the shape, beside it


def _ellipse(x: float, y: float, rx: float, ry: float) -> str:
    return (
        f"M{_c(x - rx)} {_c(y)}a{_c(rx)} {_c(ry)} 0 1 0 {_c(2 * rx)} 0"
        f"a{_c(rx)} {_c(ry)} 0 1 0 {_c(-2 * rx)} 0Z"
    )


def _mirror(points: Sequence[_Pt], cx: float) -> list[_Pt]:
    return [(2 * cx - x, y, sharp) for x, y, sharp in points]


def _figure(b: _Build, cx: float, top: float, view: str) -> list[_Part]:
    """The parts of one figure, ``view`` "front" or "back".

    Part names: head, trunk_front | trunk_back + buttocks, genitals (front), and arm_/leg_ with
    the patient's side: on the front view the patient's right is on the viewer's left.
    """
    front = view == "front"
    hy = top + b.head_ry
    y0 = hy + b.head_ry + b.neck_len  # shoulder line (base of the neck)
    tl = b.trunk_len
    yc = y0 + tl  # crotch
    parts: list[_Part] = []

    # Head and neck (with ears), one piece.
    chin = hy + b.head_ry
    neck = [
        (cx - b.neck_hw, chin - 6, True),
        (cx + b.neck_hw, chin - 6, True),
        (cx + b.neck_hw, y0, True),
        (cx - b.neck_hw, y0, True),
    ]
    ears = "".join(
        _ellipse(x, hy + 2, b.head_rx * 0.17, b.head_ry * 0.22)
        for x in (cx - b.head_rx * 0.97, cx + b.head_rx * 0.97)
    )
    head = (ears, _path(neck), _ellipse(cx, hy, b.head_rx, b.head_ry))
    eyes: tuple[tuple[str, float], ...] = ()
    if front:  # eyes: dots drawn as round-capped strokes; the value label goes below them
        ex, ey = b.head_rx * 0.38, hy - b.head_ry * 0.3
        eyes = ((f"M{_c(cx - ex)} {_c(ey)}h0.1M{_c(cx + ex)} {_c(ey)}h0.1", 2.6),)
    parts.append(_Part("head", head, eyes, (cx, hy + (b.head_ry * 0.2 if front else 0))))

    # Trunk: right half of the viewer, top to bottom; mirrored for the other half.
    shoulder = (cx + b.shoulder_hw, y0 + 12, True)
    armpit = (cx + b.armpit_hw, y0 + 0.2 * tl, True)
    hip = (cx + b.hip_hw, y0 + 0.85 * tl, True)
    waist_y = y0 + 0.6 * tl
    # Back view: the buttocks end at the gluteal folds, where the legs begin.
    fold_out = (cx + b.hip_hw + 0.5, yc, True)
    lobe = (cx + b.hip_hw * 0.5, yc + 9, False)
    fold_in = (cx + 1.5, yc + 4, True)
    upper = [
        (cx + b.neck_hw, y0, True),
        (cx + b.shoulder_hw - 13, y0 + 3.5, False),
        shoulder,
        armpit,
        (cx + (b.armpit_hw + b.waist_hw) / 2 + 1.5, y0 + 0.38 * tl, False),
        (cx + b.waist_hw, waist_y, False),
    ]
    if front:
        half = [*upper, hip]
        outline = [*half, (cx, yc, True), *reversed(_mirror(half, cx))]
        navel = y0 + 0.62 * tl
        decor = ((f"M{_c(cx)} {_c(navel - 2)}v4", 0.9),)
        parts.append(_Part("trunk_front", (_path(outline),), decor, (cx, y0 + 0.42 * tl)))
    else:
        t = (0.72 - 0.6) / (0.85 - 0.6)
        belt = (cx + b.waist_hw + (b.hip_hw - b.waist_hw) * t, y0 + 0.72 * tl, True)
        half = [*upper, belt]
        outline = [*half, *reversed(_mirror(half, cx))]
        spine = ((f"M{_c(cx)} {_c(y0 + 0.1 * tl)}V{_c(y0 + 0.6 * tl)}", 0.9),)
        parts.append(_Part("trunk_back", (_path(outline),), spine, (cx, y0 + 0.4 * tl)))
        # Buttocks: from the belt line to the gluteal folds.
        half_b = [belt, (hip[0], hip[1], False), fold_out, lobe, fold_in]
        outline = [*half_b, (cx, yc, True), *reversed(_mirror(half_b, cx))]
        cleft = ((f"M{_c(cx)} {_c(y0 + 0.8 * tl)}V{_c(yc)}", 0.9),)
        parts.append(_Part("buttocks", (_path(outline),), cleft))

    # Arms: built on the viewer's right and mirrored.
    a = math.radians(b.arm_angle)
    dx, dy = math.sin(a), math.cos(a)
    nx, ny = math.cos(a), -math.sin(a)
    jx, jy = cx + b.shoulder_hw - 4, y0 + 16

    def on_arm(t: float, w: float) -> tuple[float, float]:
        s = t * b.arm_len
        return jx + s * dx + w * nx, jy + s * dy + w * ny

    outer = [(0.12, b.arm_hw + 1.5), (0.45, b.arm_hw - 1.5), (0.62, b.forearm_hw),
             (0.84, b.wrist_hw), (0.91, b.hand_hw), (1.0, 0.0)]  # fmt: skip
    inner = [(0.93, -b.hand_hw), (0.84, -b.wrist_hw), (0.6, -b.forearm_hw * 0.9),
             (0.45, -(b.arm_hw - 2.5)), (0.26, -b.arm_hw)]  # fmt: skip
    arm = [shoulder, *((*on_arm(t, w), False) for t, w in (*outer, *inner)), armpit]
    beside = on_arm(0.47, b.arm_hw + 3)  # labels go beside the arm: it is too narrow for text
    viewer_right = "arm_left" if front else "arm_right"
    viewer_left = "arm_right" if front else "arm_left"
    parts.append(
        _Part(viewer_left, (_path(_mirror(arm, cx)),), (), (2 * cx - beside[0], beside[1]), "end")
    )
    parts.append(_Part(viewer_right, (_path(arm),), (), beside, "start"))

    # Legs: built on the viewer's right and mirrored.
    ll = b.leg_len
    yk = yc + 0.48 * ll  # knee
    ya = yc + ll - b.foot_len  # ankle
    xt, xk, xa = cx + b.hip_hw * 0.5, cx + b.hip_hw * 0.47, cx + b.hip_hw * 0.42
    lower = [
        (xt + b.thigh_hw + 1, yc + 0.14 * ll, False),
        (xk + b.knee_hw + 1, yk, False),
        (xk + b.calf_hw + 1, yk + 0.16 * ll, False),
        (xa + b.ankle_hw, ya, False),
        (xa + b.ankle_hw + 3, ya + b.foot_len * 0.75, False),
        (xa + 2, ya + b.foot_len, False),
        (xa - b.ankle_hw - 1, ya + b.foot_len * 0.7, False),
        (xa - b.ankle_hw, ya - 2, False),
        (xk - b.calf_hw * 0.75, yk + 0.2 * ll, False),
        (xk - b.knee_hw + 1, yk, False),
        (xt - b.thigh_hw + 2.5, yc + 0.2 * ll, False),
    ]
    # Front: the leg starts at the groin (hip to crotch); back: at the gluteal fold.
    leg = [hip, *lower, (cx + 1.5, yc, True)] if front else [fold_out, *lower, fold_in, lobe]
    knee = (xt, yc + 0.22 * ll)
    viewer_right = "leg_left" if front else "leg_right"
    viewer_left = "leg_right" if front else "leg_left"
    parts.append(_Part(viewer_left, (_path(_mirror(leg, cx)),), (), (2 * cx - knee[0], knee[1])))
    parts.append(_Part(viewer_right, (_path(leg),), (), knee))

    if front:
        g = [
            (cx, yc - 1.5, True),
            (cx - 8, yc - 12, False),
            (cx, yc - 19, False),
            (cx + 8, yc - 12, False),
        ]
        parts.append(_Part("genitals", (_path(g),)))
    return parts


def _figure_bottom(b: _Build) -> float:
    return _FIG_TOP + 2 * b.head_ry + b.neck_len + b.trunk_len + b.leg_len


# ---------------------------------------------------------------------------------------------
# Rendering


@dataclass(frozen=True)
class _Region:
    """What the map needs to know about one region of an instrument."""

    key: str
    field: str
    label: str  # aria-label
    value_text: str | None  # text drawn on the figure; None when not set
    fraction: float | None  # 0-1; None when not set
    data: tuple[tuple[str, str], ...]


def _region_group(region: _Region, parts: Sequence[_Part], first: bool, view: str, sid: str) -> str:
    known = region.fraction is not None
    if known:
        assert region.fraction is not None
        style = _attrs((("fill", _colour(region.fraction)), ("stroke", _OUTLINE)))
    else:
        style = _attrs(
            (("fill", f"url(#{sid}-unset)"), ("stroke", _UNSET_STROKE), ("stroke-dasharray", "4 2"))
        )
    attrs = [
        ("class", f"bodymap-region{'' if known else ' bodymap-unset'}"),
        ("role", "button"),
        ("tabindex", "0" if first else "-1"),
        ("aria-label", region.label),
        ("data-field", region.field),
        ("data-region", region.key),
        ("data-view", view),
        *region.data,
    ]
    body = [f"<title>{escape(region.label, quote=False)}</title>"]
    for part in parts:
        body.extend(
            f'<path class="bodymap-shape" d="{d}"{style} stroke-width="1.3" stroke-linejoin="round"/>'
            for d in part.shapes
        )
        body.extend(
            f'<path class="bodymap-decor" d="{d}" fill="none" stroke="{_OUTLINE}" '
            f'stroke-width="{_c(w)}" stroke-linecap="round" opacity="0.6"/>'
            for d, w in part.decor
        )
    return f"<g{_attrs(attrs)}>{''.join(body)}</g>"


def _label(region: _Region, part: _Part) -> str:
    if part.anchor is None:
        return ""
    x, y = part.anchor
    if region.fraction is None:
        text, fill = "?", "#555555"
    else:
        assert region.value_text is not None
        text = f"{region.value_text}%"
        fill = _TEXT if part.align != "middle" else _text_colour(region.fraction)
    halo = (
        ' stroke="#ffffff" stroke-width="2.5" stroke-opacity="0.8" paint-order="stroke"'
        if fill != "#ffffff"
        else ""
    )
    return (
        f'<text x="{_c(x)}" y="{_c(y + 3.5)}" fill="{fill}"{halo} text-anchor="{part.align}" '
        f'font-size="10" font-weight="600">{escape(text, quote=False)}</text>'
    )


def _render(
    *,
    sid: str,
    title: str,
    desc: str,
    infant: bool,
    regions: Mapping[str, _Region],
    part_region: Mapping[str, str | None],
    legend: Sequence[str],
    width: int | None,
    instrument: str,
) -> str:
    build = _INFANT if infant else _ADULT
    figures = [
        ("front", _figure(build, _PANEL_W / 2, _FIG_TOP, "front")),
        ("back", _figure(build, _PANEL_W * 1.5, _FIG_TOP, "back")),
    ]
    shapes: list[str] = []
    labels: list[str] = []
    seen: set[str] = set()
    for key, region in regions.items():
        for view, parts in figures:
            mine = [p for p in parts if part_region.get(p.name) == key]
            if not mine:
                continue
            shapes.append(_region_group(region, mine, key not in seen, view, sid))
            seen.add(key)
            labels.extend(_label(region, p) for p in mine)
    size = ""
    if width is not None:
        height = round(width * _VIEW_H / _VIEW_W)
        size = f' width="{int(width)}" height="{height}"'
    foot = _figure_bottom(build) + 16
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_VIEW_W} {_VIEW_H}"{size}'
        f"{_attrs((('id', sid), ('class', 'bodymap'), ('role', 'group')))}"
        f' aria-labelledby="{escape(sid, quote=True)}-title {escape(sid, quote=True)}-desc"'
        f"{_attrs((('data-instrument', instrument), ('data-figure', 'infant' if infant else 'adult')))}"
        f' font-family="{escape(_FONT, quote=True)}">'
    )
    esid = escape(sid, quote=True)
    css = (
        f"#{sid} .bodymap-region{{cursor:pointer}}"
        f"#{sid} .bodymap-region:hover>.bodymap-shape,"
        f"#{sid} .bodymap-region:focus>.bodymap-shape{{stroke:#1c71d8;stroke-width:2.6}}"
        f"#{sid} .bodymap-region:focus{{outline:none}}"
    )
    out = [
        head,
        f'<title id="{esid}-title">{escape(title, quote=False)}</title>',
        f'<desc id="{esid}-desc">{escape(desc, quote=False)}</desc>',
        "<defs>"
        f'<pattern id="{esid}-unset" patternUnits="userSpaceOnUse" width="6" height="6" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f2f2f2"/>'
        '<path d="M0 0V6" stroke="#a6a6a6" stroke-width="2"/></pattern>'
        "</defs>",
        # CSS selectors need the id as written; ids here come from a restricted alphabet.
        f"<style>{css}</style>",
        f'<g fill="{_TEXT}" font-size="13" font-weight="600" text-anchor="middle" '
        'aria-hidden="true">'
        f'<text x="{_c(_PANEL_W / 2)}" y="22">Front</text>'
        f'<text x="{_c(_PANEL_W * 1.5)}" y="22">Back</text></g>',
        f'<g fill="#666666" font-size="11" text-anchor="middle" aria-hidden="true">'
        f'<text x="{_c(_PANEL_W / 2 - 62)}" y="{_c(foot)}">R</text>'
        f'<text x="{_c(_PANEL_W / 2 + 62)}" y="{_c(foot)}">L</text>'
        f'<text x="{_c(_PANEL_W * 1.5 - 62)}" y="{_c(foot)}">L</text>'
        f'<text x="{_c(_PANEL_W * 1.5 + 62)}" y="{_c(foot)}">R</text></g>',
        '<g class="bodymap-regions">',
        *shapes,
        "</g>",
        f'<g class="bodymap-values" aria-hidden="true" pointer-events="none">{"".join(labels)}</g>',
        f'<g class="bodymap-legend" fill="{_TEXT}" font-size="11">{"".join(legend)}</g>',
        "</svg>",
    ]
    return "".join(out)


def _sid(id_prefix: str) -> str:
    ok = id_prefix[:1].isascii() and id_prefix[:1].isalpha()
    if not ok or not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in id_prefix):
        raise ValueError(
            f"id_prefix: {id_prefix!r} is not an id (ASCII letter, then letters, digits, - or _)"
        )
    return id_prefix


def _legend_text(x: float, y: float, text: str, **attrs: str) -> str:
    extra = _attrs((k.replace("_", "-"), v) for k, v in attrs.items())
    return f'<text x="{_c(x)}" y="{_c(y)}"{extra}>{escape(text, quote=False)}</text>'


def _colour_key(y: float, sid: str) -> list[str]:
    out = [_legend_text(_LEGEND_X, y, "Involvement (% of region)", fill="#555555")]
    y += 8
    for i, pct in enumerate((0, 25, 50, 75, 100)):
        x = _LEGEND_X + i * 30
        out.append(
            f'<rect x="{_c(x)}" y="{_c(y)}" width="26" height="12" fill="{_colour(pct / 100)}" '
            f'stroke="{_OUTLINE}" stroke-width="0.8"/>'
        )
        out.append(_legend_text(x + 13, y + 24, str(pct), text_anchor="middle", font_size="9"))
    x = _LEGEND_X + 5 * 30 + 4
    out.append(
        f'<rect x="{_c(x)}" y="{_c(y)}" width="26" height="12" fill="url(#{escape(sid, quote=True)}-unset)" '
        f'stroke="{_UNSET_STROKE}" stroke-dasharray="3 2" stroke-width="0.8"/>'
    )
    out.append(_legend_text(x + 13, y + 24, "not set", text_anchor="middle", font_size="9"))
    return out


# ---------------------------------------------------------------------------------------------
# SCORAD


_SCORAD_PARTS: dict[str, str | None] = {
    "head": "head_neck",
    "trunk_front": "anterior_trunk",
    "trunk_back": "back",
    "buttocks": "back",
    "arm_left": "left_upper_limb",
    "arm_right": "right_upper_limb",
    "leg_left": "left_lower_limb",
    "leg_right": "right_lower_limb",
    "genitals": "genitals",
}


def body_map_svg(
    involvement: Mapping[str, object],
    *,
    age_years: float | None,
    instrument: str = "SCORAD",
    field_prefix: str = "extent.",
    width: int | None = 600,
    id_prefix: str = "bodymap",
) -> str:
    """Inline SVG body map for SCORAD extent entry (also oSCORAD and PO-SCORAD).

    ``involvement``: % of each region involved (keys ``scorad.REGIONS``; missing or None = not
    set; values 0-100 in steps of 0.1, else ValueError). ``age_years`` picks the shares and the
    figure (infant under 2); None draws the adult figure and gives both shares in the labels.
    ``field_prefix`` + region is each region's ``data-field``. ``width`` sets the pixel width
    (height follows; None leaves sizing to CSS). ``id_prefix`` is the SVG's id, and the prefix of
    the ids inside it: give each map on one page its own.
    """
    if instrument not in SCORAD_NAMES:
        raise ValueError(f"instrument: {instrument!r} is not one of {', '.join(SCORAD_NAMES)}")
    sid = _sid(id_prefix)
    tenths = _checked(involvement, scorad.REGIONS, scorad.INVOLVEMENT)
    age = None if age_years is None else _age(age_years)
    infant = age is not None and age < scorad.INFANT_AGE_LIMIT
    shares = region_shares(age) if age is not None else None
    adult_shares, infant_shares = region_shares(scorad.INFANT_AGE_LIMIT), region_shares(0)

    def share_text(r: str) -> str:
        if shares is not None:
            return f"{shares[r]} % of body surface"
        if adult_shares[r] == infant_shares[r]:
            return f"{adult_shares[r]} % of body surface"
        return f"{adult_shares[r]} % of body surface from age 2, {infant_shares[r]} % under 2"

    regions: dict[str, _Region] = {}
    for r in scorad.REGIONS:
        name = scorad.REGION_LABELS[r]
        data: list[tuple[str, str]] = []
        if shares is not None:
            data.append(("data-share", str(shares[r])))
        if tenths[r] is None:
            label, value_text, fraction = f"{name}: not set ({share_text(r)})", None, None
        else:
            value_text = _num(Decimal(tenths[r]) / 10)
            fraction = tenths[r] / 1000
            label = f"{name}: {value_text} % involved ({share_text(r)})"
            data.append(("data-involvement", value_text))
        regions[r] = _Region(r, f"{field_prefix}{r}", label, value_text, fraction, tuple(data))

    if age is None:
        basis = "Rule of nines (age not given)"
    elif infant:
        basis = f"Infant shares (age {_num(age)})"
    else:
        basis = f"Rule of nines (age {_num(age)})"
    title = f"{instrument} extent body map, front and back"
    if age is not None:
        title += f" ({'infant figure, ' if infant else ''}age {_num(age)} years)"
    desc = (
        "Each region shows its involvement in % of that region; click a region or press Enter on "
        "it to enter its involvement. Hatched regions are not set. On the front figure the "
        "patient's right is on the left. "
        + "; ".join(regions[r].label for r in scorad.REGIONS)
        + "."
    )

    legend = [_legend_text(_LEGEND_X, 22, basis, font_weight="600", font_size="12")]
    y = 46.0
    legend.append(_legend_text(_LEGEND_X, y, "Region", fill="#555555"))
    legend.append(_legend_text(_LEGEND_X + 132, y, "Share", fill="#555555", text_anchor="end"))
    legend.append(_legend_text(_LEGEND_X + 192, y, "Involved", fill="#555555", text_anchor="end"))
    for r in scorad.REGIONS:
        y += 17
        share = str(shares[r]) if shares is not None else str(adult_shares[r])
        reg = regions[r]
        legend.append(_legend_text(_LEGEND_X, y, scorad.REGION_LABELS[r]))
        legend.append(_legend_text(_LEGEND_X + 132, y, f"{share} %", text_anchor="end"))
        shown = "—" if reg.value_text is None else f"{reg.value_text} %"
        legend.append(_legend_text(_LEGEND_X + 192, y, shown, text_anchor="end"))
    y += 9
    legend.append(f'<path d="M{_LEGEND_X} {_c(y)}h192" stroke="#bbbbbb" stroke-width="0.8"/>')
    y += 15
    total_share = sum((shares or adult_shares).values())
    legend.append(_legend_text(_LEGEND_X, y, "Total", fill="#555555"))
    legend.append(_legend_text(_LEGEND_X + 132, y, f"{total_share} %", text_anchor="end"))
    y += 22
    missing = [r for r in scorad.REGIONS if tenths[r] is None]
    if age is None:
        a_text = "A: needs the age"
    elif missing:
        a_text = f"A: {len(missing)} region{'s' if len(missing) != 1 else ''} not set"
    else:
        a_text = f"A = {_num(percent_bsa(involvement, age))} % of body surface"
    legend.append(_legend_text(_LEGEND_X, y, a_text, font_weight="600", font_size="12"))
    if infant and total_share != 100:
        for line in (f"Under 2 years the shares sum to {total_share} %,", "as on the ETFAD form."):
            y += 14
            legend.append(_legend_text(_LEGEND_X, y, line, font_size="10", fill="#555555"))
    legend.extend(_colour_key(y + 26, sid))
    return _render(
        sid=sid,
        title=title,
        desc=desc,
        infant=infant,
        regions=regions,
        part_region=_SCORAD_PARTS,
        legend=legend,
        width=width,
        instrument=instrument,
    )


# ---------------------------------------------------------------------------------------------
# EASI


_EASI_PARTS: dict[str, str | None] = {
    "head": "head_neck",
    "arm_left": "upper_limbs",
    "arm_right": "upper_limbs",
    "trunk_front": "trunk",
    "trunk_back": "trunk",
    "genitals": "trunk",
    "buttocks": "lower_limbs",
    "leg_left": "lower_limbs",
    "leg_right": "lower_limbs",
}


def easi_regions_svg(
    area_percent: Mapping[str, object],
    *,
    age_years: float | None = None,
    field_prefix: str = "",
    field_suffix: str = ".area_percent",
    width: int | None = 600,
    id_prefix: str = "easimap",
) -> str:
    """Inline SVG body map for EASI area entry: the four EASI regions on a front and back figure.

    ``area_percent``: % of each region involved (keys ``easi.REGIONS``: head_neck, upper_limbs,
    trunk incl. genitals, lower_limbs incl. buttocks; missing or None = not set; 0-100, else
    ValueError). Each region's ``data-field`` is ``field_prefix + region + field_suffix``
    (``trunk.area_percent``); its label gives the EASI area score (0-6) and, with the age, the
    region's multiplier (child multipliers under 8). Infant figure under 2 years.
    """
    sid = _sid(id_prefix)
    values = _checked(area_percent, easi.REGIONS, easi.AREA_PERCENT)
    age = None if age_years is None else _age(age_years)
    infant = age is not None and age < scorad.INFANT_AGE_LIMIT
    child = age is not None and age < easi.CHILD_AGE_LIMIT

    regions: dict[str, _Region] = {}
    for r in easi.REGIONS:
        name = easi.REGION_LABELS[r]
        adult_m, child_m = easi.MULTIPLIER_TENTHS[r]
        multiplier = None if age is None else _num(Decimal(child_m if child else adult_m) / 10)
        data: list[tuple[str, str]] = []
        if multiplier is not None:
            data.append(("data-multiplier", multiplier))
        extra = "" if multiplier is None else f", multiplier {multiplier}"
        value = values[r]
        if value is None:
            label, value_text, fraction = f"{name}: not set", None, None
            if extra:
                label += f" ({extra[2:]})"
        else:
            value_text = _num(value)
            fraction = value / 100
            area = easi.area_score(value, SCALAR)
            label = f"{name}: {value_text} % involved (area score {area}{extra})"
            data += [("data-involvement", value_text), ("data-area-score", str(area))]
        regions[r] = _Region(
            r, f"{field_prefix}{r}{field_suffix}", label, value_text, fraction, tuple(data)
        )

    if age is None:
        basis = "EASI regions (age not given)"
    else:
        basis = f"{'Child' if child else 'Adult'} multipliers (age {_num(age)})"
    title = "EASI body map, front and back"
    if age is not None:
        title += f" ({'infant figure, ' if infant else ''}age {_num(age)} years)"
    desc = (
        "Four EASI regions; each shows its area involved in % of that region; click a region or "
        "press Enter on it to enter its area. Genitals belong to the trunk, buttocks to the lower "
        "limbs. Hatched regions are not set. "
        + "; ".join(regions[r].label for r in easi.REGIONS)
        + "."
    )
    legend = [_legend_text(_LEGEND_X, 22, basis, font_weight="600", font_size="12")]
    y = 46.0
    legend.append(_legend_text(_LEGEND_X, y, "Region", fill="#555555"))
    legend.append(_legend_text(_LEGEND_X + 132, y, "Area", fill="#555555", text_anchor="end"))
    legend.append(_legend_text(_LEGEND_X + 180, y, "Score", fill="#555555", text_anchor="end"))
    for r in easi.REGIONS:
        y += 17
        reg = regions[r]
        legend.append(_legend_text(_LEGEND_X, y, EASI_SHORT_LABELS[r]))
        shown = "—" if reg.value_text is None else f"{reg.value_text} %"
        score = dict(reg.data).get("data-area-score", "—")
        legend.append(_legend_text(_LEGEND_X + 132, y, shown, text_anchor="end"))
        legend.append(_legend_text(_LEGEND_X + 180, y, score, text_anchor="end"))
    y += 18
    legend.append(
        _legend_text(
            _LEGEND_X, y, "Genitals: trunk. Buttocks: lower limbs.", font_size="9", fill="#555555"
        )
    )
    legend.extend(_colour_key(y + 26, sid))
    return _render(
        sid=sid,
        title=title,
        desc=desc,
        infant=infant,
        regions=regions,
        part_region=_EASI_PARTS,
        legend=legend,
        width=width,
        instrument=easi.EASI.name,
    )
