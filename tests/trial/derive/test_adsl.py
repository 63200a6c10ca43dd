"""adsl: populations, treatment, dates, age phase, strata, baseline severity, PPROTFL."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from atopic.diagnosis.age import age_phase_from_years
from atopic.errors import InvalidInput
from atopic.trial.derive import (
    compute_age_phase,
    derive_var_age,
    derive_var_agegr1,
    derive_var_ittfl,
    derive_var_pprotfl,
    derive_var_saffl,
    derive_vars_blsev,
    derive_vars_strata,
    derive_vars_trta,
    derive_vars_trtdt,
    derive_vars_trtp,
)
from atopic.trial.design import Design, Stratum
from tests.trial.derive.conftest import by_key

DM = pl.DataFrame(
    {
        "USUBJID": ["A", "B", "C", "D"],
        "ARMCD": ["PBO", "HIGH", "NOTASSGN", None],
        "SITEID": ["S01", "S02", "S01", "S02"],
    }
)
EX = pl.DataFrame(
    {
        "USUBJID": ["A", "B", "B", "C"],
        "EXTRT": ["Placebo", "MSC", "MSC", "MSC"],
        "EXDOSE": [0.0, 50.0, 25.0, 25.0],
        "EXDOSU": ["10^6 Therapeutic Cells"] * 4,
        "EXSTDTC": ["2026-01-05T10:00", "2026-01-06", "2026-02-03", "2026-01"],
    }
)


def test_ittfl_and_planned_treatment(design: Design) -> None:
    out = derive_vars_trtp(derive_var_ittfl(DM), design.arms)
    assert by_key(out, ["USUBJID"], "ITTFL") == {"A": "Y", "B": "Y", "C": "N", "D": "N"}
    assert by_key(out, ["USUBJID"], "TRT01P") == {
        "A": "Placebo",
        "B": "MSC 5.0x10^7 cells SC",
        "C": "Not Assigned",
        "D": "Not Assigned",
    }
    assert by_key(out, ["USUBJID"], "TRT01PN") == {"A": 1, "B": 3, "C": None, "D": None}


def test_unknown_arm_code_and_blinded_dm_are_errors(design: Design) -> None:
    with pytest.raises(InvalidInput, match="DM ARMCD must be an arm code of the design"):
        derive_vars_trtp(pl.DataFrame({"ARMCD": ["MID"]}), design.arms)
    with pytest.raises(InvalidInput, match="a blinded export has none"):
        derive_var_ittfl(pl.DataFrame({"USUBJID": ["A"]}))


def test_treatment_dates_safety_flag_and_actual_arm(design: Design) -> None:
    out = derive_vars_trta(derive_var_saffl(derive_vars_trtdt(DM, EX)), EX, design.arms)
    assert by_key(out, ["USUBJID"], "TRTSDT") == {
        "A": dt.date(2026, 1, 5),
        "B": dt.date(2026, 1, 6),
        "C": None,  # a partial date cannot start treatment
        "D": None,
    }
    assert by_key(out, ["USUBJID"], "TRTEDT")["B"] == dt.date(2026, 2, 3)
    assert by_key(out, ["USUBJID"], "SAFFL") == {"A": "Y", "B": "Y", "C": "N", "D": "N"}
    # B got 50 then 25: no single arm. C's record matches LOW (the date does not matter here).
    assert by_key(out, ["USUBJID"], "TRT01AN") == {"A": 1, "B": None, "C": 2, "D": None}
    assert by_key(out, ["USUBJID"], "TRT01A")["A"] == "Placebo"


def test_blinded_ex_matches_no_arm(design: Design) -> None:
    blinded = EX.with_columns(
        pl.lit("MSC OR PLACEBO (BLINDED)").alias("EXTRT"), pl.lit(None, pl.Float64).alias("EXDOSE")
    )
    out = derive_vars_trta(DM, blinded, design.arms)
    assert out["TRT01A"].null_count() == 4


def test_arms_ex_cannot_tell_apart_are_refused(design: Design) -> None:
    twin = dataclasses.replace(design.arms[2], code="HIGH2", number=4)
    with pytest.raises(
        InvalidInput,
        match=r"design arms\[3\]\.dose must be a product, dose or unit other than arms\[2\]",
    ):
        derive_vars_trta(DM, EX, (*design.arms, twin))


def test_age_from_birth_date_counts_completed_years() -> None:
    data = pl.DataFrame(
        {
            "USUBJID": ["A", "B", "C"],
            "BRTHDTC": ["2000-01-06", "2000-01-05", "2000"],
            "TRTSDT": [dt.date(2026, 1, 5)] * 3,
        }
    )
    assert derive_var_age(data)["AGE"].to_list() == [25.0, 26.0, None]
    given_age = data.with_columns(pl.Series("AGE", [40.0, None, None]))
    assert derive_var_age(given_age)["AGE"].to_list() == [40.0, 26.0, None]


@pytest.mark.parametrize(
    ("age", "phase"),
    [
        (0.5, "infancy"),
        (2, "infancy"),
        (2.01, "childhood"),
        (12, "childhood"),
        (12.5, "adolescence_adulthood"),
        (60, "adolescence_adulthood"),
        (60.1, "old_age"),
    ],
)
def test_agegr1_is_the_age_phase(age: float, phase: str) -> None:
    out = derive_var_agegr1(pl.DataFrame({"AGE": [float(age)]}))
    assert out.row(0) == (
        float(age),
        phase,
        ["infancy", "childhood", "adolescence_adulthood", "old_age"].index(phase) + 1,
    )


@given(st.decimals(min_value=0, max_value=130, places=2))
def test_age_phase_cut_equals_atopic_diagnosis(age: object) -> None:
    assert compute_age_phase(float(age)) == age_phase_from_years(age).value  # type: ignore[arg-type]


def test_agegr1_of_a_missing_age_is_null() -> None:
    assert derive_var_agegr1(pl.DataFrame({"AGE": [None]}, schema={"AGE": pl.Float64})).row(0) == (
        None,
        None,
        None,
    )


def test_strata_by_map_cuts_dm_column_and_age_phase(design: Design) -> None:
    adsl = pl.DataFrame(
        {
            "USUBJID": ["A", "B", "C", "D"],
            "SITEID": ["S01", "S02", "S03", "S01"],
            "AGEGR1": ["childhood", "old_age", "adolescence_adulthood", None],
        }
    )
    base = pl.DataFrame(
        {
            "USUBJID": ["A", "B", "C", "A", "B"],
            "PARAMCD": ["IGA", "IGA", "IGA", "EASI", "EASI"],
            "BASE": [3.0, 4.0, 2.0, 30.0, 12.0],
        }
    )
    strata = (
        design.randomization.strata[0],
        Stratum("SEV", "STRAT2R", ("<21", ">=21"), "baseline", paramcd="EASI", cuts=(21.0,)),
        Stratum(
            "REGION",
            "STRAT3R",
            ("EU", "US"),
            "dm",
            column="SITEID",
            level_map={"EU": ("S01",), "US": ("S02",)},
        ),
        Stratum(
            "AGE",
            "STRAT4R",
            ("child", "adult"),
            "age_phase",
            level_map={
                "child": ("infancy", "childhood"),
                "adult": ("adolescence_adulthood", "old_age"),
            },
        ),
    )
    out = derive_vars_strata(adsl, base, strata)
    assert by_key(out, ["USUBJID"], "STRAT1R") == {"A": "3", "B": "4", "C": None, "D": None}
    assert by_key(out, ["USUBJID"], "STRAT2R") == {"A": ">=21", "B": "<21", "C": None, "D": None}
    assert by_key(out, ["USUBJID"], "STRAT3R") == {"A": "EU", "B": "US", "C": None, "D": "EU"}
    assert by_key(out, ["USUBJID"], "STRAT4R") == {
        "A": "child",
        "B": "adult",
        "C": "adult",
        "D": None,
    }


def test_baseline_severity() -> None:
    adsl = pl.DataFrame({"USUBJID": ["A", "B"]})
    base = pl.DataFrame({"USUBJID": ["A", "A"], "PARAMCD": ["IGA", "EASI"], "BASE": [4.0, 33.5]})
    out = derive_vars_blsev(adsl, base)
    assert out.rows() == [("A", 4.0, 33.5), ("B", None, None)]


def test_per_protocol_needs_treatment_as_planned_baseline_and_primary_visit(design: Design) -> None:
    adsl = pl.DataFrame(
        {
            "USUBJID": ["A", "B", "C", "D"],
            "ITTFL": ["Y", "Y", "Y", "Y"],
            "SAFFL": ["Y", "Y", "Y", "N"],
            "TRT01PN": [1, 1, 1, 1],
            "TRT01AN": [1, 2, 1, None],
        }
    )
    ex = pl.DataFrame({"USUBJID": ["A", "B", "C"], "EXSTDTC": ["2026-01-05"] * 3})
    rows = []
    for subject in ("A", "B", "C", "D"):
        for paramcd in ("EASI", "IGA"):
            rows.append((subject, paramcd, "WEEK 0", 3.0, "Y"))
            if not (subject == "C" and paramcd == "IGA"):
                rows.append((subject, paramcd, "WEEK 12", 1.0, None))
    records = pl.DataFrame(
        rows, schema=["USUBJID", "PARAMCD", "AVISIT", "AVAL", "ABLFL"], orient="row"
    )
    out = derive_var_pprotfl(adsl, records, ex, design)
    # B got another arm; C has no week-12 IGA; D was not dosed.
    assert by_key(out, ["USUBJID"], "PPROTFL") == {"A": "Y", "B": "N", "C": "N", "D": "N"}


def test_fasfl_is_randomized_and_treated() -> None:
    from atopic.trial.derive.adsl import derive_var_fasfl

    frame = pl.DataFrame(
        {
            "USUBJID": ["A", "B", "C", "D"],
            "ITTFL": ["Y", "Y", "N", "N"],
            "SAFFL": ["Y", "N", "Y", "N"],
        }
    )
    assert derive_var_fasfl(frame).get_column("FASFL").to_list() == ["Y", "N", "N", "N"]
