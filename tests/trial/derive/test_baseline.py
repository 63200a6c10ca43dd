"""baseline: ABLFL, same-date records, BASE, CHG, PCHG."""

from __future__ import annotations

import datetime as dt

import narwhals as nw
import polars as pl
import pytest

from atopic.errors import InvalidInput
from atopic.trial.derive import derive_var_ablfl, derive_var_base, derive_var_chg, derive_var_pchg
from atopic.trial.derive.baseline import split_same_date
from tests.trial.derive.conftest import by_key

D = dt.date(2026, 1, 5)


def _records(rows: list[tuple[str, str, int, float | None, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "USUBJID": [r[0] for r in rows],
            "PARAMCD": [r[1] for r in rows],
            "ADY": [r[2] for r in rows],
            "ADT": [D + dt.timedelta(days=r[2] - 1 if r[2] > 0 else r[2]) for r in rows],
            "AVAL": [r[3] for r in rows],
            "AVISIT": [r[4] for r in rows],
        }
    )


def test_baseline_is_the_last_value_on_or_before_the_first_dose() -> None:
    data = _records(
        [
            ("A", "EASI", -7, 30.0, "WEEK 0"),
            ("A", "EASI", 1, 28.0, "WEEK 0"),  # dosing day: baseline
            ("A", "EASI", 15, 20.0, "WEEK 2"),
            ("B", "EASI", -7, 25.0, "WEEK 0"),
            ("B", "EASI", -2, None, "WEEK 0"),  # missing value: not a candidate
            ("C", "EASI", 15, 20.0, "WEEK 2"),  # nothing before the dose: no baseline
        ]
    )
    got = by_key(derive_var_ablfl(data, "WEEK 0"), ["USUBJID", "ADY"], "ABLFL")
    assert got == {
        ("A", -7): None,
        ("A", 1): "Y",
        ("A", 15): None,
        ("B", -7): "Y",
        ("B", -2): None,
        ("C", 15): None,
    }


def test_two_baseline_candidates_on_one_date_give_no_baseline() -> None:
    data = _records(
        [
            ("A", "EASI", -7, 30.0, "WEEK 0"),
            ("A", "EASI", 1, 28.0, "WEEK 0"),
            ("A", "EASI", 1, 27.0, "WEEK 0"),
        ]
    )
    flagged = derive_var_ablfl(data, "WEEK 0")
    assert flagged["ABLFL"].to_list() == [None, None, None]
    kept, rejected, reason = split_same_date(nw.from_native(flagged), "WEEK 0")
    assert kept.to_native()["ADY"].to_list() == [-7]
    reasons = rejected.select(reason.alias("r")).to_native()["r"].to_list()
    assert (
        reasons
        == [
            "BDS EASI must have one value per date; got 2 on 2026-01-05 (the last pre-dose date: no baseline is chosen)"
        ]
        * 2
    )


def test_same_date_after_baseline_is_rejected_without_the_baseline_note() -> None:
    data = _records(
        [
            ("A", "EASI", 1, 28.0, "WEEK 0"),
            ("A", "EASI", 15, 20.0, "WEEK 2"),
            ("A", "EASI", 15, 21.0, "WEEK 2"),
        ]
    )
    kept, rejected, reason = split_same_date(
        nw.from_native(derive_var_ablfl(data, "WEEK 0")), "WEEK 0"
    )
    assert kept.to_native()["ABLFL"].to_list() == ["Y"]
    assert rejected.select(reason.alias("r")).to_native()["r"][0].endswith("got 2 on 2026-01-19")


def test_base_chg_pchg() -> None:
    data = pl.DataFrame(
        {
            "USUBJID": ["A", "A", "B", "B", "C"],
            "PARAMCD": ["EASI"] * 5,
            "AVAL": [20.0, 5.0, 0.0, 2.0, 3.0],
            "ABLFL": ["Y", None, "Y", None, None],
        }
    )
    out = derive_var_pchg(derive_var_chg(derive_var_base(data)))
    assert out["BASE"].to_list() == [20.0, 20.0, 0.0, 0.0, None]
    assert out["CHG"].to_list() == [0.0, -15.0, 0.0, 2.0, None]
    assert out["PCHG"].to_list() == [0.0, -75.0, None, None, None]


def test_pchg_is_null_when_base_is_zero() -> None:
    data = pl.DataFrame({"AVAL": [1.0], "BASE": [0.0]})
    assert derive_var_pchg(data)["PCHG"].to_list() == [None]


def test_missing_column_is_named() -> None:
    with pytest.raises(InvalidInput, match="BDS BASE must be a column of the table"):
        derive_var_chg(pl.DataFrame({"AVAL": [1.0]}))
