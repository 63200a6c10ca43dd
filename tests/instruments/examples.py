"""Test helpers built from the declarations: a valid example per instrument, valid and invalid values
per item, and rows for wide tables."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import duckdb
import polars as pl
from hypothesis import strategies as st

from atopic.errors import InvalidInput
from atopic.instruments import score, score_table
from atopic.instruments.domains import Continuous, Steps
from atopic.instruments.scalar import validate
from atopic.instruments.spec import Instrument, Item


def first_allowed(item: Item) -> object:
    """The smallest allowed value of an item (as a JSON value)."""
    domain = item.domain
    if isinstance(domain, Steps):
        return _number(domain.allowed_values[0])
    if isinstance(domain, Continuous):
        return domain.lo
    return domain.allowed_words[0]  # type: ignore[union-attr]


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def valid_example(instrument: Instrument) -> dict[str, object]:
    """A valid flat input: required items at their first value, optional ones added or removed
    until the cross-item rules are met (driven by the fields the rules name)."""
    flat: dict[str, object] = {
        item.field: None if item.optional else first_allowed(item) for item in instrument.items
    }
    for _ in range(4 * len(instrument.items)):
        try:
            validate(instrument, {k: v for k, v in flat.items() if v is not None})
            return {k: v for k, v in flat.items() if v is not None}
        except InvalidInput as error:
            if error.field not in flat:  # a rule over several items: answer them all
                for item in instrument.items:
                    if flat[item.field] is None:
                        flat[item.field] = first_allowed(item)
                continue
            item = instrument.item(error.field)
            flat[item.field] = first_allowed(item) if flat[item.field] is None else None
    raise AssertionError(f"no valid example found for {instrument.name}")


def invalid_values(item: Item) -> list[object]:
    """Values the item must refuse, generated from its declaration."""
    domain = item.domain
    bad: list[object] = [True, False, "1", float("nan"), float("inf"), [1]]
    if not item.optional:
        bad.append(None)
    if isinstance(domain, Steps):
        step = 1 / domain.scale
        lo, hi = domain.lo / domain.scale, domain.hi / domain.scale
        bad += [lo - step, hi + step, lo + step / 2, hi - step / 2]
        bad += [_number(Decimal(u) / domain.scale) for u in sorted(domain.excluded)]
    elif isinstance(domain, Continuous):
        bad += [domain.lo - 1, domain.hi + 1, -math.inf]
    else:
        bad = [b for b in bad if not isinstance(b, str)]
        bad += ["", "not a listed answer", 1]
    return bad


def value_strategy(item: Item) -> st.SearchStrategy[Any]:
    """Any allowed value of the item."""
    domain = item.domain
    if isinstance(domain, Steps):
        return st.sampled_from(domain.allowed_units).map(
            lambda u: _number(Decimal(u) / domain.scale)
        )
    if isinstance(domain, Continuous):
        return st.floats(domain.lo, domain.hi, allow_nan=False) | st.integers(
            int(domain.lo), int(domain.hi)
        )
    return st.sampled_from(domain.allowed_words)  # type: ignore[union-attr]


def row_strategy(instrument: Instrument) -> st.SearchStrategy[dict[str, object]]:
    """A flat input that is mostly valid per item, sometimes missing or off; rules may fail."""
    fields = {}
    for item in instrument.items:
        valid = value_strategy(item)
        wrong = st.sampled_from([v for v in invalid_values(item) if _fits(item, v)] or [None])
        if item.optional:
            fields[item.field] = st.one_of(st.none(), valid, valid)
        else:
            fields[item.field] = st.one_of(valid, valid, valid, valid, valid, valid, wrong)
    return st.fixed_dictionaries(fields)


def _fits(item: Item, value: object) -> bool:
    """Values that fit the item's column type: numbers in a numeric column, text in a text one."""
    if value is None:
        return True
    if isinstance(item.domain, Steps | Continuous):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, str)


def _expected(instrument: Instrument, data: dict[str, Any]) -> object:
    try:
        result = score(instrument, data)
    except InvalidInput as error:
        return error.message
    out = result.to_dict()
    return {o.name: float(out[o.name]) for o in instrument.outputs} | {
        b.field: out[b.field] for b in instrument.bandings
    }


def assert_table_agrees(instrument: Instrument, inputs: list[dict[str, Any]], engine: str) -> None:
    """score_table on a frame built from the item codes gives the scalar result, row by row,
    including each reject's ``reason``."""
    flats = [instrument.parse(data) if instrument.parse else data for data in inputs]
    columns: dict[str, list[object]] = {"ID": list(range(len(inputs)))}
    for item in instrument.items:
        columns[item.code] = [flat.get(item.field) for flat in flats]
    df = pl.DataFrame(columns)
    frame = df if engine == "polars" else duckdb.sql("select * from df")
    result = score_table(instrument, frame)
    scored = result.scored if engine == "polars" else result.scored.pl()
    rejects = pl.DataFrame(result.rejects)
    got: dict[int, object] = {row["ID"]: row["reason"] for row in rejects.iter_rows(named=True)}
    names = [o.name for o in instrument.outputs] + [b.field for b in instrument.bandings]
    for row in scored.iter_rows(named=True):
        got[row["ID"]] = {name: row[name] for name in names}
    assert got == {i: _expected(instrument, data) for i, data in enumerate(inputs)}
