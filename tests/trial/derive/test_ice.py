"""ice: intercurrent events from CM and DS, and the records after them."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl

from atopic.trial.derive import compute_ice, derive_var_icefl
from atopic.trial.design import Design, IntercurrentEvent
from tests.trial.derive.conftest import by_key

CM = pl.DataFrame(
    {
        "USUBJID": ["A", "A", "B", "C"],
        "CMTRT": ["TCS", "cetirizine", "TCS", "TCS"],
        "CMCAT": ["RESCUE", "CONCOMITANT", "RESCUE", "RESCUE"],
        "CMSTDTC": ["2026-02-10", "2026-01-20", "2026-03-01", "2026-02"],
    }
)
DS = pl.DataFrame(
    {
        "USUBJID": ["A", "B", "D"],
        "DSDECOD": ["COMPLETED", "ADVERSE EVENT", "WITHDRAWAL BY SUBJECT"],
        "DSSTDTC": ["2026-04-01", "2026-02-15", "2026-02-20"],
    }
)


def test_first_composite_event_per_subject(design: Design) -> None:
    events, rejects = compute_ice({"CM": CM, "DS": DS}, design)
    got = events.collect().to_native().sort("USUBJID")
    assert got.rows() == [
        ("A", "RESCUE", dt.date(2026, 2, 10)),
        ("B", "DISCONTINUATION", dt.date(2026, 2, 15)),  # before B's rescue
        ("D", "DISCONTINUATION", dt.date(2026, 2, 20)),
    ]
    assert rejects["USUBJID"].to_list() == ["C"]
    assert (
        rejects["reason"][0] == "CM CMSTDTC must be a complete date to date the rescue; got 2026-02"
    )


def test_treatment_policy_events_mark_nothing(design: Design) -> None:
    policy = dataclasses.replace(
        design,
        intercurrent_events=(
            IntercurrentEvent("rescue", "treatment_policy", "RESCUE"),
            IntercurrentEvent("discontinuation", "composite"),
        ),
    )
    events, _ = compute_ice({"CM": CM, "DS": DS}, policy)
    assert sorted(events.collect().to_native()["ICE"]) == ["DISCONTINUATION", "DISCONTINUATION"]


def test_records_after_the_event_day_are_flagged() -> None:
    events = pl.DataFrame({"USUBJID": ["A"], "ICE": ["RESCUE"], "ICEDT": [dt.date(2026, 2, 10)]})
    records = pl.DataFrame(
        {
            "USUBJID": ["A", "A", "A", "B"],
            "ADT": [
                dt.date(2026, 1, 5),
                dt.date(2026, 2, 10),
                dt.date(2026, 2, 11),
                dt.date(2026, 3, 1),
            ],
            "ADY": [1, 37, 38, 50],
        }
    )
    out = derive_var_icefl(records, events)
    assert by_key(out, ["USUBJID", "ADY"], "ICEFL") == {
        ("A", 1): None,
        ("A", 37): None,  # on the event day: made before the rescue
        ("A", 38): "Y",
        ("B", 50): None,
    }
    assert by_key(out, ["USUBJID", "ADY"], "ICE")[("A", 38)] == "RESCUE"
    none = derive_var_icefl(records, None)
    assert none["ICEFL"].null_count() == 4
