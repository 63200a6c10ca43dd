"""Dates, study days and analysis windows of BDS records.

Rules
    * ADT is the date part of the source date (ADTC): complete dates only. A partial or missing
      date cannot be placed in a window; derive_bds lists such records in the rejects.
    * ADY counts from TRTSDT with no day 0 (day 1 is the first-dose day, the day before is -1).
    * A record belongs to the analysis visit whose window ``low <= ADY <= high`` holds (design
      ``[[visits.schedule]]``; windows do not overlap, so at most one does). Records outside
      every window get no AVISIT; derive_bds lists them in the rejects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import narwhals as nw

from atopic.trial.derive._frames import (
    as_narwhals,
    give_back,
    require,
    study_day,
    text,
    to_date,
)
from atopic.trial.design import Visit


def derive_var_dt(dataset: Any, dtc: str, new_var: str) -> Any:
    """Add the date ``new_var`` from the ISO 8601 text column ``dtc`` (null unless a complete
    date; see ``_frames.to_date``)."""
    frame, native = as_narwhals(dataset)
    require(frame, "dataset", (dtc,), f"to derive {new_var}")
    return give_back(frame.with_columns(to_date(dtc).alias(new_var)), native)


def derive_var_dy(dataset: Any, date: str, new_var: str, reference: str = "TRTSDT") -> Any:
    """Add the relative day ``new_var`` of ``date`` from ``reference`` (ADaM: no day 0)."""
    frame, native = as_narwhals(dataset)
    require(frame, "dataset", (date, reference), f"to derive {new_var}")
    return give_back(frame.with_columns(study_day(date, reference).alias(new_var)), native)


def derive_vars_avisit(dataset: Any, visits: Sequence[Visit], ady: str = "ADY") -> Any:
    """Add AVISIT, AVISITN, AWLO, AWHI and AWTARGET from the window that holds ``ady``
    (all null when none does)."""
    frame, native = as_narwhals(dataset)
    require(frame, "dataset", (ady,), "to place records in analysis windows")
    day = nw.col(ady)

    def pick(value: Any, dtype: Any) -> nw.Expr:
        expr: Any = None
        for visit in visits:
            inside = (day >= visit.low) & (day <= visit.high)
            lit = nw.lit(value(visit), dtype=dtype)
            expr = nw.when(inside).then(lit) if expr is None else expr.when(inside).then(lit)
        return expr.otherwise(nw.lit(None, dtype=dtype))

    out = frame.with_columns(
        pick(lambda v: v.avisit, nw.String()).alias("AVISIT"),
        pick(lambda v: v.avisitn, nw.Float64()).alias("AVISITN"),
        pick(lambda v: v.low, nw.Int64()).alias("AWLO"),
        pick(lambda v: v.high, nw.Int64()).alias("AWHI"),
        pick(lambda v: v.target, nw.Int64()).alias("AWTARGET"),
    )
    return give_back(out, native)


def visits_frame(subjects: Any, visits: Sequence[Visit]) -> Any:
    """``subjects`` (a lazy frame) repeated once per visit with AVISIT ... AWTARGET set: the
    scheduled grid, built in the subjects' engine."""
    parts = [
        subjects.with_columns(
            text(v.avisit).alias("AVISIT"),
            nw.lit(v.avisitn, dtype=nw.Float64()).alias("AVISITN"),
            nw.lit(v.low, dtype=nw.Int64()).alias("AWLO"),
            nw.lit(v.high, dtype=nw.Int64()).alias("AWHI"),
            nw.lit(v.target, dtype=nw.Int64()).alias("AWTARGET"),
        )
        for v in visits
    ]
    return nw.concat(parts, how="vertical")
