"""atopic.simulate.observe: the observation model of QSP virtual patients only produces valid
items and labs, its EASI <-> severity map is monotone and centred, screening enrols eligible
patients only, and arms map to the right model treatments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from atopic.errors import InvalidInput
from atopic.instruments import INSTRUMENTS, score_table
from atopic.simulate.model import CellMechanism, Variability, population
from atopic.simulate.observe import (
    GRID,
    LAB_CODES,
    Inclusion,
    arm_treatment,
    expected_easi,
    screen,
    severity_of,
    target_weeks,
)
from atopic.simulate.qsp import generate
from atopic.tables.collected import COLLECTED, LAB_TESTS, LAB_UNITS
from atopic.tables.validate import validate_table
from atopic.tables.wide import qs_to_wide
from atopic.trial.design import load_design

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "trial"
DOSE_RANGING = load_design(EXAMPLES / "dose_ranging.toml")


def test_expected_easi_is_monotone_from_zero() -> None:
    g = expected_easi()
    assert g[0] == 0.0
    assert np.all(np.diff(g) >= 0)
    assert 40 < g[-1] <= 72


def test_severity_of_inverts_the_expected_easi() -> None:
    g = expected_easi()
    mid = GRID[20:181:20]
    assert np.allclose(severity_of(np.interp(mid, GRID, g)), mid, atol=1e-9)
    assert severity_of(np.array([0.0]))[0] == 0.0
    assert severity_of(np.array([72.0]))[0] == 1.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_screening_enrols_only_eligible_patients(seed: int) -> None:
    scr = screen(
        population("miyano2021"),
        40,
        target_weeks(DOSE_RANGING),
        np.random.default_rng(seed),
        inclusion=Inclusion(),
        admissible=np.array([False, False, False, True, True]),
        variability=Variability(),
    )
    assert scr.params.shape == (40, 51)
    assert np.all(scr.easi0 >= 16)
    assert set(np.unique(scr.iga0)) <= {3, 4}
    assert scr.screened >= 40
    assert np.all(scr.baseline.settled)


def test_screening_refuses_grades_no_stratum_holds() -> None:
    with pytest.raises(InvalidInput, match=r"inclusion\.iga"):
        screen(
            population("miyano2021"),
            5,
            target_weeks(DOSE_RANGING),
            np.random.default_rng(1),
            inclusion=Inclusion(iga=(2,)),
            admissible=np.array([False, False, False, True, True]),
            variability=Variability(),
        )


def test_arms_map_to_treatments() -> None:
    mech = CellMechanism()
    placebo, d12 = DOSE_RANGING.arms[0], DOSE_RANGING.arms[1]
    assert arm_treatment(placebo, mech).cell is None
    cell = arm_treatment(d12, mech).cell
    assert cell is not None
    assert cell.route_code == "SC"
    assert cell.weeks == (0.0,)
    assert float(cell.million_cells()[0]) == pytest.approx(12.5)


@pytest.fixture(scope="module", params=[11, 12, 13])
def tables(request: pytest.FixtureRequest) -> dict[str, pl.DataFrame]:
    return generate(DOSE_RANGING, 60, request.param, chunk=25)


def test_every_table_is_valid(tables: dict[str, pl.DataFrame]) -> None:
    for name, frame in tables.items():
        assert frame.height > 0, name
        assert validate_table(frame, COLLECTED[name]) == [], name


@pytest.mark.parametrize("key", ["easi", "scorad", "viga-ad", "poem", "pp-nrs", "sleep-nrs"])
def test_every_assessment_scores_without_a_reject(
    tables: dict[str, pl.DataFrame], key: str
) -> None:
    instrument = INSTRUMENTS[key]
    qs = tables["QS"].filter(pl.col("QSCAT") == instrument.qscat)
    wide = qs_to_wide(qs, instrument, tables["DM"].select("USUBJID", "AGE"))
    scored = score_table(instrument, wide.wide)
    assert wide.rejects.height == 0
    assert scored.rejects.height == 0
    visits = tables["QS"].select("USUBJID", "VISITNUM").unique().height
    assert scored.scored.height == visits


def test_labs_hold_every_biomarker_in_its_unit(tables: dict[str, pl.DataFrame]) -> None:
    lb = tables["LB"]
    assert set(lb["LBTESTCD"]) == set(LAB_CODES)
    assert set(LAB_CODES) <= set(LAB_TESTS)
    assert all(len(c) <= 8 for c in LAB_CODES)
    units = dict(lb.select("LBTESTCD", "LBSTRESU").unique().iter_rows())
    assert units["IGE"] == LAB_UNITS["IGE"]
    assert units["EOS"] == LAB_UNITS["EOS"]
    assert lb["LBSTRESN"].min() >= 0
    barrier = lb.filter(pl.col("LBTESTCD") == "BARRIER")["LBSTRESN"]
    assert barrier.max() <= 100
