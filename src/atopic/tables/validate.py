"""Check a frame against a table declaration, on any engine Narwhals drives.

``validate_table`` lists every problem; ``check_table`` raises ``InvalidInput`` for the first.
Problems are of seven kinds, in this order: a required column is missing (or none of an ``any_of``
group is present); a column has the wrong type; then, row by row, a required value is missing, a
value is outside the controlled terminology, too long, or not an ISO 8601 date/time; and a row
repeats the keys of an earlier row.

Every check is a Narwhals expression evaluated by the engine; only the offending rows are
collected into Python, so a clean table of any size costs one pass and one empty result.

Row numbers are 1-based positions in the table. Eager frames and Polars LazyFrames have an order,
and rows are counted in it. Other lazy engines (DuckDB, PySpark) have none: pass ``order_by``, or
rows are counted in key order (then the other columns), the order SDTM datasets are sorted in.

Decisions: an empty or blank string counts as missing, as in SAS (SDTM's transport format), so it
fails a required column and is not checked further in an optional one; NaN counts as missing in a
numeric column. Lengths are counted in characters (SAS counts bytes: non-ASCII text may need more
room on export). A value with several faults is reported once, for the first fault in the order
above. Unknown extra columns are allowed (SDTM supplemental qualifiers); ``extra_columns`` lists
them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import narwhals as nw

from atopic.errors import Described, InvalidInput
from atopic.tables.schema import Column, Table

ROW = "__atopic_row"
FIRST = "__atopic_first"

ISO8601 = (
    r"^[0-9]{4}"
    r"(-(0[1-9]|1[0-2])"
    r"(-(0[1-9]|[12][0-9]|3[01])"
    r"(T([01][0-9]|2[0-3])(:[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?)?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?"
    r")?)?)?$"
)
"""ISO 8601 calendar date, optionally with time and zone, truncated on the right as SDTM allows
for partial dates: ``2024``, ``2024-05``, ``2024-05-17``, ``2024-05-17T09``, ``2024-05-17T09:30``,
``2024-05-17T09:30:15.25``, ``2024-05-17T09:30+01:00``. The SDTM form with hyphens standing for a
missing middle component (``2024---17``) is not accepted."""
ISO8601_ALLOWED = "an ISO 8601 date or date/time such as 2024-05-17, 2024-05 or 2024-05-17T09:30"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a table.

    ``table`` and ``column`` name where; ``row`` is the 1-based row number (None for a problem
    with the column itself); ``value`` is what was found (None for missing); ``allowed`` what is
    allowed. ``shown``, when set, is what the message says was received instead of the value
    (``"no such column"``). ``message`` is the project's one sentence:
    ``QS row 3 QSTESTCD must be at most 8 characters; got 'EASI1001X'``.
    """

    table: str
    column: str
    row: int | None
    value: object
    allowed: str
    shown: str | None = None

    @property
    def subject(self) -> str:
        """The table, and the row when there is one (``"QS row 3"``)."""
        return self.table if self.row is None else f"{self.table} row {self.row}"

    def to_error(self) -> InvalidInput:
        """The problem as the error every front door shows."""
        got = self.value if self.shown is None else Described(self.shown)
        return InvalidInput(self.subject, self.column, got, self.allowed)

    @property
    def message(self) -> str:
        """``{table} [row {n}] {column} must be {allowed}; got {value}``."""
        return self.to_error().message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class _Check:
    column: str
    kind: str
    flag: str
    expr: nw.Expr
    allowed: str


def validate_table(
    frame: Any, table: Table, *, order_by: str | Sequence[str] | None = None
) -> list[Problem]:
    """Every problem of ``frame`` against the declaration ``table`` (empty list: valid).

    ``frame`` is any frame Narwhals accepts: Polars DataFrame or LazyFrame, a DuckDB relation,
    pandas, PyArrow. ``order_by`` names the column(s) whose order defines row numbers of a lazy
    frame without one (see the module docstring). Problems come column-level first, then by row.

    >>> import polars as pl
    >>> from atopic.tables import DM
    >>> dm = pl.DataFrame({"STUDYID": ["S1"], "USUBJID": ["S1-001"], "SITEID": ["01"],
    ...     "AGE": [34.0], "SEX": ["Male"], "ARMCD": ["A"], "ARM": ["Drug"], "ACTARMCD": ["A"]})
    >>> [p.message for p in validate_table(dm, DM)]
    ["DM row 1 SEX must be one of M, F, U, UNDIFFERENTIATED; got 'Male'"]
    """
    nf = nw.from_native(frame)
    schema = dict(nf.collect_schema())
    problems = _column_problems(table, schema)
    checks = _value_checks(table, schema)
    keys = _present_keys(table, schema)
    if not checks and not keys:
        return problems
    indexed = _with_row_number(nf, table, schema, order_by)
    flags = [c.expr.fill_null(False).alias(c.flag) for c in checks]
    if keys:
        flags.append((nw.col(ROW) != nw.col(FIRST)).alias("__dup"))
        indexed = indexed.with_columns(nw.col(ROW).min().over(*keys).alias(FIRST))
    values = sorted({c.column for c in checks} | set(keys))
    marked = indexed.select(ROW, *([FIRST] if keys else []), *values, *flags)
    flag_names = [c.flag for c in checks] + (["__dup"] if keys else [])
    bad = marked.filter(nw.any_horizontal(*[nw.col(f) for f in flag_names], ignore_nulls=True))
    offending = _collect(bad).sort(ROW)
    seen: set[tuple[int, str]] = set()
    for row in offending.iter_rows(named=True):
        number = int(row[ROW]) + 1
        for check in checks:
            if row[check.flag] and (number, check.column) not in seen:
                seen.add((number, check.column))
                problems.append(
                    Problem(table.name, check.column, number, row[check.column], check.allowed)
                )
        if keys and row["__dup"]:
            problems.append(
                Problem(
                    table.name,
                    ", ".join(keys),
                    number,
                    {k: row[k] for k in keys},
                    "unique together",
                    shown=f"the same as row {int(row[FIRST]) + 1}",
                )
            )
    return problems


def check_table(frame: Any, table: Table, *, order_by: str | Sequence[str] | None = None) -> Any:
    """Raise ``InvalidInput`` for the first problem ``validate_table`` finds; return ``frame``
    unchanged when there is none, so a check can sit in a pipeline."""
    problems = validate_table(frame, table, order_by=order_by)
    if problems:
        raise problems[0].to_error()
    return frame


def extra_columns(frame: Any, table: Table) -> list[str]:
    """The columns of ``frame`` that ``table`` does not declare, in frame order (allowed: SDTM
    supplemental qualifiers and sponsor variables; listed so that a typo is noticed)."""
    names = nw.from_native(frame).collect_schema().names()
    return [name for name in names if table.column(name) is None]


def _column_problems(table: Table, schema: dict[str, nw.dtypes.DType]) -> list[Problem]:
    problems: list[Problem] = []
    for column in table.columns:
        if column.required and column.family is None and column.name not in schema:
            problems.append(
                Problem(
                    table.name,
                    column.name,
                    None,
                    None,
                    f"a column of the table (required: {column.label})",
                    shown="no such column",
                )
            )
    for group in table.any_of:
        if not any(name in schema for name in group):
            problems.append(
                Problem(
                    table.name,
                    " or ".join(group),
                    None,
                    None,
                    "a column of the table (at least one of them is required)",
                    shown="none of them",
                )
            )
    for name, dtype in schema.items():
        column = table.column(name)
        if column is not None and not column.accepts_dtype(dtype):
            problems.append(
                Problem(
                    table.name, name, None, str(dtype), column.describe_dtype(), shown=str(dtype)
                )
            )
    return problems


def _value_checks(table: Table, schema: dict[str, nw.dtypes.DType]) -> list[_Check]:
    checks: list[_Check] = []
    for name, dtype in schema.items():
        column = table.column(name)
        if column is None or not column.accepts_dtype(dtype):
            continue
        textual = column.dtype == nw.String
        col = nw.col(name).cast(nw.String) if textual and dtype != nw.String else nw.col(name)
        missing = col.is_null()
        if textual:
            missing = missing | (col.str.strip_chars() == "")
        elif dtype.is_float():
            missing = missing | col.is_nan()
        given = ~missing.fill_null(True)
        n = len(checks)
        if column.required:
            checks.append(_Check(name, "null", f"__{n}", missing, "given (a required column)"))
        if column.allowed is not None:
            ok = col.is_in(list(column.allowed))
            checks.append(
                _Check(name, "allowed", f"__{n}a", given & ~ok, _describe_allowed(column))
            )
        if column.max_length is not None and textual:
            too_long = col.str.len_chars() > column.max_length
            checks.append(
                _Check(
                    name,
                    "length",
                    f"__{n}l",
                    given & too_long,
                    f"at most {column.max_length} characters",
                )
            )
        if column.iso8601 and textual:
            checks.append(
                _Check(name, "iso8601", f"__{n}d", given & ~iso8601_expr(col), ISO8601_ALLOWED)
            )
    return checks


def iso8601_expr(col: nw.Expr) -> nw.Expr:
    """Boolean expression: the text is an ISO 8601 date/time (``ISO8601``) naming a real calendar
    day (``2024-02-29`` yes, ``2023-02-29`` and ``2024-04-31`` no). Null gives null."""
    shaped = col.str.contains(ISO8601)
    full = shaped & (col.str.len_chars() >= 10)
    # Only well-shaped full dates reach the casts; the rest read a harmless constant.
    safe = nw.when(full.fill_null(False)).then(col).otherwise(nw.lit("2000-01-01"))
    year = safe.str.slice(0, 4).cast(nw.Int64)
    month = safe.str.slice(5, 2).cast(nw.Int64)
    day = safe.str.slice(8, 2).cast(nw.Int64)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    february = nw.when(leap).then(nw.lit(29)).otherwise(nw.lit(28))
    short = nw.when(month.is_in([4, 6, 9, 11])).then(nw.lit(30)).otherwise(nw.lit(31))
    last_day = nw.when(month == 2).then(february).otherwise(short)
    return shaped & (day <= last_day)


def _describe_allowed(column: Column) -> str:
    terms = [str(term) for term in column.allowed or ()]
    if len(terms) == 1:
        return terms[0] if column.required else f"{terms[0]} or empty"
    return "one of " + ", ".join(terms)


def _present_keys(table: Table, schema: dict[str, nw.dtypes.DType]) -> list[str]:
    """Key columns for the duplicate check: those present; none when a required key is absent
    (that is already a problem, and duplicates on the rest would mean nothing)."""
    if any(table[k].required and k not in schema for k in table.keys):
        return []
    return [k for k in table.keys if k in schema]


def _with_row_number(
    nf: Any,
    table: Table,
    schema: dict[str, nw.dtypes.DType],
    order_by: str | Sequence[str] | None,
) -> Any:
    order = [order_by] if isinstance(order_by, str) else list(order_by or [])
    if order or isinstance(nf, nw.DataFrame) or nf.implementation.is_polars():
        return nf.with_row_index(ROW, order_by=order or None)
    keys = [k for k in table.keys if k in schema]
    rest = [n for n, d in schema.items() if n not in keys and _sortable(d)]
    return nf.with_row_index(ROW, order_by=keys + rest)


def _sortable(dtype: nw.dtypes.DType) -> bool:
    return (
        dtype.is_numeric()
        or dtype in (nw.String, nw.Boolean, nw.Date)
        or isinstance(dtype, nw.Datetime)
    )


def _collect(frame: Any) -> Any:
    return frame.collect() if isinstance(frame, nw.LazyFrame) else frame
