"""MCP-Mod end to end: multiple contrast test, model fits, selection, target dose, fitted curve.

The procedure of DoseFinding ``MCPMod`` (Bretz, Pinheiro & Branson 2005; Pinheiro, Bornkamp,
Glimm & Bretz 2014):

1. dose-group estimates and their covariance: from subject data by the cell-means ANCOVA
   y ~ dose (factor) + covariates (``lm``), df = residual df; or given ("general", e.g. LS means
   of an MMRM at one visit and their covariance; df = inf, a normal test, unless given);
2. the multiple contrast test of the candidate shapes (``contrasts``);
3. every model class with a significant contrast (adjusted p < alpha) is fitted (``fit``) with the
   default bounds; the model with the smallest AIC (general: gAIC) is selected
   (``selection="maxT"``: the model of the largest significant t);
4. the target dose TD for the clinical relevance ``delta`` for each fitted model;
5. the selected model's curve with pointwise confidence intervals fit +- q se, q the
   (1 + level)/2 quantile of t with the fit's df (normal when df = inf), as DoseFinding's plot.

Doses are in the trial's dose unit (x10^6 cells for the cell product); ``delta`` in the unit of the
response (EASI points for the change of EASI).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import narwhals as nw
import numpy as np
import polars as pl
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from atopic.errors import Described, InvalidInput
from atopic.trial.analyze.mcpmod import models as drm
from atopic.trial.analyze.mcpmod.contrasts import MultipleContrastTest, multiple_contrast_test
from atopic.trial.analyze.mcpmod.fit import DoseResponseFit, FitData, fit_model
from atopic.trial.ard import ArdRow, rows, to_frame, with_estimand

Matrix = NDArray[np.float64]
SUBJECT = drm.SUBJECT
ANALYSIS = "MCPMOD"
SELECTIONS = ("AIC", "maxT")
GRID_POINTS = 201


def format_dose(dose: float) -> str:
    """A dose as ARD GROUP text: ``0``, ``12.5``, ``100`` (10 significant digits)."""
    return f"{float(dose):.10g}"


@dataclass(frozen=True)
class MCPModResult:
    """The outcome of MCP-Mod (DoseFinding ``MCPMod``); ``ard()`` writes it as ARD rows.

    ``estimates``/``estimates_se``: dose-group LS means (covariates at their means, factor
    levels equally weighted) and standard errors, or the given estimates (general).
    ``fits``: the fitted models by model name; ``selected``: the chosen model (None when no
    contrast is significant); ``target_doses``: TD per fitted model (NaN: not reached).
    """

    kind: str
    candidates: drm.Candidates
    estimates: Matrix
    estimates_se: Matrix
    test: MultipleContrastTest
    fits: dict[str, DoseResponseFit]
    selected: str | None
    selection: str
    target_doses: dict[str, float]
    delta: float | None
    level: float
    grid: Matrix
    n: int | None
    n_excluded: int

    @property
    def doses(self) -> tuple[float, ...]:
        """The dose levels (placebo first)."""
        return self.candidates.doses

    @property
    def target_dose(self) -> float:
        """TD of the selected model (NaN when none is selected, no delta or not reached)."""
        if self.selected is None or self.delta is None:
            return math.nan
        return self.target_doses[self.selected]

    def curve(self, doses: ArrayLike | None = None, kind: str = "ls-means") -> pl.DataFrame:
        """The selected model's fitted curve with pointwise CI at ``doses`` (default the grid).

        Columns dose, fit, se, ci_lower, ci_upper; ``kind`` "ls-means" (response) or
        "effect-curve" (difference to placebo). Empty when no model is selected.
        """
        d = self.grid if doses is None else np.asarray(doses, dtype=float)
        cols = ("dose", "fit", "se", "ci_lower", "ci_upper")
        if self.selected is None:
            return pl.DataFrame({c: [] for c in cols}, schema=dict.fromkeys(cols, pl.Float64))
        fit = self.fits[self.selected]
        value, se = fit.predict(d, kind)
        q = _quantile(self.level, fit.df)
        return pl.DataFrame(
            {
                "dose": d,
                "fit": value,
                "se": se,
                "ci_lower": value - q * se,
                "ci_upper": value + q * se,
            }
        )

    @property
    def summary(self) -> pl.DataFrame:
        """One row per candidate: model, guesstimate, t, adjusted p, significant, and for the
        fitted model class its AIC (or gAIC), TD and whether it was selected."""
        records = []
        for cand, t, p in zip(
            self.candidates.models, self.test.t, self.test.p_adjusted, strict=True
        ):
            fit = self.fits.get(cand.model)
            records.append(
                {
                    "candidate": cand.name,
                    "model": cand.model,
                    "guesstimate": ", ".join(f"{g:g}" for g in cand.guess) or None,
                    "t": float(t),
                    "p_adjusted": float(p),
                    "significant": bool(p < self.test.alpha),
                    "criterion": None if fit is None else fit.criterion,
                    "td": None if fit is None else _none_if_nan(self.target_doses.get(cand.model)),
                    "selected": cand.model == self.selected,
                }
            )
        return pl.DataFrame(records)

    def ard(
        self,
        *,
        paramcd: str,
        avisit: str | None = None,
        analysis: str = ANALYSIS,
        estimand: str | None = None,
    ) -> pl.DataFrame:
        """The result as ARD rows (``atopic.trial.ard``).

        Whole analysis (GROUP null): N, n_excluded, df, alpha, critical_value, conf_level,
        delta, td (selected model), selected_model (name in VALUEC). Per candidate (GROUP =
        candidate name): statistic (contrast t), p_value (one-sided, multiplicity adjusted).
        Per fitted model (GROUP = model name): aic (gaic for general), td, coef_<parameter>.
        Per dose (GROUP = dose as text): lsmean, se (the group estimates), fit, fit_se,
        fit_ci_lower, fit_ci_upper (selected model). Per grid dose: curve, curve_se,
        curve_ci_lower, curve_ci_upper (for the plot; ``curve_from_ard`` reads them back).
        ``estimand`` (a key of ``atopic.trial.ard.ESTIMANDS``) fills the ESTIMAND column.
        """
        keys = {"paramcd": paramcd, "avisit": avisit}
        out: list[ArdRow] = []
        general_df = "infinite: normal test (estimates with known covariance)"
        top: dict[str, float | None] = {
            "N": self.n,
            "n_excluded": self.n_excluded,
        }
        out += rows(analysis, top, reason="not applicable (estimates given)", **keys)
        out += rows(analysis, {"df": self.test.df}, reason=general_df, **keys)
        out += rows(
            analysis,
            {
                "alpha": self.test.alpha,
                "critical_value": self.test.critical_value,
                "conf_level": self.level,
            },
            **keys,
        )
        if self.delta is not None:
            out += rows(analysis, {"delta": self.delta}, **keys)
            reason = "no significant contrast" if self.selected is None else "TD not reached"
            out += rows(analysis, {"td": self.target_dose}, reason=reason, **keys)
        out.append(
            ArdRow(
                ANALYSIS=analysis,
                PARAMCD=paramcd,
                AVISIT=avisit,
                STAT="selected_model",
                VALUE=None,
                VALUEC=self.selected or "none: no significant contrast",
            )
        )
        for name, t, p in zip(self.test.names, self.test.t, self.test.p_adjusted, strict=True):
            out += rows(analysis, {"statistic": t, "p_value": p}, group=name, **keys)
        crit_name = "aic" if self.kind == "normal" else "gaic"
        for name, fit in self.fits.items():
            stats_: dict[str, float | None] = {crit_name: fit.criterion}
            if self.delta is not None:
                stats_["td"] = self.target_doses[name]
            stats_.update({f"coef_{k}": v for k, v in fit.coefs.items()})
            out += rows(analysis, stats_, group=name, reason="TD not reached", **keys)
        at_doses = self.curve(self.doses)
        for i, dose in enumerate(self.doses):
            group = format_dose(dose)
            out += rows(
                analysis,
                {"lsmean": self.estimates[i], "se": self.estimates_se[i]},
                group=group,
                **keys,
            )
            if self.selected is not None:
                row = at_doses.row(i, named=True)
                out += rows(
                    analysis,
                    {
                        "fit": row["fit"],
                        "fit_se": row["se"],
                        "fit_ci_lower": row["ci_lower"],
                        "fit_ci_upper": row["ci_upper"],
                    },
                    group=group,
                    reason="standard error not estimable",
                    **keys,
                )
        if self.selected is not None:
            for row in self.curve().iter_rows(named=True):
                out += rows(
                    analysis,
                    {
                        "curve": row["fit"],
                        "curve_se": row["se"],
                        "curve_ci_lower": row["ci_lower"],
                        "curve_ci_upper": row["ci_upper"],
                    },
                    group=format_dose(row["dose"]),
                    reason="standard error not estimable",
                    **keys,
                )
        if estimand is not None:
            out = with_estimand(out, estimand)
        return to_frame(out)


def _none_if_nan(x: float | None) -> float | None:
    return None if x is None or math.isnan(x) else x


def _quantile(level: float, df: float) -> float:
    p = 1.0 - (1.0 - level) / 2.0
    return float(stats.norm.ppf(p) if math.isinf(df) else stats.t.ppf(p, df))


def curve_from_ard(
    ard: pl.DataFrame, *, paramcd: str, avisit: str | None = None, analysis: str = ANALYSIS
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The plot data back from the ARD: (curve, points).

    curve: dose, fit, ci_lower, ci_upper on the grid (STAT curve*); points: dose, lsmean, se,
    fit, fit_ci_lower, fit_ci_upper at the trial's doses. Both sorted by dose.
    """
    sel = ard.filter(
        (pl.col("ANALYSIS") == analysis)
        & (pl.col("PARAMCD") == paramcd)
        & (pl.col("AVISIT").is_null() if avisit is None else pl.col("AVISIT") == avisit)
        & pl.col("GROUP").is_not_null()
    )

    def wide(stats_: Sequence[str], rename: Mapping[str, str]) -> pl.DataFrame:
        part = sel.filter(pl.col("STAT").is_in(list(stats_)))
        if part.height == 0:
            schema = {"dose": pl.Float64, **{rename.get(s, s): pl.Float64 for s in stats_}}
            return pl.DataFrame(schema=schema)
        table = part.pivot(on="STAT", index="GROUP", values="VALUE")
        table = table.with_columns(pl.col("GROUP").cast(pl.Float64).alias("dose")).drop("GROUP")
        for s in stats_:
            if s not in table.columns:
                table = table.with_columns(pl.lit(None, dtype=pl.Float64).alias(s))
        return table.select("dose", *stats_).rename(dict(rename)).sort("dose")

    curve = wide(
        ("curve", "curve_ci_lower", "curve_ci_upper"),
        {"curve": "fit", "curve_ci_lower": "ci_lower", "curve_ci_upper": "ci_upper"},
    )
    points = wide(("lsmean", "se", "fit", "fit_ci_lower", "fit_ci_upper"), {})
    return curve, points


# -- input checks ------------------------------------------------------------------------------


def _check_options(alpha: float, level: float, delta: float | None, selection: str) -> None:
    if not (isinstance(alpha, (int, float)) and 0.0 < alpha < 0.5):
        raise InvalidInput(SUBJECT, "alpha", alpha, "a number between 0 and 0.5 (one-sided)")
    if not (isinstance(level, (int, float)) and 0.0 < level < 1.0):
        raise InvalidInput(SUBJECT, "level", level, "a number between 0 and 1")
    if delta is not None and not (
        isinstance(delta, (int, float)) and math.isfinite(delta) and delta > 0
    ):
        raise InvalidInput(
            SUBJECT, "delta", delta, "a positive clinical relevance in response units"
        )
    if selection not in SELECTIONS:
        raise InvalidInput(SUBJECT, "selection", selection, "one of AIC, maxT")


# -- the two entry points ----------------------------------------------------------------------


def _run(
    kind: str,
    candidates: drm.Candidates,
    estimates: Matrix,
    cov: Matrix,
    df: float,
    fit_data: FitData,
    lsmeans: Matrix,
    lsmeans_se: Matrix,
    *,
    alpha: float,
    delta: float | None,
    selection: str,
    level: float,
    seed: int,
    n: int | None,
    n_excluded: int,
) -> MCPModResult:
    test = multiple_contrast_test(estimates, cov, df, candidates, alpha=alpha, seed=seed)
    sig = test.significant
    model_of = {c.name: c.model for c in candidates.models}
    fit_models = list(dict.fromkeys(model_of[name] for name in sig))
    fits = {m: fit_model(m, fit_data) for m in fit_models}
    selected: str | None = None
    if fits:
        if selection == "AIC":
            selected = min(fits, key=lambda m: fits[m].criterion)
        else:
            best = max(sig, key=lambda name: test.t[test.names.index(name)])
            selected = model_of[best]
    tds = (
        {m: f.target_dose(delta, candidates.direction) for m, f in fits.items()}
        if delta is not None
        else {}
    )
    grid = np.linspace(0.0, candidates.doses[-1], GRID_POINTS)
    return MCPModResult(
        kind=kind,
        candidates=candidates,
        estimates=lsmeans,
        estimates_se=lsmeans_se,
        test=test,
        fits=fits,
        selected=selected,
        selection=selection,
        target_doses=tds,
        delta=delta,
        level=level,
        grid=grid,
        n=n,
        n_excluded=n_excluded,
    )


def mcpmod(
    data: object,
    *,
    models: Mapping[str, object],
    dose: str = "DOSE",
    response: str = "CHG",
    covariates: Sequence[str] = (),
    direction: str = "increasing",
    delta: float | None = None,
    alpha: float = 0.025,
    selection: str = "AIC",
    level: float = 0.95,
    seed: int = 0,
) -> MCPModResult:
    """MCP-Mod on subject-level data (DoseFinding ``MCPMod(dose, resp, data, models,
    addCovars = ~ covariates, Delta = delta)``, type "normal").

    ``data``: any Narwhals-compatible eager frame (Polars, pandas) with one row per subject;
    ``dose`` numeric (placebo 0 plus at least 3 active doses); ``response`` numeric;
    ``covariates`` numeric (entered linearly) or text/categorical (treatment-coded, levels in
    sorted order). Rows with a missing dose, response or covariate are excluded and counted in
    ``n_excluded``. ``models``/``direction`` as in ``candidate_models``; ``delta`` the clinical
    relevance for the target dose; ``seed`` fixes the quasi-Monte Carlo of the p-values.

    >>> import polars as pl
    >>> df = pl.DataFrame({"DOSE": [0, 10, 50, 100] * 5, "CHG": [0.0, -1, -3, -4] * 5})
    >>> res = mcpmod(df.with_columns(pl.col("CHG") + pl.int_range(20) % 3),
    ...              models={"emax": 20, "linear": None}, direction="decreasing", delta=2)
    >>> res.selected
    'emax'
    """
    _check_options(alpha, level, delta, selection)
    if isinstance(covariates, str):
        covariates = (covariates,)
    try:
        frame = nw.from_native(data, eager_only=True)  # type: ignore[call-overload]
    except TypeError as exc:
        raise InvalidInput(SUBJECT, "data", data, "a Polars or pandas data frame") from exc
    columns = list(frame.columns)
    for field_name, col in (("dose", dose), ("response", response)):
        if col not in columns:
            raise InvalidInput(
                SUBJECT, field_name, col, f"a column of the data ({', '.join(columns)})"
            )
    for col in covariates:
        if col not in columns or col in (dose, response):
            raise InvalidInput(
                SUBJECT, "covariates", col, "columns of the data other than dose and response"
            )
    schema = frame.schema
    for field_name, col in (("dose", dose), ("response", response)):
        if not schema[col].is_numeric():
            raise InvalidInput(SUBJECT, field_name, col, "a numeric column")
    dose_v = frame[dose].cast(nw.Float64).to_numpy().astype(float)
    resp_v = frame[response].cast(nw.Float64).to_numpy().astype(float)
    keep = np.isfinite(dose_v) & np.isfinite(resp_v)
    raw_cov: list[tuple[str, bool, np.ndarray]] = []
    for col in covariates:
        series = frame[col]
        if schema[col].is_numeric():
            v = series.cast(nw.Float64).to_numpy().astype(float)
            keep &= np.isfinite(v)
            raw_cov.append((col, True, v))
        else:
            v = np.array(series.cast(nw.String).to_list(), dtype=object)
            keep &= np.array([x is not None for x in v])
            raw_cov.append((col, False, v))
    n_excluded = int((~keep).sum())
    dose_v, resp_v = dose_v[keep], resp_v[keep]
    levels = drm.check_doses(dose_v, "dose")
    candidates = drm.candidate_models(models, levels, direction)
    n = int(dose_v.size)
    # covariate design (treatment coding, as R's model.matrix) and its LS-means row
    cols: list[np.ndarray] = []
    names: list[str] = []
    means: list[float] = []
    for col, numeric, v in raw_cov:
        v = v[keep]
        if numeric:
            cols.append(v)
            names.append(col)
            means.append(float(np.mean(v)))
        else:
            lev = sorted(set(v))
            if len(lev) < 2:
                raise InvalidInput(SUBJECT, "covariates", col, "a factor with at least 2 levels")
            for level_ in lev[1:]:
                cols.append((v == level_).astype(float))
                names.append(f"{col}{level_}")
                means.append(1.0 / len(lev))
    cov_x = np.column_stack(cols) if cols else np.zeros((n, 0))
    cov_mean = np.array(means)
    # cell-means ANCOVA (MCTtest: lm(resp ~ factor(dose) + covariates - 1))
    k = len(levels)
    dummies = (dose_v[:, None] == np.array(levels)[None, :]).astype(float)
    x = np.hstack([dummies, cov_x])
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise InvalidInput(
            SUBJECT,
            "covariates",
            Described(str(list(covariates))),
            "covariates that are not collinear with each other or with the dose groups",
        )
    beta, *_ = np.linalg.lstsq(x, resp_v, rcond=None)
    resid = resp_v - x @ beta
    df = float(n - x.shape[1])
    if df < 1:
        raise InvalidInput(
            SUBJECT, "data", Described(f"{n} subjects"), "more subjects than parameters"
        )
    xtx_inv = np.linalg.inv(x.T @ x)
    v_full = xtx_inv * float(resid @ resid) / df
    est, v_est = beta[:k], v_full[:k, :k]
    lmat = np.hstack([np.eye(k), np.tile(cov_mean, (k, 1))])
    lsmeans = lmat @ beta
    lsmeans_se = np.sqrt(np.einsum("ij,jk,ik->i", lmat, v_full, lmat))
    fit_data = FitData(
        kind="normal",
        dose=dose_v,
        response=resp_v,
        covariates=cov_x,
        covariate_names=tuple(names),
        covariate_means=cov_mean,
    )
    return _run(
        "normal",
        candidates,
        est,
        v_est,
        df,
        fit_data,
        lsmeans,
        lsmeans_se,
        alpha=alpha,
        delta=delta,
        selection=selection,
        level=level,
        seed=seed,
        n=n,
        n_excluded=n_excluded,
    )


def mcpmod_general(
    doses: ArrayLike,
    estimates: ArrayLike,
    cov: ArrayLike,
    *,
    models: Mapping[str, object],
    df: float = math.inf,
    direction: str = "increasing",
    delta: float | None = None,
    alpha: float = 0.025,
    selection: str = "AIC",
    level: float = 0.95,
    seed: int = 0,
) -> MCPModResult:
    """MCP-Mod on dose-group estimates with known covariance (DoseFinding ``MCPMod(dose, resp,
    S = cov, type = "general", models, Delta = delta)``), e.g. LS means of an MMRM at one visit.

    ``doses`` and ``estimates`` one per dose group (placebo 0 plus at least 3 active doses),
    ``cov`` their covariance (symmetric positive definite); ``df`` inf gives the normal test
    (DoseFinding's default for type "general"). Other arguments as ``mcpmod``.
    """
    _check_options(alpha, level, delta, selection)
    d = np.asarray(doses, dtype=float).ravel()
    y = np.asarray(estimates, dtype=float).ravel()
    s = np.asarray(cov, dtype=float)
    if len(set(d.tolist())) != d.size:
        raise InvalidInput(SUBJECT, "doses", Described(str(d.tolist())), "distinct dose levels")
    drm.check_doses(d)
    if y.shape != d.shape or not np.all(np.isfinite(y)):
        raise InvalidInput(
            SUBJECT,
            "estimates",
            Described(str(y.tolist())),
            f"{d.size} finite numbers, one per dose",
        )
    if s.shape != (d.size, d.size) or not np.all(np.isfinite(s)) or not np.allclose(s, s.T):
        raise InvalidInput(
            SUBJECT,
            "cov",
            Described(f"a {s.shape} array"),
            f"a symmetric {d.size} x {d.size} matrix",
        )
    try:
        np.linalg.cholesky(s)
    except np.linalg.LinAlgError as exc:
        raise InvalidInput(
            SUBJECT, "cov", Described("a singular matrix"), "positive definite"
        ) from exc
    if not (isinstance(df, (int, float)) and df > 0):
        raise InvalidInput(SUBJECT, "df", df, "a positive number or math.inf")
    order = np.argsort(d)
    d, y, s = d[order], y[order], s[np.ix_(order, order)]
    candidates = drm.candidate_models(models, d, direction)
    fit_data = FitData(kind="general", dose=d, response=y, cov=s)
    return _run(
        "general",
        candidates,
        y,
        s,
        float(df),
        fit_data,
        y,
        np.sqrt(np.diag(s)),
        alpha=alpha,
        delta=delta,
        selection=selection,
        level=level,
        seed=seed,
        n=None,
        n_excluded=0,
    )
