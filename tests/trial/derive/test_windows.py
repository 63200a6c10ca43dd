"""windows: ADT from ISO text, ADY with no day 0, analysis windows."""

from __future__ import annotations

import datetime as dt

import polars as pl

from atopic.trial.derive import derive_var_dt, derive_var_dy, derive_vars_avisit
from atopic.trial.design import Design
from tests.trial.derive.conftest import by_key


def test_derive_var_dt_reads_complete_dates_only() -> None:
    data = pl.DataFrame(
        {
            "ID": [1, 2, 3, 4, 5, 6],
            "DTC": ["2026-01-05", "2026-01-05T10:30:00", "2026-01", "2026-02-30", "", None],
        }
    )
    got = by_key(derive_var_dt(data, "DTC", "ADT"), ["ID"], "ADT")
    assert got == {
        1: dt.date(2026, 1, 5),
        2: dt.date(2026, 1, 5),
        3: None,
        4: None,
        5: None,
        6: None,
    }


def test_derive_var_dy_has_no_day_zero() -> None:
    ref = dt.date(2026, 1, 5)
    data = pl.DataFrame(
        {
            "ID": [1, 2, 3, 4, 5],
            "ADT": [
                ref,
                ref - dt.timedelta(1),
                ref + dt.timedelta(14),
                ref - dt.timedelta(366),
                None,
            ],
            "TRTSDT": [ref] * 5,
        }
    )
    got = by_key(derive_var_dy(data, "ADT", "ADY"), ["ID"], "ADY")
    assert got == {1: 1, 2: -1, 3: 15, 4: -366, 5: None}


def test_derive_vars_avisit_uses_inclusive_windows(design: Design) -> None:
    data = pl.DataFrame({"ID": [1, 2, 3, 4, 5, 6, 7], "ADY": [-28, 1, 2, 22, 23, 99, 100]})
    out = derive_vars_avisit(data, design.visits)
    assert by_key(out, ["ID"], "AVISIT") == {
        1: "WEEK 0",
        2: "WEEK 0",
        3: "WEEK 2",
        4: "WEEK 2",
        5: "WEEK 4",
        6: "WEEK 12",
        7: None,
    }
    assert by_key(out, ["ID"], "AWTARGET")[5] == 29
    assert by_key(out, ["ID"], "AVISITN")[6] == 12.0
    assert (by_key(out, ["ID"], "AWLO")[3], by_key(out, ["ID"], "AWHI")[3]) == (2, 22)
    assert by_key(out, ["ID"], "AVISITN")[7] is None


def test_derive_var_dt_stays_lazy() -> None:
    lazy = pl.LazyFrame({"DTC": ["2026-01-05"]})
    out = derive_var_dt(lazy, "DTC", "ADT")
    assert isinstance(out, pl.LazyFrame)
    assert out.collect().item(0, "ADT") == dt.date(2026, 1, 5)


def test_day_number_counts_days_since_1970_over_800_years() -> None:
    import datetime as dt

    import narwhals as nw
    import polars as pl

    from atopic.trial.derive._frames import day_number

    dates = pl.DataFrame(
        {"d": pl.date_range(dt.date(1600, 1, 1), dt.date(2400, 12, 31), "1d", eager=True)}
    )
    got = nw.from_native(dates).with_columns(day_number(nw.col("d")).alias("n")).to_native()
    expected = dates.get_column("d").cast(pl.Int32).cast(pl.Int64)
    assert got.get_column("n").to_list() == expected.to_list()
