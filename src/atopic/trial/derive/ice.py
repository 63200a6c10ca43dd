"""Intercurrent events (ICH E9(R1)) from CM (rescue therapy) and DS (discontinuation).

Rules
    * Rescue: a CM record whose CMCAT is the design's ``cmcat`` (default RESCUE); its date is
      CMSTDTC. Discontinuation: a DS record whose DSDECOD is not COMPLETED; its date is
      DSSTDTC. A subject's event date is the earliest such record.
    * Only events the design handles with the ``composite`` strategy mark records; under
      ``treatment_policy`` the data after the event are used as observed.
    * The subject's first composite event (rescue before discontinuation on the same day) is ICE;
      every post-baseline record dated *after* its date (ADT > ICEDT, ADY >= 2) gets ICEFL = "Y".
      A record on the event day is not marked: visit assessments precede the decision to rescue
      or stop.
    * An event record without a complete date cannot be placed: it goes to the rejects and does
      not count (the subject's other records of the event still do).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import narwhals as nw
import polars as pl

from atopic.trial.derive._frames import (
    as_narwhals,
    day_number,
    give_back,
    has,
    rejects,
    require,
    stack_rejects,
    text,
    to_date,
)
from atopic.trial.design import Design

ICE_COLUMNS: tuple[str, ...] = ("USUBJID", "ICE", "ICEDT")


def compute_ice(tables: Mapping[str, Any], design: Design) -> tuple[Any | None, pl.DataFrame]:
    """The first composite intercurrent event per subject: ``(events, rejects)`` where
    ``events`` has USUBJID, ICE ("RESCUE" or "DISCONTINUATION") and ICEDT (a date), or is None
    when the design handles no event by the composite strategy or the tables hold none."""
    parts = []
    refused = []
    for ice in design.intercurrent_events:
        if ice.strategy != "composite":
            continue
        if ice.event == "rescue" and "CM" in tables:
            cm = as_narwhals(tables["CM"])[0].lazy()
            require(cm, "CM", ("USUBJID", "CMCAT", "CMSTDTC"), "to find rescue therapy")
            mine = cm.filter(nw.col("CMCAT") == ice.cmcat)
            name, dtc = "RESCUE", "CMSTDTC"
        elif ice.event == "discontinuation" and "DS" in tables:
            ds = as_narwhals(tables["DS"])[0].lazy()
            require(ds, "DS", ("USUBJID", "DSDECOD", "DSSTDTC"), "to find discontinuations")
            mine = ds.filter(nw.col("DSDECOD") != "COMPLETED")
            if has(ds, "DSCAT"):
                mine = mine.filter(
                    nw.col("DSCAT").is_null() | (nw.col("DSCAT") == "DISPOSITION EVENT")
                )
            name, dtc = "DISCONTINUATION", "DSSTDTC"
        else:
            continue
        dated = mine.with_columns(to_date(dtc).alias("ICEDT"))
        source = "CM" if name == "RESCUE" else "DS"
        refused.append(
            rejects(
                dated.filter(nw.col("ICEDT").is_null()),
                source,
                nw.concat_str(
                    [
                        text(
                            f"{source} {dtc} must be a complete date to date the {name.lower()}; got "
                        ),
                        nw.col(dtc).cast(nw.String).fill_null("nothing"),
                    ]
                ),
                dtc=dtc,
            )
        )
        parts.append(
            dated.filter(~nw.col("ICEDT").is_null()).select(
                nw.col("USUBJID").cast(nw.String), text(name).alias("ICE"), "ICEDT"
            )
        )
    if not parts:
        return None, stack_rejects(refused)
    events = nw.concat(parts, how="vertical")
    # Earliest date first; on one day rescue ("RESCUE" sorts after "DISCONTINUATION", so rank 0).
    rank = day_number(nw.col("ICEDT")) * 2 + nw.when(nw.col("ICE") == "RESCUE").then(0).otherwise(1)
    events = (
        events.with_columns(rank.alias("__rank"))
        .filter(nw.col("__rank") == nw.col("__rank").min().over("USUBJID"))
        .select(*ICE_COLUMNS)
        .unique(subset=["USUBJID"], keep="any")
    )
    return events, stack_rejects(refused)


def derive_var_icefl(dataset: Any, events: Any | None) -> Any:
    """Add ICE and ICEFL: ICEFL = "Y" (and ICE the event) on post-baseline records dated after
    the subject's first composite intercurrent event (``events`` from ``compute_ice``; None: no
    events, both columns null)."""
    frame, native = as_narwhals(dataset)
    require(frame, "BDS", ("USUBJID", "ADT", "ADY"), "to flag records after intercurrent events")
    if events is None:
        out = frame.with_columns(text(None).alias("ICE"), text(None).alias("ICEFL"))
        return give_back(out, native)
    ev, _ = as_narwhals(events)
    if isinstance(frame, nw.LazyFrame):
        ev = ev.lazy()
    joined = frame.join(ev.select(*ICE_COLUMNS), on="USUBJID", how="left")
    after = (
        (day_number(nw.col("ADT")) > day_number(nw.col("ICEDT"))) & (nw.col("ADY") >= 2)
    ).fill_null(False)
    out = joined.with_columns(
        nw.when(after).then(nw.col("ICE")).otherwise(text(None)).alias("ICE"),
        nw.when(after).then(text("Y")).otherwise(text(None)).alias("ICEFL"),
    ).drop("ICEDT")
    return give_back(out, native)
