"""Synthetic week-12 IgE (IU/mL) and eosinophil (10^9/L) data for the GMR validation (seeded).

150 subjects, PBO/LOW/HIGH, stratum REGION; log-normal baselines; a few missing week-12 values.
Run: .venv/bin/python validation/biomarkers/make_data.py (writes data.csv)
"""

from pathlib import Path

import numpy as np
import polars as pl

rng = np.random.default_rng(20250503)
n = 150
arm = np.array(["PBO", "LOW", "HIGH"])[np.arange(n) % 3]
region = rng.choice(["EU", "NA", "ASIA"], n)
parts = []
for paramcd, mu, sd, effect in (
    ("IGE", 6.5, 1.2, {"LOW": -0.25, "HIGH": -0.5}),
    ("EOS", -0.9, 0.6, {"LOW": -0.15, "HIGH": -0.3}),
):
    base = np.exp(rng.normal(mu, sd, n))
    shift = np.array([effect.get(a, 0.0) for a in arm])
    aval = np.exp(np.log(base) * 0.9 + 0.1 * mu + shift + rng.normal(0, 0.35, n))
    missing = rng.random(n) < 0.06
    parts.append(
        pl.DataFrame(
            {
                "USUBJID": [f"B{i:03d}" for i in range(n)],
                "TRT01P": arm,
                "REGION": region,
                "PARAMCD": paramcd,
                "BASE": np.round(base, 3),
                "AVAL": np.round(aval, 3),
                "MISSING": missing,
            }
        )
    )
frame = (
    pl.concat(parts)
    .with_columns(pl.when(~pl.col("MISSING")).then(pl.col("AVAL")).alias("AVAL"))
    .drop("MISSING")
)
frame.write_csv(Path(__file__).with_name("data.csv"))
