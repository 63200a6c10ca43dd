"""One record per subject x parameter x analysis visit, and explicit rows for absent visits.

Rules (ANLzzFL)
    * Candidates are observed records (DTYPE null) with a value, optionally excluding records
      flagged ``exclude`` (ICEFL under the composite strategy).
    * Baseline visit: the baseline record (ABLFL = "Y").
    * Other visits: the record whose study day is closest to the window's target day; of two
      equally close (one before, one after the target) the later one. Records share no date
      within a subject and parameter (same-date records are rejected upstream), so this picks
      exactly one.
    * A scheduled visit with no candidate gets a PHANTOM row (DTYPE "PHANTOM", AVAL null) for
      every subject of ``subjects`` and every parameter of the dataset, carrying the flag, so
      imputation sees every missing value. A phantom row of a visit whose only records come
      after an intercurrent event carries that event's ICE and ICEFL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import narwhals as nw

from atopic.trial.derive._frames import as_narwhals, concat, give_back, require, text
from atopic.trial.derive.windows import visits_frame
from atopic.trial.design import Visit

CELL: tuple[str, ...] = ("USUBJID", "PARAMCD", "AVISITN")


def derive_var_anlfl(
    dataset: Any, baseline_avisit: str, new_var: str = "ANL01FL", exclude: str | None = None
) -> Any:
    """Flag ``new_var`` = "Y" on the one record per subject x parameter x visit chosen by the
    module's rule; ``exclude`` names a flag column whose "Y" rows are not candidates."""
    frame, native = as_narwhals(dataset)
    needed = (*CELL, "AVISIT", "ADY", "AWTARGET", "AVAL", "ABLFL", "DTYPE")
    require(frame, "BDS", needed + ((exclude,) if exclude else ()), f"to derive {new_var}")
    candidate = nw.col("DTYPE").is_null() & ~nw.col("AVAL").is_null() & ~nw.col("ADY").is_null()
    if exclude:
        candidate = candidate & (nw.col(exclude) != "Y").fill_null(True)
    distance = (nw.col("ADY") - nw.col("AWTARGET")).abs()
    # Closest first, then the later day: key = 2 * distance + (1 when before the target).
    key = 2 * distance + nw.when(nw.col("ADY") < nw.col("AWTARGET")).then(1).otherwise(0)
    key = nw.when(candidate.fill_null(False)).then(key)
    is_base = nw.col("AVISIT") == baseline_avisit
    chosen = nw.when(is_base).then(nw.col("ABLFL") == "Y").otherwise(key == key.min().over(*CELL))
    out = frame.with_columns(
        nw.when(chosen.fill_null(False) & candidate.fill_null(False))
        .then(text("Y"))
        .otherwise(text(None))
        .alias(new_var)
    )
    return give_back(out, native)


def derive_param_phantom(
    dataset: Any,
    subjects: Any,
    visits: Sequence[Visit],
    flags: Sequence[str] = ("ANL01FL",),
) -> Any:
    """Add PHANTOM rows: for every subject of ``subjects`` (USUBJID, STUDYID), parameter of
    ``dataset`` and visit of ``visits`` whose cell has no row flagged ``flags[0]``; each flag of
    ``flags`` is "Y" on the phantom row when the cell has no row with that flag."""
    frame, native = as_narwhals(dataset)
    require(frame, "BDS", (*CELL, "PARAM", "PARAMN", *flags), "to add phantom rows")
    subs, _ = as_narwhals(subjects)
    lazy = isinstance(frame, nw.LazyFrame)
    subs = subs.lazy() if lazy else subs
    params = frame.select("PARAMCD", "PARAM", "PARAMN").unique(subset=["PARAMCD"], keep="any")
    grid = visits_frame(subs.select("STUDYID", "USUBJID"), visits).join(params, how="cross")
    have = frame.group_by(*CELL).agg(
        *[(nw.col(f) == "Y").fill_null(False).max().alias(f"__has_{f}") for f in flags],
        (nw.col("ICEFL") == "Y").fill_null(False).max().alias("__ice")
        if "ICEFL" in frame.collect_schema().names()
        else nw.lit(False).alias("__ice"),
        nw.col("ICE").max().alias("__icename")
        if "ICE" in frame.collect_schema().names()
        else text(None).alias("__icename"),
    )
    cells = grid.join(have, on=list(CELL), how="left")
    missing = ~nw.col(f"__has_{flags[0]}").fill_null(False)
    phantom = cells.filter(missing).with_columns(
        text("PHANTOM").alias("DTYPE"),
        nw.lit(None, dtype=nw.Float64()).alias("AVAL"),
        *[
            nw.when(nw.col(f"__has_{f}").fill_null(False))
            .then(text(None))
            .otherwise(text("Y"))
            .alias(f)
            for f in flags
        ],
        nw.when(nw.col("__ice").fill_null(False))
        .then(text("Y"))
        .otherwise(text(None))
        .alias("ICEFL"),
        nw.when(nw.col("__ice").fill_null(False))
        .then(nw.col("__icename"))
        .otherwise(text(None))
        .alias("ICE"),
    )
    phantom = phantom.drop(*[f"__has_{f}" for f in flags], "__ice", "__icename")
    return give_back(concat([frame, phantom]), native)
