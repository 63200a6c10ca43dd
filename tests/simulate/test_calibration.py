"""atopic.simulate.calibration and ``atopic simulate calibrate``: the table holds every target with
a Monte Carlo interval, the objective is a deterministic function of the parameters on a fixed
pool (common random numbers), fitting lowers it, and the fitted model is saved and loads back."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from atopic.cli import main
from atopic.simulate import calibration as cal
from atopic.simulate.model import population
from atopic.simulate.qsp import load_model
from atopic.simulate.targets import REGIMENS, TARGETS


@pytest.fixture(scope="module")
def pool() -> cal.Pool:
    return cal.virtual_pool(load_model(), 40, 3)


def test_targets_name_known_regimens_and_weeks() -> None:
    assert len({t.id for t in TARGETS}) == len(TARGETS)
    for t in TARGETS:
        assert t.regimen in REGIMENS
        assert float(t.week) in (4.0, 12.0, 16.0)


def test_the_table_holds_every_target_with_an_interval(pool: cal.Pool) -> None:
    table = cal.calibration_table(pool, load_model())
    assert table["target"].to_list() == [t.id for t in TARGETS]
    for row in table.iter_rows(named=True):
        assert math.isfinite(row["simulated"]), row["target"]
        assert row["mc_low"] <= row["simulated"] + 0.051, row["target"]
        assert row["simulated"] <= row["mc_high"] + 0.051, row["target"]


def test_a_zero_dose_regimen_is_placebo(pool: cal.Pool) -> None:
    model = load_model()
    arms = cal.run_regimens(pool, model, ["placebo"])
    zero = cal.treatment_of(REGIMENS["placebo"], model.mechanism)
    assert zero.cell is None
    again = cal.run_regimens(pool, model, ["placebo"])
    assert np.array_equal(arms["placebo"].rated, again["placebo"].rated)


def test_the_objective_is_deterministic_and_fitting_lowers_it(pool: cal.Pool) -> None:
    model = load_model()
    first = cal.objective(pool, model)
    assert cal.objective(pool, model) == first
    result = cal.fit(pool, model, max_evaluations=25)
    assert result.start == pytest.approx(first)
    assert result.end < result.start
    assert result.end == pytest.approx(cal.objective(pool, result.model))
    assert set(result.values) == set(cal.FIT_PARAMETERS)


def test_parameters_round_trip() -> None:
    model = load_model(care=0.3)
    theta = cal.parameters_of(model)
    back = cal.with_parameters(model, theta)
    assert back.care == pytest.approx(0.3)
    assert back.mechanism.tcell_emax == pytest.approx(model.mechanism.tcell_emax)
    assert back.mechanism.half_life_weeks == pytest.approx(model.mechanism.half_life_weeks)


def test_the_command_prints_every_target_and_saves_a_loadable_fit(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "simulate",
            "calibrate",
            "--n",
            "30",
            "--seed",
            "5",
            "--fit",
            "--max-evaluations",
            "6",
            "--out",
            str(tmp_path),
            "--name",
            "tiny_fit",
        ],
    )
    assert result.exit_code == 0, result.output
    for t in TARGETS:
        assert t.id in result.output
    assert "cannot reproduce both" in result.output
    assert (tmp_path / "calibration.csv").exists()
    assert (tmp_path / "calibration_fitted.csv").exists()
    path = tmp_path / "tiny_fit.json"
    model = load_model(path)
    assert model.name == "tiny_fit"
    assert np.array_equal(population(path).mu, population("miyano2021").mu)
    again = CliRunner().invoke(
        main, ["simulate", "calibrate", "--n", "20", "--population", str(path)]
    )
    assert again.exit_code == 0, again.output
    assert "population tiny_fit" in again.output


def test_the_command_refuses_a_bad_population() -> None:
    result = CliRunner().invoke(main, ["simulate", "calibrate", "--population", "nope"])
    assert result.exit_code != 0
    assert "population" in result.output
