"""A per-patient scipy reference for the vectorised solver (tests and benchmark share it)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from scipy.integrate import solve_ivp

from atopic.simulate.model import cell_therapy as ct
from atopic.simulate.model.equations import START, derivative
from atopic.simulate.model.simulation import Treatment
from atopic.simulate.model.therapies import NONE


def reference_course(
    params: np.ndarray,
    weeks: Sequence[float],
    treatment: Treatment,
    *,
    care: float = 1.0,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    method: str = "LSODA",
    baseline_weeks: float = 1000.0,
) -> tuple[np.ndarray, np.ndarray]:
    """One patient (params (51,)) with ``solve_ivp``: baseline states (14,), states at weeks (v, 14).

    Baseline: 1000 weeks untreated from the published start (no early stop); then the treatment
    phase integrated piecewise between dose times (the IV bolus makes exposure jump there).
    """
    k = np.asarray(params, dtype=float)[:, None]
    e0 = NONE.vector()

    def untreated(_t: float, y: np.ndarray) -> np.ndarray:
        return derivative(y[:, None], k, e0, 0.0)[:, 0]

    base = solve_ivp(untreated, (0.0, baseline_weeks), START, method=method, rtol=rtol, atol=atol)
    y0 = base.y[:, -1]
    e = treatment.effects.vector()
    mods = None
    if treatment.cell is not None:
        mods = ct.modifiers(treatment.cell, treatment.mechanism)

    def treated(t: float, y: np.ndarray, right: float) -> np.ndarray:
        mod = mods(t, t >= right) if mods is not None else None
        return derivative(y[:, None], k, e, care, mod)[:, 0]

    w = np.asarray(weeks, dtype=float)
    doses = treatment.cell.weeks if treatment.cell is not None else ()
    cuts = sorted({0.0, float(w[-1]), *(d for d in doses if d < w[-1])})
    out = np.empty((w.size, 14))
    y = y0
    for left, right in itertools.pairwise(cuts):
        t_eval = np.union1d(w[(w >= left) & (w <= right)], [right])
        sol = solve_ivp(
            treated,
            (left, right),
            y,
            method=method,
            rtol=rtol,
            atol=atol,
            t_eval=t_eval,
            args=(right,),
        )
        for t, col in zip(sol.t, sol.y.T, strict=True):
            out[w == t] = col
        y = sol.y[:, -1]
    return y0, out
