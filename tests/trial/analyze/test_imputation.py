"""Multiple imputation: analysis + Rubin's rules against R mice, and properties of the draws.

validation/imputation: make_data.py imputes data.csv with ``impute_mar`` (m = 5, seed 11) and
writes the week-12 rows to completed.csv; generate.R analyses the same completed data in R and
pools with mice 3.15 (``pool`` on lm fits, ``pool.scalar`` for LS means and the CMH risk
difference, whose Sato variance is written in R). Tolerance: 1e-6 relative for every pooled
statistic (same formulas). The imputation draws cannot be compared with mice (different random
streams): they are checked by seeded reproducibility and a posterior-moment property test.
"""

import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from atopic.errors import InvalidInput
from atopic.trial import ard
from atopic.trial.analyze.ancova import ancova
from atopic.trial.analyze.imputation import (
    draw_normal_regression,
    impute_mar,
    mi_ancova,
    mi_responder,
    rubin_pool,
)

FOLDER = Path(__file__).parents[3] / "validation" / "imputation"
EXPECTED = json.loads((FOLDER / "expected.json").read_text())
COMPLETED = pl.read_csv(FOLDER / "completed.csv")
DATA = pl.read_csv(FOLDER / "data.csv")
VISITS = ["WEEK 2", "WEEK 4", "WEEK 8", "WEEK 12"]
RTOL = 1e-6


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=RTOL)


def test_mi_ancova_matches_mice_pool() -> None:
    result = mi_ancova(COMPLETED, control="PBO", strata=["REGION"])
    assert result.m == 5
    for arm, want in EXPECTED["ancova"].items():
        p = result.contrasts[arm]
        ours = {
            "estimate": p.estimate, "se": p.se, "df": p.df, "statistic": p.statistic,
            "p_value": p.p_value, "ci_lower": p.ci_lower, "ci_upper": p.ci_upper, "ubar": p.ubar,
            "b": p.b, "t": p.t, "dfcom": p.dfcom, "riv": p.riv, "lambda": p.lambda_, "fmi": p.fmi,
        }  # fmt: skip
        for key, value in ours.items():
            assert close(value, want[key]), (arm, key, value, want[key])
    for arm, want in EXPECTED["lsmeans"].items():
        p = result.lsmeans[arm]
        for key in ("estimate", "se", "df", "fmi", "ci_lower", "ci_upper"):
            assert close(getattr(p, key), want[key]), (arm, key)


def test_mi_responder_matches_mice_pool_scalar() -> None:
    result = mi_responder(
        COMPLETED, control="PBO", criterion=pl.col("PCHG") <= -50, strata=["REGION"]
    )
    for arm, want in EXPECTED["responder"].items():
        p = result.contrasts[arm]
        assert math.isinf(p.dfcom)
        for key in (
            "estimate",
            "ubar",
            "b",
            "t",
            "se",
            "df",
            "riv",
            "fmi",
            "ci_lower",
            "ci_upper",
            "p_value",
        ):
            assert close(getattr(p, key), want[key]), (arm, key)


def test_rubin_pool_on_r_per_imputation_values() -> None:
    want = EXPECTED["responder"]["HIGH"]
    p = rubin_pool(want["per_imputation_estimate"], want["per_imputation_variance"])
    assert close(p.estimate, want["estimate"])
    assert close(p.df, want["df"])
    assert close(p.fmi, want["fmi"])


def test_equal_estimates_pool_exactly_to_that_estimate() -> None:
    # A float mean of three copies of this value is an ulp off (-13.047814424177565), and its
    # float variance is 4.7e-30, not 0: Rubin's Q and B are computed exactly instead.
    x = -13.047814424177563
    p = rubin_pool([x, x, x], [1.25, 1.25, 1.25], dfcom=116)
    assert p.estimate == x
    assert p.b == 0
    assert p.t == p.ubar == 1.25


def test_identical_imputations_pool_to_the_complete_data_analysis() -> None:
    one = COMPLETED.filter(pl.col("IMPNUM") == 1)
    same = pl.concat([one.with_columns(IMPNUM=pl.lit(j)) for j in (1, 2, 3)])
    pooled = mi_ancova(same, control="PBO").contrasts["HIGH"]
    single = ancova(one, control="PBO").contrasts[0]
    assert pooled.b == 0
    assert close(pooled.estimate, single.estimate)
    assert close(pooled.se, single.se)
    assert pooled.df < single.df  # Barnard-Rubin with mice's lambda floor of 1e-4


def test_imputation_is_reproducible_and_keeps_observed_values() -> None:
    a = impute_mar(DATA, visits=VISITS, m=3, seed=5, strata=["REGION"])
    b = impute_mar(DATA, visits=VISITS, m=3, seed=5, strata=["REGION"])
    c = impute_mar(DATA, visits=VISITS, m=3, seed=6, strata=["REGION"])
    assert a.equals(b)
    assert not a.equals(c)
    n_subjects = DATA.get_column("USUBJID").n_unique()
    assert a.height == 3 * n_subjects * len(VISITS)
    observed = DATA.drop_nulls("AVAL")
    joined = a.join(observed, on=["USUBJID", "AVISIT"], how="inner", suffix="_obs")
    assert joined.height == 3 * observed.height
    assert (joined.get_column("AVAL") == joined.get_column("AVAL_obs")).all()
    assert joined.get_column("DTYPE").is_null().all()
    imputed = a.filter(pl.col("DTYPE") == "MI")
    assert imputed.height == 3 * (n_subjects * len(VISITS) - observed.height)
    assert imputed.get_column("AVAL").is_not_null().all()
    assert (a.get_column("CHG") == a.get_column("AVAL") - a.get_column("BASE")).all()


def test_regression_draws_have_the_posterior_moments() -> None:
    # Flat-prior posterior: E b* = b^, Cov b* = s^2 (X'X)^-1 (n - p) / (n - p - 2).
    rng = np.random.default_rng(1)
    n = 30
    x = np.column_stack([np.ones(n), rng.normal(size=n), rng.normal(size=n)])
    y = x @ np.array([1.0, 2.0, -1.0]) + rng.normal(size=n)
    beta_hat = np.linalg.lstsq(x, y, rcond=None)[0]
    s2 = float(np.sum((y - x @ beta_hat) ** 2)) / (n - 3)
    target = s2 * np.linalg.inv(x.T @ x) * (n - 3) / (n - 5)
    draws = np.array([draw_normal_regression(x, y, rng)[0] for _ in range(20000)])
    se = np.sqrt(np.diag(target))
    assert np.all(np.abs(draws.mean(axis=0) - beta_hat) < 4 * se / math.sqrt(20000))
    assert np.allclose(np.cov(draws.T), target, rtol=0.08, atol=0.08 * se.min() ** 2)


def test_ard_rows_carry_keys() -> None:
    rows = ard.to_frame(mi_ancova(COMPLETED, control="PBO").ard("EASI", "WEEK 12"))
    assert set(rows.get_column("ANALYSIS")) == {"MI-ANCOVA"}
    assert ard.value(rows, "MI-ANCOVA", "m", group="HIGH", comparator="PBO", avisit="WEEK 12") == 5
    assert set(rows.filter(pl.col("STAT") == "lsmean").get_column("GROUP")) == {
        "PBO",
        "LOW",
        "HIGH",
    }
    resp = mi_responder(COMPLETED, control="PBO", criterion=pl.col("PCHG") <= -50)
    rrows = ard.to_frame(resp.ard("EASI-50", "WEEK 12"))
    assert set(rrows.get_column("COMPARATOR")) == {"PBO"}


def test_refusals() -> None:
    with pytest.raises(InvalidInput) as err:
        impute_mar(DATA, visits=VISITS, m=1, seed=1)
    assert err.value.field == "m"
    with pytest.raises(InvalidInput) as err:
        impute_mar(DATA.with_columns(DTYPE=pl.lit("LOCF")), visits=VISITS, m=2, seed=1)
    assert err.value.value == "LOCF"
    with pytest.raises(InvalidInput) as err:
        impute_mar(pl.concat([DATA, DATA.head(1)]), visits=VISITS, m=2, seed=1)
    assert err.value.field == "USUBJID x AVISIT"
    with pytest.raises(InvalidInput) as err:
        impute_mar(DATA, visits=VISITS, m=2, seed=1, by=["TRT01P", "REGION", "USUBJID"])
    assert "observed values" in str(err.value)
    bad_base = DATA.with_columns(
        pl.when(pl.col("USUBJID") == "L003").then(None).otherwise(pl.col("BASE")).alias("BASE")
    )
    with pytest.raises(InvalidInput) as err:
        impute_mar(bad_base, visits=VISITS, m=2, seed=1)
    assert err.value.field.startswith("BASE")
    with pytest.raises(InvalidInput) as err:
        rubin_pool([1.0], [0.1])
    assert err.value.field == "estimates"
