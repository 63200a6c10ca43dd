"""atopic.simulate.qsp: the QSP generator is reproducible, a zero-dose cell arm is placebo, it
runs through the project's workflow without a reject, and it plugs into the virtual-trial runner."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from atopic.errors import InvalidInput
from atopic.simulate.model import CellMechanism, population
from atopic.simulate.qsp import QSPGenerator, generate, load_model, save_model
from atopic.simulate.trials import PatientGenerator
from atopic.trial.analyze.run import Options
from atopic.trial.design import load_design
from atopic.trial.workflow import run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "trial"
DOSE_RANGING = load_design(EXAMPLES / "dose_ranging.toml")
DEMO = load_design(EXAMPLES / "design.toml")


def test_same_seed_same_tables_and_another_seed_differs() -> None:
    a = generate(DOSE_RANGING, 30, 5, chunk=16)
    b = generate(DOSE_RANGING, 30, 5, chunk=16)
    c = generate(DOSE_RANGING, 30, 6, chunk=16)
    for name in a:
        assert_frame_equal(a[name], b[name])
    assert not a["QS"].equals(c["QS"])


def test_a_zero_dose_cell_arm_equals_placebo() -> None:
    arms = list(DOSE_RANGING.arms)
    zero = dataclasses.replace(arms[1], dose=0.0)
    design = dataclasses.replace(DOSE_RANGING, arms=(arms[0], zero, *arms[2:]))
    mech = CellMechanism(tcell_emax=0.9)
    with_zero = generate(design, 40, 9, mechanism=mech)
    null = generate(DOSE_RANGING, 40, 9, mechanism=mech, null=True)
    cols = ["USUBJID", "QSTESTCD", "VISITNUM", "QSSTRESN"]
    arm = with_zero["DM"].select("USUBJID", "ARMCD")
    d12 = arm.filter(pl.col("ARMCD") == "D12")["USUBJID"]
    left = with_zero["QS"].filter(pl.col("USUBJID").is_in(d12.to_list())).select(cols)
    right = null["QS"].filter(pl.col("USUBJID").is_in(d12.to_list())).select(cols)
    assert left.height > 0
    assert_frame_equal(left, right)


def test_the_cell_product_lowers_easi_at_a_high_dose() -> None:
    strong = CellMechanism(tcell_emax=1.0, tcell_ec50=5.0, barrier_emax=5.0, barrier_ec50=5.0)
    tables = generate(DOSE_RANGING, 200, 3, care=0.3, mechanism=strong)
    qs = tables["QS"].filter(pl.col("QSCAT") == "EASI")
    total = qs.group_by("USUBJID", "VISITNUM").agg(pl.col("QSSTRESN").sum().alias("S"))
    dm = tables["DM"].select("USUBJID", "ARMCD")
    base = total.filter(pl.col("VISITNUM") == 1).select("USUBJID", pl.col("S").alias("B"))
    end = total.filter(pl.col("VISITNUM") == 6).join(base, on="USUBJID").join(dm, on="USUBJID")
    ratio = end.group_by("ARMCD").agg((pl.col("S") / pl.col("B")).mean().alias("R"))
    r = dict(ratio.iter_rows())
    assert r["D100"] < r["PBO"]


@pytest.mark.parametrize("design", [DEMO, DOSE_RANGING], ids=["design", "dose_ranging"])
def test_the_workflow_runs_without_rejects(design: object, tmp_path: Path) -> None:
    tables = generate(design, 100, 2026)  # type: ignore[arg-type]
    written = run(tables, design, tmp_path, Options(mi_imputations=2))  # type: ignore[arg-type]
    assert written.rows["REJECTS"] == 0  # type: ignore[attr-defined]
    assert written.rows["ADSL"] == 100  # type: ignore[attr-defined]


def test_the_generator_follows_the_runner_protocol() -> None:
    gen = QSPGenerator(care=0.4)
    assert isinstance(gen, PatientGenerator)
    assert gen.null().no_effect
    assert "care 0.4" in gen.describe()
    tables = gen.generate(DOSE_RANGING, 20, 1)
    assert tables["DM"].height == 20


def test_a_saved_model_loads_back_by_path(tmp_path: Path) -> None:
    model = load_model(care=0.25, mechanism=CellMechanism(half_life_weeks=3.0))
    path = save_model(model, tmp_path / "fitted.json")
    back = load_model(path)
    assert back.care == 0.25
    assert back.mechanism.half_life_weeks == 3.0
    assert np.array_equal(back.population.mu, population("miyano2021").mu)


def test_unknown_population_and_non_cell_unit_are_refused() -> None:
    with pytest.raises(InvalidInput, match="population"):
        load_model("no-such-population")
    arms = list(DOSE_RANGING.arms)
    bad = dataclasses.replace(arms[1], dose_unit="mg")
    design = dataclasses.replace(DOSE_RANGING, arms=(arms[0], bad, *arms[2:]))
    with pytest.raises(InvalidInput, match="dose_unit"):
        generate(design, 10, 1)
