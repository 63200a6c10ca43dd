"""Repeating instruments: each instance its own dated assessment; everything else a reject."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from atopic.cli_import import item_accepts
from atopic.errors import InvalidInput
from atopic.interop.redcap import Field, RedcapImport, import_redcap, parse_mapping
from atopic.tables import LB, QS, validate_table

DATE = {"validation": "date_ymd"}
DICTIONARY = {
    "record_id": Field("record_id", "dem", "text", "ID"),
    "sex": Field("sex", "dem", "radio", "Sex", {"1": "M", "2": "F"}),
    "age": Field("age", "dem", "text", "Age", validation="integer", minimum="0", maximum="120"),
    "iga_date": Field("iga_date", "iga", "text", "Date", **DATE),
    "grade": Field("grade", "iga", "dropdown", "vIGA", {str(i): str(i) for i in range(5)}),
    "itch_date": Field("itch_date", "nrs", "text", "Date", **DATE),
    "itch": Field("itch", "nrs", "dropdown", "NRS", {str(i): str(i) for i in range(11)}),
    "lab_date": Field("lab_date", "lab", "text", "Date", **DATE),
    "ige": Field("ige", "lab", "text", "IgE", validation="number", minimum="0"),
}
MAPPING: dict[str, Any] = {
    "study": {"studyid": "S1", "siteid": "01", "repeating": ["nrs", "lab"]},
    "events": {"v1": {"visitnum": 1, "visit": "V1"}},
    "dm": {"SEX": "sex", "AGE": "age"},
    "instruments": {
        "vIGA-AD": {"date_field": "iga_date", "items": {"grade": "VIGA101"}},
        "PP-NRS": {"date_field": "itch_date", "items": {"itch": "PPNRS101"}},
    },
    "labs": {"IGE": {"field": "ige", "unit": "IU/mL", "date_field": "lab_date"}},
}
COLUMNS = [
    "record_id",
    "redcap_event_name",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
    *(f for f in DICTIONARY if f != "record_id"),
]
BASE = {
    "record_id": "1",
    "redcap_event_name": "v1",
    "sex": "2",
    "age": "30",
    "iga_date": "2024-01-01",
    "grade": "3",
}


def _repeat(form: str, instance: str, **values: str) -> dict[str, str]:
    return {
        "record_id": "1",
        "redcap_event_name": "v1",
        "redcap_repeat_instrument": form,
        "redcap_repeat_instance": instance,
        **values,
    }


def _run(rows: list[dict[str, str]], schemas: Any, mapping: Any = None) -> RedcapImport:
    export = pl.DataFrame([{c: r.get(c, "") for c in COLUMNS} for r in rows], schema=COLUMNS)
    plan = parse_mapping(mapping or MAPPING, DICTIONARY, schemas)
    result = import_redcap(export, DICTIONARY, plan, schemas, accepts=item_accepts)
    assert sum(result.counts.values()) == result.values_in
    assert result.counts["rejects"] == result.rejects.height
    assert validate_table(result.qs, QS) == []
    assert validate_table(result.lb, LB) == []
    return result


def test_each_instance_is_its_own_row_with_its_own_date(schemas: Any) -> None:
    r = _run(
        [
            BASE,
            _repeat("nrs", "1", itch_date="2024-01-01", itch="4"),
            _repeat("nrs", "2", itch_date="2024-01-05", itch="6"),
            _repeat("lab", "1", lab_date="2024-01-01", ige="120"),
            _repeat("lab", "2", lab_date="2024-01-08", ige="95.5"),
        ],
        schemas,
    )
    assert r.rejects.height == 0
    itch = r.qs.filter(pl.col("QSTESTCD") == "PPNRS101").sort("QSDTC")
    assert itch.select("VISITNUM", "VISIT", "QSDTC", "QSSTRESN").rows() == [
        (1.0, "V1", "2024-01-01", 4.0),
        (1.0, "V1", "2024-01-05", 6.0),
    ]
    assert r.lb.sort("LBDTC").select("LBDTC", "LBSTRESN").rows() == [
        ("2024-01-01", 120.0),
        ("2024-01-08", 95.5),
    ]
    assert r.qs.filter(pl.col("QSTESTCD") == "VIGA101")["QSDTC"].to_list() == ["2024-01-01"]
    assert r.values_in == 4 + 2 * 4  # base: sex, age, iga_date, grade; each instance: 2
    assert r.dm.height == 1


def test_repeat_of_a_form_the_mapping_does_not_let_repeat_is_rejected(schemas: Any) -> None:
    r = _run([BASE, _repeat("iga", "2", iga_date="2024-01-03", grade="2")], schemas)
    assert r.qs.select("QSTESTCD", "QSSTRESN").rows() == [("VIGA101", 3.0)]
    assert r.rejects.select("instance", "field").sort("field").rows() == [
        ("iga#2", "grade"),
        ("iga#2", "iga_date"),
    ]
    reason = r.rejects["reason"][0]
    assert "redcap_repeat_instrument must be one of the forms listed in" in reason
    assert "study.repeating: nrs, lab; got 'iga'" in reason


def test_no_repeating_forms_means_every_repeat_row_is_rejected(schemas: Any) -> None:
    mapping = {**MAPPING, "study": {"studyid": "S1", "siteid": "01"}}
    mapping["instruments"] = {"vIGA-AD": MAPPING["instruments"]["vIGA-AD"]}
    mapping["labs"] = {}
    r = _run([BASE, _repeat("iga", "1", grade="1")], schemas, mapping)
    assert r.rejects["field"].to_list() == ["grade"]
    assert "must be blank (no form may repeat" in r.rejects["reason"][0]


def test_instance_without_its_own_date_is_rejected(schemas: Any) -> None:
    r = _run(
        [
            BASE,
            _repeat("nrs", "1", itch_date="2024-01-01", itch="4"),
            _repeat("nrs", "2", itch="6"),
        ],
        schemas,
    )
    assert r.qs.filter(pl.col("QSTESTCD") == "PPNRS101")["QSSTRESN"].to_list() == [4.0]
    assert r.rejects.select("instance", "field", "value").rows() == [("nrs#2", "itch", "6")]
    assert "REDCap instance nrs#2 itch_date must be a date" in r.rejects["reason"][0]


def test_two_instances_on_one_date_are_both_rejected(schemas: Any) -> None:
    r = _run(
        [
            BASE,
            _repeat("nrs", "1", itch_date="2024-01-01", itch="4"),
            _repeat("nrs", "2", itch_date="2024-01-01", itch="6"),
        ],
        schemas,
    )
    assert r.qs.filter(pl.col("QSTESTCD") == "PPNRS101").height == 0
    assert sorted(r.rejects.select("instance", "value").rows()) == [("nrs#1", "4"), ("nrs#2", "6")]
    assert all("atopic does not choose" in x for x in r.rejects["reason"])
    assert r.counts["dates"] == 3  # the dates were read; the items are what is refused


def test_repeat_row_value_of_another_form_is_rejected(schemas: Any) -> None:
    r = _run(
        [BASE, _repeat("nrs", "1", itch_date="2024-01-01", itch="4", sex="1")],
        schemas,
    )
    assert r.rejects.select("instance", "field").rows() == [("nrs#1", "sex")]
    assert "REDCap column sex form must be nrs" in r.rejects["reason"][0]
    assert r.dm["SEX"].to_list() == ["F"]


def test_second_row_of_the_same_instance_is_rejected(schemas: Any) -> None:
    row = _repeat("nrs", "1", itch_date="2024-01-01", itch="4")
    r = _run([BASE, row, {**row, "itch": "5"}], schemas)
    assert r.qs.filter(pl.col("QSTESTCD") == "PPNRS101")["QSSTRESN"].to_list() == [4.0]
    assert r.rejects.height == 2
    assert all("a second row" in x and "instance 'nrs#1'" in x for x in r.rejects["reason"])


@pytest.mark.parametrize("instance", ["", "0", "two", "1.5"])
def test_instance_must_be_a_whole_number_from_1(schemas: Any, instance: str) -> None:
    r = _run([BASE, _repeat("nrs", instance, itch_date="2024-01-01", itch="4")], schemas)
    assert r.qs.filter(pl.col("QSTESTCD") == "PPNRS101").height == 0
    assert r.rejects.height == 2
    assert all(
        "redcap_repeat_instance must be a whole number from 1" in x for x in r.rejects["reason"]
    )


def test_repeating_event_rows_are_rejected(schemas: Any) -> None:
    event = {**BASE, "redcap_repeat_instance": "2", "iga_date": "2024-01-09", "grade": "1"}
    r = _run([BASE, event], schemas)
    assert r.qs.select("QSSTRESN").to_series().to_list() == [3.0]
    assert r.rejects.height == 4
    assert set(r.rejects["instance"]) == {"#2"}
    assert all("repeating events are not imported" in x for x in r.rejects["reason"])
    assert all("redcap_repeat_instance must be blank" in x for x in r.rejects["reason"])


def test_export_without_repeat_columns_still_imports(schemas: Any) -> None:
    export = pl.DataFrame([BASE])
    plan = parse_mapping(MAPPING, DICTIONARY, schemas)
    r = import_redcap(export, DICTIONARY, plan, schemas, accepts=item_accepts)
    assert r.qs.height == 1
    assert r.rejects.height == 0
    assert sum(r.counts.values()) == r.values_in == 4


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"repeating": ["nope"]}, "a Form Name of the dictionary"),
        ({"repeating": ["dem"]}, "a form without DM fields"),
        ({"repeating": "nrs"}, "a list of REDCap form names"),
    ],
)
def test_bad_repeating_forms_are_refused(schemas: Any, change: Any, says: str) -> None:
    mapping = {**MAPPING, "study": {**MAPPING["study"], **change}}
    with pytest.raises(InvalidInput, match=says) as error:
        parse_mapping(mapping, DICTIONARY, schemas)
    assert error.value.field == "study.repeating"


def test_repeating_form_needs_its_instruments_date_inside(schemas: Any) -> None:
    mapping = {**MAPPING, "instruments": {**MAPPING["instruments"]}}
    mapping["instruments"]["PP-NRS"] = {"date_field": "iga_date", "items": {"itch": "PPNRS101"}}
    with pytest.raises(InvalidInput, match=r"instruments\.PP-NRS.s fields and its date_field"):
        parse_mapping(mapping, DICTIONARY, schemas)
    mapping["instruments"]["PP-NRS"] = {"items": {"itch": "PPNRS101"}}
    with pytest.raises(InvalidInput, match="no date_field is outside it"):
        parse_mapping(mapping, DICTIONARY, schemas)
