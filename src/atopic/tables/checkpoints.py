"""Checkpoints: a lazy table computed once, for the steps that read it more than once.

A lazy plan read by two steps runs twice (Polars, DuckDB and Spark do not share work between
separate collects), and on Spark every step also re-plans everything upstream of it. A
checkpoint cuts that: a Polars LazyFrame is computed and handed back lazy; a DuckDB relation
becomes a temporary table of the caller's own connection, read back as a relation (dropped by
``release_checkpoints`` or when the connection closes); a PySpark DataFrame is checkpointed.
"""

from __future__ import annotations

import uuid
from typing import Any

import narwhals as nw

CHECKPOINT_PREFIX = "atopic_checkpoint_"
"""Name prefix of the DuckDB temporary tables ``checkpoint`` makes."""


def checkpoint(frame: Any) -> Any:
    """``frame`` (a Narwhals frame) materialised so its plan runs once (module docstring);
    eager frames and other engines are handed back as they are."""
    if not isinstance(frame, nw.LazyFrame):
        return frame
    impl = frame.implementation
    if impl.is_polars():
        return frame.collect().lazy()
    if impl.is_duckdb():
        relation = frame.to_native()
        name = f"{CHECKPOINT_PREFIX}{uuid.uuid4().hex}"
        relation.query("t", f"CREATE TEMP TABLE {name} AS SELECT * FROM t")
        return nw.from_native(relation.query("t", f"SELECT * FROM {name}"))
    if impl.is_pyspark() or impl.is_pyspark_connect():
        # Without a cut, the plan of each table repeats the whole plan of every table it reads,
        # which grows past the driver's memory on the BDS. A reliable checkpoint (the cluster's
        # checkpoint directory) when one is set, else a local one (kept by the executors).
        native = frame.to_native()
        has_dir = native.sparkSession.sparkContext.getCheckpointDir() is not None
        cut = native.checkpoint(eager=True) if has_dir else native.localCheckpoint(eager=True)
        return nw.from_native(cut)
    return frame


def release_checkpoints(frame: Any) -> None:
    """Drop every temporary table ``checkpoint`` made on the DuckDB connection of ``frame`` (any
    relation of that connection), whichever step made it; other engines keep nothing to drop.
    Relations that read those tables are unusable afterwards."""
    nf = frame if isinstance(frame, nw.LazyFrame | nw.DataFrame) else nw.from_native(frame)
    if not nf.implementation.is_duckdb():
        return
    relation = nf.to_native()
    listed = relation.query(
        "t",
        "SELECT table_name FROM duckdb_tables() "
        f"WHERE temporary AND starts_with(table_name, '{CHECKPOINT_PREFIX}')",
    ).fetchall()
    for (name,) in listed:
        relation.query("t", f"DROP TABLE {name}")
