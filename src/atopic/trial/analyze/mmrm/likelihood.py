"""The (restricted) log-likelihood of an MMRM with subjects grouped by missingness pattern.

Model: y_i = X_i beta + e_i, e_i ~ N(0, Sigma_i) independently over subjects, Sigma_i the rows
and columns of the visit covariance Sigma(phi) for the visits subject i has. With V = blockdiag
(Sigma_i), A = X' V^-1 X, Phi = A^-1, P = V^-1 - V^-1 X Phi X' V^-1 (Harville 1977; Kenward &
Roger 1997):

    -2 l_ML   = log|V| + r' V^-1 r + n log(2 pi)                          (beta = GLS estimate)
    -2 l_REML = log|V| + log|A| + r' V^-1 r + (n - p) log(2 pi)

(the value nlme::gls reports for REML; SAS and lme4 use the same form).

Numerics: subjects with the same set of observed visits share Sigma_g; each pattern is whitened
with the Cholesky factor L_g (never an explicit inverse), and beta, r'V^-1 r and log|A| come from
one QR of the whitened [X y]. Derivatives use the T x T matrices of every pattern:

    d(-2l)/dphi_k = tr(Sigma_k G),  G = sum_g embed(L_g^-T (n_g I - Z_g - E_g) L_g^-1)

with Z_g = sum_i Xw_i Phi Xw_i' (REML only) and E_g = sum_i rw_i rw_i' (whitened X and residuals).
The observed and expected information, and the matrices P_k, Q_kl, R_kl of Kenward & Roger (1997)
come from per-pattern tensors sum_i X_i[a,p] X_i[b,q] (``Tensors``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from atopic.trial.analyze.mmrm.structures import Structure

Array = NDArray[np.float64]
LOG2PI = float(np.log(2.0 * np.pi))


def tri_solve(tri: Array, rhs: Array, lower: bool) -> Array:
    """Solve tri @ x = rhs for a small triangular matrix by substitution in NumPy.

    The matrices here are at most (p + 1) x (p + 1); LAPACK calls this small are dominated by
    call and thread overhead (OpenBLAS threads contend on a busy machine), so plain loops win.
    """
    n = tri.shape[0]
    out = np.array(rhs, dtype=float, copy=True)
    order = range(n) if lower else range(n - 1, -1, -1)
    for i in order:
        lo, hi = (0, i) if lower else (i + 1, n)
        if hi > lo:
            out[i] -= tri[i, lo:hi] @ out[lo:hi]
        out[i] /= tri[i, i]
    return out


def chol_inverse(chol: Array) -> Array:
    """(L L')^-1 from the lower Cholesky factor L of a small matrix."""
    linv = tri_solve(chol, np.eye(chol.shape[0]), lower=True)
    return linv.T @ linv


@dataclass(frozen=True)
class Pattern:
    """Subjects observed at the same visits: ``visits`` indices, y (n, t), X (n, t, p)."""

    visits: NDArray[np.int64]
    y: Array
    x: Array


@dataclass
class Evaluation:
    """The likelihood and the quantities of one evaluation at phi."""

    minus2ll: float
    beta: Array
    r_factor: Array  # upper triangular R of the whitened X (A = R'R)
    grad_phi: Array  # d(-2 l)/dphi
    chol: list[Array]  # Cholesky factor per pattern
    g_matrix: Array


class Likelihood:
    """-2 log-likelihood of the MMRM and its derivatives for one data set and structure."""

    def __init__(self, patterns: list[Pattern], struct: Structure, reml: bool) -> None:
        self.patterns = patterns
        self.struct = struct
        self.reml = reml
        self.n_obs = sum(p.y.size for p in patterns)
        self.p = patterns[0].x.shape[2]
        # [X y] per pattern laid out visit-major, (t, n, p + 1), for whitening by one product
        self._zt = [
            np.ascontiguousarray(
                np.concatenate([pat.x, pat.y[:, :, None]], axis=2).transpose(1, 0, 2)
            )
            for pat in patterns
        ]

    def evaluate(self, phi: Array, gradient: bool = True) -> Evaluation | None:
        """-2 l at phi (None when Sigma or X' V^-1 X is not positive definite).

        Whitening multiplies each pattern's [X y] by the inverse of its small (t x t) Cholesky
        factor; the GLS solution comes from the Cholesky factor of the whitened
        augmented Gram matrix [X y]'V^-1[X y] (the R factor of its QR decomposition).
        """
        sigma = self.struct.sigma(phi)
        t_all, p = self.struct.n_visits, self.p
        logdet_v = 0.0
        chols: list[Array] = []
        linvs: list[Array] = []
        gram = np.zeros((p + 1, p + 1))
        whitened: list[Array] = []
        for pat, zt in zip(self.patterns, self._zt, strict=True):
            s = sigma[np.ix_(pat.visits, pat.visits)]
            try:
                chol = np.linalg.cholesky(s)
            except np.linalg.LinAlgError:
                return None
            t, n, _ = zt.shape
            linv = tri_solve(chol, np.eye(t), lower=True)
            chols.append(chol)
            linvs.append(linv)
            logdet_v += n * 2.0 * float(np.sum(np.log(np.diag(chol))))
            zw = (linv @ zt.reshape(t, -1)).reshape(t, n, p + 1)  # whitened [X y], (t, n, p+1)
            flat = zw.reshape(-1, p + 1)
            gram += flat.T @ flat
            whitened.append(zw)
        try:
            rfull = np.linalg.cholesky(gram).T  # upper: gram = R'R
        except np.linalg.LinAlgError:
            return None
        r_x = rfull[:p, :p]
        diag = np.abs(np.diag(r_x))
        if np.any(diag <= 1e-10 * max(float(diag.max()), 1.0)):
            return None
        beta = tri_solve(r_x, rfull[:p, p], lower=False)
        rss = float(rfull[p, p] ** 2)
        m2ll = logdet_v + rss + self.n_obs * LOG2PI
        if self.reml:
            m2ll += 2.0 * float(np.sum(np.log(diag))) - p * LOG2PI
        g_matrix = np.zeros((t_all, t_all))
        grad = np.zeros(self.struct.n_par)
        if gradient:
            rinv = tri_solve(r_x, np.eye(p), lower=False)
            phi_cov = rinv @ rinv.T
            for pat, linv, zw in zip(self.patterns, linvs, whitened, strict=True):
                t, n, _ = zw.shape
                xw = zw[:, :, :p]
                rw = zw[:, :, p] - xw @ beta  # (t, n)
                inner = n * np.eye(t) - rw @ rw.T
                if self.reml:
                    xphi = (xw @ phi_cov).reshape(t, -1)
                    inner -= xphi @ xw.reshape(t, -1).T
                g_matrix[np.ix_(pat.visits, pat.visits)] += linv.T @ inner @ linv
            grad = np.einsum("kab,ab->k", self.struct.d1(phi), g_matrix)
        return Evaluation(m2ll, beta, r_x, grad, chols, g_matrix)


@dataclass
class Derivatives:
    """Post-fit quantities at phi-hat, all in the natural parametrisation.

    ``p_mats`` P_k = X' V^-1 Sigma_k V^-1 X (Kenward & Roger define P_i with the opposite sign;
    only products of two P appear), ``q_mats`` Q_kl, ``r_mats`` R_kl, ``info_expected`` the
    expected information of l (REML: 1/2 tr(P Sigma_k P Sigma_l)), ``info_observed`` minus the
    Hessian of l (analytic).
    """

    phi_cov: Array  # Phi = A^-1
    p_mats: Array
    q_mats: Array
    r_mats: Array
    info_expected: Array
    info_observed: Array


def derivatives(lik: Likelihood, phi: Array, ev: Evaluation) -> Derivatives:
    """Kenward-Roger's P, Q, R and the expected and observed information at ``phi``.

    Formulas: Kenward & Roger (1997), Biometrics 53:983, eq. 2-5; observed REML Hessian
    d2(-2l)/dk dl = -tr(P S_k P S_l) + tr(P S_kl) + 2 y'P S_k P S_l P y - y'P S_kl P y
    (Harville 1977); for ML, P -> V^-1 in the traces and -2 b_k' Phi b_l from the profiled beta.
    """
    struct = lik.struct
    k, p = struct.n_par, lik.p
    d1 = struct.d1(phi)
    d2 = struct.d2(phi)
    r_x = ev.r_factor
    phi_cov = chol_inverse(r_x.T)  # A = R'R
    p_mats = np.zeros((k, p, p))
    q_mats = np.zeros((k, k, p, p))
    r_mats = np.zeros((k, k, p, p))
    tr_vv = np.zeros((k, k))  # sum_g n_g tr(S^-1 D_k S^-1 D_l)
    tr_sks_e = np.zeros((k, k))  # sum_g tr(D_k S^-1 D_l E_g), E_g = sum_i u_i u_i'
    b = np.zeros((k, p))  # b_k = sum_i X_i' S^-1 D_k u_i, u_i = S^-1 r_i
    t_all = struct.n_visits
    h0 = np.zeros((t_all, t_all))  # embed(n_g S^-1 - M_g) (REML) or n_g S^-1 (ML)
    e_all = np.zeros((t_all, t_all))
    for pat, chol in zip(lik.patterns, ev.chol, strict=True):
        n, t = pat.y.shape
        ix = pat.visits
        sinv = chol_inverse(chol)
        dk = d1[:, ix][:, :, ix]
        d2k = d2[:, :, ix][:, :, :, ix]
        resid = pat.y - pat.x @ ev.beta
        u = resid @ sinv  # (n, t)
        e_g = u.T @ u
        tens = np.einsum("nap,nbq->abpq", pat.x, pat.x)
        sd = np.einsum("ab,kbc->kac", sinv, dk)  # S^-1 D_k
        b_k = np.einsum("kac,cd->kad", sd, sinv)  # S^-1 D_k S^-1
        p_mats += np.einsum("abpq,kab->kpq", tens, b_k)
        q_mid = np.einsum("kab,lbd->klad", sd, b_k)
        q_mats += np.einsum("abpq,klab->klpq", tens, q_mid)
        if np.any(d2k):
            r_mid = np.einsum("klbc,cd->klbd", np.einsum("ab,klbc->klac", sinv, d2k), sinv)
            r_mats += np.einsum("abpq,klab->klpq", tens, r_mid)
        tr_vv += n * np.einsum("kab,lba->kl", sd, sd)
        tr_sks_e += np.einsum("kab,lba->kl", dk, np.einsum("lbc,ca->lba", sd, e_g))
        b += np.einsum("nap,kan->kp", pat.x, np.einsum("kab,nb->kan", b_k, resid))
        m_g = np.zeros((t, t))
        if lik.reml:
            w = np.einsum("ab,nbp->nap", sinv, pat.x)
            m_g = np.einsum("naq,nbq->ab", np.einsum("nap,pq->naq", w, phi_cov), w)
        h0[np.ix_(ix, ix)] += n * sinv - m_g
        e_all[np.ix_(ix, ix)] += e_g
    tr_pp = tr_vv.copy()
    if lik.reml:
        tr_pp += -2.0 * np.einsum("pq,klqp->kl", phi_cov, q_mats) + np.einsum(
            "pq,kqr,rs,lsp->kl", phi_cov, p_mats, phi_cov, p_mats, optimize=True
        )
    info_expected = 0.5 * tr_pp
    hess = (
        -tr_pp
        + np.einsum("klab,ab->kl", d2, h0)
        + 2.0 * tr_sks_e
        - 2.0 * b @ phi_cov @ b.T
        - np.einsum("klab,ab->kl", d2, e_all)
    )
    info_observed = 0.5 * (hess + hess.T) / 2.0
    return Derivatives(phi_cov, p_mats, q_mats, r_mats, info_expected, info_observed)
