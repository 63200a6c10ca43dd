"""Derivations in subject batches, for collected tables larger than memory (Polars engine).

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
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import polars as pl

from atopic.errors import InvalidInput
from atopic.trial.derive.pipeline import derive_all
from atopic.trial.design import Design


def subject_bounds(dm: pl.LazyFrame | pl.DataFrame, subjects: int) -> list[str]:
    """The upper USUBJID of each batch but the last (the cut points), ``subjects`` per batch."""
    if subjects < 1:
        raise InvalidInput("batches", "subjects", subjects, "a whole number of at least 1")
    ids = (
        dm.lazy()
        .select(pl.col("USUBJID").cast(pl.String))
        .drop_nulls()
        .unique()
        .sort("USUBJID")
        .collect()
        .to_series()
    )
    return ids.gather(list(range(subjects - 1, ids.len() - 1, subjects))).to_list()


def _in_batch(bounds: list[str], k: int) -> pl.Expr:
    subject = pl.col("USUBJID").cast(pl.String)
    keep = pl.lit(True)
    if k > 0:
        keep = keep & (subject > bounds[k - 1])
    if k < len(bounds):
        keep = keep & (subject <= bounds[k])
    return keep | subject.is_null() if k == 0 else keep


def derive_batches(
    tables: Mapping[str, pl.LazyFrame | pl.DataFrame], design: Design, subjects: int
) -> Iterator[dict[str, Any]]:
    """``derive_all`` on each batch of ``subjects`` subjects, in USUBJID order: yields
    ``{"ADSL", "BDS", "ADAE", "REJECTS"}`` per batch as eager Polars frames."""
    lazy = {name: frame.lazy() for name, frame in tables.items()}
    if "DM" not in lazy:
        raise InvalidInput("tables", "DM", "no such table", "a collected table DM")
    bounds = subject_bounds(lazy["DM"], subjects)
    for k in range(len(bounds) + 1):
        keep = _in_batch(bounds, k)
        part = {name: frame.filter(keep).collect() for name, frame in lazy.items()}
        yield derive_all(part, design)
