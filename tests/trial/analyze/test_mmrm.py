"""MMRM against R: reference numbers in validation/mmrm/expected.json, written by
validation/mmrm/generate.R (nlme::gls + emmeans; lme4 + pbkrtest/lmerTest for Kenward-Roger) from
validation/mmrm/data.csv (validation/mmrm/make_data.py). No R needed to run these tests.

Tolerances, declared once:
- ``TOL`` 1e-6 relative: coefficients, their SEs, logLik, LS means, contrasts and their SEs (same
  algorithm: REML optimum, GLS). nlme's own optimiser stops ~1e-6 from the optimum (our logLik is
  never below nlme's: ``test_loglik_not_below_nlme``), so estimates agree to a few 1e-7.
- ``TOL_SIGMA`` 5e-6 relative: elements of the visit covariance matrix, which nlme locates least
  precisely (flat likelihood in those directions).
- ``TOL_DF_GLS`` 5e-3 relative: Satterthwaite df from emmeans for gls use nlme's ``apVar``, a
  finite-difference Hessian (fdHess), ours the analytic Hessian. The same df computed by lmerTest
  (accurate numerical derivatives) for the CS model agree with ours to ``TOL`` (test below), so the
  looser bound reflects nlme's numerical derivative, not a different formula. CIs and p-values of
  the gls comparison depend on df and are compared at ``TOL_DF_GLS`` too.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from atopic.errors import InvalidInput
from atopic.trial import ard
from atopic.trial.analyze.mmrm import FALLBACK, MMRM, STRUCTURES
from atopic.trial.analyze.mmrm.likelihood import Likelihood, derivatives
from atopic.trial.analyze.mmrm.structures import Structure

FOLDER = Path(__file__).resolve().parents[3] / "validation" / "mmrm"
TOL = 1e-6
TOL_SIGMA = 5e-6
TOL_DF_GLS = 5e-3

DATA = pl.read_csv(FOLDER / "data.csv")
EXPECTED = json.loads((FOLDER / "expected.json").read_text())


@cache
def fitted(cov: str, df: str = "satterthwaite", method: str = "reml") -> MMRM:
    return MMRM(cov=cov, df=df, method=method, fallback=False).fit(DATA)


def rel(a: object, b: object) -> float:
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(x - y) / np.abs(y)))


def keyed(rows: list[dict], group_key: str = "group") -> dict[tuple[str, str], dict]:
    out = {}
    for r in rows:
        g = r[group_key] if group_key == "group" else r[group_key].split(" - ")[0]
        out[(g, r["visit"])] = r
    return out


def compare(frame: pl.DataFrame, rows: list[dict], col: str, group_key: str = "group") -> float:
    """Max relative difference of ``col``; CI bounds are compared as the half-width ``margin``
    (a bound near zero has no useful relative error)."""
    ref = keyed(rows, group_key)
    pairs = list(zip(frame["group"], frame["visit"], strict=True))
    if col == "margin":
        want = [(ref[k]["ci_upper"] - ref[k]["ci_lower"]) / 2.0 for k in pairs]
        return rel((frame["ci_upper"] - frame["ci_lower"]) / 2.0, want)
    return rel(frame[col], [ref[k][col] for k in pairs])


GLS = ["us", "cs", "csh", "ar1", "ar1h", "toep", "toeph"]


@pytest.mark.parametrize("cov", GLS)
def test_fixed_effects_match_gls(cov: str) -> None:
    fit, r = fitted(cov), EXPECTED["gls"][cov]
    names = r["coef_names"]
    assert set(names) == set(fit.terms_)
    assert rel([fit.coef_[n] for n in names], [r["coef"][n] for n in names]) < TOL
    se = np.sqrt(np.diag(fit.vcov_))
    assert rel([se[fit.terms_.index(n)] for n in names], [r["se"][n] for n in names]) < TOL


@pytest.mark.parametrize("cov", GLS)
def test_loglik_and_covariance_match_gls(cov: str) -> None:
    fit, r = fitted(cov), EXPECTED["gls"][cov]
    assert rel(fit.loglik_, r["loglik"]) < TOL
    assert rel(fit.aic_, r["aic"]) < TOL
    assert rel(fit.cov_matrix_, r["cov_matrix"]) < TOL_SIGMA
    assert fit.n_obs_ == r["n_obs"] == EXPECTED["info"]["n_used"]


@pytest.mark.parametrize("cov", GLS)
def test_loglik_not_below_nlme(cov: str) -> None:
    assert fitted(cov).loglik_ >= EXPECTED["gls"][cov]["loglik"] - 1e-9


@pytest.mark.parametrize("cov", GLS)
def test_lsmeans_and_contrasts_match_emmeans(cov: str) -> None:
    fit, r = fitted(cov), EXPECTED["gls"][cov]
    for col in ("estimate", "se"):
        assert compare(fit.lsmeans_, r["lsmeans"], col) < TOL
        assert compare(fit.contrasts_, r["contrasts"], col, "contrast") < TOL
    for col in ("df", "margin"):
        assert compare(fit.lsmeans_, r["lsmeans"], col) < TOL_DF_GLS
    for col in ("df", "t", "p", "margin"):
        assert compare(fit.contrasts_, r["contrasts"], col, "contrast") < TOL_DF_GLS


def test_ml_matches_gls_ml() -> None:
    """ML: nlme's vcov.gls scales (X'V^-1 X)^-1 by N / (N - p) also for ML fits; ours is the
    plain ML (X'V^-1 X)^-1 (as SAS METHOD=ML), so the SEs are compared after that factor."""
    fit, r = fitted("us", method="ml"), EXPECTED["gls"]["us_ml"]
    names = r["coef_names"]
    assert rel([fit.coef_[n] for n in names], [r["coef"][n] for n in names]) < TOL
    n, p = fit.n_obs_, len(fit.terms_)
    se = np.sqrt(np.diag(fit.vcov_) * n / (n - p))
    assert rel([se[fit.terms_.index(n)] for n in names], [r["se"][n] for n in names]) < TOL
    assert rel(fit.loglik_, r["loglik"]) < TOL
    assert rel(fit.aic_, r["aic"]) < TOL


@pytest.mark.parametrize(
    ("df", "key"), [("kenward-roger", "kenward_roger"), ("satterthwaite", "satterthwaite")]
)
def test_cs_df_match_pbkrtest_and_lmertest(df: str, key: str) -> None:
    """CS = lme4 random intercept: KR (pbkrtest, via emmeans) and Satterthwaite (lmerTest)."""
    fit, r = fitted("cs", df=df), EXPECTED["cs_lmer"][key]
    for col in ("estimate", "se", "df", "margin"):
        assert compare(fit.lsmeans_, r["lsmeans"], col) < TOL
    for col in ("estimate", "se", "df", "t", "p", "margin"):
        assert compare(fit.contrasts_, r["contrasts"], col, "contrast") < TOL
    c = EXPECTED["cs_lmer"]
    assert rel(list(fit.cov_params_.values()), [c["between_var"], c["residual_var"]]) < TOL


def test_kr_adjusted_se_of_coefficients_match_pbkrtest() -> None:
    fit, r = fitted("cs", df="kenward-roger"), EXPECTED["cs_lmer"]
    assert fit.vcov_adjusted_ is not None
    se = np.sqrt(np.diag(fit.vcov_adjusted_))
    names = list(r["se_adjusted"])
    assert rel([se[fit.terms_.index(n)] for n in names], list(r["se_adjusted"].values())) < TOL


def test_kr_adjusted_se_not_below_model_se() -> None:
    fit = fitted("us", df="kenward-roger")
    naive = fitted("us")
    assert np.all(fit.lsmeans_["se"].to_numpy() >= naive.lsmeans_["se"].to_numpy())
    assert np.all(fit.contrasts_["se"].to_numpy() >= naive.contrasts_["se"].to_numpy())


def _balanced_cs(n_per_arm: int = 12, n_visits: int = 4, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    recs = []
    for arm in ("A", "B", "C"):
        for i in range(n_per_arm):
            u = rng.normal(0.0, 2.0)
            for v in range(n_visits):
                recs.append(
                    {
                        "USUBJID": f"{arm}{i:03d}",
                        "TRT01P": arm,
                        "AVISIT": f"V{v + 1}",
                        "CHG": u + rng.normal(0.0, 1.0) + 0.3 * v,
                    }
                )
    return pl.DataFrame(recs)


@pytest.mark.parametrize("df", ["kenward-roger", "satterthwaite"])
def test_kr_exact_df_balanced_compound_symmetry(df: str) -> None:
    """Complete balanced data, CS, no covariates: the split-plot ANOVA gives exact F tests.
    Between subjects (arm B - A averaged over visits): N - G df; within subjects (arm x visit
    interaction contrast): (N - G)(T - 1) df (Kenward & Roger 1997, sec. 5)."""
    data = _balanced_cs()
    fit = MMRM(cov="cs", df=df).fit(
        data, reference="A", covariates=(), visit_interactions=(), strata=()
    )
    n, g, t = 36, 3, 4
    between = np.zeros(len(fit.terms_))
    between[fit.terms_.index("TRT01PB")] = 1.0
    for v in ("V2", "V3", "V4"):
        between[fit.terms_.index(f"TRT01PB:AVISIT{v}")] = 1.0 / t
    within = np.zeros(len(fit.terms_))
    within[fit.terms_.index("TRT01PB:AVISITV4")] = 1.0
    within[fit.terms_.index("TRT01PC:AVISITV4")] = -1.0
    assert fit.estimate(between)["df"] == pytest.approx(n - g, rel=1e-6)
    assert fit.estimate(within)["df"] == pytest.approx((n - g) * (t - 1), rel=1e-6)


def test_excluded_rows_are_counted() -> None:
    fit = fitted("us")
    assert fit.n_excluded_ == EXPECTED["info"]["n_rows"] - EXPECTED["info"]["n_used"]
    other_missing = DATA.filter(pl.col("BASE").is_null() | pl.col("STRAT1R").is_null()).height
    assert other_missing > 0
    assert fit.excluded_ == {
        "missing response": DATA.filter(
            pl.col("CHG").is_null() & pl.col("BASE").is_not_null() & pl.col("STRAT1R").is_not_null()
        ).height,
        "missing covariate": other_missing,
    }
    assert fit.n_subjects_ == EXPECTED["info"]["n_subjects"]


def test_row_order_does_not_change_results() -> None:
    shuffled = DATA.sample(fraction=1.0, shuffle=True, seed=11)
    a, b = fitted("us"), MMRM(cov="us", df="satterthwaite", fallback=False).fit(shuffled)
    assert rel([b.coef_[k] for k in a.terms_], list(a.coef_.values())) < 1e-8
    assert rel(b.lsmeans_["se"], a.lsmeans_["se"]) < 1e-8
    assert rel(b.contrasts_["df"], a.contrasts_["df"]) < 1e-6


def test_pandas_input_gives_the_same_fit() -> None:
    fit = MMRM(cov="cs", df="satterthwaite", fallback=False).fit(DATA.to_pandas())
    assert rel(fit.lsmeans_["estimate"], fitted("cs").lsmeans_["estimate"]) < 1e-10


def test_fallback_when_unstructured_is_not_identifiable() -> None:
    """Visits 3 and 4 never observed together: their UN covariance is not identifiable."""
    data = (
        DATA.with_row_index("row")
        .with_columns(pl.col("USUBJID").str.slice(4).cast(pl.Int64).alias("num"))
        .with_columns(
            CHG=pl.when(
                ((pl.col("num") % 2 == 0) & (pl.col("AVISIT") == "WEEK 8"))
                | ((pl.col("num") % 2 == 1) & (pl.col("AVISIT") == "WEEK 12"))
            )
            .then(None)
            .otherwise(pl.col("CHG"))
        )
    )
    fit = MMRM(cov="us", df="satterthwaite").fit(data)
    assert fit.attempts_[0].cov == "us"
    assert not fit.attempts_[0].converged
    assert fit.cov_used_ == FALLBACK[len(fit.attempts_) - 1] != "us"
    assert fit.fallback_reason_ is not None
    assert fit.fallback_reason_.startswith("us did not converge")
    frame = fit.ard(paramcd="EASI")
    note = frame.filter(pl.col("STAT") == "cov_structure")["VALUEC"].item()
    assert note.startswith(fit.cov_used_)
    assert "fallback" in note


def test_no_fallback_raises_when_not_converged() -> None:
    with pytest.raises(RuntimeError, match="did not converge"):
        MMRM(cov="us", max_iter=0, fallback=False).fit(DATA)


@pytest.mark.parametrize(
    ("kwargs", "field", "value"),
    [
        ({"cov": "unstructured"}, "cov", "'unstructured'"),
        ({"df": "containment"}, "df", "'containment'"),
        ({"method": "reml2"}, "method", "'reml2'"),
        ({"method": "ml", "df": "kenward-roger"}, "df", "'kenward-roger'"),
        ({"conf_level": 95}, "conf_level", "95"),
    ],
)
def test_bad_options_are_refused_by_name(kwargs: dict, field: str, value: str) -> None:
    with pytest.raises(InvalidInput) as err:
        MMRM(**kwargs)
    assert err.value.field == field
    assert str(err.value).endswith(f"got {value}")


def test_missing_column_is_refused() -> None:
    with pytest.raises(InvalidInput, match="BASELINE"):
        MMRM().fit(DATA, covariates=("BASELINE",), visit_interactions=())
    with pytest.raises(InvalidInput, match="visit_interactions"):
        MMRM().fit(DATA, covariates=(), visit_interactions=("BASE",))
    with pytest.raises(InvalidInput, match="numeric"):
        MMRM().fit(DATA, response="AVISIT")
    with pytest.raises(InvalidInput, match="one row per subject and visit"):
        MMRM().fit(pl.concat([DATA, DATA.head(3)]))
    with pytest.raises(InvalidInput, match="reference"):
        MMRM().fit(DATA, reference="Active")


@pytest.mark.parametrize("cov", STRUCTURES)
def test_every_structure_fits_with_kenward_roger(cov: str) -> None:
    fit = MMRM(cov=cov, fallback=False).fit(DATA)
    assert fit.converged_
    assert fit.cov_used_ == cov
    assert np.all(np.linalg.eigvalsh(fit.cov_matrix_) > 0)
    assert np.all(fit.contrasts_["df"].to_numpy() > 0)


def test_ard_rows_carry_the_results() -> None:
    fit = fitted("us")
    frame = fit.ard(paramcd="EASI", analysis="MMRM-US")
    lsm = fit.lsmeans_.row(0, named=True)
    got = ard.value(
        frame, "MMRM-US", "lsmean", paramcd="EASI", avisit=lsm["visit"], group=lsm["group"]
    )
    assert got == lsm["estimate"]
    con = fit.contrasts_.row(0, named=True)
    p = ard.value(
        frame,
        "MMRM-US",
        "p_value",
        paramcd="EASI",
        avisit=con["visit"],
        group=con["group"],
        comparator="Placebo",
    )
    assert p == con["p"]
    assert ard.value(frame, "MMRM-US", "N", paramcd="EASI") == fit.n_subjects_
    n_visits, n_arms = len(fit.visits_), len(fit.groups_)
    assert frame.filter(pl.col("STAT") == "lsmean").height == n_visits * n_arms
    assert frame.filter(pl.col("STAT") == "statistic").height == n_visits * (n_arms - 1)
    assert frame["VALUE"].drop_nulls().is_finite().all()


def test_lsmeans_use_the_mean_baseline_of_the_analysed_rows_as_emmeans() -> None:
    mean = fitted("us").design_.covariate_means["BASE"]
    assert rel(mean, EXPECTED["gls"]["us"]["base_mean"]) < 1e-12


def test_visit_order_follows_avisitn() -> None:
    assert fitted("us").visits_ == EXPECTED["info"]["visits"]
    assert fitted("us").reference_ == "Placebo"
    assert math.isfinite(fitted("us").summary["p"].max())


@pytest.mark.parametrize("cov", STRUCTURES)
def test_analytic_derivatives_of_sigma_match_finite_differences(cov: str) -> None:
    """dSigma/dphi and d2Sigma/dphi2 (used by Satterthwaite and the KR R_ij term)."""
    st = Structure(cov, 4)
    values = np.array(list(fitted(cov).cov_params_.values()))
    h = 1e-6
    eye = np.eye(st.n_par)
    d1 = st.d1(values)
    d2 = st.d2(values)
    for k in range(st.n_par):
        fd1 = (st.sigma(values + h * eye[k]) - st.sigma(values - h * eye[k])) / (2 * h)
        fd2 = (st.d1(values + h * eye[k]) - st.d1(values - h * eye[k])) / (2 * h)
        np.testing.assert_allclose(d1[k], fd1, atol=1e-6 * max(1.0, np.abs(fd1).max()))
        np.testing.assert_allclose(d2[k], fd2, atol=1e-5 * max(1.0, np.abs(fd2).max()))


@pytest.mark.parametrize("cov", ["us", "csh", "ar1h", "toeph"])
@pytest.mark.parametrize("reml", [True, False])
def test_likelihood_gradient_and_hessian_match_finite_differences(cov: str, reml: bool) -> None:
    fit = fitted(cov)
    st = Structure(cov, len(fit.visits_))
    lik = Likelihood(fit.design_.patterns, st, reml=reml)
    phi = np.array(list(fit.cov_params_.values())) * 1.03  # away from the optimum
    ev = lik.evaluate(phi)
    assert ev is not None
    h = 1e-6 * np.maximum(np.abs(phi), 1e-2)
    eye = np.eye(st.n_par)
    fd_grad, fd_hess = np.empty(st.n_par), np.empty((st.n_par, st.n_par))
    for k in range(st.n_par):
        up, down = lik.evaluate(phi + h[k] * eye[k]), lik.evaluate(phi - h[k] * eye[k])
        assert up is not None
        assert down is not None
        fd_grad[k] = (up.minus2ll - down.minus2ll) / (2 * h[k])
        fd_hess[k] = (up.grad_phi - down.grad_phi) / (2 * h[k])
    hess = 2.0 * derivatives(lik, phi, ev).info_observed
    np.testing.assert_allclose(ev.grad_phi, fd_grad, rtol=1e-5, atol=1e-5 * np.abs(fd_grad).max())
    np.testing.assert_allclose(hess, fd_hess, rtol=1e-5, atol=1e-6 * np.abs(fd_hess).max())


def test_ard_rows_carry_the_mar_estimand() -> None:
    frame = fitted("us").ard(paramcd="EASI")
    assert frame["ESTIMAND"].unique().to_list() == ["mar"]
    assert frame["ANALYSIS"].unique().to_list() == ["MMRM-US"]


def test_plot_draws_one_series_per_arm() -> None:
    import matplotlib

    matplotlib.use("Agg")
    ax = fitted("us").plot()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == fitted("us").groups_
    assert [t.get_text() for t in ax.get_xticklabels()] == fitted("us").visits_
