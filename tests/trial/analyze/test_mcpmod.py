"""MCP-Mod against R's DoseFinding: reference numbers from validation/mcpmod/expected.json.

validation/mcpmod/generate.R ran DoseFinding 1.0-3 (Mods, optContr, MCTtest, MCPMod, fitMod,
predict, TD) on validation/mcpmod/data.csv (made by make_data.py) three ways: "normal" (subject
data), "ancova" (addCovars = ~ BASE + STRATUM) and "general" (cell means and their covariance).

Tolerances, declared once:
- RTOL = 1e-6 relative for deterministic quantities (candidate means, contrasts, their
  correlation, t statistics, fits of linear and quadratic models, everything derived from them).
- RTOL_NONLINEAR = 1e-5 relative for fits with nonlinear parameters (emax, sigEmax,
  exponential): R stops Brent's optimize at tol = sqrt(machine eps) ~ 1.5e-8 and nlminb at
  rel.tol 1e-10 on the RSS, so its ed50/h are off the optimum by ~1e-7 relative; covariance and
  standard errors (derivatives at the estimate) move by up to ~2e-6 (measured).
- MVT_ATOL = 1e-3 absolute for adjusted p-values and the critical value against R's tight
  mvtnorm run (maxpts 2e6, abseps 1e-6): both sides are randomized quasi-Monte Carlo integrals
  (R: GenzBretz lattice; here scrambled Sobol, 8 x 2^16 points). Measured: p-values within
  6e-5; the critical value within 3.5e-4 over seeds (a probability error of ~5e-5 divided by the
  density of max T at the quantile, ~0.15).
- MVT_ATOL_DEFAULT = 1e-2 absolute against DoseFinding's default mvtnorm.control() (abseps 1e-3):
  its own critical value is off by up to 5e-3 from the tight one (measured).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

from atopic.errors import InvalidInput
from atopic.trial.analyze.mcpmod import (
    FitData,
    candidate_models,
    curve_from_ard,
    fit_model,
    format_dose,
    mcpmod,
    mcpmod_general,
    optimal_contrasts,
)
from atopic.trial.analyze.mcpmod.mvt import MaxT, pivoted_cholesky
from atopic.trial.ard import value

FOLDER = Path(__file__).resolve().parents[3] / "validation" / "mcpmod"
RTOL = 1e-6
RTOL_NONLINEAR = 1e-5
MVT_ATOL = 1e-3
MVT_ATOL_DEFAULT = 1e-2

SPEC = {
    "linear": None,
    "emax": [5, 25],
    "sigEmax": (30, 3),
    "exponential": 80,
    "quadratic": -0.006,
}
DELTA = 4.0
SCENARIOS = ("normal", "ancova", "general")


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads((FOLDER / "expected.json").read_text())


@pytest.fixture(scope="module")
def data() -> pl.DataFrame:
    return pl.read_csv(FOLDER / "data.csv")


@pytest.fixture(scope="module")
def results(data: pl.DataFrame, expected: dict) -> dict:
    common = {"models": SPEC, "direction": "decreasing", "delta": DELTA}
    return {
        "normal": mcpmod(data, dose="DOSE", response="CHG", **common),
        "ancova": mcpmod(
            data, dose="DOSE", response="CHG", covariates=["BASE", "STRATUM"], **common
        ),
        "general": mcpmod_general(
            expected["doses"], expected["general"]["estimates"], expected["general"]["S"], **common
        ),
    }


def close(actual: object, desired: object, rtol: float, atol: float = 1e-12) -> None:
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float), np.asarray(desired, dtype=float), rtol=rtol, atol=atol
    )


def fit_data(scenario: str, data: pl.DataFrame, expected: dict) -> FitData:
    """The data of a fit as mcpmod builds it (covariate names as R's model.matrix)."""
    if scenario == "general":
        return FitData(
            "general",
            np.array(expected["doses"]),
            np.array(expected["general"]["estimates"]),
            cov=np.array(expected["general"]["S"]),
        )
    dose, resp = data["DOSE"].to_numpy(), data["CHG"].to_numpy()
    if scenario == "normal":
        return FitData("normal", dose, resp)
    severe = (data["STRATUM"] == "severe").cast(pl.Float64).to_numpy()
    return FitData(
        "normal",
        dose,
        resp,
        np.column_stack([data["BASE"].to_numpy(), severe]),
        ("BASE", "STRATUMsevere"),
        np.array([data["BASE"].mean(), 0.5]),
    )


# -- candidates and contrasts ------------------------------------------------------------------


def test_candidate_shapes_match_mods(expected: dict) -> None:
    cands = candidate_models(SPEC, expected["doses"], "decreasing")
    assert cands.names == expected["candidate_names"]
    close(cands.mu(), expected["candidate_mu"], RTOL)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_contrasts_correlation_and_t_match_mcttest(
    scenario: str, results: dict, expected: dict
) -> None:
    ref, res = expected[scenario]["mct"], results[scenario]
    assert list(res.test.names) == ref["contrast_names"]
    close(res.test.contrasts, ref["contrasts"], RTOL)
    close(res.test.corr, ref["corr"], RTOL)
    close(res.test.t, ref["t"], RTOL)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_p_values_and_critical_value_match_mvtnorm(
    scenario: str, results: dict, expected: dict
) -> None:
    ref, test = expected[scenario]["mct"], results[scenario].test
    close(test.p_adjusted, ref["p_tight"], 0, MVT_ATOL)
    assert abs(test.critical_value - ref["crit_tight"]) < MVT_ATOL
    close(test.p_adjusted, ref["p"], 0, MVT_ATOL_DEFAULT)
    assert abs(test.critical_value - ref["crit"]) < MVT_ATOL_DEFAULT
    assert expected[scenario]["df"] == (None if math.isinf(test.df) else test.df)


def test_contrasts_of_opposite_directions_differ_in_sign(expected: dict) -> None:
    s = np.array(expected["general"]["S"])
    up = candidate_models(SPEC, expected["doses"], "increasing")
    down = candidate_models(SPEC, expected["doses"], "decreasing")
    close(optimal_contrasts(up.mu(), s), -optimal_contrasts(down.mu(), s), 1e-12)
    assert np.allclose(optimal_contrasts(up.mu(), s).sum(axis=0), 0.0, atol=1e-12)


# -- the max-t distribution ------------------------------------------------------------------


def test_max_normal_cdf_agrees_with_scipy_on_a_singular_correlation(expected: dict) -> None:
    corr = np.array(expected["general"]["mct"]["corr"])
    assert pivoted_cholesky(corr)[0].shape[1] == 4  # 6 contrasts of 5 doses: rank 4
    dist = MaxT(corr, math.inf)
    for c in (1.5, 2.3, 3.0):
        ref = stats.multivariate_normal.cdf(
            np.full(6, c), cov=corr, allow_singular=True, abseps=1e-7, releps=0, rng=1
        )
        assert abs(dist.cdf(c).value - ref) < MVT_ATOL


def test_max_t_cdf_agrees_with_scipy_on_a_regular_correlation(expected: dict) -> None:
    corr = np.array(expected["normal"]["mct"]["corr"])[:3, :3]
    dist = MaxT(corr, 20.0)
    ref = stats.multivariate_t.cdf(np.full(3, 2.0), shape=corr, df=20, maxpts=10**6, random_state=1)
    assert abs(dist.cdf(2.0).value - ref) < MVT_ATOL


def test_p_values_are_reproducible_with_the_same_seed(expected: dict) -> None:
    corr = np.array(expected["normal"]["mct"]["corr"])
    assert MaxT(corr, 195, seed=7).cdf(2.5) == MaxT(corr, 195, seed=7).cdf(2.5)


# -- fits --------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize(
    "name", ["linear", "quadratic", "emax", "sigEmax", "exponential", "sigEmax_tight"]
)
def test_fit_matches_fitmod(scenario: str, name: str, data: pl.DataFrame, expected: dict) -> None:
    ref = expected[scenario]["fits"][name]
    model = name.removesuffix("_tight")
    rtol = RTOL if model in ("linear", "quadratic") else RTOL_NONLINEAR
    fit = fit_model(model, fit_data(scenario, data, expected))
    assert list(fit.coefs) == ref["coef_names"]
    close(list(fit.coefs.values()), list(ref["coefs"].values()), rtol)
    close(fit.rss, ref["rss"], rtol)
    close(fit.criterion, ref["crit"], rtol)
    assert (ref["df"] is None and math.isinf(fit.df)) or fit.df == ref["df"]
    close(fit.vcov, ref["vcov"], rtol)
    grid = np.array(expected["grid"])
    ls, ls_se = fit.predict(grid, "ls-means")
    close(ls, ref["ls_fit"], rtol)
    close(ls_se, ref["ls_se"], rtol)
    eff, eff_se = fit.predict(grid, "effect-curve")
    close(eff, ref["eff_fit"], rtol, atol=1e-9)
    close(eff_se, ref["eff_se"], rtol, atol=1e-9)
    close(fit.target_dose(DELTA, "decreasing"), ref["td"], rtol)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_mcpmod_fits_selects_and_estimates_td_like_dosefinding(
    scenario: str, results: dict, expected: dict
) -> None:
    ref, res = expected[scenario]["mcpmod"], results[scenario]
    assert sorted(res.fits) == sorted(ref["fitted"])
    assert res.selected == ref["selected"]
    by_name = dict(zip(ref["fitted"], zip(ref["crit"], ref["td"], strict=True), strict=True))
    for name, fit in res.fits.items():
        close(fit.criterion, by_name[name][0], RTOL_NONLINEAR)
        close(res.target_doses[name], by_name[name][1], RTOL_NONLINEAR)
    close(res.target_dose, by_name[ref["selected"]][1], RTOL_NONLINEAR)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_curve_ci_is_dosefinding_plot_band(scenario: str, results: dict, expected: dict) -> None:
    res = results[scenario]
    ref = expected[scenario]["fits"][res.selected]
    grid = np.array(expected["grid"])
    curve = res.curve(grid)
    df = ref["df"]
    q = stats.norm.ppf(0.975) if df is None else stats.t.ppf(0.975, df)
    close(curve["fit"], ref["ls_fit"], RTOL_NONLINEAR)
    close(curve["ci_lower"], np.array(ref["ls_fit"]) - q * np.array(ref["ls_se"]), RTOL_NONLINEAR)
    close(curve["ci_upper"], np.array(ref["ls_fit"]) + q * np.array(ref["ls_se"]), RTOL_NONLINEAR)


# -- ARD ---------------------------------------------------------------------------------------


def test_ard_rows_carry_the_results(results: dict, expected: dict) -> None:
    res = results["ancova"]
    ard = res.ard(paramcd="EASI", avisit="WEEK 12")
    ref = expected["ancova"]

    def v(stat: str, group: str | None = None) -> float | None:
        return value(ard, "MCPMOD", stat, paramcd="EASI", avisit="WEEK 12", group=group)

    for name, t in zip(ref["mct"]["contrast_names"], ref["mct"]["t"], strict=True):
        close(v("statistic", name), t, RTOL)
        assert v("p_value", name) == pytest.approx(res.test.p_adjusted[res.test.names.index(name)])
    assert abs(v("critical_value") - ref["mct"]["crit_tight"]) < MVT_ATOL
    close(v("td"), ref["mcpmod"]["td"][ref["mcpmod"]["fitted"].index("emax")], RTOL_NONLINEAR)
    assert v("N") == 200
    assert v("n_excluded") == 0
    assert v("df") == ref["df"]
    row = ard.filter(pl.col("STAT") == "selected_model")
    assert row["VALUEC"].to_list() == ["emax"]
    emax = ref["fits"]["emax"]
    for i, dose in enumerate(expected["grid"]):
        close(v("curve", format_dose(dose)), emax["ls_fit"][i], RTOL_NONLINEAR)
        close(v("curve_se", format_dose(dose)), emax["ls_se"][i], RTOL_NONLINEAR)
    assert v("fit", "12.5") == pytest.approx(res.curve([12.5])["fit"][0])


def test_curve_from_ard_gives_back_the_plot_data(results: dict) -> None:
    res = results["normal"]
    ard = res.ard(paramcd="EASI", avisit="WEEK 12", estimand="treatment-policy")
    assert set(ard["ESTIMAND"].to_list()) == {"treatment-policy"}
    curve, points = curve_from_ard(ard, paramcd="EASI", avisit="WEEK 12")
    direct = res.curve()
    assert curve.height == direct.height == 201
    close(curve["dose"], direct["dose"], 1e-12)
    close(curve["fit"], direct["fit"], 1e-12)
    close(curve["ci_upper"], direct["ci_upper"], 1e-12)
    assert points["dose"].to_list() == list(res.doses)
    close(points["lsmean"], res.estimates, 1e-12)


def test_ancova_lsmeans_are_at_mean_covariates(results: dict, data: pl.DataFrame) -> None:
    # with no covariates the LS means are the cell means
    cell = data.group_by("DOSE").agg(pl.col("CHG").mean()).sort("DOSE")["CHG"]
    close(results["normal"].estimates, cell, 1e-12)


# -- behaviour ---------------------------------------------------------------------------------


def test_flat_truth_gives_no_significant_contrast() -> None:
    rng = np.random.default_rng(11)
    dose = np.repeat([0.0, 12.5, 25.0, 50.0, 100.0], 40)
    flat = pl.DataFrame({"DOSE": dose, "CHG": -5.0 + rng.normal(0.0, 8.0, dose.size)})
    res = mcpmod(flat, models=SPEC, direction="decreasing", delta=DELTA)
    assert np.all(res.test.p_adjusted >= 0.025)
    assert np.all(res.test.t < res.test.critical_value)
    assert res.selected is None
    assert res.fits == {}
    assert math.isnan(res.target_dose)
    ard = res.ard(paramcd="EASI")
    assert ard.filter(pl.col("STAT") == "selected_model")["VALUEC"][0].startswith("none")
    assert ard.filter(pl.col("STAT") == "td")["VALUEC"][0] == "no significant contrast"
    assert res.curve().height == 0


def test_rows_with_missing_values_are_excluded_and_counted(data: pl.DataFrame) -> None:
    holed = data.with_columns(
        pl.when(pl.int_range(pl.len()) % 50 == 3).then(None).otherwise(pl.col("CHG")).alias("CHG"),
        pl.when(pl.int_range(pl.len()) == 10)
        .then(None)
        .otherwise(pl.col("STRATUM"))
        .alias("STRATUM"),
    )
    kw = {
        "models": {"emax": 10, "linear": None},
        "direction": "decreasing",
        "covariates": ["STRATUM"],
    }
    res = mcpmod(holed, **kw)
    assert res.n_excluded == 5
    assert res.n == 195
    complete = mcpmod(holed.drop_nulls(["CHG", "STRATUM"]), **kw)
    close(res.test.t, complete.test.t, 1e-12)


def test_pandas_input_gives_the_same_test(data: pl.DataFrame, results: dict) -> None:
    res = mcpmod(data.to_pandas(), models=SPEC, direction="decreasing", delta=DELTA)
    close(res.test.t, results["normal"].test.t, 1e-12)


# -- invalid input -----------------------------------------------------------------------------


def _tiny(doses: list[float]) -> pl.DataFrame:
    rng = np.random.default_rng(1)
    d = np.repeat(doses, 5)
    return pl.DataFrame({"DOSE": d, "CHG": rng.normal(size=d.size)})


@pytest.mark.parametrize(
    ("doses", "field"),
    [([0.0, 10.0, 50.0], "dose"), ([5.0, 10.0, 50.0, 100.0], "dose"), ([0, 10, 10, 10], "dose")],
)
def test_too_few_doses_or_no_placebo_is_refused(doses: list[float], field: str) -> None:
    with pytest.raises(InvalidInput, match="placebo") as err:
        mcpmod(_tiny(doses), models={"linear": None})
    assert err.value.field == field


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"betaMod": (1, 1)}, "models"),
        ({"emax": 0}, "models.emax"),
        ({"emax": [5, -1]}, "models.emax"),
        ({"sigEmax": (30, -3)}, "models.sigEmax"),
        ({"sigEmax": (30,)}, "models.sigEmax"),
        ({"exponential": -80}, "models.exponential"),
        ({"quadratic": 0.01}, "models.quadratic"),
        ({"linear": 3}, "models.linear"),
        ({}, "models"),
    ],
)
def test_bad_candidate_models_are_refused(spec: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        candidate_models(spec, [0, 10, 50, 100])
    assert err.value.field == field
    assert "must be" in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"direction": "down"}, "direction"),
        ({"alpha": 0.7}, "alpha"),
        ({"delta": -2.0}, "delta"),
        ({"delta": 0.0}, "delta"),
        ({"selection": "BIC"}, "selection"),
        ({"response": "EASI"}, "response"),
        ({"covariates": ["AGE"]}, "covariates"),
    ],
)
def test_bad_options_are_refused(kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        mcpmod(_tiny([0, 10, 50, 100]), **{"models": {"linear": None}, **kwargs})
    assert err.value.field == field


def test_bad_general_inputs_are_refused() -> None:
    doses, est, s = [0, 10, 50, 100], [0.0, -1.0, -2.0, -3.0], np.eye(4)
    with pytest.raises(InvalidInput) as err:
        mcpmod_general(doses, est[:3], s, models={"linear": None})
    assert err.value.field == "estimates"
    with pytest.raises(InvalidInput) as err:
        mcpmod_general(doses, est, np.ones((4, 4)), models={"linear": None})
    assert err.value.field == "cov"
    with pytest.raises(InvalidInput) as err:
        mcpmod_general([0, 10, 50], est[:3], np.eye(3), models={"linear": None})
    assert err.value.field == "doses"
