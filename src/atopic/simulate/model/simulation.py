"""Virtual patients through the model: the untreated steady state (baseline), then a treatment phase.

Baseline (Miyano et al., Allergy 2021, and the authors' code): every patient starts at the
published values (``equations.START``) and runs without treatment and without background care
(k3eff = 0) for up to 1000 weeks. A patient stops early once the relative rate of change of
every state is below ``tol`` per week (a fixed point of the scheme; ``solver``): later weeks
would not change it beyond that. ``Baseline.residual`` is the final max_j |dy_j/dt| / y_j (per
week) and ``settled`` says whether it is at most ``tol``; unsettled patients are reported, never
dropped. Patients whose states are not finite with ``dt`` are recomputed once with step
``dt / 10``.

Treatment phase: from the baseline states at week 0, background care on (k3eff = care x k3) in
every arm, the drug's effects e1..e9 from week 0 and, optionally, a cell-therapy regimen whose
exposure modulates parameters (``cell_therapy``). Output: states at the requested weeks.

Arrays: parameters ``(n, 51)`` (``Population.sample``), states ``(n, 14)`` per patient and
``(n, visits, 14)`` over visits. Patients are processed in chunks of ``chunk`` so memory stays
bounded; results do not depend on the chunk size (patients never interact).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from atopic.errors import InvalidInput
from atopic.simulate.model import cell_therapy as ct
from atopic.simulate.model.equations import START, STATES, derivative, easi, effective
from atopic.simulate.model.parameters import NAMES
from atopic.simulate.model.solver import integrate
from atopic.simulate.model.therapies import NONE, Effects

CHUNK = 10_000
"""Default patients per chunk: (14 x 10,000) float arrays, a few tens of MB in all."""


@dataclass(frozen=True)
class Treatment:
    """What an arm receives on top of background care: a drug's effects and/or cell therapy."""

    effects: Effects = NONE
    cell: ct.CellRegimen | None = None
    mechanism: ct.CellMechanism = field(default_factory=ct.CellMechanism)
    label: str = ""


PLACEBO = Treatment(label="placebo")
"""Background care only."""


@dataclass(frozen=True)
class Baseline:
    """Steady states of ``n`` patients: ``states`` (n, 14), ``residual`` (n,) per week,
    ``settled`` (n,) bool, ``weeks`` (n,) weeks run before settling (at most ``max_weeks``)."""

    states: np.ndarray
    residual: np.ndarray
    settled: np.ndarray
    weeks: np.ndarray
    max_weeks: float
    tol: float

    @property
    def easi(self) -> np.ndarray:
        """Baseline mechanistic EASI (n,)."""
        return easi(self.states[:, 0], self.states[:, 1])

    @property
    def unsettled(self) -> np.ndarray:
        """Indices of patients that did not settle within ``max_weeks``."""
        return np.flatnonzero(~self.settled)

    def __repr__(self) -> str:
        return (
            f"<Baseline {self.states.shape[0]} patients, {int(self.settled.sum())} settled "
            f"(residual <= {self.tol:g}/week), max residual {np.nanmax(self.residual, initial=0):.2g}>"
        )


@dataclass(frozen=True)
class Course:
    """States of ``n`` patients at ``weeks`` of the treatment phase: ``states`` (n, visits, 14)."""

    weeks: np.ndarray
    states: np.ndarray
    effects: np.ndarray
    treatment: Treatment
    exposure: np.ndarray | None = None
    baseline: Baseline | None = None

    def state(self, name: str) -> np.ndarray:
        """One state (``equations.STATES``) over visits, (n, visits)."""
        if name not in STATES:
            raise InvalidInput("course", "state", name, "one of " + ", ".join(STATES))
        return self.states[:, :, STATES.index(name)]

    @property
    def easi(self) -> np.ndarray:
        """Mechanistic EASI 36 p + 36 (1 - s) over visits, (n, visits)."""
        return easi(self.states[:, :, 0], self.states[:, :, 1])

    def __repr__(self) -> str:
        return (
            f"<Course {self.states.shape[0]} patients x {self.weeks.size} visits "
            f"(weeks {', '.join(f'{w:g}' for w in self.weeks)}) {self.treatment.label or ''}>"
        )


def _params(params: np.ndarray) -> np.ndarray:
    arr = np.asarray(params, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != len(NAMES):
        raise InvalidInput("simulate", "params", f"shape {arr.shape}", f"shape (n, {len(NAMES)})")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise InvalidInput(
            "simulate", "params", "non-positive or non-finite values", "positive parameters"
        )
    return arr


def _chunk(chunk: int) -> int:
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise InvalidInput("simulate", "chunk", chunk, "a whole number >= 1")
    return chunk


_NO_DRUG = NONE.vector()


def residual(states: np.ndarray, params: np.ndarray, care: float = 0.0) -> np.ndarray:
    """max_j |dy_j/dt| / max(|y_j|, 1e-9) per patient (per week), untreated; states (n, 14)."""
    y = np.ascontiguousarray(np.asarray(states, dtype=float).T)
    k = np.ascontiguousarray(_params(params).T)
    with np.errstate(all="ignore"):
        d = derivative(y, k, _NO_DRUG, care)
        r = np.max(np.abs(d) / np.maximum(np.abs(y), 1e-9), axis=0)
    return np.where(np.all(np.isfinite(y), axis=0), r, np.inf)


def steady_state(
    params: np.ndarray,
    *,
    weeks: float = 1000.0,
    dt: float = 0.5,
    tol: float = 1e-9,
    check_every: float = 25.0,
    chunk: int = CHUNK,
    method: str = "etdrk4",
) -> Baseline:
    """Untreated steady state of each patient from the published start values (module docstring).

    ``params`` (n, 51); ``weeks``: longest run (1000 as in the paper); ``dt``: step in weeks (the
    steady state does not depend on it; 0.5 is checked against 0.1 and solve_ivp in the tests);
    ``tol``: settling threshold on the relative rate of change per week, checked every
    ``check_every`` weeks.
    """
    k_all = _params(params)
    _chunk(chunk)
    n = k_all.shape[0]
    states = np.empty((n, 14))
    ran = np.zeros(n)
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        y, ran[lo:hi] = _settle(k_all[lo:hi], weeks, dt, tol, check_every, method)
        bad = ~np.all(np.isfinite(y), axis=1)
        if bad.any() and dt > 1e-3:
            y[bad], ran[lo:hi][bad] = _settle(
                k_all[lo:hi][bad], weeks, dt / 10, tol, check_every, method
            )
        states[lo:hi] = y
    res = residual(states, k_all)
    return Baseline(states, res, res <= tol, ran, float(weeks), float(tol))


def _settle(
    k_rows: np.ndarray,
    weeks: float,
    dt: float,
    tol: float,
    every: float,
    method: str,
) -> tuple[np.ndarray, np.ndarray]:
    """States (m, 14) after settling or ``weeks``, and the weeks each patient ran."""
    m = k_rows.shape[0]
    ran = np.zeros(m)
    k = np.ascontiguousarray(k_rows.T)
    y = np.repeat(START[:, None], m, axis=1)
    active = np.arange(m)
    elapsed = 0.0
    with np.errstate(all="ignore"):
        while elapsed < weeks and active.size:
            span = min(every, weeks - elapsed)
            ka = k[:, active]
            ya = integrate(y[:, active], ka, _NO_DRUG, [0.0, span], dt=dt, care=0.0, method=method)[
                -1
            ]
            y[:, active] = ya
            elapsed += span
            ran[active] = elapsed
            d = derivative(ya, ka, _NO_DRUG, 0.0)
            ra = np.max(np.abs(d) / np.maximum(np.abs(ya), 1e-9), axis=0)
            ra[~np.all(np.isfinite(ya), axis=0)] = np.inf
            keep = (ra > tol) & np.isfinite(ra)
            active = active[keep]
    return y.T.copy(), ran


def treat(
    params: np.ndarray,
    baseline: Baseline | np.ndarray,
    weeks: Sequence[float],
    treatment: Treatment = PLACEBO,
    *,
    care: float = 1.0,
    dt: float = 0.1,
    chunk: int = CHUNK,
    method: str = "etdrk4",
) -> Course:
    """The treatment phase from the baseline states: states at ``weeks`` (>= 0, week 0 = start).

    ``care``: background-care multiplier of k3 (1 = the paper's; smaller for a monotherapy
    placebo); ``dt``: step in weeks (0.1, the authors' output grid).
    """
    k_all = _params(params)
    _chunk(chunk)
    y0 = baseline.states if isinstance(baseline, Baseline) else np.asarray(baseline, dtype=float)
    n = k_all.shape[0]
    if y0.shape != (n, 14):
        raise InvalidInput("simulate", "baseline", f"shape {y0.shape}", f"shape ({n}, 14)")
    w = np.asarray(weeks, dtype=float)
    if (
        w.ndim != 1
        or w.size == 0
        or np.any(~np.isfinite(w))
        or np.any(w < 0)
        or np.any(np.diff(w) <= 0)
    ):
        raise InvalidInput(
            "simulate", "weeks", list(np.atleast_1d(w)), "increasing visit weeks >= 0"
        )
    if not (isinstance(care, int | float) and math.isfinite(care) and care >= 0):
        raise InvalidInput("simulate", "care", care, "a k3 multiplier >= 0")
    times = np.concatenate([[0.0], w]) if w[0] > 0 else w
    first = 1 if w[0] > 0 else 0
    e = treatment.effects.vector()
    cell = treatment.cell
    dose = cell.million_cells() if cell is not None else None
    if dose is not None and dose.size not in (1, n):
        raise InvalidInput(
            "simulate", "cell.dose", f"{dose.size} doses", f"1 or {n} (one per patient)"
        )
    states = np.empty((n, w.size, 14))
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        mods = None
        breaks: Sequence[float] = ()
        if cell is not None and dose is not None:
            part = dose if dose.size == 1 else dose[lo:hi]
            regimen = ct.CellRegimen(part, "10^6 cells", cell.route_code, cell.weeks)
            mods = ct.modifiers(regimen, treatment.mechanism)
            breaks = cell.weeks
        k = np.ascontiguousarray(k_all[lo:hi].T)
        y = np.ascontiguousarray(y0[lo:hi].T)
        out = integrate(
            y, k, e, times, dt=dt, care=care, modifiers=mods, breaks=breaks, method=method
        )
        states[lo:hi] = out[first:].transpose(2, 0, 1)
    exposure = None
    if cell is not None and dose is not None:
        exposure = ct.exposure(cell, treatment.mechanism, w)
        exposure = np.broadcast_to(exposure, (n, w.size)).copy()
    return Course(
        w, states, e, treatment, exposure, baseline if isinstance(baseline, Baseline) else None
    )


def simulate(
    params: np.ndarray,
    weeks: Sequence[float],
    treatment: Treatment = PLACEBO,
    *,
    care: float = 1.0,
    dt: float = 0.1,
    baseline_dt: float = 0.5,
    chunk: int = CHUNK,
) -> Course:
    """Steady state, then the treatment phase (``steady_state`` + ``treat``); ``Course.baseline`` set."""
    base = steady_state(params, dt=baseline_dt, chunk=chunk)
    return treat(params, base, weeks, treatment, care=care, dt=dt, chunk=chunk)


def biomarkers(course: Course) -> dict[str, np.ndarray]:
    """Exploratory biomarkers per visit from the states, each (n, visits).

    ``ifng_il4_ratio``: IFN-g / IL-4 (levels, not blockade-adjusted); ``th2_activity``: effective
    IL-4 + IL-13 (the type-2 signal after any blockade, model units; drives IgE in the
    observation model); ``tslp``: TSLP level; ``barrier``: barrier integrity s (0-1). A visit at
    week 0 is the pre-dose baseline: no blockade there.
    """
    y = np.moveaxis(course.states, 2, 0)
    on = (course.weeks > 0)[None, None, :]
    e = np.where(on, course.effects.reshape(9, 1, 1), _NO_DRUG.reshape(9, 1, 1))
    il4e, il13e, *_ = effective(y, e)
    return {
        "ifng_il4_ratio": course.state("ifng") / course.state("il4"),
        "th2_activity": il4e + il13e,
        "tslp": course.state("tslp").copy(),
        "barrier": course.state("s").copy(),
    }
