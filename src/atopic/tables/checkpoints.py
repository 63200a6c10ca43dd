"""Checkpoints: a lazy table computed once, for the steps that read it more than once.

A lazy plan read by two steps runs twice (Polars, DuckDB and Spark do not share work between
separate collects), and on Spark every step also re-plans everything upstream of it. A
checkpoint cuts that: a Polars LazyFrame is computed and handed back lazy; a DuckDB relation
becomes a temporary table of the caller's own connection, read back as a relation (dropped by
``release_checkpoints`` or when the connection closes); a PySpark DataFrame is checkpointed
(its local checkpoint blocks are freed by ``release_checkpoints`` or when the session stops).
"""

from __future__ import annotations

import uuid
import weakref
from typing import Any

import narwhals as nw

CHECKPOINT_PREFIX = "atopic_checkpoint_"
"""Name prefix of the DuckDB temporary tables ``checkpoint`` makes."""

# The locally checkpointed PySpark DataFrames of each live SparkSession. Spark frees a local
# checkpoint's blocks only once the JVM has collected every Dataset that reads it, which in a loop
# of subject batches can be long after the batch: they would pile up on the executors.
_LOCAL_CUTS: weakref.WeakKeyDictionary[Any, list[Any]] = weakref.WeakKeyDictionary()


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
        if has_dir:
            return nw.from_native(native.checkpoint(eager=True))
        cut = native.localCheckpoint(eager=True)
        if impl.is_pyspark():  # Spark Connect keeps its checkpoints on the server
            _LOCAL_CUTS.setdefault(native.sparkSession, []).append(cut)
        return nw.from_native(cut)
    return frame


def release_checkpoints(frame: Any) -> None:
    """Free every checkpoint ``checkpoint`` made on the engine session of ``frame`` (any frame of
    that session), whichever step made it: a DuckDB connection's temporary tables are dropped,
    the blocks of a SparkSession's local checkpoints are removed; Polars keeps nothing, and a
    reliable Spark checkpoint is the checkpoint directory's to clean. Frames that read a freed
    checkpoint are unusable afterwards."""
    nf = frame if isinstance(frame, nw.LazyFrame | nw.DataFrame) else nw.from_native(frame)
    impl = nf.implementation
    if impl.is_pyspark():
        for cut in _LOCAL_CUTS.pop(nf.to_native().sparkSession, []):
            # The checkpointed RDD sits under the Dataset's plan (a LogicalRDD); unpersisting
            # the DataFrame itself would only touch the cache manager, which never held it.
            cut._jdf.queryExecution().analyzed().rdd().unpersist(False)
        return
    if not impl.is_duckdb():
        return
    relation = nf.to_native()
    listed = relation.query(
        "t",
        "SELECT table_name FROM duckdb_tables() "
        f"WHERE temporary AND starts_with(table_name, '{CHECKPOINT_PREFIX}')",
    ).fetchall()
    for (name,) in listed:
        relation.query("t", f"DROP TABLE {name}")
