"""Observed parameter records from the collected tables: one row per subject x parameter x
assessment, with the analysis value AVAL and the source date text ADTC.

Instrument totals are scored from the QS items with the instruments' own batch path
(``atopic.tables.qs_to_wide`` then ``atopic.instruments.score_table``), so AVAL is exactly the
total the scalar path gives for the same items. Labs come from LB in their standard units.

Decisions
    * oSCORAD is scored from the SCORAD QS rows of its own items (extent and intensity); a SCORAD
      assessment without the subjective items still has an oSCORAD. Codes that are not SCORAD
      items are reported once, by the SCORAD parameter; an assessment both refuse is listed for
      each (each parameter lost it).
    * The instruments' age context (EASI's head-and-neck weight below 8 years) is the subject's
      ADSL AGE at the first dose.
    * A lab result is used only in the standard unit of its test (``LAB_UNITS``: IgE IU/mL,
      eosinophils 10^9/L); another unit, or no number, is a reject, never converted silently.
    * Every QS row or assessment the instrument refuses, and every unusable lab row, lands in the
      rejects with the instrument's own message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import narwhals as nw
import polars as pl

from atopic.instruments import INSTRUMENTS, score_table
from atopic.tables.checkpoints import checkpoint
from atopic.tables.collected import LAB_UNITS
from atopic.tables.wide import qs_to_wide
from atopic.trial.derive._frames import (
    as_narwhals,
    empty_rejects,
    has,
    rejects,
    require,
    stack_rejects,
    text,
)


@dataclass(frozen=True)
class Parameter:
    """A BDS parameter: PARAMCD, PARAM, PARAMN and where it comes from: an instrument (its key in
    ``atopic.instruments.INSTRUMENTS``) and output, or an LB test code."""

    paramcd: str
    param: str
    paramn: int
    instrument: str | None = None
    output: str = "total"
    lbtestcd: str | None = None

    @property
    def source(self) -> str:
        """The collected table: ``"QS"`` or ``"LB"``."""
        return "LB" if self.lbtestcd else "QS"


PARAMETERS: tuple[Parameter, ...] = (
    Parameter("EASI", "EASI total score (0-72)", 1, "easi"),
    Parameter("SCORAD", "SCORAD total score (0-103)", 2, "scorad"),
    Parameter("OSCORAD", "Objective SCORAD (0-83)", 3, "oscorad"),
    Parameter("IGA", "vIGA-AD grade (0-4)", 4, "viga-ad"),
    Parameter("POEM", "POEM total score (0-28)", 5, "poem"),
    Parameter("PPNRS", "Peak Pruritus NRS (0-10)", 6, "pp-nrs"),
    Parameter("SLNRS", "Sleep disturbance NRS (0-10)", 7, "sleep-nrs"),
    Parameter("DLQI", "DLQI total score (0-30)", 8, "dlqi"),
    Parameter("IGE", f"Total IgE ({LAB_UNITS['IGE']})", 9, lbtestcd="IGE"),
    Parameter("EOS", f"Eosinophils ({LAB_UNITS['EOS']})", 10, lbtestcd="EOS"),
)
"""The efficacy and biomarker parameters of the BDS, in PARAMN order."""
PARAMETER: Mapping[str, Parameter] = {p.paramcd: p for p in PARAMETERS}

RECORD_COLUMNS: tuple[str, ...] = (
    "STUDYID",
    "USUBJID",
    "PARAMCD",
    "PARAM",
    "PARAMN",
    "AVAL",
    "ADTC",
)
"""Columns of the observed records: ADTC is the source date as written (QSDTC, LBDTC)."""


def _records(frame: Any, parameter: Parameter, value: nw.Expr, dtc: str) -> Any:
    names = frame.collect_schema().names()
    return frame.select(
        (nw.col("STUDYID") if "STUDYID" in names else text(None)).cast(nw.String).alias("STUDYID"),
        nw.col("USUBJID").cast(nw.String),
        text(parameter.paramcd).alias("PARAMCD"),
        text(parameter.param).alias("PARAM"),
        nw.lit(parameter.paramn, dtype=nw.Int64()).alias("PARAMN"),
        value.cast(nw.Float64).alias("AVAL"),
        (nw.col(dtc).cast(nw.String) if dtc in names else text(None)).alias("ADTC"),
    )


def derive_param_qs(qs: Any, parameter: Parameter, context: Any) -> tuple[Any, pl.DataFrame]:
    """Records of an instrument parameter scored from item-level QS rows.

    ``context`` has USUBJID and AGE (years), one row per subject (ADSL), for the instruments'
    age context. Returns ``(records, rejects)``: the records (RECORD_COLUMNS, lazy) and the QS
    rows or assessments the instrument refused, with its message as ``reason``.
    """
    if parameter.instrument is None:
        raise ValueError(f"{parameter.paramcd} is not an instrument parameter")
    frame, _ = as_narwhals(qs)
    lf = frame.lazy()
    require(lf, "QS", ("USUBJID", "QSCAT", "QSTESTCD"), f"to score {parameter.paramcd}")
    instrument = INSTRUMENTS[parameter.instrument]
    mine = lf.filter(nw.col("QSCAT") == instrument.qscat)
    if parameter.paramcd == "OSCORAD":
        codes = [item.code for item in instrument.items if not item.context]
        mine = mine.filter(nw.col("QSTESTCD").is_in(codes))
    ctx = (
        nw.from_native(context) if not isinstance(context, nw.LazyFrame | nw.DataFrame) else context
    )
    ctx = ctx.lazy().select("USUBJID", "AGE")
    needs_context = any(item.context for item in instrument.items)
    wide = qs_to_wide(mine.to_native(), instrument, ctx.to_native() if needs_context else None)
    # The wide table is read twice (score_table collects its rejects, the records are read
    # later): materialised once, the pivot over the item rows runs once, not twice.
    scored = score_table(instrument, checkpoint(nw.from_native(wide.wide)).to_native())
    records = _records(
        nw.from_native(scored.scored).lazy(), parameter, nw.col(parameter.output), "QSDTC"
    )
    parts = []
    for bad in (wide.rejects, scored.rejects):
        nf = nw.from_native(bad)
        if len(nf):
            parts.append(
                rejects(nf, "QS", nw.col("reason"), paramcd=parameter.paramcd, dtc="QSDTC")
            )
    return records, stack_rejects(parts)


def derive_param_lb(lb: Any, parameter: Parameter) -> tuple[Any, pl.DataFrame]:
    """Records of a lab parameter: AVAL = LBSTRESN of the rows with LBTESTCD ``lbtestcd``.

    Rows without a number or in another unit than ``LAB_UNITS`` are rejects. Returns
    ``(records, rejects)``.
    """
    if parameter.lbtestcd is None:
        raise ValueError(f"{parameter.paramcd} is not a lab parameter")
    frame, _ = as_narwhals(lb)
    lf = frame.lazy()
    require(lf, "LB", ("USUBJID", "LBTESTCD", "LBSTRESN"), f"to read {parameter.paramcd}")
    mine = lf.filter(nw.col("LBTESTCD") == parameter.lbtestcd)
    unit = LAB_UNITS.get(parameter.lbtestcd)
    value = nw.col("LBSTRESN").cast(nw.Float64)
    missing = value.is_null() | value.is_nan()
    if unit is not None and has(lf, "LBSTRESU"):
        wrong_unit = (nw.col("LBSTRESU") != nw.lit(unit)).fill_null(True)
    else:
        wrong_unit = nw.lit(False)
    bad = (missing | wrong_unit).fill_null(True)
    reason = (
        nw.when(missing.fill_null(True))
        .then(text(f"LB {parameter.lbtestcd} LBSTRESN must be a number; got nothing"))
        .otherwise(
            nw.concat_str(
                [
                    text(f"LB {parameter.lbtestcd} LBSTRESU must be {unit}; got '"),
                    nw.col("LBSTRESU").cast(nw.String).fill_null("nothing")
                    if has(lf, "LBSTRESU")
                    else text("nothing"),
                    text("'"),
                ]
            )
        )
    )
    refused = rejects(mine.filter(bad), "LB", reason, paramcd=parameter.paramcd, dtc="LBDTC")
    records = _records(mine.filter(~bad), parameter, value, "LBDTC")
    return records, refused


def derive_params_observed(
    tables: Mapping[str, Any], context: Any, paramcds: tuple[str, ...] | None = None
) -> tuple[Any, pl.DataFrame]:
    """The observed records of every parameter in ``PARAMETERS`` (or of ``paramcds``) whose
    source table is among ``tables`` ("QS", "LB"); parameters without data add no rows.
    Returns ``(records, rejects)``, the records stacked lazily."""
    parts = []
    refused = [empty_rejects()]
    for parameter in PARAMETERS:
        if paramcds is not None and parameter.paramcd not in paramcds:
            continue
        source = tables.get(parameter.source)
        if source is None:
            continue
        if parameter.source == "QS":
            records, bad = derive_param_qs(source, parameter, context)
        else:
            records, bad = derive_param_lb(source, parameter)
        parts.append(records)
        refused.append(bad)
    if not parts:
        raise ValueError("no QS or LB table: there is nothing to derive parameters from")
    return nw.concat(parts, how="vertical"), stack_rejects(refused)
