"""Optimal contrasts and the multiple contrast test (the "MCP" step of MCP-Mod).

Optimal contrast of a candidate shape mu (its means at the doses) for dose-group estimates with
covariance S (Bretz, Pinheiro & Branson 2005; Pinheiro et al. 2014, eq. 3; DoseFinding
``optContr``, unconstrained):

    c  proportional to  S^-1 (mu - (mu' S^-1 1) / (1' S^-1 1) 1),   scaled to ||c|| = 1.

Test statistic of each candidate t_m = c_m' y / sqrt(c_m' S c_m); their correlation
R = cov2cor(C' S C). The multiple contrast test rejects "flat" when max_m t_m exceeds the
1 - alpha quantile of max_m T_m, T multivariate t with correlation R and the residual df (or
multivariate normal when S is taken as known, DoseFinding type = "general"); the
multiplicity-adjusted p-value of candidate m is P(max_j T_j > t_m) (DoseFinding ``MCTtest``,
``MCTpval``, ``critVal``; one-sided, benefit in the candidates' direction).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from atopic.trial.analyze.mcpmod.models import Candidates
from atopic.trial.analyze.mcpmod.mvt import DEFAULT_POINTS, DEFAULT_RANDOMIZATIONS, MaxT

Matrix = NDArray[np.float64]


def optimal_contrasts(mu: Matrix, cov: Matrix) -> Matrix:
    """Unit-length optimal contrasts, one column per candidate (DoseFinding ``optContr``).

    ``mu`` is (doses x candidates), ``cov`` the (doses x doses) covariance of the estimates.
    The sign follows the candidate's direction: a decreasing shape gets a contrast whose
    statistic is positive when the responses decrease with dose.
    """
    s_inv = np.linalg.inv(cov)
    aux = s_inv.sum(axis=1)
    centre = (aux @ mu) / aux.sum()
    val = s_inv @ (mu - centre[None, :])
    return val / np.linalg.norm(val, axis=0)[None, :]


def contrast_correlation(contrasts: Matrix, cov: Matrix) -> Matrix:
    """Correlation of the contrast statistics: cov2cor(C' S C)."""
    c_cov = contrasts.T @ cov @ contrasts
    sd = np.sqrt(np.diag(c_cov))
    return c_cov / np.outer(sd, sd)


@dataclass(frozen=True)
class MultipleContrastTest:
    """Result of the multiple contrast test (DoseFinding ``MCTtest``).

    ``t`` and ``p_adjusted`` (one-sided, multiplicity adjusted) per candidate in ``names``
    order; ``critical_value`` of max t at one-sided ``alpha``; ``df`` inf for a normal test.
    ``p_error`` is the largest QMC error estimate of the p-values (3 standard errors).
    """

    names: tuple[str, ...]
    contrasts: Matrix
    corr: Matrix
    t: Matrix
    p_adjusted: Matrix
    critical_value: float
    df: float
    alpha: float
    p_error: float

    @property
    def significant(self) -> list[str]:
        """Candidates with adjusted p < alpha (the models MCPMod goes on to fit)."""
        return [n for n, p in zip(self.names, self.p_adjusted, strict=True) if p < self.alpha]


def multiple_contrast_test(
    estimates: Matrix,
    cov: Matrix,
    df: float,
    candidates: Candidates,
    *,
    alpha: float = 0.025,
    seed: int = 0,
    points: int = DEFAULT_POINTS,
    randomizations: int = DEFAULT_RANDOMIZATIONS,
) -> MultipleContrastTest:
    """Optimal contrasts, t statistics, adjusted p-values and critical value (module docstring).

    ``estimates`` are the dose-group estimates in the order of ``candidates.doses``, ``cov``
    their covariance, ``df`` the residual degrees of freedom (``math.inf``: normal).
    """
    mu = candidates.mu()
    contrasts = optimal_contrasts(mu, cov)
    corr = contrast_correlation(contrasts, cov)
    t = (estimates @ contrasts) / np.sqrt(np.einsum("im,ij,jm->m", contrasts, cov, contrasts))
    dist = MaxT(corr, df, seed=seed, points=points, randomizations=randomizations)
    probs = [dist.cdf(float(v)) for v in t]
    p = np.array([min(max(1.0 - pr.value, 0.0), 1.0) for pr in probs])
    crit = dist.quantile(1.0 - alpha)
    return MultipleContrastTest(
        names=tuple(candidates.names),
        contrasts=contrasts,
        corr=corr,
        t=t,
        p_adjusted=p,
        critical_value=crit,
        df=float(df) if not math.isinf(df) else math.inf,
        alpha=alpha,
        p_error=max(pr.error for pr in probs),
    )
