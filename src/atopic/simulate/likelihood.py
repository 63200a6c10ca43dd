"""Likelihood objective of the calibration: targets weighed by their standard errors.

Each fitted target contributes z^2 = ((simulated - published) / SE)^2 with
SE^2 = SE_pub^2 + SE_mc^2 (the published value's sampling variance and the simulated value's
Monte Carlo variance, independent, so their variances add). Under a normal approximation to each
published estimate, with SE treated as known, the sum of z^2 is -2 log L up to a constant
(Gaussian log-likelihood; Pawitan Y, *In All Likelihood*, OUP 2001, section 2.6), so the
difference of the sum between a profile point and the minimum has, approximately, the chi-square
reading of a likelihood ratio (1 degree of freedom: 3.84 = 95 %; Wilks SS, Ann Math Stat 1938;
profile intervals: Venzon DJ & Moolgavkar SH, Appl Stat 1988). At a parameter's boundary (a
product multiplier of 0) the reference is the mixture of chi-square 0 and 1 (Self SG & Liang KY,
JASA 1987), so 3.84 is conservative there.

Published SE (decided once, here):
    * a responder rate (``easi50``, ``easi75``, ``easi90``, ``iga01``) with the arm's size ``n``:
      the binomial SE at the published rate, 100 sqrt(p (1 - p) / n) percentage points;
    * a difference of two arms' rates (``diff_easi50``) with both arms' published rates and sizes
      (``Target.control``, ``Target.n_control``): the sum of the two binomial variances
      (independent arms), SE = sqrt(SE_1^2 + SE_0^2);
    * a published range without ``n`` (the monotherapy placebo ranges): the range is read as a
      95 % interval of placebo arms across trials, its half-width as ``RANGE_Z`` = 2 SE, and only
      the distance *outside* the range counts (inside it, z = 0), as in the points objective;
    * anything else (a point value without ``n`` or range, such as the pooled placebo of
      Andreasen 2020, whose arm sizes and between-trial spread are not on our reference page;
      a directional target; a metric other than the above): **not in the likelihood** (reported
      only). Inventing an SE would give it a weight the data do not carry.

Monte Carlo SE of the simulated value on the ``n`` virtual patients (``calibration``): a rate
(smoothed per-patient probabilities, mean q): 100 sqrt(q (1 - q) / n); a mean or a paired
difference: the sample SD / sqrt(n). It is computed at the simulated value, so it varies a
little with the parameters; the objective treats it as known at each evaluation (no log-variance
term). With n virtual patients much larger than the trial arms its share of SE^2 is small
(n = 1,000 against an arm of 98: about 9 %), and the chi-square reading is approximate to that
order. At small n it is not small, and a fit could then lower the objective by moving simulated
rates towards 50 % (a larger SE_mc): use n of 1,000 or more for a fit read as a likelihood. Target weights (``Target.weight``) are not used beyond inclusion (weight > 0): a
likelihood has no hand weights.

Independence, assumed and not exact (stated so a reader can discount): the terms are added as
if independent. Published arms of different trials are; but the four monotherapy placebo ranges
(IGA 0/1, EASI-75, EASI-50, mean % change) describe the same placebo arms and are positively
correlated, so together they weigh more than their information; and the Monte Carlo errors of
targets simulated on the same virtual patients (common random numbers) are correlated too,
which matters little while SE_mc is small against SE_pub.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl
from scipy.stats import chi2

from atopic.errors import InvalidInput
from atopic.simulate.targets import Target

RANGE_Z = 2.0
"""A published range's half-width in published SEs (the range read as a 95 % interval)."""
CHI2_95 = float(chi2.ppf(0.95, 1))
"""The 95 % point of chi-square with 1 degree of freedom (3.841): the profile threshold."""
RATE_METRICS: tuple[str, ...] = ("easi50", "easi75", "easi90", "iga01")
"""Metrics that are responder rates (percent)."""


@dataclass(frozen=True)
class Simulated:
    """A simulated target value and its Monte Carlo SE (both in the target's unit)."""

    value: float
    se: float


def binomial_se(p: float, n: int) -> float:
    """SE (percentage points) of a rate ``p`` (percent) on ``n`` patients: 100 sqrt(p(1-p)/n),
    the binomial standard error at the published rate (Agresti A, *Categorical Data Analysis*,
    3rd ed., Wiley 2013, section 1.3)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidInput("likelihood", "n", n, "a whole number >= 1")
    if not 0.0 <= p <= 100.0:
        raise InvalidInput("likelihood", "p", p, "a rate from 0 to 100 %")
    q = p / 100.0
    return 100.0 * math.sqrt(q * (1.0 - q) / n)


def difference_se(p1: float, n1: int, p0: float, n0: int) -> float:
    """SE of ``p1 - p0`` for two independent arms: sqrt(SE_1^2 + SE_0^2), the binomial
    variances added (the Wald SE of a difference of proportions; Agresti 2013, section 2.2)."""
    return math.sqrt(binomial_se(p1, n1) ** 2 + binomial_se(p0, n0) ** 2)


def published_se(t: Target) -> float | None:
    """The published value's SE by the module docstring's rule, or None (not in the
    likelihood): ``binomial_se``, ``difference_se``, or a range's half-width / ``RANGE_Z`` (our
    decision, stated in the module docstring)."""
    if t.direction is not None:
        return None
    if t.metric in RATE_METRICS and t.n is not None:
        return binomial_se(t.value, t.n)
    if (
        t.metric == "diff_easi50"
        and t.n is not None
        and t.n_control is not None
        and t.control is not None
    ):
        return difference_se(t.control + t.value, t.n, t.control, t.n_control)
    if t.low is not None and t.high is not None and t.n is None:
        return (t.high - t.low) / 2.0 / RANGE_Z
    return None


def in_likelihood(t: Target) -> bool:
    """Whether a target enters the likelihood: weight > 0 and a published SE (docstring)."""
    return t.weight > 0 and published_se(t) is not None


def deviation(t: Target, value: float) -> float:
    """Simulated minus published; for a range, the distance outside it (0 inside)."""
    if t.low is not None or t.high is not None:
        lo = -math.inf if t.low is None else t.low
        hi = math.inf if t.high is None else t.high
        return max(0.0, lo - value, value - hi)
    return value - t.value


def term(t: Target, sim: Simulated) -> float:
    """z^2 = deviation^2 / (SE_pub^2 + SE_mc^2) of one target: its term of -2 log L of a normal
    with known variance (module docstring; Pawitan 2001, section 2.6)."""
    se_pub = published_se(t)
    if se_pub is None:
        raise InvalidInput("likelihood", "target", t.id, "a target with a published SE")
    var = se_pub**2 + sim.se**2
    if not var > 0:
        raise InvalidInput("likelihood", f"{t.id} SE", math.sqrt(var), "a positive SE")
    return deviation(t, sim.value) ** 2 / var


def neg2_log_likelihood(targets: Sequence[Target], simulated: Mapping[str, Simulated]) -> float:
    """Sum of z^2 over the targets in the likelihood: -2 log L up to a constant (docstring);
    ``simulated`` maps target ids to their simulated values and MC SEs."""
    return sum(term(t, simulated[t.id]) for t in targets if in_likelihood(t))


def terms_table(targets: Sequence[Target], simulated: Mapping[str, Simulated]) -> pl.DataFrame:
    """One row per target in the likelihood: published value and SE, simulated value and MC SE,
    the combined SE, z (signed deviation / SE) and its z^2 term."""
    rows = []
    for t in targets:
        if not in_likelihood(t):
            continue
        sim, se_pub = simulated[t.id], published_se(t)
        assert se_pub is not None
        se = math.sqrt(se_pub**2 + sim.se**2)
        z = deviation(t, sim.value) / se
        rows.append(
            {
                "target": t.id,
                "published": t.value,
                "se_published": se_pub,
                "simulated": sim.value,
                "se_mc": sim.se,
                "se": se,
                "z": z,
                "term": z * z,
            }
        )
    return pl.DataFrame(rows)


@dataclass(frozen=True)
class ProfileInterval:
    """Grid points whose profile difference is below the threshold: ``low``-``high``;
    ``open_low``/``open_high``: the interval reaches the grid's end (its true end lies beyond);
    ``gaps``: grid points inside ``low``-``high`` above the threshold (not one interval)."""

    low: float
    high: float
    open_low: bool
    open_high: bool
    gaps: bool


def profile_interval(
    x: Sequence[float], objective: Sequence[float], *, threshold: float = CHI2_95
) -> ProfileInterval | None:
    """Approximate profile-likelihood interval on a grid: the grid values whose objective
    (-2 log L) is within ``threshold`` of the smallest (Venzon & Moolgavkar 1988); None if
    no finite point. Approximate: grid resolution, Monte Carlo noise, refits not converged."""
    pairs = sorted((float(a), float(b)) for a, b in zip(x, objective, strict=True))
    finite = [(a, b) for a, b in pairs if math.isfinite(b)]
    if not finite:
        return None
    best = min(b for _, b in finite)
    inside = [a for a, b in finite if b - best < threshold]
    low, high = min(inside), max(inside)
    gaps = any(low < a < high and b - best >= threshold for a, b in finite)
    return ProfileInterval(low, high, low == finite[0][0], high == finite[-1][0], gaps)
