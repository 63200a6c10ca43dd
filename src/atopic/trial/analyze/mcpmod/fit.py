"""Fitting one dose-response model (the "Mod" step of MCP-Mod), as DoseFinding ``fitMod`` does.

Two kinds of data:

- ``normal``: one response per subject, optionally with covariates (ANCOVA),
  y = f(dose; theta) + X_cov gamma + e, e ~ N(0, sigma^2); fitted by least squares.
- ``general``: dose-group estimates y_hat with covariance S (e.g. LS means of an MMRM at one
  visit); fitted by generalized least squares, minimizing (y_hat - f)' S^-1 (y_hat - f) (gRSS).

Nonlinear parameters (emax ed50; sigEmax ed50, h; exponential delta) are profiled out: for fixed
nonlinear parameters the others are linear least squares (variable projection). As in
DoseFinding (``fitModel.bndnls``, ``optGrid``, ``optLoc``, ``defBnds``): a grid search within the
bounds (30 equally spaced nodes for one parameter, the 144-point Fibonacci lattice for two), then
a local optimizer from the best node — Brent's method on the grid cell around it (R ``optimize``;
here ``scipy.optimize.minimize_scalar(method="bounded")`` with absolute tolerance 1e-10) for one
parameter, a bounded trust-region least squares (here ``scipy.optimize.least_squares``, tolerances
1e-15; R uses ``nlminb``) for two.

Covariance of the estimates: normal (J'J)^-1 RSS/df with J the Jacobian at each subject
(``vcov.DRMod``); general (G' S^-1 G)^-1. Predictions and their standard errors by the delta
method (``predict.DRMod(..., se.fit = TRUE)``); AIC for normal fits is R's AIC of the Gaussian
likelihood with sigma^2 = RSS/n (parameters + 1 for sigma), for general fits gAIC = gRSS + 2 p.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

from atopic.trial.analyze.mcpmod import models as drm

Matrix = NDArray[np.float64]

GRID_1D = 30
GRID_2D = 144
_FIBONACCI = (3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597, 2584, 4181)


def grid_nodes(bounds: tuple[tuple[float, float], ...]) -> Matrix:
    """Starting nodes of the grid search (DoseFinding ``getGrid``).

    One parameter: (2i - 1) / (2N) for i = 1..N = 30, scaled to the bounds. Two parameters: the
    Fibonacci lattice of N = 144 points ((k - 0.5)/N, frac((89 k - 0.5)/N)), scaled to the bounds.
    """
    if len(bounds) == 1:
        lo, hi = bounds[0]
        u = (2.0 * np.arange(1, GRID_1D + 1) - 1.0) / (2.0 * GRID_1D)
        return (lo + u * (hi - lo))[:, None]
    n = GRID_2D
    prev = _FIBONACCI[_FIBONACCI.index(n) - 1]
    k = np.arange(1, n + 1, dtype=float)
    u = np.column_stack([(k - 0.5) / n, np.mod((prev * k - 0.5) / n, 1.0)])
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    return lo + u * (hi - lo)


@dataclass(frozen=True)
class FitData:
    """What a fit needs: doses, responses, covariate design (normal) or the covariance (general).

    ``covariates`` is the (n x q) covariate design without intercept (treatment-coded factors),
    ``covariate_names`` its column names (R style: ``BASE``, ``STRATUMsevere``) and
    ``covariate_means`` the row used for LS-means predictions (numeric: the mean; a factor's
    dummies: 1/levels each, as DoseFinding's ``predict(..., predType = "ls-means")``).
    """

    kind: str  # "normal" or "general"
    dose: Matrix
    response: Matrix
    covariates: Matrix = field(default_factory=lambda: np.zeros((0, 0)))
    covariate_names: tuple[str, ...] = ()
    covariate_means: Matrix = field(default_factory=lambda: np.zeros(0))
    cov: Matrix | None = None  # general: covariance of the estimates

    @property
    def whitener(self) -> Matrix | None:
        """W with W'W = S^-1 (general) or None (normal, unweighted)."""
        if self.cov is None:
            return None
        return np.linalg.inv(np.linalg.cholesky(self.cov))


@dataclass(frozen=True)
class DoseResponseFit:
    """A fitted dose-response model (DoseFinding ``DRMod``).

    ``coefs`` are the dose-response parameters in ``models.PARAMETERS`` order followed by the
    covariate coefficients; ``rss`` is the residual sum of squares (general: gRSS); ``df`` the
    residual degrees of freedom (general: inf); ``vcov`` the covariance of ``coefs``;
    ``criterion`` the AIC (normal) or gAIC (general).
    """

    model: str
    kind: str
    coefs: dict[str, float]
    rss: float
    df: float
    n: int
    vcov: Matrix
    criterion: float
    covariate_means: Matrix
    at_bound: bool

    @property
    def dr_params(self) -> list[float]:
        """The dose-response parameters (without covariate coefficients)."""
        return [self.coefs[p] for p in drm.PARAMETERS[self.model]]

    def predict(
        self, dose: NDArray[np.float64] | list[float], kind: str = "ls-means"
    ) -> tuple[Matrix, Matrix]:
        """Fitted values and standard errors at ``dose`` (DoseFinding ``predict.DRMod``).

        ``kind="ls-means"``: f(d) + covariate_means' gamma (the mean response at average
        covariates); ``kind="effect-curve"``: f(d) - f(0), the effect over placebo. Standard
        errors by the delta method, sqrt(g' V g) with g the gradient; NaN when V is not positive
        definite (DoseFinding returns NA then).
        """
        d = np.atleast_1d(np.asarray(dose, dtype=float))
        theta = self.dr_params
        p = len(theta)
        grad = drm.gradient(self.model, d, theta)
        if kind == "ls-means":
            fit = drm.response(self.model, d, theta)
            gamma = np.array([self.coefs[k] for k in list(self.coefs)[p:]])
            if gamma.size:
                fit = fit + float(self.covariate_means @ gamma)
                grad = np.hstack([grad, np.tile(self.covariate_means, (d.size, 1))])
            vcov = self.vcov
        elif kind == "effect-curve":
            fit = drm.response(self.model, d, theta) - drm.response(self.model, [0.0], theta)[0]
            grad = grad[:, 1:] - drm.gradient(self.model, [0.0], theta)[:, 1:]
            vcov = self.vcov[1:p, 1:p]
        else:
            raise ValueError(f"unknown prediction kind {kind}")
        try:
            np.linalg.cholesky(vcov)
        except np.linalg.LinAlgError:
            return fit, np.full(d.size, np.nan)
        se = np.sqrt(np.einsum("ij,jk,ik->i", grad, vcov, grad))
        return fit, se

    def target_dose(self, delta: float, direction: str) -> float:
        """The target dose TD for clinical relevance ``delta`` (see ``models.target_dose``)."""
        return drm.target_dose(self.model, self.dr_params, delta, direction)


def _design(model: str, dose: Matrix, nonlinear: tuple[float, ...]) -> Matrix:
    """Columns of the linear part for given nonlinear parameters: [1, f0] or [1, d(, d^2)]."""
    one = np.ones_like(dose)
    if model == "linear":
        return np.column_stack([one, dose])
    if model == "quadratic":
        return np.column_stack([one, dose, dose**2])
    return np.column_stack([one, drm.standardized(model, dose, nonlinear)])


def _lstsq(x: Matrix, y: Matrix) -> tuple[Matrix, float, Matrix]:
    """Least squares: coefficients, residual sum of squares, residuals."""
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    return beta, float(resid @ resid), resid


def fit_model(
    model: str,
    data: FitData,
    bounds: tuple[tuple[float, float], ...] | None = None,
) -> DoseResponseFit:
    """Fit ``model`` to ``data`` (DoseFinding ``fitMod``; module docstring for the method).

    ``bounds`` for the nonlinear parameters default to ``models.default_bounds(max dose)``.
    """
    dose, y = data.dose, data.response
    w = data.whitener
    cov_x = data.covariates if data.covariates.size else np.zeros((dose.size, 0))

    def linear_part(nonlinear: tuple[float, ...]) -> Matrix:
        x = np.hstack([_design(model, dose, nonlinear), cov_x])
        return x if w is None else w @ x

    yw = y if w is None else w @ y
    k = drm.NONLINEAR[model]
    nonlinear: tuple[float, ...] = ()
    at_bound = False
    if k > 0:
        bnds = bounds or drm.default_bounds(float(np.max(dose)))[model]

        def rss(nl: tuple[float, ...] | Matrix) -> float:
            return _lstsq(linear_part(tuple(float(v) for v in np.atleast_1d(nl))), yw)[1]

        nodes = grid_nodes(bnds)
        start = nodes[int(np.argmin([rss(tuple(n)) for n in nodes]))]
        if k == 1:
            lo, hi = bnds[0]
            step = (hi - lo) / GRID_1D
            a, b = max(start[0] - 1.1 * step, lo), min(start[0] + 1.1 * step, hi)
            res = optimize.minimize_scalar(
                rss, bounds=(a, b), method="bounded", options={"xatol": 1e-10, "maxiter": 2000}
            )
            nonlinear = (float(res.x),)
            at_bound = bool(min(res.x - lo, hi - res.x) < 1e-6 * (hi - lo))
        else:
            lo = np.array([b[0] for b in bnds])
            hi = np.array([b[1] for b in bnds])

            def resid(nl: Matrix) -> Matrix:
                return _lstsq(linear_part(tuple(float(v) for v in nl)), yw)[2]

            res = optimize.least_squares(
                resid, start, bounds=(lo, hi), method="trf", xtol=1e-15, ftol=1e-15, gtol=1e-15
            )
            nonlinear = tuple(float(v) for v in res.x)
            at_bound = bool(np.any(np.minimum(res.x - lo, hi - res.x) < 1e-6 * (hi - lo)))
    beta, rss_value, _ = _lstsq(linear_part(nonlinear), yw)
    p_lin = _design(model, dose[:1], nonlinear).shape[1]
    dr = list(beta[:p_lin]) + list(nonlinear)  # e0, eMax/e1 (or b1, b2), nonlinear
    names = drm.PARAMETERS[model] + data.covariate_names
    values = [float(v) for v in dr] + [float(v) for v in beta[p_lin:]]
    coefs = dict(zip(names, values, strict=True))
    n_coef = len(values)
    # covariance of the estimates (vcov.DRMod)
    grad = drm.gradient(model, dose, dr)
    if data.kind == "normal":
        n = int(dose.size)
        df = float(n - n_coef)
        jac = np.hstack([grad, cov_x])
        vcov = np.linalg.inv(jac.T @ jac) * rss_value / df
        sig2 = rss_value / n
        loglik = -n / 2.0 * (math.log(2 * math.pi) + 1.0 + math.log(sig2))
        criterion = -2.0 * loglik + 2.0 * (n_coef + 1)
    else:
        n = int(dose.size)
        df = math.inf
        s_inv = np.linalg.inv(data.cov)  # type: ignore[arg-type]
        vcov = np.linalg.inv(grad.T @ s_inv @ grad)
        criterion = rss_value + 2.0 * n_coef
    return DoseResponseFit(
        model=model,
        kind=data.kind,
        coefs=coefs,
        rss=rss_value,
        df=df,
        n=n,
        vcov=vcov,
        criterion=criterion,
        covariate_means=data.covariate_means,
        at_bound=at_bound,
    )
