"""Polars frames shaped by a table declaration: the one mapping from declared types to Polars.

Integers -> Int64, other numbers -> Float64, dates -> Date, everything else (text, ISO 8601
``--DTC`` text) -> String. The registry's export, the FHIR and REDCap readers and the table-folder
reader all build their frames with it, so a column has one type wherever it comes from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import narwhals as nw
import polars as pl

from atopic.tables.schema import Column, Table


def polars_type(column: Column) -> pl.DataType:
    """The Polars type of a declared column."""
    if column.dtype.is_integer():
        return pl.Int64()
    if column.dtype.is_numeric():
        return pl.Float64()
    if column.dtype == nw.Date:
        return pl.Date()
    return pl.String()


def polars_schema(
    table: Table, extra: Mapping[str, pl.DataType] | None = None
) -> dict[str, pl.DataType]:
    """The declared columns in order with their Polars types; ``extra`` columns (name -> type)
    are placed right after USUBJID."""
    schema: dict[str, pl.DataType] = {}
    for column in table.columns:
        schema[column.name] = polars_type(column)
        if column.name == "USUBJID":
            schema.update(extra or {})
    return schema


def frame_of(
    table: Table,
    rows: Iterable[Mapping[str, Any]],
    extra: Mapping[str, pl.DataType] | None = None,
) -> pl.DataFrame:
    """A frame of ``rows`` (dicts; absent keys are null) with ``polars_schema(table, extra)``."""
    schema = polars_schema(table, extra)
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)
