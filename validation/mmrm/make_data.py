"""Synthetic AD trial for the MMRM validation (writes data.csv beside this file).

Three arms (Placebo, Low, High) x 150 subjects x 4 post-baseline visits (WEEK 2, 4, 8, 12) of
EASI change from baseline. Missing data: monotone dropout (about 15 % by week 12) plus
intermittent missed visits (about 5 %), kept as rows with an empty CHG (absent visits are explicit
rows, trials.md); three subjects without BASE and one without STRAT1R, so that excluded rows are
counted. The true residual covariance is unstructured with variances rising over time.

Run: ``.venv/bin/python validation/mmrm/make_data.py`` (seeded; same file every time).
``simulate`` is importable (the benchmark uses it for 2,000 subjects x 6 visits).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

ARMS: tuple[str, ...] = ("Placebo", "Low", "High")
EFFECT_AT_END: dict[str, float] = {"Placebo": 0.0, "Low": -3.0, "High": -6.0}


def simulate(
    n_per_arm: int = 150,
    weeks: tuple[int, ...] = (2, 4, 8, 12),
    seed: int = 20250517,
    *,
    dropout: float = 0.15,
    intermittent: float = 0.05,
    holes: bool = True,
) -> pl.DataFrame:
    """One row per subject x post-baseline visit: USUBJID, TRT01P, STRAT1R, AVISIT, AVISITN,
    BASE, CHG (EASI points; null when missed)."""
    rng = np.random.default_rng(seed)
    n_visits = len(weeks)
    n = n_per_arm * len(ARMS)
    arm = np.repeat(np.arange(len(ARMS)), n_per_arm)
    strat = rng.choice(np.array(["IGA3", "IGA4"]), size=n, p=[0.6, 0.4])
    base = np.round(rng.gamma(shape=8.0, scale=3.5, size=n) + 12.0, 1)
    frac = np.asarray(weeks, dtype=float) / weeks[-1]
    sd = 3.0 + 4.0 * frac
    idx = np.arange(n_visits)
    corr = 0.45 + 0.4 * 0.7 ** np.abs(idx[:, None] - idx[None, :])
    np.fill_diagonal(corr, 1.0)
    cov = corr * np.outer(sd, sd)
    err = rng.multivariate_normal(np.zeros(n_visits), cov, size=n)
    effect = np.array([EFFECT_AT_END[a] for a in ARMS])[arm][:, None] * np.sqrt(frac)[None, :]
    strat_eff = np.where(strat == "IGA4", -1.5, 0.0)[:, None]
    chg = -4.0 - 5.0 * frac[None, :] + effect - 0.25 * (base[:, None] - 30.0) + strat_eff + err
    chg = np.round(chg, 2)
    # monotone dropout: the first missing visit, uniform over visits 2..last
    drops = rng.random(n) < dropout
    first_missing = rng.integers(1, n_visits, size=n)
    observed = np.ones((n, n_visits), dtype=bool)
    for i in np.flatnonzero(drops):
        observed[i, first_missing[i] :] = False
    observed &= rng.random((n, n_visits)) >= intermittent
    chg_obs = np.where(observed, chg, np.nan)
    ids = np.array([f"SIM-{i + 1:04d}" for i in range(n)])
    frame = pl.DataFrame(
        {
            "USUBJID": np.repeat(ids, n_visits),
            "TRT01P": np.repeat(np.array(ARMS)[arm], n_visits),
            "STRAT1R": np.repeat(strat, n_visits),
            "AVISIT": np.tile(np.array([f"WEEK {w}" for w in weeks]), n),
            "AVISITN": np.tile(np.asarray(weeks, dtype=np.int64), n),
            "BASE": np.repeat(base, n_visits),
            "CHG": chg_obs.ravel(),
        }
    ).with_columns(pl.col("CHG").fill_nan(None))
    if holes:
        no_base = {ids[5], ids[200], ids[401]}
        frame = frame.with_columns(
            BASE=pl.when(pl.col("USUBJID").is_in(list(no_base))).then(None).otherwise("BASE"),
            STRAT1R=pl.when(pl.col("USUBJID") == ids[77]).then(None).otherwise("STRAT1R"),
        )
    return frame


def main() -> None:
    """Write data.csv beside this script."""
    simulate().write_csv(Path(__file__).with_name("data.csv"))


if __name__ == "__main__":
    main()
