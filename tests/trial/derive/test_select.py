"""select: one record per visit (ANLzzFL) and PHANTOM rows."""

from __future__ import annotations

import polars as pl

from atopic.trial.derive import derive_param_phantom, derive_var_anlfl
from atopic.trial.design import Design
from tests.trial.derive.conftest import by_key


def _window_records() -> pl.DataFrame:
    # WEEK 2 target day 15; WEEK 4 target 29.
    return pl.DataFrame(
        {
            "USUBJID": ["A"] * 6,
            "PARAMCD": ["EASI"] * 6,
            "AVISIT": ["WEEK 0", "WEEK 0", "WEEK 2", "WEEK 2", "WEEK 4", "WEEK 4"],
            "AVISITN": [0.0, 0.0, 2.0, 2.0, 4.0, 4.0],
            "ADY": [-3, 1, 13, 17, 27, 30],
            "AWTARGET": [1, 1, 15, 15, 29, 29],
            "AVAL": [30.0, 28.0, 20.0, 19.0, 15.0, 14.0],
            "ABLFL": [None, "Y", None, None, None, None],
            "DTYPE": pl.Series([None] * 6, dtype=pl.String),
            "ICEFL": [None, None, None, None, None, "Y"],
        }
    )


def test_closest_to_target_then_the_later_one() -> None:
    out = derive_var_anlfl(_window_records(), "WEEK 0")
    got = by_key(out, ["ADY"], "ANL01FL")
    # Baseline visit: the ABLFL record. Week 2: days 13 and 17 are both 2 days off: the later.
    # Week 4: day 30 (1 off) beats day 27 (2 off).
    assert got == {-3: None, 1: "Y", 13: None, 17: "Y", 27: None, 30: "Y"}


def test_excluded_records_are_not_candidates() -> None:
    out = derive_var_anlfl(_window_records(), "WEEK 0", "ANL01FL", exclude="ICEFL")
    assert by_key(out, ["ADY"], "ANL01FL")[27] == "Y"
    assert by_key(out, ["ADY"], "ANL01FL")[30] is None


def test_phantom_rows_fill_every_absent_visit(design: Design) -> None:
    records = derive_var_anlfl(_window_records(), "WEEK 0")
    subjects = pl.DataFrame({"STUDYID": ["S", "S"], "USUBJID": ["A", "B"]})
    records = records.with_columns(pl.lit("EASI total").alias("PARAM"), pl.lit(1).alias("PARAMN"))
    out = derive_param_phantom(records, subjects, design.visits)
    phantom = out.filter(pl.col("DTYPE") == "PHANTOM")
    # A lacks weeks 8 and 12; B has nothing: 5 visits.
    assert phantom.height == 2 + 5
    assert set(phantom.filter(pl.col("USUBJID") == "A")["AVISIT"]) == {"WEEK 8", "WEEK 12"}
    assert phantom["AVAL"].null_count() == phantom.height
    assert set(phantom["ANL01FL"]) == {"Y"}
    # Exactly one ANL01FL row per subject x parameter x visit.
    counts = out.filter(pl.col("ANL01FL") == "Y").group_by("USUBJID", "AVISITN").len()
    assert counts.height == 10
    assert set(counts["len"]) == {1}
    assert by_key(phantom.filter(pl.col("USUBJID") == "B"), ["AVISIT"], "AWTARGET")["WEEK 12"] == 85


def test_phantom_row_of_a_visit_set_missing_by_an_intercurrent_event_says_so(
    design: Design,
) -> None:
    records = _window_records().with_columns(
        pl.when(pl.col("AVISIT") == "WEEK 4").then(pl.lit("Y")).alias("ICEFL"),
        pl.when(pl.col("AVISIT") == "WEEK 4").then(pl.lit("RESCUE")).alias("ICE"),
        pl.lit("EASI total").alias("PARAM"),
        pl.lit(1).alias("PARAMN"),
    )
    records = derive_var_anlfl(records, "WEEK 0", "ANL01FL", exclude="ICEFL")
    records = derive_var_anlfl(records, "WEEK 0", "ANL03FL")
    subjects = pl.DataFrame({"STUDYID": ["S"], "USUBJID": ["A"]})
    out = derive_param_phantom(records, subjects, design.visits, flags=("ANL01FL", "ANL03FL"))
    week4 = out.filter((pl.col("AVISIT") == "WEEK 4") & (pl.col("DTYPE") == "PHANTOM"))
    assert week4.select("ANL01FL", "ANL03FL", "ICE", "ICEFL").row(0) == ("Y", None, "RESCUE", "Y")
    # The observed week-4 record stays the treatment-policy record.
    assert out.filter((pl.col("AVISIT") == "WEEK 4") & (pl.col("ANL03FL") == "Y"))[
        "ADY"
    ].to_list() == [30]
