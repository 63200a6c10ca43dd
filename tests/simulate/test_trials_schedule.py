"""atopic.simulate.trials: the schedule sweep. Schedules parse from ``schedule=0,0+4,0+1+2`` and bad
ones are refused by name; each point's design gives the treated arm (and a placebo control) that
schedule; on the QSP generator more doses give more exposure and a larger mean effect; the CLI
writes the power curve and the summary with readable labels."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from atopic.cli import main
from atopic.errors import InvalidInput
from atopic.simulate.model import CellMechanism, exposure
from atopic.simulate.observe import arm_treatment
from atopic.simulate.qsp import QSPGenerator
from atopic.simulate.trials import (
    Scenario,
    parse_schedule,
    parse_sweep,
    scenario_design,
    scenarios,
    schedule_label,
    simulate_trials,
)
from atopic.trial.design import Design, Schedule, load_design

PHASE3 = Path(__file__).resolve().parents[2] / "examples" / "trial" / "phase3.toml"
DOSE_RANGING = PHASE3.with_name("dose_ranging.toml")


@pytest.fixture(scope="module")
def design() -> Design:
    return load_design(PHASE3)


# --- parsing ------------------------------------------------------------------------------------


def test_a_schedule_sweep_parses_into_weeks_of_dosing() -> None:
    name, values = parse_sweep("schedule=0, 0+4 ,0+1+2")
    assert name == "schedule"
    assert values == ((0,), (0, 4), (0, 1, 2))
    assert parse_schedule("2+10") == (2, 10)


def test_schedule_labels_read_as_weeks() -> None:
    assert schedule_label((0,)) == "week 0"
    assert schedule_label((0, 4)) == "weeks 0, 4"
    assert Scenario(50, "schedule", 2.0, weeks=(0, 1, 2)).label == "weeks 0, 1, 2"
    assert Scenario(50, "subjects", 50.0).label == "50"
    assert Scenario(50).label is None


@pytest.mark.parametrize(
    ("text", "shown", "allowed"),
    [
        ("schedule=-1", "'-1'", "whole weeks from 0"),
        ("schedule=0+-4", "'-4'", "whole weeks from 0"),
        ("schedule=1.5", "'1.5'", "whole weeks from 0"),
        ("schedule=a", "'a'", "whole weeks from 0"),
        ("schedule=0|4", "'0|4'", "joined by +"),
        ("schedule=0++4", "'0++4'", "whole weeks from 0"),
        ("schedule=²", "'²'", "whole weeks from 0"),
        ("schedule=0+0", "'0+0'", "without repeats"),
        ("schedule=4+0", "'4+0'", "ascending order"),
        ("schedule=0,0", "'0,0'", "schedules without repeats"),
        ("schedule=", "''", "whole weeks from 0"),
    ],
)
def test_bad_schedules_are_refused_by_name(text: str, shown: str, allowed: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_sweep(text)
    assert error.value.field == "sweep schedule"
    assert f"got {shown}" in error.value.message
    assert allowed in error.value.message


def test_a_dose_after_the_last_visit_is_refused(design: Design) -> None:
    last = design.visits[-1].target  # day 85: week 12 is the latest dosing week
    assert scenarios(design, 20, "schedule=0+12")[1] == "schedule"
    with pytest.raises(InvalidInput) as error:
        scenarios(design, 20, "schedule=0,0+13")
    assert error.value.field == "sweep schedule"
    assert "weeks 0, 13" in error.value.message
    assert f"study day {last}: week 12 at the latest" in error.value.message


def test_a_schedule_sweep_needs_one_treated_arm() -> None:
    with pytest.raises(InvalidInput, match="exactly one treated arm"):
        scenarios(load_design(DOSE_RANGING), 40, "schedule=0,0+4")


# --- the design of each point -------------------------------------------------------------------


def test_each_point_gives_the_treated_arm_and_the_placebo_its_schedule(design: Design) -> None:
    points, name = scenarios(design, 30, "schedule=0,0+4,0+1+2")
    assert name == "schedule"
    assert [p.value for p in points] == [1.0, 2.0, 3.0]
    for point in points:
        swept = scenario_design(design, point)
        treated = next(a for a in swept.arms if not a.control)
        assert treated.schedule == Schedule("week", point.weeks)
        assert swept.control.schedule == treated.schedule  # matching placebo (blinding)
        assert treated.label == design.arm(treated.code).label  # one line on the curve
        assert treated.dose == design.arm(treated.code).dose
        assert swept.visits == design.visits


def test_an_active_control_keeps_its_own_schedule(design: Design) -> None:
    arms = tuple(
        replace(a, dose=10.0, product="Comparator") if a.control else a for a in design.arms
    )
    active = replace(design, arms=arms)
    swept = scenario_design(active, Scenario(20, "schedule", 2.0, weeks=(0, 4)))
    assert swept.control.schedule == design.control.schedule
    assert next(a for a in swept.arms if not a.control).schedule.at == (0, 4)


def test_the_generated_ex_records_follow_the_schedule(design: Design) -> None:
    swept = scenario_design(design, Scenario(40, "schedule", 3.0, weeks=(0, 1, 2)))
    tables = QSPGenerator().generate(swept, 40, 5)
    per_subject = tables["EX"].group_by("USUBJID").len().get_column("len")
    assert per_subject.max() == 3  # every dose the schedule plans, for those who stayed
    assert per_subject.min() >= 1


# --- the QSP generator sees the schedule --------------------------------------------------------


def test_more_doses_give_more_exposure_on_the_qsp_arm(design: Design) -> None:
    """Nested schedules (0) < (0, 4) < (0, 4, 8): exposure superposes doses (Bateman function),
    so adding a dose can only add exposure; it adds some after the added dose."""
    weeks = np.linspace(0, 12, 121)
    mechanism = CellMechanism()
    curves = []
    for i, schedule in enumerate(((0,), (0, 4), (0, 4, 8))):
        swept = scenario_design(design, Scenario(20, "schedule", float(i + 1), weeks=schedule))
        treated = next(a for a in swept.arms if not a.control)
        regimen = arm_treatment(treated, mechanism).cell
        assert regimen is not None
        assert regimen.weeks == tuple(float(w) for w in schedule)
        curves.append(exposure(regimen, mechanism, weeks)[0])
    for fewer, more in itertools.pairwise(curves):
        assert np.all(more >= fewer - 1e-12)
        assert np.trapezoid(more, weeks) > np.trapezoid(fewer, weeks)


def test_more_doses_give_a_larger_mean_effect_on_the_qsp_generator(design: Design) -> None:
    """The same virtual patients (common random numbers) under nested schedules: the LS-mean
    difference of EASI % change at week 12 (MSC - placebo) falls with every added dose."""
    run = simulate_trials(
        design,
        n_trials=2,
        seed=11,
        subjects=60,
        generator=QSPGenerator(),
        sweep="schedule=0,0+4,0+4+8",
        endpoints=["EASI-PCHG-W12"],
    )
    summary = run.summary.sort("SWEEPVAL")
    assert summary.get_column("SWEEPLABEL").to_list() == ["week 0", "weeks 0, 4", "weeks 0, 4, 8"]
    means = summary.get_column("MEAN").to_list()
    assert means[0] > means[1] > means[2], means  # more negative: larger improvement
    per_replicate = run.results.pivot("SWEEPVAL", index="REPLICATE", values="ESTIMATE")
    for row in per_replicate.iter_rows():
        assert row[1] > row[2] > row[3], row


# --- the command ----------------------------------------------------------------------------------


def test_the_command_writes_a_schedule_power_curve_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "simulate",
            "--design",
            str(PHASE3),
            "--n-trials",
            "3",
            "--seed",
            "2",
            "--subjects",
            "30",
            "--sweep",
            "schedule=0,0+4",
            "--endpoint",
            "EASI50-W12",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "schedule=weeks 0, 4\tEASI50-W12" in result.output
    assert "efficacy follows the dose alone" in result.output  # synth's limit, said aloud
    assert (out / "power_curves.svg").stat().st_size > 0
    assert (out / "power_curves.png").stat().st_size > 0
    html = (out / "summary.html").read_text()
    assert "schedule = week 0" in html
    assert "schedule = weeks 0, 4" in html
    assert html.count("<svg") == 3
    summary = pl.read_csv(out / "summary.csv")
    assert summary.get_column("SWEEPLABEL").to_list() == ["week 0", "weeks 0, 4"]


def test_the_command_refuses_a_bad_schedule(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "simulate",
            "--design",
            str(PHASE3),
            "--n-trials",
            "2",
            "--seed",
            "1",
            "--out",
            str(tmp_path / "unused"),
            "--sweep",
            "schedule=0,4+0",
        ],
    )
    assert result.exit_code != 0
    assert "sweep schedule must be weeks in ascending order" in result.output
    assert not (tmp_path / "unused").exists()
