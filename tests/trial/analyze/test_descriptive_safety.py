"""Descriptive and safety summaries on small literal frames."""

from __future__ import annotations

import statistics

import polars as pl
import pytest

from atopic.errors import InvalidInput
from atopic.trial import ard
from atopic.trial.analyze import descriptive, safety

ADSL = pl.DataFrame(
    {
        "USUBJID": ["S1", "S2", "S3", "S4", "S5"],
        "TRT01P": ["PBO", "PBO", "HIGH", "HIGH", "HIGH"],
        "TRT01A": ["PBO", "PBO", "HIGH", "HIGH", None],
        "SAFFL": ["Y", "Y", "Y", "Y", "N"],
        "AGE": [30.0, 41.0, 25.0, 60.5, 33.0],
        "SEX": ["F", "M", "F", None, "F"],
    }
)
ADAE = pl.DataFrame(
    {
        "USUBJID": ["S1", "S1", "S3", "S3", "S4", "S5", "S2"],
        "TRTEMFL": ["Y", "Y", "Y", "Y", "Y", "Y", None],
        "AEDECOD": ["Headache", "Headache", "Headache", None, "Nasopharyngitis", "Headache", "X"],
        "AEBODSYS": ["Nervous", "Nervous", "Nervous", None, "Infections", "Nervous", "Y"],
        "AESER": ["N", "N", "Y", "N", "N", "N", "Y"],
        "AEREL": ["NOT RELATED", None, "PROBABLY RELATED", "NOT RELATED", None, None, None],
        "AESEV": ["MILD", "MILD", "SEVERE", "MILD", "MILD", "MILD", "SEVERE"],
    }
)


def test_continuous_stats_agree_with_the_statistics_module() -> None:
    values = [3.0, 1.5, 8.25, 4.0, None, 2.0]
    got = descriptive.continuous_stats(values)
    xs = [v for v in values if v is not None]
    assert got["n"] == 5
    assert got["mean"] == pytest.approx(statistics.fmean(xs), rel=1e-15)
    assert got["sd"] == pytest.approx(statistics.stdev(xs), rel=1e-15)
    assert got["median"] == statistics.median(xs)
    assert got["ci_lower"] < got["mean"] < got["ci_upper"]


def test_one_value_has_no_sd_and_the_ard_says_why() -> None:
    out = descriptive.summarise_continuous(
        ADSL.filter(pl.col("USUBJID") == "S1"), "AGE", analysis="DEMOG", total=False
    )
    sd = next(r for r in out if r.STAT == "sd")
    assert sd.VALUE is None
    assert sd.VALUEC == "fewer than 2 values"


def test_categorical_counts_missing_as_its_own_level() -> None:
    frame = ard.to_frame(descriptive.summarise_categorical(ADSL, "SEX", analysis="DEMOG"))
    assert ard.value(frame, "DEMOG", "n", group="HIGH", subgroup="SEX", subgrpval="Missing") == 1
    assert ard.value(frame, "DEMOG", "N", group="Total", subgroup="SEX", subgrpval="F") == 5
    assert ard.value(frame, "DEMOG", "rate", group="HIGH", subgroup="SEX", subgrpval="F") == 2 / 3


def test_missing_column_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match="ADSL BMI must be a column of ADSL"):
        descriptive.summarise_continuous(ADSL, "BMI", analysis="DEMOG")


def test_teae_overview_counts_subjects_not_events_in_the_safety_population() -> None:
    frame = ard.to_frame(safety.teae_overview(ADSL, ADAE, order=["PBO", "HIGH"]))
    # S5 is not in the safety population; S2's event is not treatment-emergent.
    assert ard.value(frame, "AE-OVERVIEW", "n", paramcd="ANY", group="PBO") == 1
    assert ard.value(frame, "AE-OVERVIEW", "events", paramcd="ANY", group="PBO") == 2
    assert ard.value(frame, "AE-OVERVIEW", "N", paramcd="ANY", group="HIGH") == 2
    assert ard.value(frame, "AE-OVERVIEW", "n", paramcd="SER", group="HIGH") == 1
    assert ard.value(frame, "AE-OVERVIEW", "n", paramcd="REL", group="Total") == 1
    assert ard.value(frame, "AE-OVERVIEW", "n", paramcd="SEVERE", group="PBO") == 0
    wd = frame.filter((pl.col("PARAMCD") == "WD") & (pl.col("GROUP") == "PBO"))
    assert wd.get_column("VALUEC").unique().to_list() == ["not collected"]


def test_teae_by_soc_and_pt_keeps_uncoded_terms() -> None:
    frame = ard.to_frame(safety.teae_by_soc_pt(ADSL, ADAE))
    assert (
        ard.value(frame, "AE-SOCPT", "n", group="HIGH", subgroup="AEBODSYS", subgrpval="Uncoded")
        == 1
    )
    pt = "Nervous / Headache"
    assert ard.value(frame, "AE-SOCPT", "n", group="Total", subgroup="AEDECOD", subgrpval=pt) == 2
    assert (
        ard.value(frame, "AE-SOCPT", "events", group="PBO", subgroup="AEDECOD", subgrpval=pt) == 2
    )


def test_withdrawals_are_counted_from_aeacn_when_it_is_collected() -> None:
    adae = ADAE.with_columns(
        pl.Series("AEACN", ["DOSE NOT CHANGED", "DRUG WITHDRAWN", None, None, None, None, None])
    )
    frame = ard.to_frame(safety.teae_overview(ADSL, adae))
    assert ard.value(frame, "AE-OVERVIEW", "n", paramcd="WD", group="PBO") == 1
    assert ard.value(frame, "AE-OVERVIEW", "n", paramcd="WD", group="HIGH") == 0
    empty = ard.to_frame(safety.teae_overview(ADSL, ADAE.with_columns(pl.lit(None).alias("AEACN"))))
    wd = empty.filter((pl.col("PARAMCD") == "WD") & (pl.col("STAT") == "n"))
    assert wd.get_column("VALUEC").unique().to_list() == ["not collected"]
