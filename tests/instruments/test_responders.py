"""Responder criteria: exact thresholds, undefined baselines, and the table path."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atopic.errors import InvalidInput
from atopic.instruments.responders import (
    ADCT_5,
    EASI_50,
    EASI_75,
    EASI_90,
    IGA_01,
    IGA_SUCCESS,
    PP_NRS_4,
    SCORAD_75,
    is_responder,
    responder_table,
)


def test_easi_75_at_exactly_75_percent_is_a_response() -> None:
    assert is_responder(EASI_75, 20, 5)
    assert not is_responder(EASI_75, 20, 5.05)
    assert is_responder(EASI_75, 18.6, 4.65)  # exactly 75 % of a decimal baseline


def test_easi_50_and_90_thresholds() -> None:
    assert is_responder(EASI_50, 30.1, 15.05)
    assert not is_responder(EASI_50, 30.1, 15.1)
    assert is_responder(EASI_90, 40, 4)
    assert not is_responder(EASI_90, 40, 4.05)


def test_worsening_is_not_a_response() -> None:
    assert not is_responder(EASI_50, 10, 12)


def test_baseline_zero_has_no_responder_status() -> None:
    with pytest.raises(InvalidInput, match=r"EASI-75 baseline must be greater than 0 .*got 0"):
        is_responder(EASI_75, 0, 0)


def test_scorad_75_uses_exact_decimals() -> None:
    assert is_responder(SCORAD_75, 50.18, 12.545)
    assert not is_responder(SCORAD_75, 50.18, 12.5451)


def test_iga_success_needs_two_grades() -> None:
    assert not is_responder(IGA_SUCCESS, 2, 1)  # 2 -> 1 is not a success
    assert is_responder(IGA_SUCCESS, 3, 1)
    assert is_responder(IGA_SUCCESS, 4, 0)
    assert not is_responder(IGA_SUCCESS, 4, 2)
    assert is_responder(IGA_01, 2, 1)  # the plain variant


def test_pp_nrs_needs_a_baseline_of_4() -> None:
    assert is_responder(PP_NRS_4, 8, 4)
    assert not is_responder(PP_NRS_4, 8, 4.01)
    assert is_responder(PP_NRS_4, 7.43, 3.43)
    with pytest.raises(InvalidInput, match="PP-NRS4 baseline must be at least 4"):
        is_responder(PP_NRS_4, 3.99, 0)


def test_adct_change_of_5() -> None:
    assert is_responder(ADCT_5, 12, 7)
    assert not is_responder(ADCT_5, 12, 8)


def test_invalid_value_is_refused_by_name() -> None:
    with pytest.raises(
        InvalidInput,
        match=r"^EASI-75 value must be a number from 0 to 72 in steps of 0.05; got 4.6625$",
    ):
        is_responder(EASI_75, 18.65, 4.6625)


easi_values = st.integers(0, 1440).map(lambda u: u / 20)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(easi_values | st.none(), easi_values | st.just(-1.0)), min_size=1, max_size=40
    )
)
def test_table_path_equals_scalar_path(pairs: list[tuple[float | None, float]]) -> None:
    frame = pl.DataFrame(
        {"BASE": [b for b, _ in pairs], "AVAL": [v for _, v in pairs]},
        schema={"BASE": pl.Float64, "AVAL": pl.Float64},
    )
    out = responder_table(frame, EASI_75, new_var="CRIT1FL")
    assert out.height == len(pairs)
    for row in out.iter_rows(named=True):
        try:
            expected, reason = is_responder(EASI_75, row["BASE"], row["AVAL"]), None
        except InvalidInput as error:
            expected, reason = None, error.message
        assert row["CRIT1FL"] == expected
        assert row["CRIT1FL_REASON"] == reason
