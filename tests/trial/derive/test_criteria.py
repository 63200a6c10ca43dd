"""criteria: CRITy / CRITyFL from the design's criteria."""

from __future__ import annotations

import polars as pl

from atopic.trial.derive import derive_vars_crit
from atopic.trial.derive.criteria import crit_count
from atopic.trial.design import Design
from tests.trial.derive.conftest import by_key


def test_easi_criteria_on_pchg_with_float_tolerance(design: Design) -> None:
    base = 1.2
    data = pl.DataFrame(
        {
            "ID": [1, 2, 3, 4, 5],
            "PARAMCD": ["EASI"] * 5,
            "AVAL": [0.3, 0.4, 0.1, None, 0.0],
            "BASE": [base, base, base, base, None],
        }
    ).with_columns(
        (pl.col("AVAL") - pl.col("BASE")).alias("CHG"),
        (100 * (pl.col("AVAL") - pl.col("BASE")) / pl.col("BASE").abs()).alias("PCHG"),
    )
    out = derive_vars_crit(data, design.criteria)
    assert out.item(0, "PCHG") != -75.0  # 0.3 of 1.2 is 75 % in decimals, not in binary
    assert by_key(out, ["ID"], "CRIT2FL") == {1: "Y", 2: "N", 3: "Y", 4: None, 5: None}
    assert by_key(out, ["ID"], "CRIT3FL") == {1: "N", 2: "N", 3: "Y", 4: None, 5: None}
    assert set(out["CRIT2"]) == {"EASI-75: PCHG <= -75"}


def test_iga_success_needs_clear_or_almost_clear_and_two_grades(design: Design) -> None:
    data = pl.DataFrame(
        {
            "ID": [1, 2, 3, 4],
            "PARAMCD": ["IGA"] * 4,
            "AVAL": [1.0, 1.0, 0.0, 2.0],
            "BASE": [3.0, 2.0, 4.0, 4.0],
        }
    ).with_columns(
        (pl.col("AVAL") - pl.col("BASE")).alias("CHG"), pl.lit(None, pl.Float64).alias("PCHG")
    )
    out = derive_vars_crit(data, design.criteria)
    assert by_key(out, ["ID"], "CRIT1FL") == {1: "Y", 2: "N", 3: "Y", 4: "N"}
    assert out["CRIT2"].null_count() == 4  # IGA has one criterion: CRIT2 is EASI's


def test_itch_criterion_is_not_evaluated_for_ineligible_baseline(design: Design) -> None:
    data = pl.DataFrame(
        {
            "ID": [1, 2, 3, 4],
            "PARAMCD": ["PPNRS"] * 4,
            "AVAL": [3.0, 1.0, 6.0, None],
            "BASE": [7.0, 3.0, 8.0, 7.0],
        }
    ).with_columns(
        (pl.col("AVAL") - pl.col("BASE")).alias("CHG"), pl.lit(None, pl.Float64).alias("PCHG")
    )
    out = derive_vars_crit(data, design.criteria)
    assert by_key(out, ["ID"], "CRIT1FL") == {1: "Y", 2: None, 3: "N", 4: None}
    assert set(out["CRIT1"]) == {"PP-NRS4: CHG <= -4"}


def test_other_parameters_get_no_criteria(design: Design) -> None:
    data = pl.DataFrame(
        {"PARAMCD": ["IGE"], "AVAL": [100.0], "BASE": [200.0], "CHG": [-100.0], "PCHG": [-50.0]}
    )
    out = derive_vars_crit(data, design.criteria)
    assert crit_count(design.criteria) == 3
    assert out.select("CRIT1", "CRIT1FL", "CRIT3", "CRIT3FL").row(0) == (None, None, None, None)
