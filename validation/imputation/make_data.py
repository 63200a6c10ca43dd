"""Synthetic longitudinal EASI data with dropout, and its multiple imputations (seeded).

Writes data.csv (120 subjects x 4 post-baseline visits, monotone dropout and a few intermittent
gaps: rows absent or AVAL empty) and completed.csv: ``impute_mar`` (m = 5, seed 11) by arm with
REGION as predictor, week-12 rows only. R (generate.R) analyses completed.csv and pools with
mice, so the test checks analysis + Rubin's rules on identical completed data; the imputation
draws themselves are checked by property tests (tests/trial/analyze/test_imputation.py).
Run: .venv/bin/python validation/imputation/make_data.py
"""

from pathlib import Path

import numpy as np
import polars as pl

from atopic.trial.analyze.imputation import impute_mar

HERE = Path(__file__).parent
rng = np.random.default_rng(20250504)
n = 120
visits = ["WEEK 2", "WEEK 4", "WEEK 8", "WEEK 12"]
arm = np.array(["PBO", "LOW", "HIGH"])[np.arange(n) % 3]
region = rng.choice(["EU", "NA", "ASIA"], n)
base = np.round(rng.uniform(16, 50, n), 1)
slope = np.select([arm == "LOW", arm == "HIGH"], [0.45, 0.65], 0.25)
subject_effect = rng.normal(0, 0.1, n)
dropout = np.where(rng.random(n) < 0.25, rng.integers(1, 4, n), 4)  # first visit missed
records = []
for i in range(n):
    for t, v in enumerate(visits):
        frac = (t + 1) / 4
        value = base[i] * (1 - (slope[i] + subject_effect[i]) * frac) + rng.normal(0, 2.5)
        value = float(np.round(max(value, 0.0), 1))
        if t >= dropout[i]:
            if rng.random() < 0.5:
                continue  # absent row
            value = None
        elif rng.random() < 0.05:
            value = None  # intermittent gap
        records.append((f"L{i:03d}", str(arm[i]), str(region[i]), float(base[i]), v, value))
data = pl.DataFrame(
    records,
    schema={
        "USUBJID": pl.String,
        "TRT01P": pl.String,
        "REGION": pl.String,
        "BASE": pl.Float64,
        "AVISIT": pl.String,
        "AVAL": pl.Float64,
    },
    orient="row",
)
data.write_csv(HERE / "data.csv")
completed = impute_mar(data, visits=visits, m=5, seed=11, strata=["REGION"])
completed.filter(pl.col("AVISIT") == "WEEK 12").with_columns(
    pl.col("AVAL", "CHG", "PCHG").round(10)
).write_csv(HERE / "completed.csv")
