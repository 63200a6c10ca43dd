"""Synthetic week-12 EASI data for the ANCOVA validation (seeded; writes data.csv).

180 subjects, PBO/LOW/HIGH, strata REGION (EU/NA/ASIA) and IGABL (3/4), baseline EASI 16-50,
CHG and PCHG with about 8 % missing at week 12.
Run: .venv/bin/python validation/ancova/make_data.py
"""

from pathlib import Path

import numpy as np
import polars as pl

rng = np.random.default_rng(20250502)
n = 180
arm = np.array(["PBO", "LOW", "HIGH"])[np.arange(n) % 3]
region = rng.choice(["EU", "NA", "ASIA"], n)
iga = rng.choice([3, 4], n, p=[0.6, 0.4])
base = np.round(rng.uniform(16, 50, n), 1)
effect = np.select([arm == "LOW", arm == "HIGH"], [-6.0, -11.0], 0.0)
chg = -4 + effect - 0.35 * (base - 30) + 1.5 * (region == "ASIA") - 2 * (iga == 4)
chg = np.round(np.maximum(chg + rng.normal(0, 6, n), -base), 1)
missing = rng.random(n) < 0.08
frame = (
    pl.DataFrame(
        {
            "USUBJID": [f"C{i:03d}" for i in range(n)],
            "TRT01P": arm,
            "REGION": region,
            "IGABL": iga,
            "BASE": base,
            "CHG": chg,
            "PCHG": np.round(100 * chg / base, 6),
            "MISSING": missing,
        }
    )
    .with_columns(pl.when(~pl.col("MISSING")).then(pl.col(c)).alias(c) for c in ("CHG", "PCHG"))
    .drop("MISSING")
)
frame.write_csv(Path(__file__).with_name("data.csv"))
