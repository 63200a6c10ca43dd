"""Descriptive summaries into the ARD: disposition, demographics and baseline, and observed means by
visit.

Conventions (decided once, here)
    * Group ``"Total"`` pools every arm; arms are the planned treatment (TRT01P) for efficacy and
      disposition, the actual treatment (TRTA) for safety.
    * SD uses the sample formula (divisor n - 1), as SAS PROC MEANS and R ``sd()``.
    * Mean CI: Student t, ``mean +/- t(0.975, n-1) * sd / sqrt(n)``; not estimable for n < 2.
    * Categorical: ``n`` subjects in the level, ``N`` subjects with a non-missing value in the
      arm, ``rate = n / N``. A missing value is its own level ``"Missing"``: never dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import polars as pl
from scipy import stats

from atopic.errors import InvalidInput
from atopic.trial.ard import ArdRow, rows

TOTAL = "Total"
"""The GROUP of statistics over all arms pooled."""
MISSING = "Missing"
"""The level under which missing categorical values are counted."""


def require_columns(frame: pl.DataFrame, table: str, columns: Sequence[str]) -> None:
    """Raise ``InvalidInput`` naming the table and the first absent column."""
    for column in columns:
        if column not in frame.columns:
            raise InvalidInput(table, column, None, f"a column of {table} (has {frame.columns})")


def continuous_stats(values: Sequence[float]) -> dict[str, float | None]:
    """n, mean, sd, se, 95 % t CI of the mean, median, min and max of the non-null values.

    Sample SD (n - 1); CI ``mean +/- t(0.975, n - 1) sd / sqrt(n)`` (Student 1908).
    """
    xs = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    n = len(xs)
    out: dict[str, float | None] = {"n": float(n)}
    if n == 0:
        return out | dict.fromkeys(("mean", "sd", "se", "ci_lower", "ci_upper", "median"), None)
    mean = math.fsum(xs) / n
    sd = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1)) if n > 1 else None
    se = sd / math.sqrt(n) if sd is not None else None
    half = float(stats.t.ppf(0.975, n - 1)) * se if se is not None else None
    ordered = sorted(xs)
    mid = n // 2
    median = ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return out | {
        "mean": mean,
        "sd": sd,
        "se": se,
        "ci_lower": None if half is None else mean - half,
        "ci_upper": None if half is None else mean + half,
        "conf_level": 0.95,
        "median": median,
        "min": ordered[0],
        "max": ordered[-1],
    }


def _groups(frame: pl.DataFrame, by: str, order: Sequence[str] | None) -> list[str]:
    present = frame.get_column(by).drop_nulls().unique().to_list()
    if order is None:
        return sorted(present)
    return [g for g in order if g in present] + sorted(set(present) - set(order))


def summarise_continuous(
    frame: pl.DataFrame,
    variable: str,
    *,
    analysis: str,
    paramcd: str | None = None,
    by: str = "TRT01P",
    order: Sequence[str] | None = None,
    total: bool = True,
    avisit: str | None = None,
    table: str = "ADSL",
) -> list[ArdRow]:
    """ARD rows of ``continuous_stats`` of ``variable`` per arm (and Total)."""
    require_columns(frame, table, (by, variable))
    out: list[ArdRow] = []
    groups = _groups(frame, by, order)
    for group in [*groups, *([TOTAL] if total else [])]:
        part = frame if group == TOTAL else frame.filter(pl.col(by) == group)
        out += rows(
            analysis,
            continuous_stats(part.get_column(variable).to_list()),
            paramcd=paramcd or variable,
            avisit=avisit,
            group=group,
            reason="fewer than 2 values",
        )
    return out


def summarise_categorical(
    frame: pl.DataFrame,
    variable: str,
    *,
    analysis: str,
    by: str = "TRT01P",
    order: Sequence[str] | None = None,
    levels: Sequence[str] | None = None,
    total: bool = True,
) -> list[ArdRow]:
    """ARD rows n, N, rate of each level of ``variable`` per arm (and Total).

    Levels are ``levels`` in that order, then any other level seen, then ``"Missing"`` when a
    value is null; SUBGROUP holds the variable and SUBGRPVAL the level.
    """
    require_columns(frame, "ADSL", (by, variable))
    values = frame.get_column(variable).cast(pl.String)
    seen = sorted(set(values.drop_nulls().to_list()) - set(levels or ()))
    all_levels = [*(levels or ()), *seen, *([MISSING] if values.null_count() else [])]
    frame = frame.with_columns(values.fill_null(MISSING).alias("__level"))
    out: list[ArdRow] = []
    for group in [*_groups(frame, by, order), *([TOTAL] if total else [])]:
        part = frame if group == TOTAL else frame.filter(pl.col(by) == group)
        big_n = part.height
        for level in all_levels:
            n = part.filter(pl.col("__level") == level).height
            out += rows(
                analysis,
                {"n": n, "N": big_n, "rate": n / big_n if big_n else None},
                paramcd=variable,
                group=group,
                subgroup=variable,
                subgrpval=level,
                reason="no subjects in the arm",
            )
    return out


def summarise_by_visit(
    bds: pl.DataFrame,
    paramcd: str,
    variable: str,
    *,
    analysis: str,
    by: str = "TRTP",
    order: Sequence[str] | None = None,
) -> list[ArdRow]:
    """Observed-case summary of ``variable`` (AVAL, CHG or PCHG) of one parameter per arm and
    analysis visit: records with ANL01FL = "Y" and no DTYPE (observed, not imputed)."""
    require_columns(bds, "BDS", ("PARAMCD", "AVISIT", "AVISITN", "ANL01FL", "DTYPE", by, variable))
    part = bds.filter(
        (pl.col("PARAMCD") == paramcd) & (pl.col("ANL01FL") == "Y") & pl.col("DTYPE").is_null()
    )
    visits = part.select("AVISIT", "AVISITN").unique().sort("AVISITN").get_column("AVISIT")
    out: list[ArdRow] = []
    for visit in visits:
        at = part.filter(pl.col("AVISIT") == visit)
        out += summarise_continuous(
            at,
            variable,
            analysis=analysis,
            paramcd=paramcd,
            by=by,
            order=order,
            total=False,
            avisit=visit,
            table="BDS",
        )
    return out
