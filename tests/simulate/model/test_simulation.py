"""Baseline (steady state) and treatment phase: residuals, reproducibility, chunking, inputs."""

from __future__ import annotations

import numpy as np
import pytest

from atopic.errors import InvalidInput
from atopic.simulate.model import (
    PLACEBO,
    Baseline,
    Treatment,
    biologic,
    biomarkers,
    residual,
    simulate,
    steady_state,
    treat,
)


def test_every_patient_settles_with_near_zero_residual(baseline: Baseline) -> None:
    # Residual: max_j |dy_j/dt| / y_j per week at the baseline, untreated.
    assert baseline.settled.all()
    assert baseline.unsettled.size == 0
    assert np.max(baseline.residual) <= 1e-9
    assert np.all(baseline.weeks <= 1000)


def test_running_the_full_1000_weeks_changes_the_baseline_negligibly(patients: np.ndarray) -> None:
    early = steady_state(patients[:100])
    full = steady_state(patients[:100], tol=0.0)  # never stops early
    assert np.all(full.weeks == 1000)
    assert np.max(full.residual) < 1e-11
    assert np.max(np.abs(early.easi - full.easi)) < 1e-6


def test_a_patient_that_cannot_settle_in_time_is_reported_not_dropped(patients: np.ndarray) -> None:
    short = steady_state(patients[:20], weeks=2.0)
    assert short.states.shape == (20, 14)
    assert short.unsettled.size > 0
    assert np.all(short.residual[short.unsettled] > short.tol)


def test_results_do_not_depend_on_the_chunk_size(patients: np.ndarray, baseline: Baseline) -> None:
    small = steady_state(patients[:30], chunk=7)
    assert np.array_equal(small.states, baseline.states[:30])
    tr = Treatment(biologic("dupilumab"))
    a = treat(patients[:30], small, [4, 16], tr, chunk=7)
    b = treat(patients[:30], baseline.states[:30], [4, 16], tr)
    assert np.array_equal(a.states, b.states)


def test_week_zero_of_the_treatment_phase_is_the_baseline(
    patients: np.ndarray, baseline: Baseline
) -> None:
    c = treat(patients, baseline, [0, 2], PLACEBO)
    assert np.array_equal(c.states[:, 0], baseline.states)
    assert c.easi.shape == (400, 2)


def test_simulate_is_steady_state_then_treat(patients: np.ndarray, baseline: Baseline) -> None:
    c = simulate(patients[:20], [12], Treatment(biologic("nemolizumab")))
    d = treat(patients[:20], baseline.states[:20], [12], Treatment(biologic("nemolizumab")))
    assert c.baseline is not None
    assert np.array_equal(c.states, d.states)


def test_background_care_is_what_moves_placebo(patients: np.ndarray, baseline: Baseline) -> None:
    # Without care (k3eff = 0) and without drug the baseline is a steady state: nothing moves.
    off = treat(patients, baseline, [16], PLACEBO, care=0.0)
    assert np.max(np.abs(off.easi[:, 0] - baseline.easi)) < 1e-6
    on = treat(patients, baseline, [16], PLACEBO)
    assert np.all(on.easi[:, 0] < baseline.easi)  # k3 > 0 only speeds barrier recovery


def test_residual_is_large_away_from_the_steady_state(
    patients: np.ndarray, baseline: Baseline
) -> None:
    assert np.all(residual(baseline.states * 1.1, patients) > 1e-3)


def test_biomarkers_are_per_visit_arrays(patients: np.ndarray, baseline: Baseline) -> None:
    dup = treat(patients, baseline, [0, 16], Treatment(biologic("dupilumab")))
    b = biomarkers(dup)
    assert set(b) == {"ifng_il4_ratio", "th2_activity", "tslp", "barrier"}
    assert all(v.shape == (400, 2) for v in b.values())
    assert np.array_equal(b["barrier"], dup.state("s"))
    # IL-4/IL-13 blockade removes ~99 % of the effective type-2 signal at once.
    assert np.all(b["th2_activity"][:, 1] < 0.05 * b["th2_activity"][:, 0])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"weeks": [4, 2]}, "weeks"),
        ({"weeks": [-1, 2]}, "weeks"),
        ({"care": -1.0}, "care"),
        ({"chunk": 0}, "chunk"),
    ],
)
def test_bad_inputs_are_refused_by_name(
    patients: np.ndarray, baseline: Baseline, kwargs: dict, field: str
) -> None:
    args = {"weeks": [4], **kwargs}
    weeks = args.pop("weeks")
    with pytest.raises(InvalidInput) as error:
        treat(patients, baseline, weeks, PLACEBO, **args)
    assert error.value.field == field


def test_parameters_must_be_an_n_by_51_positive_matrix() -> None:
    with pytest.raises(InvalidInput, match="shape"):
        steady_state(np.ones((3, 50)))
    with pytest.raises(InvalidInput, match="positive"):
        steady_state(-np.ones((3, 51)))
