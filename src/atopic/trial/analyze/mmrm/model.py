"""MMRM: the estimator object (lifelines style: ``fit`` returns self, results end in ``_``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy import optimize, stats

from atopic.errors import InvalidInput
from atopic.trial import ard as ard_mod
from atopic.trial.analyze.mmrm import inference
from atopic.trial.analyze.mmrm.design import (
    SUBJECT,
    Design,
    build_design,
    lsmean_vector,
    to_polars,
)
from atopic.trial.analyze.mmrm.likelihood import Derivatives, Evaluation, Likelihood, derivatives
from atopic.trial.analyze.mmrm.structures import NAMES, Structure

if TYPE_CHECKING:
    from matplotlib.axes import Axes

Array = NDArray[np.float64]

DF_METHODS: tuple[str, ...] = ("kenward-roger", "satterthwaite")
FIT_METHODS: tuple[str, ...] = ("reml", "ml")
FALLBACK: tuple[str, ...] = ("us", "toeph", "ar1h", "cs")
"""Structures tried in turn when the one before fails to converge (trials.md)."""


@dataclass(frozen=True)
class Attempt:
    """One structure tried during ``fit``: did it converge, and if not, why."""

    cov: str
    converged: bool
    message: str
    iterations: int


@dataclass
class _Fit:
    struct: Structure
    phi: Array
    ev: Evaluation
    der: Derivatives
    attempt: Attempt


def _empirical_cov(design: Design) -> Array:
    """Pairwise covariance of OLS residuals by visit, made positive definite (starting values)."""
    xtx = np.einsum("np,nq->pq", design.x_rows, design.x_rows)
    beta = np.linalg.solve(xtx, np.einsum("np,n->p", design.x_rows, design.y))
    res = design.y - design.x_rows @ beta
    t = len(design.visits)
    wide = np.full((design.n_subjects, t), np.nan)
    wide[design.subject_idx, design.visit_idx] = res
    s = np.empty((t, t))
    for i in range(t):
        for j in range(i, t):
            both = ~np.isnan(wide[:, i]) & ~np.isnan(wide[:, j])
            val = float(np.mean(wide[both, i] * wide[both, j])) if both.sum() > 1 else 0.0
            s[i, j] = s[j, i] = val
    diag = np.where(np.diag(s) > 0, np.diag(s), max(float(np.var(res)), 1e-8))
    np.fill_diagonal(s, diag)
    vals, vecs = np.linalg.eigh(s)
    vals = np.maximum(vals, 0.05 * float(vals.max()))
    return (vecs * vals) @ vecs.T


def _optimise(lik: Likelihood, struct: Structure, s0: Array, max_iter: int) -> _Fit | Attempt:
    """Minimise -2 l: L-BFGS-B over eta with the analytic gradient, then Newton steps in phi with
    the analytic observed Hessian (to the optimum nlme reaches with tight tolerances)."""
    eta0 = struct.start(s0)

    def fun(eta: Array) -> tuple[float, Array]:
        phi = struct.phi_from_eta(eta)
        ev = lik.evaluate(phi)
        if ev is None or not math.isfinite(ev.minus2ll):
            return 1e300, np.zeros_like(eta)
        return 0.5 * ev.minus2ll, 0.5 * struct.jacobian(eta).T @ ev.grad_phi

    res = optimize.minimize(
        fun,
        eta0,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-9, "maxcor": 30},
    )
    n_iter = int(res.nit)
    if not np.all(np.isfinite(res.x)) or res.fun >= 1e299:
        return Attempt(struct.name, False, "no finite likelihood reached", n_iter)
    phi = struct.phi_from_eta(res.x)
    ev = lik.evaluate(phi)
    if ev is None:
        return Attempt(struct.name, False, "covariance not positive definite", n_iter)
    der: Derivatives | None = None
    der_at: Evaluation | None = None
    decrement = np.inf
    for _ in range(20 if max_iter > 0 else 0):
        der, der_at = derivatives(lik, phi, ev), ev
        hess = 2.0 * der.info_observed
        try:
            np.linalg.cholesky(hess)
        except np.linalg.LinAlgError:
            break
        step = np.linalg.solve(hess, ev.grad_phi)
        decrement = float(ev.grad_phi @ step)
        if decrement < 1e-14:
            break
        shrink = 1.0
        while shrink > 1e-4:
            cand = lik.evaluate(phi - shrink * step)
            if cand is not None and cand.minus2ll <= ev.minus2ll + 1e-10:
                phi, ev = phi - shrink * step, cand
                break
            shrink /= 2.0
        else:
            break
        n_iter += 1
    if der is None or der_at is not ev:
        der = derivatives(lik, phi, ev)
    hess = 2.0 * der.info_observed
    eig = np.linalg.eigvalsh(hess)
    if eig.min() <= 1e-9 * max(abs(eig.max()), 1.0):
        return Attempt(
            struct.name,
            False,
            "Hessian of the log-likelihood not positive definite "
            "(covariance parameters not identifiable from the observed visit pairs)",
            n_iter,
        )
    decrement = float(ev.grad_phi @ np.linalg.solve(hess, ev.grad_phi))
    if not (res.success or decrement < 1e-8) or decrement > 1e-6:
        return Attempt(struct.name, False, f"optimiser stopped: {res.message}", n_iter)
    return _Fit(struct, phi, ev, der, Attempt(struct.name, True, "converged", n_iter))


class MMRM:
    """Mixed model for repeated measures: CHG ~ group*visit + covariates*visit + strata, no random
    effects, a residual covariance per subject across visits (structure ``cov``).

    Estimation: REML (default) or ML; beta by GLS; Sigma by maximising the (restricted)
    log-likelihood (likelihood.py; the same model as ``nlme::gls(correlation = corSymm(form = ~
    VIDX | id), weights = varIdent(form = ~ 1 | visit), method = "REML")`` for "us").
    Subjects with missing visits contribute the visits they have (MAR); rows with a missing
    covariate are excluded and counted (``excluded_``).

    Inference: Satterthwaite df (as emmeans for gls) or Kenward-Roger (1997) df with the adjusted
    covariance Phi_A (SEs of LS means, contrasts and coefficients then use Phi_A, as SAS
    ``DDFM=KR`` and emmeans with pbkrtest). Derivatives of Sigma are analytic, in SAS's
    parametrisation. Validation (validation/mmrm/): estimates, SEs, logLik, Satterthwaite df
    against nlme::gls + emmeans for every structure; Kenward-Roger against pbkrtest for compound
    symmetry (the equivalent lme4 random-intercept model). For other structures, Kenward-Roger has
    no R reference here (pbkrtest does not support gls; the R package mmrm is not in Debian) and is
    tested by its properties (exact df in balanced designs).

    LS means: emmeans' defaults, covariates at their mean over the analysed rows, strata levels
    weighted equally. Contrasts: each arm minus the reference, by visit, unadjusted p-values.

    Conventions (decided once): ``loglik_`` is nlme's (REML: -1/2 [log|V| + log|X'V^-1X| +
    r'V^-1r + (n - p) log 2 pi]); ``aic_`` counts fixed and covariance parameters, as nlme's
    AIC.gls; ``vcov_`` is (X'V^-1X)^-1 also under ML (nlme's vcov.gls multiplies it by
    N / (N - p) for ML fits; SAS does not). ``vcov_adjusted_`` is Kenward-Roger's Phi_A (None
    with Satterthwaite). Satterthwaite uses the observed information of the covariance
    parameters, Kenward-Roger the expected one (KR 1997). If no structure converges, ``fit``
    raises RuntimeError listing every attempt.

    Attributes after ``fit``: ``coef_`` (term -> estimate), ``terms_``, ``vcov_``,
    ``vcov_adjusted_``, ``cov_matrix_`` (visits_ x visits_), ``cov_params_`` (SAS names),
    ``loglik_``, ``aic_``, ``converged_``, ``cov_used_``, ``fallback_reason_``, ``attempts_``,
    ``n_subjects_``, ``n_obs_``, ``n_excluded_``, ``excluded_`` (by reason), ``visits_``,
    ``groups_``, ``reference_``, ``lsmeans_``, ``contrasts_``; ``summary``, ``estimate(l)``,
    ``ard(paramcd)``, ``plot(ax)``.

    If ``cov`` fails to converge and ``fallback`` is true, the next structures of ``FALLBACK``
    (us -> toeph -> ar1h -> cs, trials.md) are tried; ``cov_used_`` and ``fallback_reason_`` say
    which structure was used and why.

    Example
    -------
    >>> fit = MMRM(cov="us").fit(adeff, response="CHG", subject="USUBJID", visit="AVISIT",
    ...                          group="TRT01P")                     # doctest: +SKIP
    >>> fit.contrasts_.filter(pl.col("visit") == "WEEK 12")          # doctest: +SKIP
    """

    def __init__(
        self,
        cov: str = "us",
        df: str = "kenward-roger",
        method: str = "reml",
        *,
        conf_level: float = 0.95,
        fallback: bool = True,
        max_iter: int = 1000,
    ) -> None:
        if cov not in NAMES:
            raise InvalidInput(SUBJECT, "cov", cov, f"one of {', '.join(NAMES)}")
        if df not in DF_METHODS:
            raise InvalidInput(SUBJECT, "df", df, f"one of {', '.join(DF_METHODS)}")
        if method not in FIT_METHODS:
            raise InvalidInput(SUBJECT, "method", method, f"one of {', '.join(FIT_METHODS)}")
        if df == "kenward-roger" and method != "reml":
            raise InvalidInput(
                SUBJECT, "df", df, "satterthwaite when method is 'ml' (KR needs REML)"
            )
        if isinstance(conf_level, bool) or not 0.0 < conf_level < 1.0:
            raise InvalidInput(SUBJECT, "conf_level", conf_level, "a number between 0 and 1")
        if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 0:
            raise InvalidInput(SUBJECT, "max_iter", max_iter, "a non-negative integer")
        self.cov = cov
        self.df = df
        self.method = method
        self.conf_level = conf_level
        self.fallback = fallback
        self.max_iter = max_iter

    # ------------------------------------------------------------------------------------------
    def fit(
        self,
        data: object,
        response: str = "CHG",
        subject: str = "USUBJID",
        visit: str = "AVISIT",
        group: str = "TRT01P",
        covariates: Sequence[str] = ("BASE",),
        visit_interactions: Sequence[str] = ("BASE",),
        strata: Sequence[str] = ("STRAT1R",),
        visit_order: Sequence[str] | None = None,
        reference: str | None = None,
    ) -> MMRM:
        """Fit the model to a long frame (one row per subject x visit); returns self.

        ``visit_order``: the visit levels in time order (default: by ``<visit>N`` when that
        column exists, else natural sort of the labels); the structures' lags follow it.
        ``reference``: the control arm (default: the one arm whose name contains "placebo",
        else the first in sorted order).
        """
        frame = to_polars(data)
        self._names = {"group": group, "visit": visit, "response": response}
        self._terms = {
            "covariates": tuple(covariates),
            "visit_interactions": tuple(visit_interactions),
            "strata": tuple(strata),
        }
        design = build_design(
            frame,
            response=response,
            subject=subject,
            visit=visit,
            group=group,
            covariates=covariates,
            visit_interactions=visit_interactions,
            strata=strata,
            visit_order=visit_order,
            reference=reference,
        )
        p = len(design.columns)
        xtx = np.einsum("np,nq->pq", design.x_rows, design.x_rows)
        scale = np.sqrt(np.diag(xtx))
        eig = np.linalg.eigvalsh(xtx / np.outer(scale, scale)) if np.all(scale > 0) else [0.0]
        rank = int(np.sum(np.asarray(eig) > 1e-10 * max(float(np.max(eig)), 1.0)))
        if rank < p:
            raise InvalidInput(
                SUBJECT,
                "design",
                f"rank {rank} of {p} columns",
                "full column rank (every arm observed at every visit, strata levels present)",
            )
        self.design_ = design
        s0 = _empirical_cov(design)
        chain = [self.cov]
        if self.fallback and self.cov in FALLBACK:
            chain = list(FALLBACK[FALLBACK.index(self.cov) :])
        attempts: list[Attempt] = []
        result: _Fit | None = None
        for name in chain:
            struct = Structure(name, len(design.visits))
            lik = Likelihood(design.patterns, struct, reml=self.method == "reml")
            out = _optimise(lik, struct, s0, self.max_iter)
            if isinstance(out, Attempt):
                attempts.append(out)
                continue
            attempts.append(out.attempt)
            result = out
            break
        self.attempts_ = attempts
        self.converged_ = result is not None
        if result is None:
            reasons = "; ".join(f"{a.cov}: {a.message}" for a in attempts)
            raise RuntimeError(f"MMRM did not converge with any structure ({reasons})")
        self.cov_used_ = result.struct.name
        self.fallback_reason_ = (
            None
            if len(attempts) == 1
            else "; ".join(f"{a.cov} did not converge ({a.message})" for a in attempts[:-1])
        )
        self._store(design, result)
        return self

    # ------------------------------------------------------------------------------------------
    def _store(self, design: Design, fit: _Fit) -> None:
        der, ev = fit.der, fit.ev
        self.terms_ = list(design.columns)
        self.visits_ = list(design.visits)
        self.groups_ = list(design.groups)
        self.reference_ = design.groups[0]
        self.coef_ = dict(zip(design.columns, map(float, ev.beta), strict=True))
        self.vcov_ = der.phi_cov
        self.vcov_adjusted_ = (
            inference.kr_adjusted_vcov(der) if self.df == "kenward-roger" else None
        )
        self.cov_matrix_ = fit.struct.sigma(fit.phi)
        self.cov_params_ = dict(zip(fit.struct.labels(), map(float, fit.phi), strict=True))
        n_par = len(ev.beta) + fit.struct.n_par
        self.loglik_ = -0.5 * ev.minus2ll
        # nlme's convention (AIC.gls): every fixed and covariance parameter counts, also for REML
        # (SAS PROC MIXED counts only the covariance parameters under REML).
        self.aic_ = -2.0 * self.loglik_ + 2.0 * n_par
        self.n_subjects_ = design.n_subjects
        self.n_obs_ = design.n_obs
        self.excluded_ = dict(design.excluded)
        self.n_excluded_ = sum(design.excluded.values())
        self._der = der
        self.lsmeans_ = self._lsmeans(design)
        self.contrasts_ = self._contrasts(design)

    def _infer(self, l_vec: Array) -> tuple[float, float, float]:
        """Estimate, SE and df of l' beta with the chosen df method."""
        est = float(l_vec @ np.array(list(self.coef_.values())))
        if self.df == "kenward-roger":
            assert self.vcov_adjusted_ is not None
            res = inference.kenward_roger(self._der, self.vcov_adjusted_, l_vec)
        else:
            res = inference.satterthwaite(self._der, l_vec)
        return est, math.sqrt(res.var), res.df

    def estimate(self, l_vec: Sequence[float] | Array) -> dict[str, float]:
        """Inference on one linear combination l' beta (l in ``terms_`` order): estimate, se, df,
        t, p (two-sided), ci_lower, ci_upper at ``conf_level``."""
        lv = np.asarray(l_vec, dtype=float)
        if lv.shape != (len(self.terms_),):
            raise InvalidInput(SUBJECT, "l_vec", f"shape {lv.shape}", f"length {len(self.terms_)}")
        est, se, df = self._infer(lv)
        q = (
            stats.t.ppf(0.5 + self.conf_level / 2.0, df)
            if math.isfinite(df)
            else stats.norm.ppf(0.5 + self.conf_level / 2.0)
        )
        t = est / se
        p = 2.0 * (stats.t.sf(abs(t), df) if math.isfinite(df) else stats.norm.sf(abs(t)))
        return {
            "estimate": est,
            "se": se,
            "df": df,
            "t": t,
            "p": float(p),
            "ci_lower": est - q * se,
            "ci_upper": est + q * se,
        }

    def _lvec(self, design: Design, group_name: str, visit_name: str) -> Array:
        return lsmean_vector(
            design,
            group_name,
            visit_name,
            group=self._names["group"],
            visit=self._names["visit"],
            **self._terms,
        )

    def _lsmeans(self, design: Design) -> pl.DataFrame:
        recs = []
        for v in design.visits:
            for g in design.groups:
                r = self.estimate(self._lvec(design, g, v))
                recs.append(
                    {
                        "group": g,
                        "visit": v,
                        "estimate": r["estimate"],
                        "se": r["se"],
                        "df": r["df"],
                        "ci_lower": r["ci_lower"],
                        "ci_upper": r["ci_upper"],
                    }
                )
        return pl.DataFrame(recs)

    def _contrasts(self, design: Design) -> pl.DataFrame:
        recs = []
        ref = design.groups[0]
        for v in design.visits:
            base = self._lvec(design, ref, v)
            for g in design.groups[1:]:
                r = self.estimate(self._lvec(design, g, v) - base)
                recs.append({"group": g, "reference": ref, "visit": v, **r})
        return pl.DataFrame(recs)

    @property
    def summary(self) -> pl.DataFrame:
        """Fixed effects: term, estimate, se, df, t, p, ci_lower, ci_upper."""
        recs = []
        eye = np.eye(len(self.terms_))
        for i, term in enumerate(self.terms_):
            recs.append({"term": term, **self.estimate(eye[i])})
        return pl.DataFrame(recs)

    def ard(
        self,
        paramcd: str,
        analysis: str | None = None,
        *,
        estimand: str | None = "mar",
        conf_level_row: bool = True,
    ) -> pl.DataFrame:
        """The results as ARD rows (atopic.trial.ard): per arm x visit ``lsmean, se, df,
        ci_lower, ci_upper, conf_level``; per arm vs reference x visit ``estimate, se, df,
        ci_lower, ci_upper, statistic (t), p_value, conf_level``; model rows ``N`` (subjects),
        ``n`` (observations), ``n_excluded`` and ``cov_structure`` (VALUEC: the structure used and
        any fallback reason). ``analysis`` defaults to ``MMRM-<STRUCTURE>`` (``MMRM-US``);
        ``estimand`` (ard.ESTIMANDS) defaults to ``"mar"``, the MMRM's missing-data assumption.
        """
        name = analysis or f"MMRM-{self.cov_used_.upper()}"
        extra = {"conf_level": self.conf_level} if conf_level_row else {}
        out: list[ard_mod.ArdRow] = []
        note = (
            self.cov_used_
            if self.fallback_reason_ is None
            else (f"{self.cov_used_} (fallback: {self.fallback_reason_})")
        )
        out += ard_mod.rows(
            name,
            {"N": self.n_subjects_, "n": self.n_obs_, "n_excluded": self.n_excluded_},
            paramcd=paramcd,
        )
        out += ard_mod.rows(name, {"cov_structure": None}, paramcd=paramcd, reason=note)
        for rec in self.lsmeans_.iter_rows(named=True):
            stats_ = {k: rec[k] for k in ("se", "df", "ci_lower", "ci_upper")}
            out += ard_mod.rows(
                name,
                {"lsmean": rec["estimate"], **stats_, **extra},
                paramcd=paramcd,
                avisit=rec["visit"],
                group=rec["group"],
            )
        for rec in self.contrasts_.iter_rows(named=True):
            out += ard_mod.rows(
                name,
                {
                    "estimate": rec["estimate"],
                    "se": rec["se"],
                    "df": rec["df"],
                    "ci_lower": rec["ci_lower"],
                    "ci_upper": rec["ci_upper"],
                    "statistic": rec["t"],
                    "p_value": rec["p"],
                    **extra,
                },
                paramcd=paramcd,
                avisit=rec["visit"],
                group=rec["group"],
                comparator=rec["reference"],
            )
        if estimand is not None:
            out = ard_mod.with_estimand(out, estimand)
        return ard_mod.to_frame(out)

    def plot(self, ax: Axes | None = None) -> Axes:
        """LS means by visit and arm with their confidence intervals; returns the axes."""
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(6.0, 4.0))
        positions = np.arange(len(self.visits_), dtype=float)
        width = 0.08
        for i, g in enumerate(self.groups_):
            rows = self.lsmeans_.filter(pl.col("group") == g)
            order = [self.visits_.index(v) for v in rows["visit"]]
            x = positions[order] + (i - (len(self.groups_) - 1) / 2.0) * width
            est = rows["estimate"].to_numpy()
            err = np.vstack([est - rows["ci_lower"].to_numpy(), rows["ci_upper"].to_numpy() - est])
            ax.errorbar(x, est, yerr=err, marker="o", capsize=3, label=g)
        ax.set_xticks(positions, self.visits_)
        ax.set_xlabel(self._names["visit"])
        ax.set_ylabel(f"LS mean of {self._names['response']} ({self.conf_level:.0%} CI)")
        ax.legend(title=self._names["group"])
        return ax
