"""Residual covariance structures of an MMRM: the visit covariance matrix Sigma(phi) of one subject.

Two parametrisations per structure:

- ``phi`` (natural): the parameters SAS PROC MIXED reports for the same ``TYPE=`` (UN, CS, CSH,
  AR(1), ARH(1), TOEP, TOEPH). Degrees of freedom (Satterthwaite, Kenward-Roger) are computed from
  analytic first and second derivatives of Sigma with respect to ``phi``. Kenward-Roger is not
  invariant to the parametrisation (Kenward & Roger 1997, sec. 4); using SAS's makes ours the
  industry's convention. UN, CS and TOEP are linear in ``phi`` (second derivatives zero).
- ``eta`` (unconstrained, for the optimiser): log-Cholesky for UN; log variances; correlations via
  tanh / a scaled logistic; Toeplitz correlations via partial autocorrelations tanh(eta) and the
  Durbin-Levinson recursion, so every eta gives a positive-definite Sigma. ``phi_from_eta`` uses
  only arithmetic, exp and tanh, so its Jacobian is exact by complex-step differentiation.

Names: ``us`` UN, ``cs`` CS (phi: common covariance c, residual s; Sigma = c J + s I), ``csh``
CSH (variances v_1..v_T, rho), ``ar1`` AR(1) (v, rho; Sigma_ij = v rho^|i-j| on the visit index),
``ar1h`` ARH(1) (v_1..v_T, rho), ``toep`` TOEP (lag covariances s_0..s_{T-1}), ``toeph`` TOEPH
(v_1..v_T, rho_1..rho_{T-1}). The same models as nlme::gls with corSymm, corCompSymm, corAR1 and
corARMA(p = T - 1) (a stationary AR(T-1) spans the T x T Toeplitz correlations), each with or
without varIdent(~ 1 | visit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

NAMES: tuple[str, ...] = ("us", "cs", "csh", "ar1", "ar1h", "toep", "toeph")


def _levinson_pacf(r: Array) -> Array:
    """Partial autocorrelations from autocorrelations r_1..r_p (Levinson-Durbin)."""
    p = len(r)
    pacf = np.zeros(p)
    a = np.zeros(0)
    rr = np.concatenate([[1.0], r])
    for k in range(1, p + 1):
        v = 1.0 - float(np.dot(a, rr[1:k]))
        pk = (rr[k] - float(np.dot(a, rr[k - 1 : 0 : -1]))) / v
        pk = float(np.clip(pk, -0.95, 0.95))
        pacf[k - 1] = pk
        a = np.concatenate([a - pk * a[::-1], [pk]])
    return pacf


def _durbin_levinson(pacf: NDArray) -> NDArray:
    """Autocorrelations r_1..r_p of the stationary AR(p) with these partial autocorrelations."""
    p = len(pacf)
    r = [pacf[0] * 0 + 1.0]
    a: list = []
    for k in range(1, p + 1):
        pk = pacf[k - 1]
        v = 1.0 - sum(a[j] * r[j + 1] for j in range(k - 1))
        rk = sum(a[j] * r[k - 1 - j] for j in range(k - 1)) + pk * v
        r.append(rk)
        a = [a[j] - pk * a[k - 2 - j] for j in range(k - 1)] + [pk]
    return np.array(r[1:])


@dataclass(frozen=True)
class Structure:
    """A covariance structure for ``n_visits`` visits (see the module docstring)."""

    name: str
    n_visits: int

    # ---- sizes and layout -------------------------------------------------------------------
    @property
    def heterogeneous(self) -> bool:
        """Visit-specific variances (csh, ar1h, toeph)."""
        return self.name in ("csh", "ar1h", "toeph")

    @property
    def n_corr(self) -> int:
        """Number of correlation parameters of a variance x correlation structure."""
        t = self.n_visits
        return {"csh": 1, "ar1": 1, "ar1h": 1, "toeph": t - 1}.get(self.name, 0)

    @property
    def n_par(self) -> int:
        """Number of covariance parameters."""
        t = self.n_visits
        return {
            "us": t * (t + 1) // 2,
            "cs": 2,
            "csh": t + 1,
            "ar1": 2,
            "ar1h": t + 1,
            "toep": t,
            "toeph": 2 * t - 1,
        }[self.name]

    def labels(self) -> list[str]:
        """Parameter names in SAS style (``UN(2,1)``, ``Var(1)``, ``rho`` ...), visits 1-based."""
        t = self.n_visits
        if self.name == "us":
            return [f"UN({i + 1},{j + 1})" for i, j in zip(*np.tril_indices(t), strict=True)]
        if self.name == "cs":
            return ["covariance", "residual"]
        if self.name == "toep":
            return [f"TOEP({k + 1})" for k in range(t)]
        var = [f"Var({i + 1})" for i in range(t)] if self.heterogeneous else ["Var"]
        if self.name == "toeph":
            return var + [f"rho({k})" for k in range(1, t)]
        return [*var, "rho"]

    # ---- Sigma and its derivatives in phi -----------------------------------------------------
    def _lag(self) -> NDArray[np.int64]:
        idx = np.arange(self.n_visits)
        return np.abs(idx[:, None] - idx[None, :])

    def _corr(self, rho: NDArray) -> NDArray:
        """Correlation matrix of a variance x correlation structure from its correlation params."""
        t, lag = self.n_visits, self._lag()
        if self.name == "csh":
            return np.where(lag == 0, 1.0, rho[0])
        if self.name in ("ar1", "ar1h"):
            return rho[0] ** lag
        full = np.concatenate([np.ones(1, dtype=rho.dtype), rho])  # toeph
        return full[lag] if t > 1 else np.ones((1, 1))

    def sigma(self, phi: NDArray) -> NDArray:
        """Sigma (T x T) from the natural parameters."""
        t, lag = self.n_visits, self._lag()
        if self.name == "us":
            out = np.zeros((t, t), dtype=phi.dtype)
            i, j = np.tril_indices(t)
            out[i, j] = phi
            out[j, i] = phi
            return out
        if self.name == "cs":
            return phi[0] * np.ones((t, t)) + phi[1] * np.eye(t)
        if self.name == "toep":
            return phi[lag]
        nv = t if self.heterogeneous else 1
        v = phi[:nv] * np.ones(t)
        sd = np.sqrt(v)
        return np.outer(sd, sd) * self._corr(phi[nv:])

    def d1(self, phi: Array) -> Array:
        """dSigma/dphi_k, shape (k, T, T) (Kenward & Roger 1997: Sigma_i)."""
        t, lag = self.n_visits, self._lag()
        k = self.n_par
        out = np.zeros((k, t, t))
        if self.name == "us":
            for m, (i, j) in enumerate(zip(*np.tril_indices(t), strict=True)):
                out[m, i, j] = out[m, j, i] = 1.0
            return out
        if self.name == "cs":
            out[0] = 1.0
            out[1] = np.eye(t)
            return out
        if self.name == "toep":
            for m in range(t):
                out[m] = lag == m
            return out
        nv = t if self.heterogeneous else 1
        v = phi[:nv] * np.ones(t)
        f = np.sqrt(np.outer(v, v))
        corr = self._corr(phi[nv:])
        dcorr = self._dcorr(phi[nv:])
        if self.heterogeneous:
            for m in range(t):
                e_m = (np.arange(t) == m).astype(float)
                a = (e_m[:, None] + e_m[None, :]) / 2.0
                out[m] = corr * f * a / v[m]
        else:
            out[0] = corr
        for c in range(self.n_corr):
            out[nv + c] = f * dcorr[c]
        return out

    def _dcorr(self, rho: Array) -> Array:
        """First derivatives of the correlation matrix, shape (n_corr, T, T)."""
        t, lag = self.n_visits, self._lag()
        if self.name == "csh":
            return (lag > 0).astype(float)[None]
        if self.name in ("ar1", "ar1h"):
            return np.where(lag > 0, lag * rho[0] ** np.maximum(lag - 1, 0), 0.0)[None]
        return np.stack([(lag == c).astype(float) for c in range(1, t)])

    def _d2corr(self, rho: Array) -> Array:
        """Second derivatives of the correlation matrix, shape (n_corr, n_corr, T, T)."""
        t, lag = self.n_visits, self._lag()
        out = np.zeros((self.n_corr, self.n_corr, t, t))
        if self.name in ("ar1", "ar1h"):
            out[0, 0] = np.where(lag > 1, lag * (lag - 1) * rho[0] ** np.maximum(lag - 2, 0), 0.0)
        return out

    def d2(self, phi: Array) -> Array:
        """d2Sigma/dphi_k dphi_l, shape (k, k, T, T) (Kenward & Roger 1997: for R_ij)."""
        t, k = self.n_visits, self.n_par
        out = np.zeros((k, k, t, t))
        if self.name in ("us", "cs", "toep"):
            return out
        nv = t if self.heterogeneous else 1
        v = phi[:nv] * np.ones(t)
        f = np.sqrt(np.outer(v, v))
        corr = self._corr(phi[nv:])
        dcorr = self._dcorr(phi[nv:])
        out[nv:, nv:] = f * self._d2corr(phi[nv:])
        if not self.heterogeneous:  # Sigma = v * C(rho)
            for c in range(self.n_corr):
                out[0, 1 + c] = out[1 + c, 0] = dcorr[c]
            return out
        unit = np.eye(t)
        a = [(unit[m][:, None] + unit[m][None, :]) / 2.0 for m in range(t)]
        for m in range(t):
            df_m = f * a[m] / v[m]
            for n in range(t):
                d2f = f * a[m] * a[n] / (v[m] * v[n])
                if m == n:
                    d2f = d2f - f * a[m] / v[m] ** 2
                out[m, n] = corr * d2f
            for c in range(self.n_corr):
                out[m, t + c] = out[t + c, m] = df_m * dcorr[c]
        return out

    # ---- unconstrained parametrisation for the optimiser --------------------------------------
    def _cs_low(self) -> float:
        return -1.0 / (self.n_visits - 1) if self.n_visits > 1 else -1.0

    def phi_from_eta(self, eta: NDArray) -> NDArray:
        """Natural parameters from unconstrained ones (complex-step safe)."""
        t = self.n_visits
        if self.name == "us":
            chol = np.zeros((t, t), dtype=eta.dtype)
            i, j = np.tril_indices(t)
            chol[i, j] = np.where(i == j, np.exp(eta), eta)
            s = chol @ chol.T
            return s[np.tril_indices(t)]
        if self.name == "cs":
            v = np.exp(eta[0])
            lo = self._cs_low()
            rho = lo + (1.0 - lo) / (1.0 + np.exp(-eta[1]))
            return np.array([v * rho, v * (1.0 - rho)])
        if self.name == "toep":
            v = np.exp(eta[0])
            r = _durbin_levinson(np.tanh(eta[1:])) if t > 1 else np.zeros(0)
            return np.concatenate([np.array([v]), v * r])
        nv = t if self.heterogeneous else 1
        v = np.exp(eta[:nv])
        if self.name == "csh":
            lo = self._cs_low()
            rho = lo + (1.0 - lo) / (1.0 + np.exp(-eta[nv:]))
        elif self.name == "toeph":
            rho = _durbin_levinson(np.tanh(eta[nv:]))
        else:
            rho = np.tanh(eta[nv:])
        return np.concatenate([v, rho])

    def jacobian(self, eta: Array) -> Array:
        """d phi / d eta (k x k) by complex-step differentiation (exact to rounding)."""
        h = 1e-30
        k = self.n_par
        out = np.empty((k, k))
        for m in range(k):
            e = eta.astype(complex)
            e[m] += 1j * h
            out[:, m] = self.phi_from_eta(e).imag / h
        return out

    def start(self, s: Array) -> Array:
        """Starting eta from an empirical visit covariance matrix ``s`` (positive definite)."""
        t = self.n_visits
        sd = np.sqrt(np.diag(s))
        corr = s / np.outer(sd, sd)
        lag = self._lag()
        lag_r = np.array([corr[lag == m].mean() for m in range(1, t)])
        lag_r = np.clip(lag_r, -0.9, 0.95)
        mean_r = float(np.clip(corr[lag > 0].mean(), self._cs_low() * 0.9, 0.95)) if t > 1 else 0.0
        if self.name == "us":
            chol = np.linalg.cholesky(s)
            i, j = np.tril_indices(t)
            return np.where(i == j, np.log(np.abs(chol[i, j])), chol[i, j])
        lo = self._cs_low()
        logit = float(np.log((mean_r - lo) / (1.0 - mean_r))) if t > 1 else 0.0
        logv = np.log(np.diag(s)) if self.heterogeneous else np.array([np.log(np.mean(np.diag(s)))])
        if self.name in ("cs", "csh"):
            return np.concatenate([logv, [logit]])
        if self.name in ("ar1", "ar1h"):
            r1 = float(np.clip(lag_r[0], -0.9, 0.95)) if t > 1 else 0.0
            return np.concatenate([logv, [np.arctanh(r1)]])
        pacf = _levinson_pacf(lag_r) if t > 1 else np.zeros(0)
        return np.concatenate([logv, np.arctanh(pacf)])


def structure(name: str, n_visits: int) -> Structure:
    """The structure called ``name`` (one of ``NAMES``) for ``n_visits`` visits."""
    return Structure(name, n_visits)
