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

VALID = "__atopic_valid"


@dataclass(frozen=True)
class ScoredTable:
    """``scored``: the valid rows with the result columns added (same backend and laziness as the
    input); ``rejects``: the invalid rows, unchanged, plus ``reason`` (an eager frame)."""

    scored: Any
    rejects: Any


def _item_exprs(
    instrument: Instrument, schema: dict[str, nw.dtypes.DType]
) -> tuple[list[nw.Expr], dict[str, nw.Expr], dict[str, nw.Expr]]:
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
        ok = item.domain.valid_expr(col, dtype).fill_null(False)
        if item.optional:
            ok = ok | col.is_null()
        units = item.domain.units_expr(col, dtype)
        guarded = nw.when(is_given & ok).then(units).otherwise(nw.lit(0))
        is_float = isinstance(item.domain, Continuous)
        values[item.field] = guarded.cast(nw.Float64 if is_float else nw.Int64)
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
    if clash or VALID in schema:
        raise InvalidInput(
            f"{instrument.name} table",
            (clash or [VALID])[0],
            "an existing column",
            "free for a result column: rename the input column",
        )
    oks, values, present = _item_exprs(instrument, schema)
    rules = [rule.check(values, present, EXPR) for rule in instrument.rules]
    valid = EXPR.all([*oks, *rules]).fill_null(False)
    marked = lf.with_columns(valid.alias(VALID))

    units = instrument.kernel(values, present, EXPR)
    results = [exact_quotient(units[o.name], o.scale).alias(o.name) for o in instrument.outputs]
    for banding in instrument.bandings:
        chosen = band_set or next(iter(banding.sets))
        if chosen not in banding.sets:
            raise InvalidInput(
                instrument.name, "band_set", chosen, "one of " + ", ".join(banding.sets)
            )
        scale = next(o.scale for o in instrument.outputs if o.name == banding.output)
        label = band_units(units[banding.output], scale, banding.sets[chosen], EXPR)
        results.append(label.cast(nw.String).alias(banding.field))
    scored = marked.filter(nw.col(VALID)).with_columns(*results).drop(VALID)

    bad = marked.filter(~nw.col(VALID)).drop(VALID).collect()
    reasons = [_reason(instrument, row) for row in bad.iter_rows(named=True)]
    rejects = bad.with_columns(
        nw.new_series("reason", reasons, nw.String, backend=nw.get_native_namespace(bad))
    )
    return ScoredTable(
        scored=scored.collect().to_native() if eager else scored.to_native(),
        rejects=rejects.to_native(),
    )


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
