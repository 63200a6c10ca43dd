"""Derivations in subject batches, for collected tables larger than memory (Polars, DuckDB, and
Spark on one machine).

Every derivation works within one subject: ADSL has a row per subject, BDS records, windows,
baselines, imputations and criteria are per subject x parameter, ADAE per subject's events. So
the collected tables can be cut into batches of subjects and each batch derived on its own; the
batches' tables, stacked in batch order, are the tables ``derive_all`` gives on the whole (a test
proves it), with a bounded memory.

Batches are ranges of USUBJID, taken from DM in sorted order (``subjects`` per batch). The first
range is open below and the last open above, and rows with no USUBJID go to the first batch, so
every row of every table falls in exactly one batch, including rows of subjects DM does not list
(those become rejects, as on the whole). Parquet scans read only the row groups a range needs when
the tables are stored in subject order, as ``atopic synth`` writes them.

Polars batches are collected before they are derived (eager frames: one batch in memory at a
time). DuckDB and Spark batches stay lazy frames of the one connection or session; once the
caller asks for the next batch, every checkpoint of that connection or session is freed (all of
them the finished batch's, since the engine is the caller's own), so they do not pile up.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import narwhals as nw

from atopic.errors import InvalidInput
from atopic.tables.checkpoints import release_checkpoints
from atopic.trial.derive._frames import to_polars
from atopic.trial.derive.pipeline import derive_all
from atopic.trial.design import Design


def subject_bounds(dm: Any, subjects: int) -> list[str]:
    """The upper USUBJID of each batch but the last (the cut points), ``subjects`` per batch.
    ``dm`` is any frame Narwhals reads (Polars, DuckDB ...)."""
    if isinstance(subjects, bool) or not isinstance(subjects, int) or subjects < 1:
        raise InvalidInput("batches", "subjects", subjects, "a whole number of at least 1")
    frame = dm if isinstance(dm, nw.LazyFrame | nw.DataFrame) else nw.from_native(dm)
    ids = to_polars(
        frame.lazy().select(nw.col("USUBJID").cast(nw.String)).drop_nulls().unique().sort("USUBJID")
    ).to_series()
    return ids.gather(list(range(subjects - 1, ids.len() - 1, subjects))).to_list()


def _in_batch(bounds: list[str], k: int) -> nw.Expr:
    subject = nw.col("USUBJID").cast(nw.String)
    keep = nw.lit(True)
    if k > 0:
        keep = keep & (subject > nw.lit(bounds[k - 1]))
    if k < len(bounds):
        keep = keep & (subject <= nw.lit(bounds[k]))
    return keep | subject.is_null() if k == 0 else keep


def derive_batches(
    tables: Mapping[str, Any], design: Design, subjects: int
) -> Iterator[dict[str, Any]]:
    """``derive_all`` on each batch of ``subjects`` subjects, in USUBJID order: yields
    ``{"ADSL", "BDS", "ADAE", "REJECTS"}`` per batch: eager Polars frames from Polars tables,
    relations or DataFrames from DuckDB or Spark tables (valid until the next batch is asked
    for)."""
    lazy = {name: nw.from_native(frame).lazy() for name, frame in tables.items()}
    if "DM" not in lazy:
        raise InvalidInput("tables", "DM", "no such table", "a collected table DM")
    bounds = subject_bounds(lazy["DM"], subjects)
    for k in range(len(bounds) + 1):
        keep = _in_batch(bounds, k)
        part = {name: frame.filter(keep) for name, frame in lazy.items()}
        if all(frame.implementation.is_polars() for frame in part.values()):
            part = {name: frame.collect() for name, frame in part.items()}
        yield derive_all({name: frame.to_native() for name, frame in part.items()}, design)
        release_checkpoints(part["DM"])
