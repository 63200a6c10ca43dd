"""Synthetic responder data for the binary and trend validations (seeded; writes data.csv).

Three data sets in one file (column DATASET):
    main    240 subjects, PBO/LOW/HIGH (doses 0, 25, 100), strata REGION x IGABL (6 strata)
    sparse  30 subjects, PBO/HIGH; stratum ASIA/4 has HIGH subjects only, PBO has no responder
    all     20 subjects, PBO/HIGH, every subject responds (CMH variance 0)
Run: .venv/bin/python validation/binary/make_data.py
"""

from pathlib import Path

import numpy as np
import polars as pl

rng = np.random.default_rng(20250501)
DOSES = {"PBO": 0.0, "LOW": 25.0, "HIGH": 100.0}
RATE = {"PBO": 0.15, "LOW": 0.30, "HIGH": 0.45}
records = []

for i in range(240):
    arm = ("PBO", "LOW", "HIGH")[i % 3]
    region = str(rng.choice(["EU", "NA", "ASIA"]))
    iga = int(rng.choice([3, 4], p=[0.6, 0.4]))
    p = RATE[arm] * (0.7 if iga == 4 else 1.1) * (1.2 if region == "ASIA" else 1.0)
    records.append(("main", f"M{i:03d}", arm, region, iga, "Y" if rng.random() < p else "N"))

for i in range(30):
    arm = "HIGH" if i % 2 else "PBO"
    if i >= 24:
        arm, region, iga = "HIGH", "ASIA", 4  # stratum with one arm only
    else:
        region, iga = str(rng.choice(["EU", "NA"])), int(rng.choice([3, 4]))
    resp = "N" if arm == "PBO" else ("Y" if rng.random() < 0.4 else "N")
    records.append(("sparse", f"S{i:03d}", arm, region, iga, resp))

for i in range(20):
    arm = "HIGH" if i % 2 else "PBO"
    records.append(("all", f"A{i:03d}", arm, "EU" if i < 10 else "NA", 3, "Y"))

frame = pl.DataFrame(
    records, schema=["DATASET", "USUBJID", "TRT01P", "REGION", "IGABL", "CRIT1FL"], orient="row"
).with_columns(DOSE=pl.col("TRT01P").replace_strict(DOSES))
frame.write_csv(Path(__file__).with_name("data.csv"))
