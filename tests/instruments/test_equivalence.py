"""Scalar path == batch path, for every registered instrument, on Polars (eager and lazy) and DuckDB.

Rows are generated from the item declarations, valid and invalid alike. For every row the batch
path must score it exactly as the scalar path does (same floats, same bands), or reject it with the
scalar path's message, and must neither lose nor duplicate a row.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atopic.errors import InvalidInput
from atopic.instruments import INSTRUMENTS, score_table
from atopic.instruments.scalar import score_fields
from atopic.instruments.spec import Instrument
from tests.instruments.examples import row_strategy


def _frame(instrument: Instrument, rows: list[dict[str, object]]) -> pl.DataFrame:
    data: dict[str, list[object]] = {"ROW": list(range(len(rows)))}
    for item in instrument.items:
        data[item.code] = [row[item.field] for row in rows]
    return pl.DataFrame(data, strict=False)


def _engines(frame: pl.DataFrame) -> dict[str, object]:
    return {
        "polars": frame,
        "polars-lazy": frame.lazy(),
        "duckdb": duckdb.from_arrow(frame.to_arrow()),
    }


def _to_polars(native: object) -> pl.DataFrame:
    if isinstance(native, pl.LazyFrame):
        return native.collect()
    if isinstance(native, pl.DataFrame):
        return native
    if isinstance(native, duckdb.DuckDBPyRelation):
        return pl.from_arrow(native.to_arrow_table())  # type: ignore[return-value]
    return pl.from_arrow(native)  # type: ignore[arg-type,return-value]


def check_equivalence(instrument: Instrument, rows: list[dict[str, object]]) -> None:
    frame = _frame(instrument, rows)
    # The scalar path sees the values exactly as stored in the table (ints may have become floats).
    stored = frame.rows(named=True)
    expected = {}
    for row in stored:
        flat = {item.field: row[item.code] for item in instrument.items}
        try:
            expected[row["ROW"]] = score_fields(instrument, flat)
        except InvalidInput as error:
            expected[row["ROW"]] = error.message
    for engine, native in _engines(frame).items():
        result = score_table(instrument, native)
        scored, rejects = _to_polars(result.scored), _to_polars(result.rejects)
        assert scored.height + rejects.height == len(rows), engine
        for row in scored.iter_rows(named=True):
            score = expected[row["ROW"]]
            assert not isinstance(score, str), (engine, score)
            assert row["total"] == float(score.total), engine
            assert Decimal(repr(row["total"])) == score.total, engine  # no float drift
            assert row.get("band") == score.band, engine
            for name, value in score.parts.items():
                if isinstance(value, Decimal):
                    assert row[name] == float(value), (engine, name)
                else:
                    assert row[name] == value, (engine, name)
        for row in rejects.iter_rows(named=True):
            assert row["reason"] == expected[row["ROW"]], engine


@pytest.mark.parametrize("name", sorted(INSTRUMENTS))
def test_batch_equals_scalar_on_every_engine(name: str) -> None:
    instrument = INSTRUMENTS[name]

    @settings(
        max_examples=20,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(row_strategy(instrument), min_size=1, max_size=30))
    def run(rows: list[dict[str, object]]) -> None:
        check_equivalence(instrument, rows)

    run()
