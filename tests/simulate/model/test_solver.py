"""The vectorised ETDRK4 solver against scipy's solve_ivp, and its building blocks.

Tolerances (declared once): EASI_TOL_DT01 is the largest |EASI difference| allowed at the default
0.1-week step against solve_ivp (LSODA, rtol 1e-10, atol 1e-12) over 16 weeks of treatment; the
measured maximum on the 12 patients below is about 0.03 EASI points (ETDRK4 loses order in the
stiff transient at the start of the treatment phase: error about 0.003 at 0.025 week), far below
EASI's 0.1-point recording resolution. BASELINE_TOL: baseline EASI against 1000 weeks of solve_ivp
(early stop at a relative rate 1e-9 per week).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from atopic.simulate.model import (
    START,
    CellRegimen,
    Treatment,
    biologic,
    derivative,
    easi,
    miyano2021,
    steady_state,
    treat,
)
from atopic.simulate.model.solver import integrate, phi123
from atopic.simulate.model.therapies import NONE
from tests.simulate.model.reference import reference_course

EASI_TOL_DT01 = 0.05
BASELINE_TOL = 1e-5
WEEKS = [0, 1, 2, 4, 8, 12, 16]


def _phi_reference(z: float) -> tuple[float, float, float]:
    """phi1..3 by a long exactly summed series (small z) or the closed form (large z)."""
    if abs(z) < 2:
        terms = [[z**j / math.factorial(j + m) for j in range(60)] for m in (1, 2, 3)]
        return tuple(math.fsum(t) for t in terms)  # type: ignore[return-value]
    p1 = math.expm1(z) / z
    return p1, (p1 - 1) / z, ((p1 - 1) / z - 0.5) / z


@pytest.mark.parametrize("z", [-1e-12, -1e-6, -0.01, -0.2499, -0.25, -0.3, -1.0, -5.0, -40.0, -1e4])
def test_phi_functions_are_accurate_on_both_sides_of_the_series_switch(z: float) -> None:
    got = phi123(np.array([z]))
    for g, r in zip(got, _phi_reference(z), strict=True):
        assert float(g[0]) == pytest.approx(r, rel=1e-13, abs=1e-300)


def test_with_zero_loss_rates_etdrk4_is_classical_rk4() -> None:
    # method="rk4" freezes no rate; at a small step both are 4th order and agree closely.
    k = np.ascontiguousarray(miyano2021().median().T)
    y0 = START[:, None]
    a = integrate(y0, k, NONE.vector(), [0, 2], dt=0.001, care=0.0, method="rk4")[-1]
    b = integrate(y0, k, NONE.vector(), [0, 2], dt=0.001, care=0.0)[-1]
    assert np.max(np.abs(a - b) / np.abs(b)) < 1e-8


def test_classical_rk4_at_the_authors_step_blows_up_for_the_median_patient() -> None:
    # Why the default is ETDRK4 (solver docstring): h d10 = 0.1 exp(5.908) = 37 > 2.79.
    k = np.ascontiguousarray(miyano2021().median().T)
    with np.errstate(all="ignore"):
        y = integrate(START[:, None], k, NONE.vector(), [0, 5], dt=0.1, care=0.0, method="rk4")[-1]
    assert not np.all(np.isfinite(y)) or np.max(np.abs(y)) > 1e6


def test_steady_state_is_a_fixed_point_for_any_step(patients: np.ndarray) -> None:
    a = steady_state(patients[:50], dt=1.0, tol=1e-12)
    b = steady_state(patients[:50], dt=0.1, tol=1e-12)
    assert np.max(np.abs(a.easi - b.easi)) < 1e-8


@pytest.mark.parametrize(
    "treatment",
    [
        Treatment(label="placebo"),
        Treatment(biologic("dupilumab"), label="dupilumab"),
        Treatment(biologic("recombinant IFN-g"), label="rIFN-g"),
        Treatment(cell=CellRegimen(5e7, "cells", "SC", (0,)), label="MSC SC"),
        Treatment(
            cell=CellRegimen(5e5, "cells/kg", "IV", (0, 1, 2), body_weight_kg=70), label="MSC IV"
        ),
    ],
    ids=lambda t: t.label,
)
def test_vectorised_easi_agrees_with_solve_ivp(patients: np.ndarray, treatment: Treatment) -> None:
    subset = patients[:12]
    base = steady_state(subset)
    course = treat(subset, base, WEEKS, treatment)
    for i in range(subset.shape[0]):
        y0, ref = reference_course(subset[i], WEEKS, treatment)
        assert abs(float(easi(y0[0], y0[1])) - float(base.easi[i])) < BASELINE_TOL
        diff = np.abs(easi(ref[:, 0], ref[:, 1]) - course.easi[i])
        assert diff.max() < EASI_TOL_DT01, (i, diff)


def test_error_shrinks_with_the_step(patients: np.ndarray) -> None:
    subset = patients[:6]
    base = steady_state(subset)
    tr = Treatment(biologic("dupilumab"))
    ref = np.array([easi(*reference_course(p, WEEKS, tr)[1][:, :2].T) for p in subset])
    err = [np.max(np.abs(treat(subset, base, WEEKS, tr, dt=dt).easi - ref)) for dt in (0.2, 0.05)]
    assert err[1] < err[0] / 4


def test_derivative_of_one_patient_equals_its_column_in_a_batch(patients: np.ndarray) -> None:
    k = np.ascontiguousarray(patients[:7].T)
    y = np.repeat(START[:, None], 7, axis=1) * np.linspace(0.5, 1.5, 7)
    batch = derivative(y, k, NONE.vector(), 1.0)
    for i in range(7):
        assert np.array_equal(
            derivative(y[:, i : i + 1], k[:, i : i + 1], NONE.vector(), 1.0)[:, 0], batch[:, i]
        )
