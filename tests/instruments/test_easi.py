"""EASI: worked examples computed by hand from Hanifin 2001, boundaries, and refusals."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from atopic.errors import InvalidInput
from atopic.instruments import EASI, compute_easi, score_table
from atopic.instruments.easi import area_score
from atopic.instruments.ops import SCALAR


def region(ery: float, ind: float, exc: float, lic: float, **area: float) -> dict[str, float]:
    return {"erythema": ery, "induration": ind, "excoriation": exc, "lichenification": lic, **area}


def easi(age: float, *regions: dict[str, float], **kw: object) -> object:
    names = ("head_neck", "upper_limbs", "trunk", "lower_limbs")
    return compute_easi({"age_years": age, **dict(zip(names, regions, strict=True))}, **kw)


def test_worked_example_adult() -> None:
    # head/neck 0.1 x 2 x 5.5 = 1.1; upper 0.2 x 3 x 8 = 4.8; trunk 0.3 x 2 x 3.5 = 2.1;
    # lower 0.4 x 3 x 7.5 = 9.0; total 17.0
    result = easi(
        34,
        region(2, 1.5, 1, 1, area_percent=20),
        region(2.5, 2, 2, 1.5, area_percent=45),
        region(1.5, 1, 1, 0, area_score=2),
        region(2, 2, 1.5, 2, area_percent=35),
    )
    assert result.total == Decimal("17")
    assert (result.head_neck, result.upper_limbs, result.trunk, result.lower_limbs) == (
        Decimal("1.1"),
        Decimal("4.8"),
        Decimal("2.1"),
        Decimal("9"),
    )
    assert result.band == "moderate"
    assert repr(result) == "<EASI 17 moderate (age 34)>"


def test_age_7_uses_child_multipliers_and_age_8_adult() -> None:
    r = region(1, 1, 1, 1, area_score=1)  # signs 4, area 1
    # child: (0.2 + 0.2 + 0.3 + 0.3) x 4 = 4.0; adult: (0.1 + 0.2 + 0.3 + 0.4) x 4 = 4.0
    # so use a head-only involvement to tell them apart: 0.2 x 4 vs 0.1 x 4
    zero = region(0, 0, 0, 0, area_score=0)
    assert easi(7, r, zero, zero, zero).total == Decimal("0.8")
    assert easi(7.99, r, zero, zero, zero).total == Decimal("0.8")
    assert easi(8, r, zero, zero, zero).total == Decimal("0.4")
    assert easi(7, zero, zero, zero, r).total == Decimal("1.2")
    assert easi(8, zero, zero, zero, r).total == Decimal("1.6")


def test_total_is_an_exact_multiple_of_005_without_float_drift() -> None:
    # 0.1 x 1 x 1.5 = 0.15 (a float sum would give 0.15000000000000002 somewhere)
    zero = region(0, 0, 0, 0, area_score=0)
    result = easi(40, region(1.5, 0, 0, 0, area_score=1), zero, zero, zero)
    assert result.total == Decimal("0.15")
    assert result.to_dict()["total"] == 0.15


def test_maximum_is_72() -> None:
    worst = region(3, 3, 3, 3, area_score=6)
    assert easi(30, worst, worst, worst, worst).total == Decimal("72")
    assert easi(30, worst, worst, worst, worst).band == "very severe"


@pytest.mark.parametrize(
    ("percent", "expected"),
    [
        (0, 0),
        (0.01, 1),
        (9.99, 1),
        (10, 2),
        (29.9, 2),
        (30, 3),
        (49.99, 3),
        (50, 4),
        (69.9, 4),
        (70, 5),
        (89.99, 5),
        (90, 6),
        (100, 6),
    ],
)
def test_area_score_uses_half_open_intervals(percent: float, expected: int) -> None:
    assert area_score(percent, SCALAR) == expected


@pytest.mark.parametrize(
    ("signs", "exact", "band"),
    [
        ((0, 0, 0, 0), "0", "clear"),
        ((1.5, 0, 0, 0), "0.15", "almost clear"),  # 0.2 after rounding half up
        ((3, 3, 3, 1), "1", "almost clear"),
        ((3, 3, 3, 1.5), "1.05", "mild"),  # 1.1 after rounding half up
        ((3, 3, 3, 2), "1.1", "mild"),
    ],
)
def test_leshem_bands_after_rounding_half_up(
    signs: tuple[float, ...], exact: str, band: str
) -> None:
    zero = region(0, 0, 0, 0, area_score=0)
    result = easi(40, region(*signs, area_score=1), zero, zero, zero)  # 0.1 x 1 x sum
    assert result.total == Decimal(exact)
    assert result.band == band


@pytest.mark.parametrize(
    ("total", "leshem", "chopra"),
    [
        (Decimal("7.0"), "mild", "moderate"),
        (Decimal("7.05"), "moderate", "moderate"),
        (Decimal("5.9"), "mild", "mild"),
        (Decimal("5.95"), "mild", "moderate"),
        (Decimal("21"), "moderate", "moderate"),
        (Decimal("21.05"), "severe", "moderate"),
        (Decimal("22.95"), "severe", "severe"),
        (Decimal("50"), "severe", "severe"),
        (Decimal("50.05"), "very severe", "severe"),
    ],
)
def test_band_edges_in_both_band_sets(total: Decimal, leshem: str, chopra: str) -> None:
    from atopic.instruments.ops import SCALAR
    from atopic.instruments.spec import band_units

    units = int(total * 20)
    banding = EASI.bandings[0]
    assert band_units(units, 20, banding.sets["leshem2015"], SCALAR) == leshem
    assert band_units(units, 20, banding.sets["chopra2017"], SCALAR) == chopra


def test_half_point_below_one_is_refused() -> None:
    zero = region(0, 0, 0, 0, area_score=0)
    with pytest.raises(InvalidInput) as caught:
        easi(40, zero, zero, region(0.5, 0, 0, 0, area_score=1), zero)
    assert str(caught.value) == ("EASI trunk.erythema must be one of 0, 1, 1.5, 2, 2.5, 3; got 0.5")


def test_missing_age_is_an_error_never_a_default() -> None:
    zero = region(0, 0, 0, 0, area_score=0)
    data = {"head_neck": zero, "upper_limbs": zero, "trunk": zero, "lower_limbs": zero}
    with pytest.raises(
        InvalidInput, match="EASI age_years must be a number from 0 to 130; got nothing"
    ):
        compute_easi(data)


def test_area_must_be_given_once() -> None:
    zero = region(0, 0, 0, 0, area_score=0)
    with pytest.raises(InvalidInput, match=r"head_neck.area_percent must be given .*got nothing"):
        easi(40, region(0, 0, 0, 0), zero, zero, zero)
    with pytest.raises(InvalidInput, match=r"head_neck.area_score must be left out .*got 0"):
        easi(40, region(0, 0, 0, 0, area_score=0, area_percent=0), zero, zero, zero)


def test_bool_is_not_a_number() -> None:
    zero = region(0, 0, 0, 0, area_score=0)
    with pytest.raises(InvalidInput, match=r"got True \(a boolean\)"):
        easi(40, region(True, 0, 0, 0, area_score=0), zero, zero, zero)


def test_unknown_band_set_is_refused() -> None:
    zero = region(0, 0, 0, 0, area_score=0)
    with pytest.raises(InvalidInput, match="band_set must be one of leshem2015, chopra2017"):
        easi(40, zero, zero, zero, zero, band_set="nope")


def test_table_keeps_every_row_and_names_the_reason() -> None:
    codes = {item.field: item.code for item in EASI.items}
    row = {
        codes[f"{r}.{s}"]: 1.0
        for r in ("head_neck", "upper_limbs", "trunk", "lower_limbs")
        for s in ("erythema", "induration", "excoriation", "lichenification")
    }
    row.update(
        {codes[f"{r}.area_score"]: 2 for r in ("head_neck", "upper_limbs", "trunk", "lower_limbs")}
    )
    rows = [
        dict(row, USUBJID="A", AGE=30),
        dict(row, USUBJID="B", AGE=None),
        dict(row, USUBJID="C", AGE=30, EASI113=0.5),
    ]
    result = score_table(EASI, pl.DataFrame(rows))
    assert result.scored["USUBJID"].to_list() == ["A"]
    assert result.scored["total"].to_list() == [8.0]  # (0.1+0.2+0.3+0.4) x 2 x 4
    assert result.rejects["USUBJID"].to_list() == ["B", "C"]
    assert result.rejects["reason"].to_list() == [
        "EASI age_years must be a number from 0 to 130; got nothing",
        "EASI trunk.erythema must be one of 0, 1, 1.5, 2, 2.5, 3; got 0.5",
    ]


def test_table_without_a_required_column_is_refused_up_front() -> None:
    with pytest.raises(
        InvalidInput, match=r"EASI table EASI101 must be a column holding head_neck\.erythema"
    ):
        score_table(EASI, pl.DataFrame({"AGE": [30]}))


def test_a_float_too_large_to_scale_is_refused_not_a_crash() -> None:
    zero = region(0, 0, 0, 0, area_score=0)
    with pytest.raises(InvalidInput, match=r"trunk.erythema must be one of .*; got 1.7e\+308"):
        easi(40, zero, zero, region(1.7e308, 0, 0, 0, area_score=1), zero)
