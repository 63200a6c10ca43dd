"""atopic.trial.analyze.run.Options can run a subset of the analyses (what a virtual trial needs);
the default runs everything, and a subset's rows are the same numbers as in the full run."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from atopic.errors import InvalidInput
from atopic.simulate import synthesize
from atopic.trial import analyses as ids
from atopic.trial.analyze.run import Options, analyze
from atopic.trial.derive.pipeline import derive_all
from atopic.trial.design import load_design

DESIGN = Path(__file__).resolve().parents[2] / "examples" / "trial" / "design.toml"
ONLY = {
    "descriptive": False,
    "safety": False,
    "biomarkers": False,
    "all_visits": False,
    "sensitivity": False,
    "mi": False,
    "mmrm": False,
    "dose_response": False,
}


@pytest.fixture(scope="module")
def trial():
    design = load_design(DESIGN)
    derived = derive_all(synthesize(design, 90, seed=8), design)
    return design, derived["ADSL"], derived["BDS"], derived["ADAE"]


@pytest.fixture(scope="module")
def full(trial) -> pl.DataFrame:
    design, adsl, bds, adae = trial
    return analyze(adsl, bds, adae, design, Options(mi_imputations=2))


def test_the_default_options_run_every_analysis(full: pl.DataFrame) -> None:
    present = set(full.get_column("ANALYSIS"))
    for analysis in (
        ids.DISP,
        ids.DEMOG,
        ids.SUMM_PCHG,
        ids.BIN_CMH,
        ids.TREND,
        ids.SUBGROUP,
        ids.ANCOVA,
        ids.ANCOVA_LOCF,
        ids.MI,
        ids.MMRM,
        ids.GMR_ANCOVA,
        ids.AE_OVERVIEW,
    ):
        assert analysis in present, analysis


def test_a_subset_holds_only_the_chosen_endpoint_at_its_visit(trial) -> None:
    design, adsl, bds, adae = trial
    part = analyze(adsl, bds, adae, design, Options(endpoints=("EASI75-W12",), **ONLY))
    assert set(part.get_column("PARAMCD")) == {"EASI-75"}
    assert set(part.get_column("AVISIT")) == {"WEEK 12"}
    assert set(part.get_column("ESTIMAND")) == {"composite"}
    assert ids.TREND not in set(part.get_column("ANALYSIS"))


def test_subset_rows_are_the_rows_of_the_full_run(trial, full: pl.DataFrame) -> None:
    design, adsl, bds, adae = trial
    part = analyze(
        adsl, bds, adae, design, Options(endpoints=("EASI75-W12", "EASI-PCHG-W12"), **ONLY)
    )
    keys = ["ANALYSIS", "ESTIMAND", "PARAMCD", "AVISIT", "GROUP", "COMPARATOR", "STAT"]
    same = full.join(part.select(keys), on=keys, how="semi", nulls_equal=True)
    assert same.height == part.height
    assert_frame_equal(same.sort(keys, nulls_last=True), part.sort(keys, nulls_last=True))


def test_an_unknown_endpoint_is_refused_by_name(trial) -> None:
    design, adsl, bds, adae = trial
    with pytest.raises(InvalidInput, match="analysis endpoints must be one of EASI75-W12"):
        analyze(adsl, bds, adae, design, Options(endpoints=("EASI-99",), **ONLY))
