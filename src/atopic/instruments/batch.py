"""The batch path: score a wide assessment table (one row per assessment, one column per item code)
with the same declared formula as the scalar path, on any engine Narwhals drives.

Validity is computed as one vectorised expression from the item declarations and rules. Valid rows
are scored by the instrument's kernel evaluated on expressions. Invalid rows go to a rejects table
whose ``reason`` is produced by the scalar validator on that row, so the message is word for word
the one the CLI and the web app give; nothing is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import narwhals as nw

from atopic.errors import InvalidInput
from atopic.instruments.domains import Continuous
from atopic.instruments.ops import EXPR, exact_quotient
from atopic.instruments.scalar import validate
from atopic.instruments.spec import Instrument, band_units

TEMP = "__atopic_"
VALID = f"{TEMP}valid"


@dataclass(frozen=True)
class ScoredTable:
    """``scored``: the valid rows with the result columns added (same backend and laziness as the
    input); ``rejects``: the invalid rows, unchanged, plus ``reason`` (an eager frame)."""

    scored: Any
    rejects: Any


def _item_exprs(
    instrument: Instrument, schema: dict[str, nw.dtypes.DType]
) -> tuple[list[nw.Expr], dict[str, nw.Expr], dict[str, nw.Expr]]:
    """Per item: whether its value is allowed, its value in units (0 where missing or not
    allowed, so no invalid value is ever cast) and whether it was given.

    Returns (ok expressions, units by field, presence by field). The expressions are used inline;
    the engines share the repeated parts (Polars' common subexpression elimination, DuckDB's).
    """
    oks: list[nw.Expr] = []
    values: dict[str, nw.Expr] = {}
    present: dict[str, nw.Expr] = {}
    for item in instrument.items:
        if item.code not in schema:
            if not item.optional:
                raise InvalidInput(
                    f"{instrument.name} table",
                    item.code,
                    None,
                    f"a column holding {item.field} ({item.label})",
                )
            values[item.field], present[item.field] = nw.lit(0, dtype=nw.Int64), nw.lit(False)
            continue
        col, dtype = nw.col(item.code), schema[item.code]
        is_given = ~col.is_null()
        # "& is_given" also keeps the expression tied to the column when a domain answers with a
        # literal (a text column where numbers are expected), so it can drive a filter.
        ok = (item.domain.valid_expr(col, dtype) & is_given).fill_null(False)
        if item.optional:
            ok = ok | col.is_null()
        units = nw.when(is_given & ok).then(item.domain.units_expr(col, dtype)).otherwise(0)
        is_float = isinstance(item.domain, Continuous)
        values[item.field] = units.cast(nw.Float64 if is_float else nw.Int64)
        present[item.field] = is_given
        oks.append(ok)
    return oks, values, present


def score_table(instrument: Instrument, frame: Any, band_set: str | None = None) -> ScoredTable:
    """Score every row of a wide assessment table; see the module docstring.

    ``frame`` is any native frame Narwhals accepts (Polars DataFrame/LazyFrame, a DuckDB relation,
    pandas, PyArrow ...). Columns are the items' codes (``instrument.items[i].code``); other columns
    (USUBJID, VISITNUM ...) are carried through. Result columns: one per output (``total`` and the
    parts) as Float64 exact to the nearest double, and one per banding (``band`` ...).
    """
    nf = nw.from_native(frame)
    eager = isinstance(nf, nw.DataFrame)
    lf = nf.lazy()
    schema = dict(lf.collect_schema())
    clash = [o.name for o in instrument.outputs if o.name in schema] + [
        b.field for b in instrument.bandings if b.field in schema
    ]
    clash += [name for name in schema if name.startswith(TEMP)]
    if clash:
        raise InvalidInput(
            f"{instrument.name} table",
            clash[0],
            "an existing column",
            "free for a result column: rename the input column",
        )
    chosen = {}
    for banding in instrument.bandings:
        name = band_set or next(iter(banding.sets))
        if name not in banding.sets:
            raise InvalidInput(
                instrument.name, "band_set", name, "one of " + ", ".join(banding.sets)
            )
        chosen[banding.field] = banding.sets[name]
    original = list(schema)
    oks, values, present = _item_exprs(instrument, schema)
    # Stage 0: each item's value in units and its presence become columns, so the rules and the
    # kernel refer to them by name. Inlined, every use repeats the item's whole expression:
    # Polars and DuckDB share the repeats, but PySpark builds each one on the driver, and for
    # SCORAD that cost minutes before any data moved.
    value_cols = {f: f"{TEMP}v_{i}" for i, f in enumerate(values)}
    given_cols = {f: f"{TEMP}p_{i}" for i, f in enumerate(present)}
    ok_col = f"{TEMP}items_ok"
    items = [values[f].alias(c) for f, c in value_cols.items()]
    items += [present[f].alias(c) for f, c in given_cols.items()]
    items.append(EXPR.all(oks).alias(ok_col) if oks else nw.lit(True).alias(ok_col))
    lf = lf.with_columns(*items)
    values = {f: nw.col(c) for f, c in value_cols.items()}
    present = {f: nw.col(c) for f, c in given_cols.items()}
    rules = [rule.check(values, present, EXPR) for rule in instrument.rules]
    valid = EXPR.all([nw.col(ok_col), *rules]).fill_null(False).alias(VALID)

    # Stage 1: validity and the formula in integer units, for every row (units of invalid items
    # are 0, so the formula is safe everywhere). Stage 2: exact decimals and bands from the
    # stage-1 columns, which keeps each expression small.
    units = instrument.kernel(values, present, EXPR)
    unit_cols = [units[o.name].alias(f"{TEMP}o_{o.name}") for o in instrument.outputs]
    results = [
        exact_quotient(nw.col(f"{TEMP}o_{o.name}"), o.scale).alias(o.name)
        for o in instrument.outputs
    ]
    scales = {o.name: o.scale for o in instrument.outputs}
    for banding in instrument.bandings:
        units_col = nw.col(f"{TEMP}o_{banding.output}")
        label = band_units(units_col, scales[banding.output], chosen[banding.field], EXPR)
        results.append(label.cast(nw.String).alias(banding.field))
    staged = lf.with_columns(valid, *unit_cols).with_columns(*results)
    names = [*original, *_result_names(instrument)]

    if eager:  # one pass over the data, then split
        full = staged.collect()
        scored: Any = full.filter(nw.col(VALID)).select(*names)
        bad = full.filter(~nw.col(VALID)).select(*original)
    else:  # stay lazy for the scored rows; the rejects are collected
        scored = staged.filter(nw.col(VALID)).select(*names)
        bad = staged.filter(~nw.col(VALID)).select(*original).collect()
    reasons = [_reason(instrument, row) for row in bad.iter_rows(named=True)]
    rejects = bad.with_columns(
        nw.new_series("reason", reasons, nw.String, backend=nw.get_native_namespace(bad))
    )
    return ScoredTable(scored=scored.to_native(), rejects=rejects.to_native())


def _result_names(instrument: Instrument) -> list[str]:
    return [o.name for o in instrument.outputs] + [b.field for b in instrument.bandings]


def _reason(instrument: Instrument, row: dict[str, object]) -> str:
    flat = {item.field: row.get(item.code) for item in instrument.items}
    try:
        validate(instrument, flat)
    except InvalidInput as error:
        return error.message
    raise RuntimeError(
        f"{instrument.name}: a row failed the table check but passes the scalar check; "
        "this is a bug in atopic, please report it"
    )
