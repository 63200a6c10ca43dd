"""vIGA-AD and the 6-point IGA: the grade names are the bands; scalar == batch.

Expected figures: ../shared/reference/instruments.md (IGA); IGA6 names: unverified.IGA6_LABELS.
"""

from __future__ import annotations

import pytest

from atopic.errors import InvalidInput
from atopic.instruments import (
    IGA6,
    INSTRUMENTS,
    VIGA_AD,
    compute_iga6,
    compute_viga_ad,
)
from tests.instruments.examples import assert_table_agrees

# --- registration -----------------------------------------------------------------------------


def test_both_scales_are_registered_with_their_codes() -> None:
    assert INSTRUMENTS["viga-ad"] is VIGA_AD
    assert INSTRUMENTS["iga6"] is IGA6
    assert (VIGA_AD.qscat, VIGA_AD.items[0].code) == ("VIGA-AD", "VIGA101")
    assert (IGA6.qscat, IGA6.items[0].code) == ("IGA6", "IGA6101")


# --- grades and their names -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "band"),
    [(0, "clear"), (1, "almost clear"), (2, "mild"), (3, "moderate"), (4, "severe")],
)
def test_viga_ad_band_is_the_grade_name(grade: int, band: str) -> None:
    result = compute_viga_ad({"grade": grade})
    assert result.total == grade
    assert result.band == band


@pytest.mark.parametrize(
    ("grade", "band"),
    [
        (0, "clear"),
        (1, "almost clear"),
        (2, "mild"),
        (3, "moderate"),
        (4, "severe"),
        (5, "very severe"),
    ],
)
def test_iga6_band_is_the_grade_name(grade: int, band: str) -> None:
    result = compute_iga6({"grade": grade})
    assert result.total == grade
    assert result.band == band


def test_repr_and_json_show_grade_and_name() -> None:
    result = compute_viga_ad({"grade": 3})
    assert repr(result) == "<vIGA-AD 3 moderate>"
    assert result.to_dict() == {
        "instrument": "vIGA-AD",
        "total": 3,
        "band": "moderate",
        "version": VIGA_AD.version,
    }


# --- refused values ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "got"),
    [
        (5, "5"),
        (-1, "-1"),
        (2.5, "2.5"),
        (True, "True (a boolean)"),
        ("3", "'3'"),
        (None, "nothing"),
    ],
)
def test_viga_ad_grade_must_be_0_to_4(grade: object, got: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_viga_ad({"grade": grade})
    assert caught.value.field == "grade"
    assert caught.value.message == f"vIGA-AD grade must be one of 0, 1, 2, 3, 4; got {got}"


def test_iga6_grade_must_be_0_to_5() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_iga6({"grade": 6})
    assert caught.value.message == "IGA6 grade must be one of 0, 1, 2, 3, 4, 5; got 6"


def test_missing_grade_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"vIGA-AD grade must be one of .*; got nothing"):
        compute_viga_ad({})


def test_unknown_field_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_viga_ad({"grade": 2, "descriptor": "mild"})
    assert caught.value.message == (
        "vIGA-AD descriptor must be a known field (see `atopic score viga-ad --schema`); got 'mild'"
    )


# --- batch ------------------------------------------------------------------------------------


def test_viga_ad_table_agrees_with_the_scalar_path_on_polars() -> None:
    inputs = [{"grade": g} for g in (0, 1, 2, 3, 4, 5, -1, None)]
    assert_table_agrees(VIGA_AD, inputs, "polars")


def test_iga6_table_agrees_with_the_scalar_path_on_polars() -> None:
    inputs = [{"grade": g} for g in (0, 1, 2, 3, 4, 5, 6, None)]
    assert_table_agrees(IGA6, inputs, "polars")


def test_viga_ad_table_agrees_with_the_scalar_path_on_duckdb() -> None:
    assert_table_agrees(VIGA_AD, [{"grade": g} for g in (1, 4, 5)], "duckdb")


def test_iga6_table_agrees_with_the_scalar_path_on_duckdb() -> None:
    assert_table_agrees(IGA6, [{"grade": g} for g in (0, 5, None)], "duckdb")
