"""Visit-level variability on top of the mechanistic EASI: disease fluctuation and rater noise.

The mechanistic EASI is smooth; real visits are not (``shared/reference/simulation.md``, "What the
model lacks" 2). Two seeded hooks, on the log scale, for the item-level observation model:

Fluctuation (latent disease activity)
    ``u(t)`` is a stationary Ornstein-Uhlenbeck process with SD ``fluctuation_sd`` and correlation
    time ``fluctuation_weeks``, sampled exactly at the visits: an AR(1) with coefficient
    ``rho_j = exp(-(t_j - t_{j-1}) / fluctuation_weeks)`` between visits,
    ``u_j = rho_j u_{j-1} + sqrt(1 - rho_j^2) sd z_j``, ``u_0 ~ N(0, sd^2)``.
    ``latent = EASI_mech x exp(u - sd^2/2)`` (mean-one factor, so mean EASI is unchanged),
    capped at 72.

Rater noise (one rating of the latent EASI)
    ``rated = latent x exp(r - sr^2/2)``, ``r ~ N(0, sr^2)`` independently per rating, with
    ``sr^2 = between_sd^2 (1 - icc) / icc``: the intra-rater ICC of log EASI is ``icc`` when the
    between-patient SD of log EASI is ``between_sd``. Capped at 72.

Defaults: ``icc`` 0.8 (EASI intra-rater ICC about 0.7-0.9, simulation.md); ``between_sd`` 0.32,
the SD of log baseline EASI of ``miyano2021`` patients with EASI >= 16 (a trial's usual entry
criterion; 0.316 in a sample of 20,000 with seed 2026, ``tests/simulate/model/test_observation.py``
recomputes it on a smaller sample); fluctuation SD 0.15 and 2 weeks are priors for calibration,
not estimates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from atopic.errors import InvalidInput
from atopic.simulate.model.simulation import Course

EASI_MAX = 72.0


@dataclass(frozen=True)
class Variability:
    """Parameters of fluctuation and rater noise (module docstring)."""

    fluctuation_sd: float = 0.15
    fluctuation_weeks: float = 2.0
    icc: float = 0.8
    between_sd: float = 0.32

    def __post_init__(self) -> None:
        limits = {
            "fluctuation_sd": (0.0, 3.0, False),
            "fluctuation_weeks": (0.0, 520.0, True),
            "icc": (0.0, 1.0, True),
            "between_sd": (0.0, 5.0, False),
        }
        for f in fields(self):
            lo, hi, open_lo = limits[f.name]
            v = getattr(self, f.name)
            ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            ok = ok and (v > lo if open_lo else v >= lo) and v <= hi
            if not ok:
                left = "(" if open_lo else "["
                raise InvalidInput("variability", f.name, v, f"a number in {left}{lo:g}, {hi:g}]")

    @property
    def rater_sd(self) -> float:
        """SD of log rater error: between_sd sqrt((1 - icc) / icc)."""
        return self.between_sd * math.sqrt((1.0 - self.icc) / self.icc)


def _generator(rng: np.random.Generator | int) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def fluctuation(
    n: int, weeks: np.ndarray, variability: Variability, rng: np.random.Generator | int
) -> np.ndarray:
    """The OU/AR(1) log-scale fluctuation ``u`` at ``weeks`` for ``n`` patients, (n, visits)."""
    gen = _generator(rng)
    w = np.asarray(weeks, dtype=float)
    sd, tau = variability.fluctuation_sd, variability.fluctuation_weeks
    z = gen.standard_normal((n, w.size))
    u = np.empty((n, w.size))
    u[:, 0] = sd * z[:, 0]
    for j in range(1, w.size):
        rho = math.exp(-(w[j] - w[j - 1]) / tau)
        u[:, j] = rho * u[:, j - 1] + math.sqrt(1.0 - rho * rho) * sd * z[:, j]
    return u


def latent_easi(
    course: Course | np.ndarray,
    variability: Variability,
    rng: np.random.Generator | int,
    *,
    weeks: np.ndarray | None = None,
) -> np.ndarray:
    """Latent EASI per visit (n, visits): mechanistic EASI times the fluctuation factor, <= 72.

    ``course``: a ``Course`` or a mechanistic EASI array (n, visits) with ``weeks``.
    """
    if isinstance(course, Course):
        mech, w = course.easi, course.weeks
    else:
        if weeks is None:
            raise InvalidInput("latent_easi", "weeks", None, "the visit weeks of the EASI array")
        mech, w = np.asarray(course, dtype=float), np.asarray(weeks, dtype=float)
    u = fluctuation(mech.shape[0], w, variability, rng)
    sd = variability.fluctuation_sd
    return np.minimum(mech * np.exp(u - 0.5 * sd * sd), EASI_MAX)


def rated_easi(
    latent: np.ndarray, variability: Variability, rng: np.random.Generator | int
) -> np.ndarray:
    """One rater's EASI of each latent value (same shape), log-normal error set by the ICC, <= 72."""
    gen = _generator(rng)
    sr = variability.rater_sd
    r = gen.standard_normal(np.shape(latent))
    return np.minimum(np.asarray(latent) * np.exp(sr * r - 0.5 * sr * sr), EASI_MAX)
