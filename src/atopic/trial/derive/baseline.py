"""Baseline and change from baseline (reference/trials.md, admiral ``derive_var_extreme_flag``,
``derive_var_base``, ``derive_var_chg``, ``derive_var_pchg``).

Rules
    * Baseline (ABLFL = "Y") is the last record with a value in the baseline window on or before
      the first dose (ADY <= 1), per subject and parameter. A record on the first-dose day is
      baseline: assessments at the dosing visit are made before the dose.
    * More than one record of a parameter on one date is an error, not a choice: every copy goes
      to the rejects (``split_same_date``). When the copies are on the subject's last pre-dose
      date, the subject has no baseline for that parameter (an earlier date is not silently
      taken instead).
    * BASE is the baseline AVAL on every record of the subject and parameter.
    * CHG = AVAL - BASE; PCHG = 100 (AVAL - BASE) / |BASE|, null when BASE = 0 (or either is
      null).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import narwhals as nw

from atopic.trial.derive._frames import as_narwhals, day_number, give_back, require, text

BY: tuple[str, ...] = ("USUBJID", "PARAMCD")


def _candidate(baseline_avisit: str) -> nw.Expr:
    return (
        (nw.col("AVISIT") == baseline_avisit)
        & (nw.col("ADY") <= 1)
        & ~nw.col("AVAL").is_null()
        & ~nw.col("ADT").is_null()
    ).fill_null(False)


def _last_baseline_day(baseline_avisit: str, by: Sequence[str]) -> nw.Expr:
    return nw.when(_candidate(baseline_avisit)).then(day_number(nw.col("ADT"))).max().over(*by)


def derive_var_ablfl(
    dataset: Any, baseline_avisit: str, by: Sequence[str] = BY, new_var: str = "ABLFL"
) -> Any:
    """Flag the baseline record: the last candidate (AVISIT ``baseline_avisit``, ADY <= 1, AVAL
    and ADT present) per ``by``, unless another candidate shares its date (then none)."""
    frame, native = as_narwhals(dataset)
    require(frame, "BDS", (*by, "AVISIT", "ADY", "ADT", "AVAL"), "to flag the baseline")
    staged = frame.with_columns(_last_baseline_day(baseline_avisit, by).alias("__last"))
    on_last = _candidate(baseline_avisit) & (
        day_number(nw.col("ADT")) == nw.col("__last")
    ).fill_null(False)
    staged = staged.with_columns(on_last.alias("__on_last"))
    count = nw.col("__on_last").cast(nw.Int64).sum().over(*by)
    out = staged.with_columns(
        nw.when(nw.col("__on_last") & (count == 1))
        .then(text("Y"))
        .otherwise(text(None))
        .alias(new_var)
    ).drop("__last", "__on_last")
    return give_back(out, native)


def same_date(by: Sequence[str] = BY, date: str = "ADT") -> nw.Expr:
    """True on records that share their date with another record of the same ``by``."""
    return (nw.len().over(*by, date) > 1) & ~nw.col(date).is_null()


def split_same_date(
    dataset: Any, baseline_avisit: str, by: Sequence[str] = BY
) -> tuple[Any, Any, nw.Expr]:
    """Split records that share a date within ``by``: returns ``(kept, rejected, reason)`` with
    ``reason`` the String expression to word each rejected row (computed on ``rejected``)."""
    frame, _ = as_narwhals(dataset)
    require(frame, "BDS", (*by, "ADT", "AVISIT", "ADY", "AVAL"), "to find same-date records")
    marked = frame.with_columns(
        same_date(by).alias("__same"),
        nw.len().over(*by, "ADT").alias("__n"),
        (
            _candidate(baseline_avisit)
            & (day_number(nw.col("ADT")) == _last_baseline_day(baseline_avisit, by)).fill_null(
                False
            )
        ).alias("__base"),
    )
    kept = marked.filter(~nw.col("__same")).drop("__same", "__n", "__base")
    rejected = marked.filter(nw.col("__same"))
    reason = nw.concat_str(
        [
            text("BDS "),
            nw.col("PARAMCD"),
            text(" must have one value per date; got "),
            nw.col("__n").cast(nw.String),
            text(" on "),
            nw.col("ADT").cast(nw.String),
            nw.when(nw.col("__base"))
            .then(text(" (the last pre-dose date: no baseline is chosen)"))
            .otherwise(text("")),
        ]
    )
    return kept, rejected, reason


def derive_var_base(
    dataset: Any,
    by: Sequence[str] = BY,
    source: str = "AVAL",
    flag: str = "ABLFL",
    new_var: str = "BASE",
) -> Any:
    """Add ``new_var``: the ``source`` value of the record flagged ``flag`` = "Y" within ``by``
    (null when the subject has no baseline for the parameter)."""
    frame, native = as_narwhals(dataset)
    require(frame, "BDS", (*by, source, flag), f"to derive {new_var}")
    base = nw.when(nw.col(flag) == "Y").then(nw.col(source)).max().over(*by)
    return give_back(frame.with_columns(base.cast(nw.Float64).alias(new_var)), native)


def derive_var_chg(dataset: Any, new_var: str = "CHG") -> Any:
    """Add CHG = AVAL - BASE."""
    frame, native = as_narwhals(dataset)
    require(frame, "BDS", ("AVAL", "BASE"), f"to derive {new_var}")
    return give_back(frame.with_columns((nw.col("AVAL") - nw.col("BASE")).alias(new_var)), native)


def derive_var_pchg(dataset: Any, new_var: str = "PCHG") -> Any:
    """Add PCHG = 100 (AVAL - BASE) / |BASE|, null when BASE is 0 or null."""
    frame, native = as_narwhals(dataset)
    require(frame, "BDS", ("AVAL", "BASE"), f"to derive {new_var}")
    base = nw.col("BASE")
    pchg = nw.when(base != 0).then(100 * (nw.col("AVAL") - base) / base.abs())
    return give_back(frame.with_columns(pchg.cast(nw.Float64).alias(new_var)), native)
