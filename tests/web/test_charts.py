"""The timeline chart: well-formed, accessible SVG with panels, bands, markers and doses."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from atopic.instruments import EASI, SCORAD
from atopic.web.charts import timeline_svg

NS = {"s": "http://www.w3.org/2000/svg"}
D0 = date(2026, 1, 5)


def week(n: int) -> date:
    return D0 + timedelta(weeks=n)


SERIES = {
    "EASI": [
        (week(0), Decimal("31.2")),
        (week(4), Decimal("24.1")),
        (week(8), Decimal("19.6")),
        (week(12), Decimal("17.5")),
    ],
    "SCORAD": [(week(0), 62.3), (week(6), 45), (week(12), 38.2)],
    "PP-NRS": [(week(n), v) for n, v in ((0, 8), (1, 7), (2, 7), (4, 6), (8, 4), (12, 3))],
}
DOSES = [(week(1), "MSC dose"), (week(5), "MSC dose"), (week(9), "MSC dose")]


def render(series: Mapping[str, Any] = SERIES, doses: Sequence[Any] = DOSES, **kw: Any) -> str:
    kw.setdefault("title", "Subject ATO-0001")
    return timeline_svg(series, doses, **kw)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def panels(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{{{NS['s']}}}g") if "panel" in g.get("class", "").split()]


def by_class(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{{{NS['s']}}}{tag}") if cls in e.get("class", "").split()]


def test_parses_as_accessible_svg() -> None:
    root = parse(render())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    title = root.find("s:title", NS)
    desc = root.find("s:desc", NS)
    assert title is not None
    assert title.text == "Subject ATO-0001"
    assert desc is not None
    assert desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "EASI from 31.2 on 2026-01-05 to 17.5 on 2026-03-30" in desc.text
    assert "SCORAD from 62.3 on 2026-01-05 to 38.2 on 2026-03-30" in desc.text
    assert "PP-NRS from 8 on 2026-01-05 to 3 on 2026-03-30 (6 points)" in desc.text
    assert "MSC dose on 2026-01-12" in desc.text
    assert desc.text.startswith("Latest EASI 17.5 on 2026-03-30, moderate.")


def test_self_contained() -> None:
    svg = render()
    for banned in ("<script", "href", "@import", "url(http", "<image", "<foreignObject", "<style"):
        assert banned not in svg
    # the only url() references are the panels' own clip paths
    root = parse(svg)
    ids = {e.get("id") for e in root.iter() if e.get("id")}
    for e in root.iter():
        ref = e.get("clip-path")
        if ref:
            assert ref.startswith("url(#")
            assert ref[5:-1] in ids


def test_one_polyline_per_series_and_a_marker_per_point() -> None:
    root = parse(render())
    found = panels(root)
    assert [p.get("data-series") for p in found] == ["EASI", "SCORAD", "PP-NRS"]
    for panel, (label, points) in zip(found, SERIES.items(), strict=True):
        lines = by_class(panel, "polyline", "series")
        assert len(lines) == 1, label
        assert len(lines[0].get("points", "").split()) == len(points)
        assert len(by_class(panel, "circle", "marker")) == len(points)


def test_points_are_drawn_in_date_order() -> None:
    shuffled = {"EASI": [(week(8), 10), (week(0), 30), (week(4), 20)]}
    root = parse(render(shuffled, []))
    coords = by_class(root, "polyline", "series")[0].get("points", "").split()
    xs = [float(c.split(",")[0]) for c in coords]
    ys = [float(c.split(",")[1]) for c in coords]
    assert xs == sorted(xs)
    assert ys == sorted(ys)  # falling values: y grows downwards


def test_easi_and_scorad_bands_from_the_instrument_declarations() -> None:
    root = parse(render())
    easi, scorad, nrs = panels(root)
    leshem = EASI.bandings[0].sets["leshem2015"]
    classic = SCORAD.bandings[0].sets["classic"]
    assert [t.text for t in by_class(easi, "text", "band-label")] == list(leshem.labels())
    assert len(by_class(easi, "rect", "band")) == len(leshem.cuts)
    assert [t.text for t in by_class(scorad, "text", "band-label")] == list(classic.labels())
    assert len(by_class(scorad, "rect", "band")) == len(classic.cuts)
    assert by_class(nrs, "rect", "band") == []


def test_band_rectangles_stack_upwards_and_fill_the_panel() -> None:
    root = parse(render())
    easi = panels(root)[0]
    rects = by_class(easi, "rect", "band")
    tops = [float(r.get("y", "")) for r in rects]
    bottoms = [t + float(r.get("height", "")) for t, r in zip(tops, rects, strict=True)]
    assert tops == sorted(tops, reverse=True)  # clear at the bottom, very severe on top
    for upper_bottom, lower_top in zip(bottoms[1:], tops, strict=False):
        assert upper_bottom == pytest.approx(lower_top, abs=0.02)
    # the severe band (21.1-50.1) is 29/72 of the panel
    height = bottoms[0] - tops[-1]
    assert bottoms[4] - tops[4] == pytest.approx(height * 29 / 72, abs=0.05)


def test_y_ranges_by_label_and_by_data() -> None:
    svg = render({"EASI": [(D0, 10)], "Weight kg": [(D0, 71.5), (week(2), 73)]}, [])
    assert "0–72" in svg
    assert "0–80" in svg  # unknown label: 0 to a round number above the largest value


def test_dose_lines_and_labels() -> None:
    root = parse(render())
    groups = by_class(root, "g", "dose")
    assert len(groups) == len(DOSES)
    assert [t.text for t in by_class(root, "text", "dose-label")] == ["MSC dose"] * 3
    # a dashed line per dose in every panel
    for panel in panels(root):
        lines = by_class(panel, "line", "dose-line")
        assert len(lines) == len(DOSES)
        assert all(line.get("stroke-dasharray") for line in lines)


def test_crowded_doses_share_a_label() -> None:
    doses = [(D0 + timedelta(days=d), "MSC dose") for d in (1, 2, 3, 4)]
    root = parse(render(doses=doses))
    assert len(by_class(root, "g", "dose")) == 4
    assert [t.text for t in by_class(root, "text", "dose-label")] == ["MSC dose ×4"]


def test_today_marker_extends_the_axis() -> None:
    root = parse(render(today=week(20)))
    assert [t.text for t in by_class(root, "text", "today-label")] == ["today"]
    assert "wk 20" in [t.text for t in root.iter(f"{{{NS['s']}}}text")]
    desc = root.find("s:desc", NS)
    assert desc is not None
    assert "Today: 2026-05-25." in (desc.text or "")


def test_text_is_escaped() -> None:
    evil = "<script>alert(1)</script>"
    svg = render({f"EASI {evil}": [(D0, 3)]}, [(D0, f"dose {evil} & co")], title=f"Subject {evil}")
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    root = parse(svg)
    texts = [t.text or "" for t in root.iter(f"{{{NS['s']}}}text")]
    assert f"dose {evil} & co" in texts
    title = root.find("s:title", NS)
    assert title is not None
    assert title.text == f"Subject {evil}"
    assert panels(root)[0].get("data-series") == f"EASI {evil}"


def test_deterministic() -> None:
    assert render() == render()
    reordered = {k: list(reversed(v)) for k, v in SERIES.items()}
    assert render(reordered) == render()
    assert render(title="A") != render(title="B")


def test_empty_series_says_no_data() -> None:
    root = parse(render({"EASI": [], "PP-NRS": [(D0, 4), (week(1), 5)]}, []))
    easi, nrs = panels(root)
    assert by_class(easi, "polyline", "series") == []
    assert by_class(easi, "circle", "marker") == []
    assert [t.text for t in by_class(easi, "text", "no-data")] == ["no data"]
    assert len(by_class(nrs, "circle", "marker")) == 2
    desc = root.find("s:desc", NS)
    assert desc is not None
    assert "EASI: no data." in (desc.text or "")


def test_nothing_at_all() -> None:
    root = parse(render({}, []))
    assert len(panels(root)) == 1
    assert [t.text for t in by_class(root, "text", "no-data")] == ["no data"]
    desc = root.find("s:desc", NS)
    assert desc is not None
    assert desc.text == "No assessments recorded. No doses."


def test_single_point() -> None:
    root = parse(render({"EASI": [(D0, Decimal("12.5"))]}, []))
    assert len(by_class(root, "circle", "marker")) == 1
    assert len(by_class(root, "polyline", "series")) == 1
    desc = root.find("s:desc", NS)
    assert desc is not None
    assert "EASI 12.5 on 2026-01-05 (1 point, latest band moderate)" in (desc.text or "")


def test_identical_dates() -> None:
    same = {"EASI": [(D0, 10), (D0, 12)], "SCORAD": [(D0, 30)]}
    root = parse(render(same, [(D0, "MSC dose")]))
    xs = {c.get("cx") for c in by_class(root, "circle", "marker")}
    assert len(xs) == 1
    svg = render(same, [(D0, "MSC dose")])
    assert "nan" not in svg.lower()
    assert "inf" not in svg.lower()


def test_out_of_range_values_are_clipped_but_labelled() -> None:
    svg = render({"EASI": [(D0, 80), (week(1), 40), (week(2), -2)]}, [])
    root = parse(svg)
    markers = by_class(root, "circle", "marker")
    assert len(markers) == 3
    clipped = [g for g in root.iter(f"{{{NS['s']}}}g") if g.get("clip-path")]
    assert len(clipped) == 1
    assert len(list(clipped[0])) == 4
    assert len(by_class(root, "polygon", "off-scale")) == 2
    values = [t.text for t in by_class(root, "text", "value")]
    assert "80" in values
    assert "-2" in values
    desc = root.find("s:desc", NS)
    assert desc is not None
    assert "2 outside the 0-72 scale" in (desc.text or "")


def test_missing_values_are_skipped() -> None:
    root = parse(render({"PP-NRS": [(D0, None), (week(1), 3), (week(2), float("nan"))]}, []))
    assert len(by_class(root, "circle", "marker")) == 1


def test_height_and_width_are_honoured() -> None:
    root = parse(render(width=900, height=700))
    assert root.get("width") == "900"
    assert root.get("height") == "700"
    assert root.get("viewBox") == "0 0 900 700"


def test_sample_writes_a_file(tmp_path: Path) -> None:
    path = tmp_path / "timeline_sample.svg"
    path.write_text(render(today=week(13)), encoding="utf-8")
    assert ET.parse(path).getroot().get("role") == "img"
