"""The analysis (ADaM-like) tables: DESIGN.md's variables, numbered families, flags."""

from __future__ import annotations

import polars as pl
import pytest

from atopic.diagnosis import AgePhase
from atopic.tables import ADAE, ADSL, BDS, extra_columns, validate_table
from atopic.tables.analysis import AGE_PHASES


def test_adsl_declares_design_variables() -> None:
    wanted = "USUBJID TRT01P TRT01PN TRT01A TRT01AN ITTFL SAFFL PPROTFL AGE AGEGR1 SEX"
    assert set(wanted.split()) <= set(ADSL.names)
    assert ADSL.column("STRAT1R") is not None
    assert ADSL.column("BLIGA") is not None


def test_bds_declares_design_variables() -> None:
    wanted = "PARAMCD PARAM AVISIT AVISITN ADY AVAL BASE ABLFL CHG PCHG DTYPE ANL01FL"
    assert all(BDS.column(name) is not None for name in wanted.split())


def test_adae_declares_treatment_emergence_grades_and_allocation() -> None:
    wanted = "USUBJID AETERM AEDECOD AEBODSYS AESEV AETOXGR AESER AEREL ASTDT AENDT TRTEMFL"
    assert set((wanted + " TRTA TRTAN AOCCFL").split()) <= set(ADAE.names)


@pytest.mark.parametrize("y", range(1, 10))
def test_bds_accepts_criterion_families_crit1_to_crit9(y: int) -> None:
    assert BDS[f"CRIT{y}"].label == "Analysis Criterion y"
    assert BDS[f"CRIT{y}FL"].allowed == ("Y", "N")


def test_bds_does_not_take_a_criterion_without_its_number() -> None:
    assert BDS.column("CRIT") is None
    assert BDS.column("CRIT0FL") is None


def test_record_flags_are_y_or_null_and_population_flags_y_or_n() -> None:
    assert BDS["ABLFL"].allowed == ("Y",)
    assert BDS["ANL01FL"].allowed == ("Y",)
    assert ADAE["TRTEMFL"].allowed == ("Y",)
    assert ADSL["ITTFL"].allowed == ("Y", "N")


def test_agegr1_terms_are_the_age_phases_of_atopic_diagnosis() -> None:
    assert tuple(phase.value for phase in AgePhase) == AGE_PHASES


def _bds() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "STUDYID": ["S1", "S1"],
            "USUBJID": ["S1-001", "S1-001"],
            "PARAMCD": ["EASI", "EASI"],
            "PARAM": ["EASI total score", "EASI total score"],
            "AVISIT": ["Baseline", "Week 16"],
            "AVISITN": [0.0, 16.0],
            "AVAL": [24.0, 4.8],
            "BASE": [24.0, 24.0],
            "ABLFL": ["Y", None],
            "PCHG": [0.0, -80.0],
            "CRIT1": ["EASI-75", "EASI-75"],
            "CRIT1FL": [None, "Y"],
            "CRIT2": ["EASI-90", "EASI-90"],
            "CRIT2FL": [None, "N"],
            "ANL01FL": ["Y", "Y"],
        }
    )


def test_bds_with_numbered_criteria_is_valid_and_has_no_extra_columns() -> None:
    assert validate_table(_bds(), BDS) == []
    assert extra_columns(_bds(), BDS) == []


def test_bds_criterion_flag_outside_y_n_is_reported_under_its_own_name() -> None:
    bds = _bds().with_columns(pl.Series("CRIT2FL", [None, "yes"]))
    [problem] = validate_table(bds, BDS)
    assert (problem.table, problem.column, problem.row) == ("BDS", "CRIT2FL", 2)


def test_baseline_flag_n_is_refused_because_record_flags_are_y_or_null() -> None:
    bds = _bds().with_columns(pl.Series("ABLFL", ["Y", "N"]))
    [problem] = validate_table(bds, BDS)
    assert problem.message == "BDS row 2 ABLFL must be Y or empty; got 'N'"


def test_adam_dates_must_be_real_dates_not_text() -> None:
    adsl = pl.DataFrame(
        {
            "STUDYID": ["S1"],
            "USUBJID": ["S1-001"],
            "SITEID": ["01"],
            "TRT01P": ["Placebo"],
            "TRTSDT": ["2024-05-17"],
            "ITTFL": ["Y"],
            "SAFFL": ["Y"],
            "AGE": [34.0],
            "SEX": ["F"],
        }
    )
    [problem] = validate_table(adsl, ADSL)
    assert problem.message == "ADSL TRTSDT must be of type Date; got String"
    fixed = adsl.with_columns(pl.col("TRTSDT").str.to_date())
    assert validate_table(fixed, ADSL) == []
