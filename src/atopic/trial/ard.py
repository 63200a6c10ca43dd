"""The Analysis Results Dataset (ARD): every number a trial analysis reports, one row per statistic.

Shape after CDISC's Analysis Results Standard (ARS v1.0, "ARD" long format): one row is one
statistic of one analysis, for one parameter, analysis visit, group and comparator. Tables and
figures of ``atopic.trial.report`` are made from the ARD and never recomputed, so a number in the
report can always be traced to its row.

Columns
    ANALYSIS   method id, e.g. ``"BIN-CMH"``, ``"MMRM"``, ``"ANCOVA"`` (``atopic.trial.analyses``
               documents them)
    ESTIMAND   how intercurrent events and missing data were handled (``ESTIMANDS``); null for
               descriptive and safety summaries
    PARAMCD    BDS parameter (``"EASI"``) or, for responder analyses, the criterion (``"EASI-75"``)
    AVISIT     analysis visit (``"WEEK 12"``); null for results over all visits
    GROUP      arm (TRT01P) the statistic belongs to; null for a result of the whole model
    COMPARATOR arm the GROUP is compared with (the control); null for one-arm statistics
    SUBGROUP   subgrouping variable (``"AGEGR1"``); null for the whole population
    SUBGRPVAL  its level (``"childhood"``)
    STAT       statistic name from ``STATS``
    VALUE      the number (Float64); null when it cannot be computed (the reason is in VALUEC)
    VALUEC     text result or the reason a VALUE is null
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace

import polars as pl

COLUMNS: tuple[str, ...] = (
    "ANALYSIS",
    "ESTIMAND",
    "PARAMCD",
    "AVISIT",
    "GROUP",
    "COMPARATOR",
    "SUBGROUP",
    "SUBGRPVAL",
    "STAT",
    "VALUE",
    "VALUEC",
)

SCHEMA: dict[str, pl.DataType] = {
    **{c: pl.String() for c in COLUMNS},
    "VALUE": pl.Float64(),
}

STATS: dict[str, str] = {
    "n": "number of subjects with the event or with a value",
    "N": "number of subjects analysed",
    "rate": "proportion n/N (0-1)",
    "mean": "arithmetic mean",
    "sd": "standard deviation",
    "median": "median",
    "min": "minimum",
    "max": "maximum",
    "lsmean": "least-squares (estimated marginal) mean",
    "estimate": "effect estimate (difference, ratio, slope ...)",
    "se": "standard error of the estimate",
    "ci_lower": "lower confidence limit (the analysis states the level)",
    "ci_upper": "upper confidence limit",
    "conf_level": "confidence level of ci_lower/ci_upper (0-1)",
    "df": "degrees of freedom",
    "statistic": "test statistic (chi-square, z, t ...)",
    "p_value": "p-value (two-sided unless the analysis says otherwise)",
    "gmr": "geometric mean ratio",
}
"""The statistic vocabulary. Methods may add their own names; these are the common ones."""

ESTIMANDS: dict[str, str] = {
    "composite": (
        "composite strategy (ICH E9(R1)): rescue, discontinuation or a missing visit count as "
        "non-response (NRI); continuous values after the event are set missing"
    ),
    "treatment-policy": "treatment-policy strategy: values are used whatever happened",
    "mar": "continuous values after the event set missing; missing data assumed MAR (MMRM, MI)",
    "observed": "observed cases only (sensitivity)",
    "locf": "last observation carried forward (labelled sensitivity analysis only)",
}
"""ESTIMAND terms."""


@dataclass(frozen=True)
class ArdRow:
    """One statistic of one analysis (see the module docstring for the columns)."""

    ANALYSIS: str
    PARAMCD: str
    STAT: str
    VALUE: float | None
    AVISIT: str | None = None
    GROUP: str | None = None
    COMPARATOR: str | None = None
    SUBGROUP: str | None = None
    SUBGRPVAL: str | None = None
    VALUEC: str | None = None
    ESTIMAND: str | None = None


def rows(
    analysis: str,
    stats: Mapping[str, float | int | None],
    *,
    paramcd: str,
    avisit: str | None = None,
    group: str | None = None,
    comparator: str | None = None,
    subgroup: str | None = None,
    subgrpval: str | None = None,
    reason: str | None = None,
) -> list[ArdRow]:
    """ARD rows for a mapping of statistic name -> value, sharing the other keys.

    Non-finite values (NaN, infinity) are stored as null with ``reason`` (or ``"not estimable"``)
    in VALUEC, so a null in the ARD always says why.
    """
    out: list[ArdRow] = []
    for stat, value in stats.items():
        number = None if value is None else float(value)
        text = None
        if number is None or not math.isfinite(number):
            number, text = None, reason or "not estimable"
        out.append(
            ArdRow(
                ANALYSIS=analysis,
                PARAMCD=paramcd,
                STAT=stat,
                VALUE=number,
                AVISIT=avisit,
                GROUP=group,
                COMPARATOR=comparator,
                SUBGROUP=subgroup,
                SUBGRPVAL=subgrpval,
                VALUEC=text,
            )
        )
    return out


def with_estimand(ard_rows: Iterable[ArdRow], estimand: str) -> list[ArdRow]:
    """The rows with ESTIMAND set (one of ``ESTIMANDS``)."""
    if estimand not in ESTIMANDS:
        raise ValueError(f"ESTIMAND must be one of {', '.join(ESTIMANDS)}; got {estimand!r}")
    return [replace(r, ESTIMAND=estimand) for r in ard_rows]


def to_frame(ard_rows: Iterable[ArdRow]) -> pl.DataFrame:
    """The ARD as a Polars frame with the columns of ``COLUMNS`` in that order."""
    records = [asdict(r) for r in ard_rows]
    return pl.DataFrame(records, schema=SCHEMA, orient="row").select(COLUMNS)


def value(
    ard: pl.DataFrame,
    analysis: str,
    stat: str,
    *,
    paramcd: str | None = None,
    avisit: str | None = None,
    group: str | None = None,
    comparator: str | None = None,
    subgroup: str | None = None,
    subgrpval: str | None = None,
    estimand: str | None = None,
) -> float | None:
    """The one VALUE that matches; raises ``LookupError`` when none or several rows match.

    Keys left as None match a null cell, so ``group=None`` means "the whole-model row";
    ``paramcd`` and ``estimand`` left as None match any value.
    """
    keys = {
        "ANALYSIS": analysis,
        "STAT": stat,
        "PARAMCD": paramcd,
        "AVISIT": avisit,
        "GROUP": group,
        "COMPARATOR": comparator,
        "SUBGROUP": subgroup,
        "SUBGRPVAL": subgrpval,
        "ESTIMAND": estimand,
    }
    cond = pl.lit(True)
    for col, want in keys.items():
        if col in ("PARAMCD", "ESTIMAND") and want is None:
            continue
        cond = cond & (pl.col(col).is_null() if want is None else pl.col(col) == want)
    hit = ard.filter(cond)
    if hit.height != 1:
        raise LookupError(f"ARD has {hit.height} rows for {keys}; expected exactly 1")
    return hit.item(0, "VALUE")
