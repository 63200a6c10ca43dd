"""Synthetic dose-ranging trial for the MCP-Mod validation (writes data.csv beside this file).

Placebo and four doses of a cell product (0, 12.5, 25, 50, 100 x10^6 cells), 40 subjects per arm.
Response CHG: change of EASI from baseline to week 12 (negative = improvement), generated from an
Emax truth CHG = -4 - 6 * d / (d + 15) - 0.25 * (BASE - 30) + 2 * (STRATUM == "severe") + e,
e ~ N(0, 8^2). Run with the project's venv python: ``python make_data.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

SEED = 20240512
DOSES = (0.0, 12.5, 25.0, 50.0, 100.0)
PER_ARM = 40


def make(seed: int = SEED) -> pl.DataFrame:
    """The synthetic trial: one row per subject (USUBJID, DOSE, BASE, STRATUM, CHG)."""
    rng = np.random.default_rng(seed)
    dose = np.repeat(np.array(DOSES), PER_ARM)
    n = dose.size
    base = np.round(rng.uniform(16.0, 50.0, n), 1)
    stratum = np.where(rng.uniform(size=n) < 0.4, "severe", "moderate")
    mean = -4.0 - 6.0 * dose / (dose + 15.0) - 0.25 * (base - 30.0) + 2.0 * (stratum == "severe")
    chg = np.round(mean + rng.normal(0.0, 8.0, n), 2)
    return pl.DataFrame(
        {
            "USUBJID": [f"S{i + 1:04d}" for i in range(n)],
            "DOSE": dose,
            "BASE": base,
            "STRATUM": stratum,
            "CHG": chg,
        }
    )


if __name__ == "__main__":
    make().write_csv(Path(__file__).with_name("data.csv"))
