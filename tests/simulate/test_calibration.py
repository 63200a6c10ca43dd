"""atopic.simulate.calibration and ``atopic simulate calibrate``: the table holds every target with
a Monte Carlo interval, the objective is a deterministic function of the parameters on a fixed
pool (common random numbers), each target gets its study setting's background care, fitting
lowers the objective and a multi-start fit returns its best start, the profile gives one finite
row per grid point, and the fitted set is saved and loads back."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from atopic.cli import main
from atopic.simulate import calibration as cal
from atopic.simulate.model import population
from atopic.simulate.qsp import load_model
from atopic.simulate.targets import REGIMENS, SETTINGS, TARGETS


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
    again = cal.objective(pool, result.model, open_care=result.open_care)
    assert result.end == pytest.approx(again)
    assert set(result.values) == set(cal.FIT_PARAMETERS)


def test_a_multi_start_fit_returns_the_best_of_its_starts(pool: cal.Pool) -> None:
    model = load_model()
    result = cal.fit(pool, model, starts=3, seed=1, max_evaluations=8)
    assert len(result.starts) == 3
    ends = [s.end for s in result.starts]
    assert result.end == min(ends)
    for s in result.starts:
        assert s.end <= s.start
        assert s.evaluations >= 1
    # the Latin-hypercube starts differ from the model's own values
    assert result.starts[1].start != result.starts[0].start
    again = cal.objective(pool, result.model, open_care=result.open_care)
    assert again == pytest.approx(result.end)
    assert result.starts_table().height == 3


def test_fixed_parameters_stay_fixed(pool: cal.Pool) -> None:
    result = cal.fit(pool, load_model(), max_evaluations=6, fixed={"tcell_emax": 0.4})
    assert result.values["tcell_emax"] == pytest.approx(0.4)
    with pytest.raises(cal.InvalidInput, match="fixed"):
        cal.fit(pool, load_model(), max_evaluations=2, fixed={"nope": 1.0})


def test_the_profile_has_one_finite_row_per_grid_point(pool: cal.Pool) -> None:
    grid = (0.0, 0.5, 0.9)
    prof = cal.profile(pool, load_model(), grid=grid, max_evaluations=4)
    assert prof["product"].to_list() == ["off", "on", "on", "on"]
    assert prof["tcell_emax_fixed"].to_list()[1:] == list(grid)
    assert all(math.isfinite(x) for x in prof["objective"].to_list())
    assert all(math.isfinite(x) for x in prof["effect_w12"].to_list())
    off = prof.row(0, named=True)
    assert off["effect_w4"] == 0.0  # no product, no effect
    assert off["effect_w12"] == 0.0
    assert off["barrier_emax"] == 0.0
    with pytest.raises(cal.InvalidInput, match="grid"):
        cal.profile(pool, load_model(), grid=(1.5,), max_evaluations=2)


def test_the_product_effect_is_zero_without_a_product_effect(pool: cal.Pool) -> None:
    model = load_model()
    off = replace(
        model,
        mechanism=model.mechanism.replace(
            tcell_emax=0.0, barrier_emax=0.0, tslp_emax=0.0, th2_emax=0.0
        ),
    )
    assert cal.product_effect(pool, off, 12)[0] == pytest.approx(0.0, abs=1e-12)
    assert cal.product_effect(pool, model, 12)[0] > 0


def test_each_target_gets_its_settings_care(pool: cal.Pool) -> None:
    model = load_model(care=0.4)
    table = cal.calibration_table(pool, model, open_care=1.5)
    by_id = {t.id: t for t in TARGETS}
    assert {t.setting for t in TARGETS} == set(SETTINGS)
    for row in table.iter_rows(named=True):
        expected = 1.5 if by_id[row["target"]].setting == "open" else 0.4
        assert row["care"] == expected, row["target"]
    assert by_id["furestem2a-high-easi50"].setting == "open"
    assert by_id["furestem3-msc-easi50"].setting == "blinded"
    # the same regimen in the two settings: equal with one care, different with two
    same = cal.calibration_table(pool, model)
    rows = {r["target"]: r["simulated"] for r in same.iter_rows(named=True)}
    assert rows["furestem2a-high-easi50"] == rows["furestem3-msc-easi50"]
    rows = {r["target"]: r["simulated"] for r in table.iter_rows(named=True)}
    assert rows["furestem2a-high-easi50"] > rows["furestem3-msc-easi50"]
    # the open-label care moves only the open-label targets
    other = cal.calibration_table(pool, model, open_care=0.8)
    for a, b in zip(table.iter_rows(named=True), other.iter_rows(named=True), strict=True):
        if by_id[a["target"]].setting == "blinded":
            assert a["simulated"] == b["simulated"], a["target"]


def test_parameters_round_trip() -> None:
    model = load_model(care=0.3)
    theta = cal.parameters_of(model, open_care=1.7)
    back = cal.with_parameters(model, theta)
    assert back.model.care == pytest.approx(0.3)
    assert back.open_care == pytest.approx(1.7)
    assert back.model.mechanism.tcell_emax == pytest.approx(model.mechanism.tcell_emax)
    assert back.model.mechanism.half_life_weeks == pytest.approx(model.mechanism.half_life_weeks)


def test_a_fitted_set_loads_back(tmp_path: Path) -> None:
    model = load_model(care=0.3)
    calibrated = cal.with_parameters(model, cal.parameters_of(model, open_care=1.2))
    path = cal.save_fitted(calibrated, tmp_path / "set_a.json", description="test")
    back = cal.load_fitted(path)
    assert back.model.name == "set_a"
    assert back.open_care == pytest.approx(1.2)
    assert back.model.care == pytest.approx(0.3)
    assert back.model.mechanism == calibrated.model.mechanism
    assert load_model(path).care == pytest.approx(0.3)


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
            "4",
            "--starts",
            "2",
            "--profile",
            "--profile-evaluations",
            "2",
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
    assert (tmp_path / "starts.csv").exists()
    assert (tmp_path / "profile.csv").exists()
    assert "start 1:" in result.output
    assert "profile over the T-cell Emax" in result.output
    assert "objective likelihood" in result.output  # the default objective, named
    assert "likelihood terms (best set" in result.output
    assert "approximate 95 % profile-likelihood interval" in result.output
    starts = pl.read_csv(tmp_path / "starts.csv")
    assert starts["converged"].to_list() == [False, False]  # 4 evaluations cannot converge
    assert set(starts["objective_kind"]) == {"likelihood"}
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


# --- IgE and eosinophils (FURESTEM-AD phase IIa: "IgE and eosinophils fell", direction only) ----


LAB_TARGETS = ("furestem2a-high-ige", "furestem2a-high-eos")


def test_ige_and_eosinophil_targets_are_directional_with_their_source() -> None:
    by_id = {t.id: t for t in TARGETS}
    for ident, metric in zip(LAB_TARGETS, ("ige_median_pct", "eos_median_pct"), strict=True):
        t = by_id[ident]
        assert t.metric == metric
        assert t.source.startswith("Kim 2017")
        assert (t.regimen, t.week, t.setting) == ("sc50", 12, "open")
        assert t.direction == "below"
        assert t.value == 0.0
        assert t.weight == 0.0


def test_the_lab_targets_report_a_median_change_with_its_interval(pool: cal.Pool) -> None:
    table = cal.calibration_table(pool, load_model(), open_care=1.5)
    rows = {r["target"]: r for r in table.iter_rows(named=True)}
    for ident in LAB_TARGETS:
        row = rows[ident]
        assert math.isfinite(row["simulated"])
        assert row["simulated"] > -100
        assert row["mc_low"] <= row["simulated"] <= row["mc_high"]
        assert row["mc_low"] < row["mc_high"]
        assert row["direction"] == "below 0"
        assert row["care"] == 1.5  # open label
        assert "background care alone" in row["note"]
    for row in table.iter_rows(named=True):  # every directional row is judged, others are not
        if row["direction"] is None:
            assert row["direction_met"] is None
            assert row["direction_met_mc"] is None
        else:
            below = row["direction"] == "below 0"
            value, lo, hi = row["simulated"], row["mc_low"], row["mc_high"]
            assert row["direction_met"] == (value < 0 if below else value > 0), row["target"]
            assert row["direction_met_mc"] == (hi < 0 if below else lo > 0), row["target"]


def test_the_direction_check_is_computed_not_declared(pool: cal.Pool) -> None:
    ige = next(t for t in TARGETS if t.id == "furestem2a-high-ige")
    rose = replace(ige, id="ige-rose", direction="above", high=None, low=0.0)
    table = cal.calibration_table(pool, load_model(), [ige, rose], open_care=1.5)
    fell, up = table.row(0, named=True), table.row(1, named=True)
    assert fell["simulated"] == up["simulated"]  # the same simulation, judged both ways
    assert fell["direction_met"] == (fell["simulated"] < 0)
    assert up["direction_met"] == (up["simulated"] > 0)
    assert fell["direction_met"] != up["direction_met"]
    assert cal.direction_check("below", -1.0, -2.0, 0.5) == (True, False)
    assert cal.direction_check("above", 2.0, 0.5, 3.0) == (True, True)
    assert cal.direction_check("above", -2.0, -3.0, -1.0) == (False, False)
    with pytest.raises(cal.InvalidInput, match="direction"):
        cal.direction_check("fell", -1.0, -2.0, 0.0)


def test_without_a_product_effect_the_labs_change_as_under_care_alone(pool: cal.Pool) -> None:
    """Common random numbers: with every MSC effect off the high-dose arm is background care,
    so its IgE and eosinophil changes equal care alone; with the Th2 effect on, IgE falls more."""
    model = load_model()
    off = replace(
        model,
        mechanism=model.mechanism.replace(
            tcell_emax=0.0, barrier_emax=0.0, tslp_emax=0.0, th2_emax=0.0
        ),
    )
    targets = [t for t in TARGETS if t.id in LAB_TARGETS]
    care_only = [replace(t, id=t.id + "-care", regimen="placebo") for t in targets]
    table = cal.calibration_table(pool, off, targets + care_only, open_care=1.0)
    values = dict(table.select("target", "simulated").iter_rows())
    for t in targets:
        assert values[t.id] == values[t.id + "-care"], t.id
    strong = replace(model, mechanism=model.mechanism.replace(th2_emax=0.95, th2_ec50=1.0))
    again = dict(
        cal.calibration_table(pool, strong, targets, open_care=1.0)
        .select("target", "simulated")
        .iter_rows()
    )
    assert again["furestem2a-high-ige"] < values["furestem2a-high-ige"]


def test_the_median_interval_has_at_least_95_percent_coverage() -> None:
    from scipy.stats import binom

    rng = np.random.default_rng(4)
    for n in (11, 40, 200):
        x = rng.normal(size=n)
        median, lo, hi = cal._median_ci(x)
        assert median == pytest.approx(float(np.median(x)))
        ordered = np.sort(x)
        k = int(np.flatnonzero(ordered == lo)[0]) + 1  # 1-based rank of the lower bound
        assert hi == ordered[n - k]  # symmetric ranks
        coverage = 1 - 2 * binom.cdf(k - 1, n, 0.5)
        assert coverage >= 0.95
        assert 1 - 2 * binom.cdf(k, n, 0.5) < 0.95  # one rank narrower would not cover


@pytest.mark.slow
def test_the_packaged_fit_loads_by_name_and_reproduces_its_objective() -> None:
    # furestem_fit was fitted at n 1,000, seed 2026 (its description); on the same patients its
    # likelihood objective is the converged fit's 4.617, and the fit stays better than the set
    # it started from (msc_fit, 6.949) and than the product switched off at the same cares.
    own = cal.load_fitted("furestem_fit")
    assert own.model.name == "furestem_fit"
    assert own.open_care == pytest.approx(0.38888, abs=1e-4)
    assert own.model.care == pytest.approx(0.15827, abs=1e-4)
    pool = cal.virtual_pool(own.model, 1000, 2026)
    value = cal.objective(pool, own.model, open_care=own.open_care)
    assert value == pytest.approx(4.617, abs=5e-4)
    off = own.model.mechanism.replace(tcell_emax=0.0, barrier_emax=0.0, tslp_emax=0.0, th2_emax=0.0)
    without = cal.objective(pool, replace(own.model, mechanism=off), open_care=own.open_care)
    assert without > value + 3.84
