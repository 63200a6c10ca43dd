"""exact_quotient gives the double nearest the exact decimal on every engine."""

from __future__ import annotations

import duckdb
import narwhals as nw
import numpy as np
import polars as pl
import pytest

from atopic.instruments.ops import exact_quotient


@pytest.mark.parametrize("scale", [2, 10, 20, 1000, 10000])
@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_exact_quotient_is_correctly_rounded(scale: int, engine: str) -> None:
    units = np.arange(0, 1_100_000, dtype=np.int64)
    frame = pl.DataFrame({"u": units})
    native = frame if engine == "polars" else duckdb.from_arrow(frame.to_arrow())
    result = nw.from_native(native).lazy().select(exact_quotient(nw.col("u"), scale).alias("q"))
    values = result.collect().get_column("q").to_numpy()
    np.testing.assert_array_equal(values, units / scale)  # NumPy's true division: IEEE exact


def test_polars_literal_division_is_not_exact() -> None:
    """Why exact_quotient exists: Polars multiplies by the reciprocal of a literal divisor."""
    frame = pl.DataFrame({"u": np.arange(0, 2000, dtype=np.int64)})
    naive = frame.select(pl.col("u") / 20).to_series().to_numpy()
    assert not np.array_equal(naive, np.arange(0, 2000) / 20)
