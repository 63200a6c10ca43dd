"""ADAE: adverse events with analysis dates, treatment-emergence and first-occurrence flags
(ADaM OCCDS v1.1; admiral ``derive_var_trtemfl``, ``derive_var_extreme_flag``).

Rules
    * ASTDT / AENDT: complete AESTDTC / AEENDTC dates; partial dates are not imputed (null).
      ASTDY / AENDY count from TRTSDT with no day 0.
    * TRTEMFL = "Y" for a dosed subject (TRTSDT known) when the event starts on or after TRTSDT
      and at most ``teae_window_days`` (design ``[safety]``) after TRTEDT. A partial start date
      is judged at the precision it has: "2026-01" is treatment-emergent unless that month (or
      year, for "2026") ends before the first dose; a missing start date counts as
      treatment-emergent (the conservative reading, as most SAPs state).
    * AOCCFL, AOCCSFL, AOCCPFL: the first treatment-emergent event per subject, per subject and
      system organ class (AEBODSYS), per subject, SOC and preferred term (AEDECOD), ordered by
      ASTDT (missing last) then AESEQ. AESEQ, when absent, numbers each subject's events by
      AESTDTC then AETERM.
    * An event without a coded term (AEDECOD empty) cannot be tabulated by preferred term: it
      goes to the rejects; so does an event of a subject who is not in ADSL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import narwhals as nw

from atopic.trial.derive._frames import (
    as_narwhals,
    day_number,
    give_back,
    has,
    require,
    study_day,
    text,
    to_date,
)

ADAE_ORDER: tuple[str, ...] = (
    "STUDYID",
    "USUBJID",
    "AESEQ",
    "TRTA",
    "TRTAN",
    "SAFFL",
    "TRTSDT",
    "TRTEDT",
    "AETERM",
    "AEDECOD",
    "AEBODSYS",
    "AESEV",
    "AETOXGR",
    "AESER",
    "AEREL",
    "AEACN",
    "ASTDT",
    "AENDT",
    "ASTDY",
    "AENDY",
    "TRTEMFL",
    "AOCCFL",
    "AOCCSFL",
    "AOCCPFL",
)


def _month_index(dtc: str) -> tuple[nw.Expr, nw.Expr]:
    """(year*12 + month - 1 of a text with at least year-month, year of a text with a year)."""
    col = nw.col(dtc).cast(nw.String)
    has_month = col.str.contains(r"^[0-9]{4}-(0[1-9]|1[0-2])").fill_null(False)
    has_year = col.str.contains(r"^[0-9]{4}").fill_null(False)
    safe = nw.when(has_month).then(col.str.slice(0, 7)).otherwise(nw.lit("2000-01"))
    month = nw.when(has_month).then(
        safe.str.slice(0, 4).cast(nw.Int64) * 12 + safe.str.slice(5, 2).cast(nw.Int64) - 1
    )
    safe_year = nw.when(has_year).then(col.str.slice(0, 4)).otherwise(nw.lit("2000"))
    year = nw.when(has_year).then(safe_year.cast(nw.Int64))
    return month, year


def derive_var_trtemfl(
    dataset: Any, window_days: int, start_dtc: str = "AESTDTC", new_var: str = "TRTEMFL"
) -> Any:
    """TRTEMFL by the module's rule (needs ASTDT, TRTSDT, TRTEDT and ``start_dtc``)."""
    frame, native = as_narwhals(dataset)
    require(frame, "ADAE", ("ASTDT", "TRTSDT", "TRTEDT"), f"to derive {new_var}")
    start = nw.col("ASTDT")
    first = nw.col("TRTSDT")
    last = nw.col("TRTEDT").fill_null(nw.col("TRTSDT"))
    full = (day_number(start) >= day_number(first)) & (
        day_number(start) <= day_number(last) + window_days
    )
    if has(frame, start_dtc):
        month, year = _month_index(start_dtc)
        first_month = first.dt.year().cast(nw.Int64) * 12 + first.dt.month().cast(nw.Int64) - 1
        partial = (
            nw.when(~month.is_null())
            .then(month >= first_month)
            .when(~year.is_null())
            .then(year >= first.dt.year().cast(nw.Int64))
            .otherwise(nw.lit(True))
        )
    else:
        partial = nw.lit(True)
    emergent = (
        nw.when(first.is_null())
        .then(nw.lit(False))
        .when(start.is_null())
        .then(partial)
        .otherwise(full)
    )
    out = frame.with_columns(
        nw.when(emergent.fill_null(False)).then(text("Y")).otherwise(text(None)).alias(new_var)
    )
    return give_back(out, native)


def derive_var_aoccfl(
    dataset: Any,
    by_vars: Sequence[str],
    new_var: str,
    order: tuple[str, str] = ("ASTDT", "AESEQ"),
    flag: str = "TRTEMFL",
) -> Any:
    """Flag ``new_var`` = "Y" on the first record (by ``order``: a date, missing last, then a
    sequence number) among the ``flag`` = "Y" records of each ``by_vars`` group."""
    frame, native = as_narwhals(dataset)
    require(frame, "ADAE", (*by_vars, *order, flag), f"to derive {new_var}")
    date, seq = order
    day = day_number(nw.col(date)).fill_null(10**8)
    key = nw.when(nw.col(flag) == "Y").then(day * 10**7 + nw.col(seq).cast(nw.Int64))
    first = (key == key.min().over(*by_vars)).fill_null(False)
    out = frame.with_columns(nw.when(first).then(text("Y")).otherwise(text(None)).alias(new_var))
    return give_back(out, native)


def derive_var_aeseq(dataset: Any) -> Any:
    """AESEQ, when absent: each subject's events numbered 1, 2 ... by AESTDTC then AETERM."""
    frame, native = as_narwhals(dataset)
    if has(frame, "AESEQ"):
        return give_back(frame, native)
    order = [c for c in ("AESTDTC", "AETERM") if has(frame, c)]
    out = (
        frame.with_columns(nw.lit(1, dtype=nw.Int64()).alias("AESEQ"))
        .with_columns(nw.col("AESEQ").cum_sum().over("USUBJID", order_by=order))
        .with_columns(nw.col("AESEQ").cast(nw.Int64))
    )
    return give_back(out, native)


def prepare_adae(ae: Any, adsl: Any) -> Any:
    """AE joined with ADSL's treatment (TRTA, TRTAN, SAFFL, TRTSDT, TRTEDT), analysis dates and
    days; a column ``__in_adsl`` tells whether the subject is in ADSL."""
    frame, native = as_narwhals(ae)
    require(frame, "AE", ("USUBJID", "AETERM"), "to derive ADAE")
    sl, _ = as_narwhals(adsl)
    if isinstance(frame, nw.LazyFrame):
        sl = sl.lazy()
    subjects = sl.select(
        "USUBJID",
        nw.col("TRT01A").alias("TRTA"),
        nw.col("TRT01AN").alias("TRTAN"),
        "SAFFL",
        "TRTSDT",
        "TRTEDT",
        nw.lit(True).alias("__in_adsl"),
    )
    names = frame.collect_schema().names()
    out = derive_var_aeseq(frame).join(subjects, on="USUBJID", how="left")
    dates = []
    for dtc, new in (("AESTDTC", "ASTDT"), ("AEENDTC", "AENDT")):
        dates.append(
            to_date(dtc).alias(new) if dtc in names else nw.lit(None, dtype=nw.Date()).alias(new)
        )
    out = out.with_columns(*dates).with_columns(
        study_day("ASTDT", "TRTSDT").alias("ASTDY"),
        study_day("AENDT", "TRTSDT").alias("AENDY"),
        nw.col("__in_adsl").fill_null(False),
    )
    return give_back(out, native)
