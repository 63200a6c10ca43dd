"""Plumbing shared by the derivations: frames in and out, required columns, ISO dates, study
days and the rejects table. Every helper is a Narwhals expression or frame operation that runs
lazily on Polars, DuckDB and PySpark."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import narwhals as nw
import polars as pl

from atopic.errors import Described, InvalidInput

REJECT_COLUMNS: tuple[str, ...] = ("SOURCE", "USUBJID", "PARAMCD", "DTC", "reason")
"""Columns of the rejects table: the source table, the subject, the parameter (when the row is
one), the date of the source record as written, and the reason, a sentence."""
REJECT_SCHEMA: dict[str, pl.DataType] = {name: pl.String() for name in REJECT_COLUMNS}

FULL_DATE = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
"""An ISO 8601 text that starts with a complete calendar date (time and zone may follow)."""


def as_narwhals(dataset: Any) -> tuple[Any, bool]:
    """The dataset as a Narwhals frame and whether it came in native (then results go back out
    native, so ``derive_*`` functions return what they were given)."""
    if isinstance(dataset, nw.DataFrame | nw.LazyFrame):
        return dataset, False
    return nw.from_native(dataset), True


def give_back(frame: Any, native: bool) -> Any:
    """``frame`` as the caller passed it: native when the input was native."""
    return frame.to_native() if native else frame


def require(frame: Any, table: str, columns: Iterable[str], purpose: str = "") -> None:
    """Raise ``InvalidInput(table, column, "no such column", ...)`` for the first missing column."""
    names = set(frame.collect_schema().names())
    for column in columns:
        if column not in names:
            why = f" (needed {purpose})" if purpose else ""
            raise InvalidInput(
                table, column, Described("no such column"), f"a column of the table{why}"
            )


def has(frame: Any, column: str) -> bool:
    """Whether ``frame`` has ``column``."""
    return column in frame.collect_schema().names()


def to_date(dtc: str) -> nw.Expr:
    """The date of an ISO 8601 text column: the first ten characters when they are a complete
    calendar date (``2026-01-05``, ``2026-01-05T10:00``), null for a partial date (``2026-01``),
    an empty or malformed text and a null. Impossible days (``2026-02-30``) are null too."""
    col = nw.col(dtc).cast(nw.String)
    full = col.str.contains(FULL_DATE).fill_null(False)
    safe = nw.when(full).then(col.str.slice(0, 10)).otherwise(nw.lit("2000-01-01"))
    year = safe.str.slice(0, 4).cast(nw.Int64)
    month = safe.str.slice(5, 2).cast(nw.Int64)
    day = safe.str.slice(8, 2).cast(nw.Int64)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    february = nw.when(leap).then(nw.lit(29)).otherwise(nw.lit(28))
    short = nw.when(month.is_in([4, 6, 9, 11])).then(nw.lit(30)).otherwise(nw.lit(31))
    real = day <= nw.when(month == 2).then(february).otherwise(short)
    return nw.when(full & real).then(safe.str.to_date("%Y-%m-%d"))


def day_number(date: nw.Expr) -> nw.Expr:
    """Days since 1970-01-01 of a date expression (Int64; null stays null).

    Proleptic Gregorian count from the year and the day of the year: the days of the whole years
    since 1970 plus the leap days among them (every 4th year, not every 100th, every 400th;
    477 leap years fall before 1970), plus the ordinal day. Integer arithmetic on two date
    parts, so it runs on every engine (Narwhals has no portable date difference); a test checks it
    against Polars' own day count over 800 years.
    """
    y = date.dt.year().cast(nw.Int64) - 1
    leap_days = y // 4 - y // 100 + y // 400 - 477
    return 365 * (y - 1969) + leap_days + date.dt.ordinal_day().cast(nw.Int64) - 1


def study_day(date: str, reference: str) -> nw.Expr:
    """ADaM relative day with no day 0: ``date - reference + 1`` on or after the reference date,
    ``date - reference`` before it (ADaMIG v1.3, --DY). Null when either date is null."""
    diff = day_number(nw.col(date)) - day_number(nw.col(reference))
    return nw.when(diff >= 0).then(diff + 1).otherwise(diff).cast(nw.Int64)


def text(value: str | None) -> nw.Expr:
    """A String literal (null for None)."""
    return nw.lit(value, dtype=nw.String())


def rejects(
    frame: Any,
    source: str,
    reason: nw.Expr,
    *,
    paramcd: str | nw.Expr | None = None,
    dtc: str | None = None,
) -> pl.DataFrame:
    """The rows of ``frame`` (already filtered to the rejected ones) as rejects: SOURCE,
    USUBJID, PARAMCD, DTC and ``reason`` (a String expression). Collected eagerly (the rejected
    rows are few) into Polars, the engine the rejects table always uses."""
    names = frame.collect_schema().names()
    if isinstance(paramcd, str):
        param_expr = nw.col(paramcd) if paramcd in names else text(paramcd)
    else:
        param_expr = text(None) if paramcd is None else paramcd
    out = frame.select(
        text(source).alias("SOURCE"),
        nw.col("USUBJID").cast(nw.String),
        param_expr.cast(nw.String).alias("PARAMCD"),
        (nw.col(dtc).cast(nw.String) if dtc and dtc in names else text(None)).alias("DTC"),
        reason.cast(nw.String).alias("reason"),
    )
    return to_polars(out)


def to_polars(frame: Any) -> pl.DataFrame:
    """A small Narwhals frame, collected, as a Polars DataFrame."""
    eager = frame.collect() if isinstance(frame, nw.LazyFrame) else frame
    return eager.to_polars()


def empty_rejects() -> pl.DataFrame:
    """A rejects table with no rows."""
    return pl.DataFrame(schema=REJECT_SCHEMA)


def stack_rejects(parts: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Rejects tables stacked, in the order given."""
    frames = [p.select(REJECT_COLUMNS).cast(REJECT_SCHEMA) for p in parts if p.height]
    return pl.concat(frames) if frames else empty_rejects()


def concat(parts: Sequence[Any]) -> Any:
    """Frames stacked by column name: columns missing from a part are added as nulls of the
    type another part gives them (Narwhals' ``diagonal`` concat, written out so the types agree
    on every engine)."""
    schemas = [dict(p.collect_schema()) for p in parts]
    order: list[str] = []
    types: dict[str, Any] = {}
    for schema in schemas:
        for name, dtype in schema.items():
            if name not in types:
                order.append(name)
                types[name] = dtype
    aligned = []
    for part, schema in zip(parts, schemas, strict=True):
        absent = [nw.lit(None, dtype=types[n]).alias(n) for n in order if n not in schema]
        filled = part.with_columns(*absent) if absent else part
        aligned.append(filled.select(*[nw.col(n).cast(types[n]) for n in order]))
    return nw.concat(aligned, how="vertical")
