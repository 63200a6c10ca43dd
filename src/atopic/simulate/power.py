"""Operating characteristics of a design from its virtual-trial results.

``summarise(results, null=...)`` gives one row per scenario x endpoint x comparison:

* ``N_TRIALS`` replicates, ``N_SIGNIFICANT`` of them significant (two-sided p < alpha, the test
  named in TEST), ``N_NOT_ESTIMABLE`` without a p-value (counted as not significant);
* ``RATE`` = N_SIGNIFICANT / N_TRIALS with its Wilson score 95 % interval (``RATE_CI_LOWER``,
  ``RATE_CI_UPPER``; Wilson 1927, as R ``prop.test(correct = FALSE)``): the Monte Carlo
  uncertainty of the rate. ``MEASURE`` says what the rate is: "power" when the generator had its
  treatment effect, "type I error" when the run was null (every arm at the control's effect);
* the distribution of ESTIMATE over the replicates that have one: ``N_ESTIMATES``, ``MEAN``,
  ``SD`` (n - 1), quantiles ``Q025``, ``Q25``, ``MEDIAN``, ``Q75``, ``Q975`` (linear interpolation,
  R's type 7) and ``MEAN_SE`` (mean of the replicates' standard errors).
"""

from __future__ import annotations

import polars as pl

from atopic.trial.analyze.binary import wilson_interval

KEYS: tuple[str, ...] = (
    "SCENARIO",
    "SWEEP",
    "SWEEPVAL",
    "SWEEPLABEL",
    "SUBJECTS",
    "ENDPOINT",
    "ROLE",
    "KIND",
    "PARAMCD",
    "AVISIT",
    "TEST",
    "ESTIMATOR",
    "ESTIMAND",
    "GROUP",
    "COMPARATOR",
    "DOSE",
)
MC_LEVEL = 0.95
"""Confidence level of the Monte Carlo interval of a rate."""


def summarise(results: pl.DataFrame, *, null: bool) -> pl.DataFrame:
    """Power (or type I error) and the estimate's distribution per scenario, endpoint and
    comparison (module docstring), in the order of the results."""
    if results.is_empty():
        return pl.DataFrame()
    estimate = pl.col("ESTIMATE").drop_nulls()
    summary = results.group_by(list(KEYS), maintain_order=True).agg(
        pl.len().cast(pl.Int64).alias("N_TRIALS"),
        pl.col("SIGNIFICANT").sum().cast(pl.Int64).alias("N_SIGNIFICANT"),
        pl.col("P_VALUE").is_null().sum().cast(pl.Int64).alias("N_NOT_ESTIMABLE"),
        estimate.len().cast(pl.Int64).alias("N_ESTIMATES"),
        estimate.mean().alias("MEAN"),
        estimate.std(ddof=1).alias("SD"),
        estimate.quantile(0.025, interpolation="linear").alias("Q025"),
        estimate.quantile(0.25, interpolation="linear").alias("Q25"),
        estimate.quantile(0.5, interpolation="linear").alias("MEDIAN"),
        estimate.quantile(0.75, interpolation="linear").alias("Q75"),
        estimate.quantile(0.975, interpolation="linear").alias("Q975"),
        pl.col("SE").drop_nulls().mean().alias("MEAN_SE"),
    )
    bounds = [
        wilson_interval(k, n, MC_LEVEL)
        for k, n in summary.select("N_SIGNIFICANT", "N_TRIALS").iter_rows()
    ]
    return summary.with_columns(
        pl.lit("type I error" if null else "power").alias("MEASURE"),
        (pl.col("N_SIGNIFICANT") / pl.col("N_TRIALS")).alias("RATE"),
        pl.Series("RATE_CI_LOWER", [b[0] for b in bounds], dtype=pl.Float64),
        pl.Series("RATE_CI_UPPER", [b[1] for b in bounds], dtype=pl.Float64),
    ).select(
        *KEYS,
        "MEASURE",
        "N_TRIALS",
        "N_SIGNIFICANT",
        "N_NOT_ESTIMABLE",
        "RATE",
        "RATE_CI_LOWER",
        "RATE_CI_UPPER",
        "N_ESTIMATES",
        "MEAN",
        "SD",
        "Q025",
        "Q25",
        "MEDIAN",
        "Q75",
        "Q975",
        "MEAN_SE",
    )
