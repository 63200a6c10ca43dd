"""MSC cell therapy: dose and exposure arithmetic, Emax effects, dose dependence, zero dose = placebo."""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from atopic.errors import InvalidInput
from atopic.simulate.model import (
    PLACEBO,
    Baseline,
    CellMechanism,
    CellRegimen,
    Treatment,
    exposure,
    treat,
)
from atopic.simulate.model.cell_therapy import emax, multipliers
from atopic.simulate.model.parameters import INDEX

MECH = CellMechanism()


def test_iv_bolus_decays_with_the_half_life() -> None:
    reg = CellRegimen(50e6, "cells", "IV", (0,))
    a = exposure(reg, MECH, np.array([0.0, 2.0, 4.0]))
    assert a[0] == pytest.approx([50.0, 25.0, 12.5], rel=1e-12)  # half-life 2 weeks, 10^6 cells


def test_sc_exposure_has_the_bateman_peak_time_and_area() -> None:
    # t_max = ln(ka/ke)/(ka - ke); AUC(0, inf) = F D / ke (one compartment, first-order input).
    reg = CellRegimen(50e6, "cells", "SC", (0,))
    ka, ke = MECH.ka, MECH.ke
    tmax = math.log(ka / ke) / (ka - ke)
    t = np.linspace(0, 200, 400_001)
    a = exposure(reg, MECH, t)[0]
    assert t[np.argmax(a)] == pytest.approx(tmax, abs=1e-3)
    auc = float(np.sum((a[1:] + a[:-1]) / 2 * np.diff(t)))
    assert auc == pytest.approx(MECH.sc_fraction * 50.0 / ke, rel=1e-6)
    assert a[0] == 0.0


def test_sc_with_equal_rates_uses_the_limit_formula() -> None:
    mech = CellMechanism(half_life_weeks=math.log(2.0), ka=1.0)  # ke = ka = 1
    a = exposure(CellRegimen(10.0, "10^6 cells", "SC"), mech, np.array([1.0, 2.0]))[0]
    assert a == pytest.approx([10 * 1 * math.exp(-1), 10 * 2 * math.exp(-2)], rel=1e-12)


def test_repeated_doses_superpose() -> None:
    one = CellRegimen(5e5, "cells/kg", "IV", (0,), body_weight_kg=70)
    three = CellRegimen(5e5, "cells/kg", "IV", (0, 1, 2), body_weight_kg=70)
    t = np.linspace(0, 12, 121)
    expect = sum(exposure(one, MECH, t - s) * (t >= s) for s in (0, 1, 2))
    assert np.allclose(exposure(three, MECH, t), expect, rtol=1e-12)


def test_dose_per_kg_times_body_weight_per_patient() -> None:
    reg = CellRegimen(5e5, "cells/kg", "IV", (0,), body_weight_kg=np.array([50.0, 100.0]))
    assert reg.million_cells() == pytest.approx([25.0, 50.0])
    assert CellRegimen(50, "10^6 cells").million_cells() == pytest.approx([50.0])


def test_iv_bolus_from_the_left_is_not_yet_given() -> None:
    reg = CellRegimen(10e6, "cells", "IV", (1.0,))
    assert exposure(reg, MECH, 1.0, left=True)[0] == 0.0
    assert exposure(reg, MECH, 1.0)[0] == pytest.approx(10.0)


def test_emax_is_zero_at_zero_exposure_and_half_at_ec50() -> None:
    assert emax(np.array([0.0]), 0.6, 20.0, 1.5)[0] == 0.0
    assert emax(np.array([20.0]), 0.6, 20.0, 1.5)[0] == pytest.approx(0.3)
    m = multipliers(np.array([0.0]), MECH)
    assert all(float(v[0]) == 1.0 for v in m.values())
    m = multipliers(np.array([1e12]), MECH)
    assert float(m[INDEX["k6"]][0]) == pytest.approx(1 - MECH.tcell_emax)
    assert float(m[INDEX["k5"]][0]) == pytest.approx(1 - MECH.th1_weight * MECH.tcell_emax)
    assert float(m[INDEX["k1"]][0]) == pytest.approx(1 + MECH.barrier_emax)


def test_zero_dose_is_placebo_exactly(patients: np.ndarray, baseline: Baseline) -> None:
    zero = treat(
        patients, baseline, [1, 4, 12], Treatment(cell=CellRegimen(0.0, "cells", "SC", (0, 4)))
    )
    pbo = treat(patients, baseline, [1, 4, 12], PLACEBO)
    assert np.array_equal(zero.states, pbo.states)


@pytest.mark.parametrize("route", ["SC", "IV"])
def test_higher_dose_gives_larger_mean_easi_improvement(
    patients: np.ndarray, baseline: Baseline, route: str
) -> None:
    # Every mechanism moves the equations toward less disease and every Emax rises with exposure,
    # which rises with dose: the mean improvement at weeks 4 and 12 must increase with dose.
    means = []
    for dose in (0.0, 25e6, 50e6, 100e6):
        c = treat(
            patients, baseline, [4, 12], Treatment(cell=CellRegimen(dose, "cells", route, (0,)))
        )
        means.append(np.mean(1 - c.easi / baseline.easi[:, None], axis=0))
    means = np.array(means)
    assert np.all(np.diff(means, axis=0) > 0)


def test_per_patient_doses(patients: np.ndarray, baseline: Baseline) -> None:
    doses = np.where(np.arange(400) % 2 == 0, 0.0, 50e6)
    mixed = treat(patients, baseline, [12], Treatment(cell=CellRegimen(doses, "cells", "SC")))
    pbo = treat(patients, baseline, [12], PLACEBO)
    high = treat(patients, baseline, [12], Treatment(cell=CellRegimen(50e6, "cells", "SC")))
    assert np.array_equal(mixed.states[::2], pbo.states[::2])
    assert np.allclose(mixed.states[1::2], high.states[1::2], rtol=1e-12, atol=0)
    assert mixed.exposure is not None
    assert np.all(mixed.exposure[::2] == 0)


def test_mechanism_loads_from_toml_and_keeps_unlisted_defaults(tmp_path: Path) -> None:
    path = tmp_path / "msc.toml"
    path.write_text("[cell_therapy]\nhalf_life_weeks = 4.0\ntcell_ec50 = 35.5\n")
    mech = CellMechanism.load(path)
    assert mech.half_life_weeks == 4.0
    assert mech.tcell_ec50 == 35.5
    assert mech.barrier_emax == CellMechanism().barrier_emax
    again = tmp_path / "again.toml"
    again.write_text(mech.to_toml())
    assert CellMechanism.load(again) == mech


@pytest.mark.parametrize("name", [f.name for f in fields(CellMechanism)])
def test_every_mechanism_parameter_refuses_a_bad_value_by_name(name: str) -> None:
    with pytest.raises(InvalidInput) as error:
        CellMechanism().replace(**{name: -1.0})
    assert error.value.field == name


def test_unknown_mechanism_parameter_is_refused() -> None:
    with pytest.raises(InvalidInput, match="half_life_weeks"):
        CellMechanism.from_dict({"halflife": 2})


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"dose": -1.0}, "dose"),
        ({"dose": 1.0, "unit": "mg"}, "unit"),
        ({"dose": 1.0, "route": "oral"}, "route"),
        ({"dose": 1.0, "weeks": (-1.0,)}, "weeks"),
        ({"dose": 1.0, "unit": "cells/kg"}, "body_weight_kg"),
    ],
)
def test_bad_regimens_are_refused_by_name(kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        CellRegimen(**kwargs)
    assert error.value.field == field
