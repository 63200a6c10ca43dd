"""Denominator degrees of freedom and the Kenward-Roger adjusted covariance of beta-hat.

Satterthwaite (Satterthwaite 1946; Giesbrecht & Burns 1985; as emmeans does for nlme::gls):
for a contrast l, with g_k = d(l' Phi l)/dphi_k = -l' Phi (dA/dphi_k) Phi l and W the inverse of the
observed information of the covariance parameters (minus the analytic Hessian of the (RE)ML
log-likelihood; nlme's ``apVar`` is its numerical counterpart):  df = 2 (l' Phi l)^2 / (g' W g).

Kenward-Roger (Kenward & Roger 1997, Biometrics 53:983-997; pbkrtest ``vcovAdj``/``Lb_ddf``):
W = inverse expected REML information; Phi_A = Phi + 2 Phi [sum_ij W_ij (Q_ij - P_i Phi P_j -
R_ij / 4)] Phi; for an L of rank q, Theta = L (L' Phi L)^-1 L' (the unadjusted Phi, as KR's
derivation and pbkrtest ``Lb_ddf`` and the R package mmrm), A1 = sum W_ij tr(Theta Phi P_i Phi)
tr(Theta Phi P_j Phi), A2 = sum W_ij tr(Theta Phi P_i Phi Theta Phi P_j Phi) and the
moment-matched F gives m = 4 + (q + 2) / (q rho - 1) and the scale lambda (KR eq. 9-12). For
q = 1 this reduces to m = 2 (l' Phi l)^2 / (g' W g), Satterthwaite's formula with the
expected-information W; the t statistic then uses the adjusted variance l' Phi_A l.
The R_ij term uses analytic second derivatives of Sigma in SAS's parametrisation (structures.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from atopic.trial.analyze.mmrm.likelihood import Derivatives, chol_inverse

Array = NDArray[np.float64]


def _inv_psd(m: Array) -> Array:
    """Inverse of a symmetric positive-definite information matrix (pseudo-inverse if singular)."""
    try:
        return chol_inverse(np.linalg.cholesky(m))
    except np.linalg.LinAlgError:
        return np.linalg.pinv(m, hermitian=True)


def kr_adjusted_vcov(der: Derivatives) -> Array:
    """Phi_A, the Kenward-Roger (1997, eq. 5) small-sample adjusted covariance of beta-hat."""
    phi = der.phi_cov
    w = _inv_psd(der.info_expected)
    k = len(w)
    inner = np.zeros_like(phi)
    for i in range(k):
        for j in range(k):
            inner += w[i, j] * (
                der.q_mats[i, j] - der.p_mats[i] @ phi @ der.p_mats[j] - 0.25 * der.r_mats[i, j]
            )
    adj = phi + 2.0 * phi @ inner @ phi
    return (adj + adj.T) / 2.0


@dataclass(frozen=True)
class DfResult:
    """Variance of l' beta-hat, its degrees of freedom and (KR) the F scale lambda."""

    var: float
    df: float
    scale: float = 1.0


def satterthwaite(der: Derivatives, l_vec: Array) -> DfResult:
    """Satterthwaite df of l' beta-hat with the observed-information W (see module docstring)."""
    phi = der.phi_cov
    var = float(l_vec @ phi @ l_vec)
    pl_ = phi @ l_vec
    g = -np.einsum("p,kpq,q->k", pl_, der.p_mats, pl_)
    w = _inv_psd(der.info_observed)
    denom = float(g @ w @ g)
    return DfResult(var, 2.0 * var**2 / denom if denom > 0 else np.inf)


def kenward_roger(der: Derivatives, phi_adj: Array, l_mat: Array) -> DfResult:
    """Kenward-Roger df (and scale) of the hypothesis L' beta = 0, L (p x q, full column rank q)
    or a vector.

    Returns the variance l' Phi_A l when q = 1 (the quantity a t-test uses), else 0.
    """
    lm = l_mat.reshape(len(l_mat), -1)
    q = float(lm.shape[1])
    phi = der.phi_cov
    w = _inv_psd(der.info_expected)
    theta = lm @ np.linalg.solve(lm.T @ phi @ lm, lm.T)
    u = [theta @ phi @ pk @ phi for pk in der.p_mats]
    tr_u = np.array([np.trace(x) for x in u])
    a1 = float(tr_u @ w @ tr_u)
    k = len(u)
    a2 = 0.0
    for i in range(k):
        for j in range(k):
            a2 += w[i, j] * float(np.sum(u[i] * u[j].T))
    var = float(lm[:, 0] @ phi_adj @ lm[:, 0]) if lm.shape[1] == 1 else 0.0
    if a2 <= 0:
        return DfResult(var, np.inf, 1.0)
    b = (a1 + 6.0 * a2) / (2.0 * q)
    g = ((q + 1.0) * a1 - (q + 4.0) * a2) / ((q + 2.0) * a2)
    den = 3.0 * q + 2.0 * (1.0 - g)
    c1, c2, c3 = g / den, (q - g) / den, (q + 2.0 - g) / den
    e_star = 1.0 / (1.0 - a2 / q)
    v_star = (2.0 / q) * (1.0 + c1 * b) / ((1.0 - c2 * b) ** 2 * (1.0 - c3 * b))
    rho = v_star / (2.0 * e_star**2)
    m = 4.0 + (q + 2.0) / (q * rho - 1.0)
    lam = m / (e_star * (m - 2.0))
    return DfResult(var, m, lam)
