"""Body maps for SCORAD and EASI extent entry: well-formed SVG, fields, labels, shares, A."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atopic.instruments import compute_scorad, easi, scorad
from atopic.instruments.unverified import SCORAD_INFANT_SHARES
from atopic.web.bodymap import body_map_svg, easi_regions_svg, percent_bsa, region_shares

SVG = "{http://www.w3.org/2000/svg}"
INVOLVEMENT = {
    "head_neck": 50,
    "anterior_trunk": 20,
    "back": 10,
    "left_upper_limb": 30,
    "right_upper_limb": 30,
    "left_lower_limb": 10,
    "right_lower_limb": 12.5,
    "genitals": 0,
}
SIGNS = {
    "erythema": 2,
    "oedema_papulation": 2,
    "oozing_crusts": 1,
    "excoriation": 2,
    "lichenification": 1,
    "dryness": 2,
}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def buttons(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("role") == "button"]


def by_field(root: ET.Element) -> dict[str, list[ET.Element]]:
    out: dict[str, list[ET.Element]] = {}
    for g in buttons(root):
        out.setdefault(g.get("data-field", ""), []).append(g)
    return out


# --- shares and A ------------------------------------------------------------------------------


def test_region_shares_adult_is_the_rule_of_nines() -> None:
    assert region_shares(34) == scorad.SHARES
    assert region_shares(2) == scorad.SHARES  # 2 years is no longer an infant
    assert sum(region_shares(34).values()) == 100


def test_region_shares_under_2_use_the_infant_figures() -> None:
    shares = region_shares(1.5)
    assert shares["head_neck"] == SCORAD_INFANT_SHARES["head_neck"] == 17
    assert shares["left_lower_limb"] == shares["right_lower_limb"] == 12
    assert shares["back"] == scorad.SHARES["back"]
    assert region_shares(1.99) == region_shares(0)


@pytest.mark.parametrize("age", [None, -1, 131, float("nan"), "34", True])
def test_region_shares_refuse_a_bad_age(age: object) -> None:
    with pytest.raises(ValueError, match="age_years"):
        region_shares(age)  # type: ignore[arg-type]


def test_percent_bsa_worked_example() -> None:
    # 9*50 + 18*20 + 18*10 + 9*30 + 9*30 + 18*10 + 18*12.5 + 1*0 = 1935 -> 19.35
    assert percent_bsa(INVOLVEMENT, 34) == Decimal("19.35")
    # infant: 17*50 + ... + 12*10 + 12*12.5 = 850+360+180+270+270+120+150 = 2200 -> 22
    assert percent_bsa(INVOLVEMENT, 1) == Decimal("22")


def test_percent_bsa_needs_every_region_and_valid_values() -> None:
    with pytest.raises(ValueError, match="genitals"):
        percent_bsa({**INVOLVEMENT, "genitals": None}, 34)
    with pytest.raises(ValueError, match=r"steps of 0\.1"):
        percent_bsa({**INVOLVEMENT, "back": 10.05}, 34)
    with pytest.raises(ValueError, match="unknown region"):
        percent_bsa({**INVOLVEMENT, "trunk": 5}, 34)


tenths = st.integers(min_value=0, max_value=1000)


@settings(max_examples=200, deadline=None)
@given(
    values=st.fixed_dictionaries(dict.fromkeys(scorad.REGIONS, tenths)),
    age=st.one_of(
        st.floats(min_value=0, max_value=130, allow_nan=False),
        st.sampled_from([0, 1.999, 2, 2.0, 130]),
    ),
    as_float=st.booleans(),
)
def test_percent_bsa_equals_scorad_extent(
    values: dict[str, int], age: float, as_float: bool
) -> None:
    involvement = {r: (u / 10 if as_float else Decimal(u) / 10) for r, u in values.items()}
    data = {
        "age_years": age,
        "extent": involvement,
        "intensity": SIGNS,
        "pruritus": 5,
        "sleeplessness": 5,
    }
    assert percent_bsa(involvement, age) == compute_scorad(data).extent


# --- SCORAD map --------------------------------------------------------------------------------


@pytest.mark.parametrize("age", [34, 1, None])
def test_map_is_xml_with_every_field(age: float | None) -> None:
    root = parse(body_map_svg(INVOLVEMENT, age_years=age))
    assert root.tag == f"{SVG}svg"
    fields = by_field(root)
    assert set(fields) == {f"extent.{r}" for r in scorad.REGIONS}
    for g in buttons(root):
        assert g.get("tabindex") in ("0", "-1")
        assert g.get("aria-label")
        assert g.find(f"{SVG}title") is not None
        assert g.find(f"{SVG}path") is not None


def test_one_tab_stop_per_field_and_limbs_on_both_figures() -> None:
    root = parse(body_map_svg(INVOLVEMENT, age_years=34))
    fields = by_field(root)
    for field, groups in fields.items():
        assert [g.get("tabindex") for g in groups].count("0") == 1, field
        # every half of a field says the same thing
        assert len({g.get("aria-label") for g in groups}) == 1, field
    views = {f: {g.get("data-view") for g in gs} for f, gs in fields.items()}
    for limb in ("left_upper_limb", "right_upper_limb", "left_lower_limb", "right_lower_limb"):
        assert views[f"extent.{limb}"] == {"front", "back"}
    assert views["extent.head_neck"] == {"front", "back"}
    assert views["extent.back"] == {"back"}
    assert views["extent.anterior_trunk"] == {"front"}
    assert views["extent.genitals"] == {"front"}


def test_tab_order_follows_the_form() -> None:
    root = parse(body_map_svg(INVOLVEMENT, age_years=34))
    stops = [g.get("data-region") for g in buttons(root) if g.get("tabindex") == "0"]
    assert stops == list(scorad.REGIONS)


def test_aria_labels_carry_involvement_and_share() -> None:
    fields = by_field(parse(body_map_svg(INVOLVEMENT, age_years=34)))
    label = fields["extent.anterior_trunk"][0].get("aria-label")
    assert label == "Anterior trunk: 20 % involved (18 % of body surface)"
    assert fields["extent.right_lower_limb"][0].get("aria-label") == (
        "Right lower limb: 12.5 % involved (18 % of body surface)"
    )
    assert fields["extent.genitals"][0].get("aria-label") == (
        "Genitals: 0 % involved (1 % of body surface)"
    )
    assert fields["extent.back"][0].get("data-involvement") == "10"
    assert fields["extent.back"][0].get("data-share") == "18"


def test_infant_shares_and_figure_under_2() -> None:
    adult = parse(body_map_svg(INVOLVEMENT, age_years=2))
    infant = parse(body_map_svg(INVOLVEMENT, age_years=1.5))
    head = "Head and neck: 50 % involved ({} % of body surface)"
    assert by_field(adult)["extent.head_neck"][0].get("aria-label") == head.format(9)
    assert by_field(infant)["extent.head_neck"][0].get("aria-label") == head.format(17)
    assert by_field(infant)["extent.left_lower_limb"][0].get("data-share") == "12"
    assert adult.get("data-figure") == "adult"
    assert infant.get("data-figure") == "infant"
    # the infant head is drawn bigger than the adult's
    assert head_width(infant) > head_width(adult)


def head_width(root: ET.Element) -> float:
    group = by_field(root)["extent.head_neck"][0]
    shapes = [p for p in group.findall(f"{SVG}path") if p.get("class") == "bodymap-shape"]
    d = shapes[-1].get("d", "")  # the head ellipse is drawn last (over the ears and neck)
    rx = float(re.match(r"M[-\d.]+ [-\d.]+a([\d.]+)", d).group(1))  # type: ignore[union-attr]
    return 2 * rx


def test_age_not_given_names_both_shares() -> None:
    fields = by_field(parse(body_map_svg(INVOLVEMENT, age_years=None)))
    assert fields["extent.head_neck"][0].get("aria-label") == (
        "Head and neck: 50 % involved (9 % of body surface from age 2, 17 % under 2)"
    )
    assert fields["extent.back"][0].get("aria-label") == (
        "Back: 10 % involved (18 % of body surface)"
    )


def test_unknown_involvement_is_drawn_distinctly() -> None:
    svg = body_map_svg({"back": 0, "anterior_trunk": None}, age_years=34)
    fields = by_field(parse(svg))
    unset = fields["extent.anterior_trunk"][0]
    zero = fields["extent.back"][0]
    assert unset.get("aria-label") == "Anterior trunk: not set (18 % of body surface)"
    assert "data-involvement" not in unset.attrib
    unset_path, zero_path = unset.find(f"{SVG}path"), zero.find(f"{SVG}path")
    assert unset_path is not None
    assert zero_path is not None
    assert unset_path.get("fill", "").startswith("url(#")
    assert unset_path.get("stroke-dasharray")
    assert not zero_path.get("fill", "").startswith("url(")
    assert zero_path.get("stroke-dasharray") is None
    assert "bodymap-unset" in unset.get("class", "")


def test_fill_darkens_with_involvement() -> None:
    def fill(value: float) -> str:
        group = by_field(parse(body_map_svg({"back": value}, age_years=34)))["extent.back"][0]
        path = group.find(f"{SVG}path")
        assert path is not None
        return path.get("fill", "")

    def lightness(colour: str) -> int:
        return sum(int(colour[i : i + 2], 16) for i in (1, 3, 5))

    shades = [lightness(fill(v)) for v in (0, 10, 50, 90, 100)]
    assert shades == sorted(shades, reverse=True)
    assert len(set(shades)) == len(shades)


def test_output_is_deterministic() -> None:
    assert body_map_svg(INVOLVEMENT, age_years=34) == body_map_svg(
        dict(reversed(INVOLVEMENT.items())), age_years=34
    )
    assert easi_regions_svg({"trunk": 20}, age_years=5) == easi_regions_svg(
        {"trunk": 20}, age_years=5
    )


def test_text_is_escaped() -> None:
    svg = body_map_svg(INVOLVEMENT, age_years=34, field_prefix='x"><script>&')
    root = parse(svg)
    assert "<script" not in svg
    assert {g.get("data-field") for g in buttons(root)} == {
        f'x"><script>&{r}' for r in scorad.REGIONS
    }


def test_no_script_and_accessible_root() -> None:
    svg = body_map_svg(INVOLVEMENT, age_years=34, id_prefix="visit-3")
    root = parse(svg)
    assert not list(root.iter(f"{SVG}script"))
    assert not re.search(r"\son[a-z]+=", svg)  # no event handler attributes
    assert root.get("id") == "visit-3"
    assert root.get("aria-labelledby") == "visit-3-title visit-3-desc"
    assert root.find(f"{SVG}title").get("id") == "visit-3-title"  # type: ignore[union-attr]
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert desc.get("id") == "visit-3-desc"
    assert "Anterior trunk: 20 % involved" in (desc.text or "")


def test_options_and_refusals() -> None:
    root = parse(
        body_map_svg({}, age_years=34, instrument="PO-SCORAD", field_prefix="", width=None)
    )
    assert root.get("width") is None
    assert root.get("data-instrument") == "PO-SCORAD"
    assert "extent.back" not in by_field(root)
    assert "back" in by_field(root)
    assert parse(body_map_svg({}, age_years=34, width=300)).get("width") == "300"
    with pytest.raises(ValueError, match="instrument"):
        body_map_svg({}, age_years=34, instrument="EASI")
    with pytest.raises(ValueError, match="0 to 100"):
        body_map_svg({"back": 101}, age_years=34)
    with pytest.raises(ValueError, match="unknown region"):
        body_map_svg({"trunk": 1}, age_years=34)
    with pytest.raises(ValueError, match="id_prefix"):
        body_map_svg({}, age_years=34, id_prefix="a b")


def test_legend_shows_a_when_complete() -> None:
    complete = body_map_svg(INVOLVEMENT, age_years=34)
    assert "A = 19.35 % of body surface" in complete
    partial = body_map_svg({**INVOLVEMENT, "back": None}, age_years=34)
    assert "A: 1 region not set" in partial


# --- EASI map ----------------------------------------------------------------------------------


def test_easi_map_regions_and_labels() -> None:
    svg = easi_regions_svg(
        {"head_neck": 5, "upper_limbs": 40, "trunk": None, "lower_limbs": 95}, age_years=6
    )
    root = parse(svg)
    fields = by_field(root)
    assert set(fields) == {f"{r}.area_percent" for r in easi.REGIONS}
    assert fields["upper_limbs.area_percent"][0].get("aria-label") == (
        "Upper limbs: 40 % involved (area score 3, multiplier 0.2)"
    )
    assert fields["lower_limbs.area_percent"][0].get("aria-label") == (
        "Lower limbs (incl. buttocks): 95 % involved (area score 6, multiplier 0.3)"
    )
    assert fields["trunk.area_percent"][0].get("aria-label") == (
        "Trunk (incl. genitals, axillae, groin): not set (multiplier 0.3)"
    )
    # the trunk is drawn on both figures; the back's buttocks belong to the lower limbs
    assert {g.get("data-view") for g in fields["trunk.area_percent"]} == {"front", "back"}
    for field, groups in fields.items():
        assert [g.get("tabindex") for g in groups].count("0") == 1, field


def test_easi_adult_multiplier_and_prefix() -> None:
    root = parse(easi_regions_svg({"lower_limbs": 10}, age_years=40, field_prefix="easi."))
    label = by_field(root)["easi.lower_limbs.area_percent"][0].get("aria-label")
    assert label == "Lower limbs (incl. buttocks): 10 % involved (area score 2, multiplier 0.4)"
    with pytest.raises(ValueError, match="unknown region"):
        easi_regions_svg({"back": 1})
