"""Literal exports: checkboxes, coded values, duplicates, DM conflicts; nothing dropped."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from atopic.cli_import import item_accepts
from atopic.interop.redcap import Field, RedcapImport, import_redcap, parse_mapping

DICTIONARY = {
    "record_id": Field("record_id", "f", "text", "ID"),
    "sex": Field("sex", "f", "radio", "Sex", {"1": "M", "2": "F"}),
    "age": Field("age", "f", "text", "Age", validation="integer", minimum="0", maximum="120"),
    "grade": Field("grade", "f", "checkbox", "vIGA", {str(i): str(i) for i in range(5)}),
    "itch": Field("itch", "f", "dropdown", "NRS", {str(i): str(i) for i in range(11)}),
}
MAPPING: dict[str, Any] = {
    "study": {"studyid": "S1", "siteid": "01"},
    "events": {"v1": {"visitnum": 1, "visit": "V1"}},
    "dm": {"SEX": "sex", "AGE": "age"},
    "instruments": {
        "vIGA-AD": {"items": {"grade": "VIGA101"}},
        "PP-NRS": {"items": {"itch": "PPNRS101"}},
    },
}


def _run(rows: list[dict[str, str]], schemas: Any) -> RedcapImport:
    columns = ["record_id", "redcap_event_name", "sex", "age", "itch"] + [
        f"grade___{i}" for i in range(5)
    ]
    export = pl.DataFrame([{c: r.get(c, "") for c in columns} for r in rows], schema=columns)
    mapping = parse_mapping(MAPPING, DICTIONARY, schemas)
    result = import_redcap(export, DICTIONARY, mapping, schemas, accepts=item_accepts)
    assert sum(result.counts.values()) == result.values_in
    return result


def test_one_ticked_box_is_the_grade(schemas: Any) -> None:
    r = _run(
        [
            {
                "record_id": "1",
                "redcap_event_name": "v1",
                "sex": "2",
                "age": "30",
                "grade___3": "1",
                "grade___0": "0",
            }
        ],
        schemas,
    )
    assert r.qs.select("QSTESTCD", "QSSTRESN").rows() == [("VIGA101", 3.0)]
    assert r.dm.select("USUBJID", "SEX", "AGE").rows() == [("S1-1", "F", 30.0)]
    assert r.rejects.height == 0


def test_two_ticked_boxes_are_rejected_as_one_value(schemas: Any) -> None:
    r = _run(
        [
            {
                "record_id": "1",
                "redcap_event_name": "v1",
                "sex": "1",
                "age": "30",
                "grade___1": "1",
                "grade___2": "1",
            }
        ],
        schemas,
    )
    assert r.qs.height == 0
    assert r.rejects.select("field", "value").rows() == [("grade", "1|2")]
    assert "one checked option" in r.rejects["reason"][0]


def test_checkbox_cell_other_than_0_or_1_is_rejected(schemas: Any) -> None:
    r = _run(
        [{"record_id": "1", "redcap_event_name": "v1", "sex": "1", "age": "3", "grade___1": "yes"}],
        schemas,
    )
    assert r.rejects.select("field", "value").rows() == [("grade___1", "yes")]
    assert "must be 0 or 1; got 'yes'" in r.rejects["reason"][0]


def test_unknown_code_and_out_of_range_are_rejected(schemas: Any) -> None:
    r = _run(
        [{"record_id": "1", "redcap_event_name": "v1", "sex": "9", "age": "130", "itch": "11"}],
        schemas,
    )
    reasons = dict(zip(r.rejects["field"], r.rejects["reason"], strict=True))
    assert set(reasons) == {"sex", "age", "itch"}
    assert "got '9'" in reasons["sex"]
    assert "from 0 to 120" in reasons["age"]
    assert r.dm.height == 0
    assert r.qs.height == 0


def test_second_row_of_a_record_event_is_rejected(schemas: Any) -> None:
    row = {"record_id": "1", "redcap_event_name": "v1", "sex": "1", "age": "30", "itch": "4"}
    r = _run([row, {**row, "itch": "5"}], schemas)
    assert r.qs["QSSTRESN"].to_list() == [4.0]
    assert r.rejects.height == 3
    assert all("a second row" in x for x in r.rejects["reason"])


def test_conflicting_dm_values_are_rejected(schemas: Any) -> None:
    mapping = {**MAPPING, "events": {"v1": {"visitnum": 1}, "v2": {"visitnum": 2}}}
    export = pl.DataFrame(
        {
            "record_id": ["1", "1"],
            "redcap_event_name": ["v1", "v2"],
            "sex": ["1", "2"],
            "age": ["30", "30"],
        }
    )
    m = parse_mapping(mapping, DICTIONARY, schemas)
    r = import_redcap(export, DICTIONARY, m, schemas, accepts=item_accepts)
    assert r.dm["SEX"].to_list() == ["M"]
    assert r.rejects.select("event", "field").rows() == [("v2", "sex")]
    assert sum(r.counts.values()) == r.values_in == 4


@pytest.mark.parametrize("missing", ["sex", "age"])
def test_incomplete_dm_sends_its_values_to_rejects(schemas: Any, missing: str) -> None:
    row = {"record_id": "1", "redcap_event_name": "v1", "sex": "1", "age": "30", "itch": "2"}
    row[missing] = ""
    r = _run([row], schemas)
    assert r.dm.height == 0
    assert r.qs.height == 1
    assert all("DM row not written" in x for x in r.rejects["reason"])
