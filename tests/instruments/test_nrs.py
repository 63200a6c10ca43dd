"""Peak Pruritus NRS and sleep NRS: whole numbers 0-10, no bands; scalar == batch.

Expected figures: ../shared/reference/instruments.md (Peak Pruritus NRS, sleep NRS).
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from atopic.errors import InvalidInput
from atopic.instruments import (
    INSTRUMENTS,
    PP_NRS,
    SLEEP_NRS,
    compute_pp_nrs,
    compute_sleep_nrs,
    score_table,
)
from atopic.instruments.spec import Instrument
from tests.instruments.examples import assert_table_agrees

# --- registration -----------------------------------------------------------------------------


def test_both_scales_are_registered_with_their_codes() -> None:
    assert INSTRUMENTS["pp-nrs"] is PP_NRS
    assert INSTRUMENTS["sleep-nrs"] is SLEEP_NRS
    assert PP_NRS.items[0].code == "PPNRS101"
    assert SLEEP_NRS.items[0].code == "SLNRS101"


# --- values -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 1, 4, 9, 10])
@pytest.mark.parametrize("compute", [compute_pp_nrs, compute_sleep_nrs])
def test_the_score_is_the_rating_and_there_is_no_band(compute: Any, value: int) -> None:
    result = compute({"score": value})
    assert result.total == value
    assert result.band is None
    assert result.parts == {}


def test_a_whole_float_is_read_as_its_number() -> None:
    assert compute_pp_nrs({"score": 7.0}).total == 7


def test_repr_has_no_band() -> None:
    assert repr(compute_pp_nrs({"score": 7})) == "<PP-NRS 7>"
    assert compute_sleep_nrs({"score": 3}).to_dict()["band"] is None


@pytest.mark.parametrize(
    ("value", "got"),
    [(11, "11"), (-1, "-1"), (7.5, "7.5"), (True, "True (a boolean)"), (None, "nothing")],
)
def test_pp_nrs_must_be_a_whole_number_from_0_to_10(value: object, got: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_pp_nrs({"score": value})
    assert caught.value.field == "score"
    assert caught.value.message == f"PP-NRS score must be a whole number from 0 to 10; got {got}"


def test_sleep_nrs_message_names_its_scale() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_sleep_nrs({"score": "7"})
    assert caught.value.message == "Sleep-NRS score must be a whole number from 0 to 10; got '7'"


def test_unknown_field_points_to_the_schema_command() -> None:
    with pytest.raises(InvalidInput, match=r"see `atopic score sleep-nrs --schema`"):
        compute_sleep_nrs({"score": 2, "weekly_mean": 2.5})


# --- batch ------------------------------------------------------------------------------------


@pytest.mark.parametrize("instrument", [PP_NRS, SLEEP_NRS])
def test_score_table_agrees_with_the_scalar_path_on_polars(instrument: Instrument) -> None:
    inputs = [{"score": v} for v in (0, 3, 10, 11, -1, None)]
    assert_table_agrees(instrument, inputs, "polars")


@pytest.mark.parametrize("instrument", [PP_NRS, SLEEP_NRS])
def test_score_table_agrees_with_the_scalar_path_on_duckdb(instrument: Instrument) -> None:
    assert_table_agrees(instrument, [{"score": v} for v in (0, 10, 11)], "duckdb")


def test_float_column_agrees_with_the_scalar_path() -> None:
    df = pl.DataFrame({"ID": [0, 1, 2], "PPNRS101": [7.0, 7.5, float("nan")]})
    result = score_table(PP_NRS, df)
    assert result.scored["total"].to_list() == [7.0]
    assert result.rejects["reason"].to_list() == [
        "PP-NRS score must be a whole number from 0 to 10; got 7.5",
        "PP-NRS score must be a whole number from 0 to 10; got NaN",
    ]
