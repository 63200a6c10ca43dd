"""impute: NRI rows (primary) and LOCF rows (sensitivity)."""

from __future__ import annotations

import polars as pl

from atopic.trial.derive import derive_param_locf, derive_param_nri, derive_vars_crit
from atopic.trial.design import Design


def _cells(paramcd: str, values: list[float | None], base: float | None) -> pl.DataFrame:
    """One ANL01FL row per visit 0, 2, 4, 8 (null value: a PHANTOM row)."""
    n = len(values)
    return pl.DataFrame(
        {
            "USUBJID": ["A"] * n,
            "PARAMCD": [paramcd] * n,
            "AVISIT": ["WEEK 0", "WEEK 2", "WEEK 4", "WEEK 8"][:n],
            "AVISITN": [0.0, 2.0, 4.0, 8.0][:n],
            "ADT": pl.Series([None] * n, dtype=pl.Date),
            "ADY": [1, 15, 29, 57][:n],
            "AVAL": pl.Series(values, dtype=pl.Float64),
            "BASE": pl.Series([base] * n, dtype=pl.Float64),
            "ABLFL": ["Y"] + [None] * (n - 1),
            "DTYPE": [None if v is not None else "PHANTOM" for v in values],
            "ANL01FL": ["Y"] * n,
        }
    ).with_columns(
        pl.when(pl.col("AVAL").is_null()).then(None).otherwise(pl.col("ADY")).alias("ADY"),
        (pl.col("AVAL") - pl.col("BASE")).alias("CHG"),
        (100 * (pl.col("AVAL") - pl.col("BASE")) / pl.col("BASE").abs()).alias("PCHG"),
    )


def test_nri_replaces_missing_responses_with_non_response(design: Design) -> None:
    data = derive_vars_crit(_cells("EASI", [20.0, 4.0, None, 2.0], 20.0), design.criteria)
    out = derive_param_nri(data, design.criteria, "WEEK 0")
    nri = out.filter(pl.col("DTYPE") == "NRI")
    assert nri["AVISIT"].to_list() == ["WEEK 4"]
    assert nri.select("CRIT1FL", "CRIT2FL", "CRIT3FL", "ANL01FL").row(0) == ("N", "N", "N", "Y")
    assert nri["AVAL"].to_list() == [None]
    phantom = out.filter(pl.col("DTYPE") == "PHANTOM")
    assert phantom["ANL01FL"].to_list() == [None]  # ANL01FL moved to the NRI row
    primary = out.filter(pl.col("ANL01FL") == "Y").sort("AVISITN")
    assert primary["CRIT2FL"].to_list() == ["N", "Y", "N", "Y"]
    assert primary.height == 4


def test_nri_keeps_ineligible_criteria_null(design: Design) -> None:
    data = derive_vars_crit(_cells("PPNRS", [3.0, None], 3.0), design.criteria)
    out = derive_param_nri(data, design.criteria, "WEEK 0")
    # Baseline itch 3 is below 4: the subject is not evaluated, so no NRI row either.
    assert out.filter(pl.col("DTYPE") == "NRI").height == 0
    high = derive_vars_crit(_cells("PPNRS", [8.0, None], 8.0), design.criteria)
    imputed = derive_param_nri(high, design.criteria, "WEEK 0").filter(pl.col("DTYPE") == "NRI")
    assert imputed["CRIT1FL"].to_list() == ["N"]


def test_nri_for_an_observed_value_without_baseline(design: Design) -> None:
    data = derive_vars_crit(_cells("IGA", [None, 1.0], None), design.criteria)
    out = derive_param_nri(data, design.criteria, "WEEK 0")
    nri = out.filter(pl.col("DTYPE") == "NRI")
    assert nri["AVISIT"].to_list() == ["WEEK 2"]  # not at baseline
    assert out.filter(pl.col("DTYPE").is_null())["ANL01FL"].to_list() == [None]


def test_locf_carries_the_last_observed_value_forward(design: Design) -> None:
    data = derive_vars_crit(_cells("EASI", [20.0, 4.0, None, None], 20.0), design.criteria)
    out = derive_param_locf(data, design.criteria)
    locf = out.filter(pl.col("DTYPE") == "LOCF").sort("AVISITN")
    assert locf["AVISIT"].to_list() == ["WEEK 4", "WEEK 8"]
    assert locf["AVAL"].to_list() == [4.0, 4.0]
    assert locf["ADY"].to_list() == [15, 15]  # the carried record's day
    assert locf["CHG"].to_list() == [-16.0, -16.0]
    assert locf["CRIT2FL"].to_list() == ["Y", "Y"]
    assert locf["ANL01FL"].null_count() == 2
    sensitivity = out.filter(pl.col("ANL02FL") == "Y").sort("AVISITN")
    assert sensitivity["DTYPE"].to_list() == [None, None, "LOCF", "LOCF"]


def test_locf_has_nothing_to_carry_without_a_value(design: Design) -> None:
    data = derive_vars_crit(_cells("EASI", [None, None], None), design.criteria)
    out = derive_param_locf(data, design.criteria)
    assert out.filter(pl.col("DTYPE") == "LOCF").height == 0
    assert out.filter(pl.col("ANL02FL") == "Y")["DTYPE"].to_list() == ["PHANTOM", "PHANTOM"]
