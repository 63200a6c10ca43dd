"""Dataset-JSON v1.1: the attributes the specification requires, in its order; the demo trial's
tables round trip exactly, null and "" stay distinct, ADaM dates are ISO dates with targetDataType
integer (doc/dataset-json1-1.md of cdisc-org/DataExchange-DatasetJson)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from atopic.errors import InvalidInput
from atopic.interop.cdisc import DECLARATIONS, read_dataset_json, write_dataset_json

TOP_LEVEL_ORDER = [
    "datasetJSONCreationDateTime",
    "datasetJSONVersion",
    "fileOID",
    "originator",
    "sourceSystem",
    "studyOID",
    "metaDataVersionOID",
    "metaDataRef",
    "itemGroupOID",
    "records",
    "name",
    "label",
    "columns",
    "rows",
]
"""The specification's attribute order (dbLastModifiedDateTime, which atopic omits, left out)."""
COLUMN_ORDER = [
    "itemOID",
    "name",
    "label",
    "dataType",
    "targetDataType",
    "length",
    "displayFormat",
    "keySequence",
]


@pytest.mark.parametrize("name", ["DM", "EX", "QS", "LB", "AE", "ADSL", "BDS", "ADAE"])
def test_demo_tables_round_trip_exactly(
    name: str,
    collected: dict[str, pl.DataFrame],
    analysis: dict[str, pl.DataFrame],
    tmp_path: Path,
) -> None:
    frame = {**collected, **analysis}[name]
    spec = write_dataset_json(frame, tmp_path / "d.json", name, study="ATO-MSC-201")
    back = read_dataset_json(tmp_path / "d.json")
    assert_frame_equal(back.frame, frame)
    assert (back.name, back.label) == (name, DECLARATIONS[name].label)
    assert back.labels == spec.labels


def test_attributes_follow_the_specification(
    analysis: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    write_dataset_json(
        analysis["ADSL"], tmp_path / "adsl.json", "ADSL", study="S1", define="define.xml"
    )
    document = json.loads((tmp_path / "adsl.json").read_text())
    assert list(document) == TOP_LEVEL_ORDER
    assert document["datasetJSONVersion"] == "1.1.0"
    assert document["itemGroupOID"] == "IG.ADSL"
    assert document["records"] == len(document["rows"]) == analysis["ADSL"].height
    assert document["metaDataRef"] == "define.xml"
    dt.datetime.fromisoformat(document["datasetJSONCreationDateTime"])
    for column in document["columns"]:
        keys = list(column)
        assert keys == [k for k in COLUMN_ORDER if k in column]
        assert column["itemOID"] == f"IT.ADSL.{column['name']}"
        assert {"itemOID", "name", "label", "dataType"} <= set(keys)
    keyed = sorted((c["keySequence"], c["name"]) for c in document["columns"] if "keySequence" in c)
    assert [name for _, name in keyed] == list(DECLARATIONS["ADSL"].keys)


def test_adam_dates_are_iso_dates_with_target_type_integer(
    analysis: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    write_dataset_json(analysis["ADAE"], tmp_path / "adae.json", "ADAE")
    document = json.loads((tmp_path / "adae.json").read_text())
    astdt = next(c for c in document["columns"] if c["name"] == "ASTDT")
    assert (astdt["dataType"], astdt["targetDataType"], astdt["displayFormat"]) == (
        "date",
        "integer",
        "DATE9.",
    )
    position = [c["name"] for c in document["columns"]].index("ASTDT")
    first = analysis["ADAE"].get_column("ASTDT")[0]
    assert document["rows"][0][position] == first.isoformat()


def test_dtc_variables_are_datetime_text(
    collected: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    write_dataset_json(collected["QS"], tmp_path / "qs.json", "QS")
    columns = {c["name"]: c for c in json.loads((tmp_path / "qs.json").read_text())["columns"]}
    assert columns["QSDTC"]["dataType"] == "datetime"
    assert "targetDataType" not in columns["QSDTC"]
    assert columns["QSSEQ"]["dataType"] == "integer"
    assert columns["QSSTRESN"]["dataType"] == "double"
    longest = collected["QS"].get_column("QSTEST").str.len_chars().max()
    assert columns["QSTEST"]["length"] == longest


def test_null_and_empty_text_stay_distinct_and_unicode_survives(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "STUDYID": ["S1", "S1", "S1"],
            "AETERM": [None, "", "Ekzem am Fuß  "],
            "AESEQ": [None, 2, -(2**62)],
            "ASTDT": [None, dt.date(1, 1, 1), dt.date(9999, 12, 31)],
            "AVAL": [None, 0.1, -1e-300],
        }
    )
    write_dataset_json(frame, tmp_path / "adae.json", "ADAE")
    assert_frame_equal(read_dataset_json(tmp_path / "adae.json").frame, frame)


def test_nan_is_refused_by_row_and_column(tmp_path: Path) -> None:
    frame = pl.DataFrame({"STUDYID": ["S1", "S1"], "AVAL": [1.0, float("nan")]})
    with pytest.raises(InvalidInput) as caught:
        write_dataset_json(frame, tmp_path / "bds.json", "BDS")
    assert (caught.value.subject, caught.value.field) == ("BDS row 2", "AVAL")
    assert "JSON has no NaN" in caught.value.allowed


def _document(tmp_path: Path) -> dict:
    frame = pl.DataFrame({"STUDYID": ["S1"], "AGE": [30.0]})
    write_dataset_json(frame, tmp_path / "dm.json", "DM")
    return json.loads((tmp_path / "dm.json").read_text())


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(datasetJSONVersion="1.0.0"), "datasetJSONVersion"),
        (lambda d: d.update(records=5), "records"),
        (lambda d: d.pop("itemGroupOID"), "itemGroupOID"),
        (lambda d: d["columns"][1].update(dataType="boolean"), "AGE dataType"),
        (lambda d: d["rows"][0].__setitem__(1, "thirty"), "rows"),
    ],
)
def test_files_that_break_the_specification_are_refused(change, field: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    document = _document(tmp_path)
    change(document)
    (tmp_path / "dm.json").write_text(json.dumps(document))
    with pytest.raises(InvalidInput) as caught:
        read_dataset_json(tmp_path / "dm.json")
    assert caught.value.field == field


def test_float_values_come_back_bit_for_bit(tmp_path: Path) -> None:
    values = [1 / 3, 0.1 + 0.2, 5e-324, 1.7976931348623157e308, -0.0]
    frame = pl.DataFrame({"STUDYID": ["S"] * len(values), "AVAL": values})
    write_dataset_json(frame, tmp_path / "bds.json", "BDS")
    back = read_dataset_json(tmp_path / "bds.json").frame["AVAL"].to_list()
    assert [v.hex() for v in back] == [v.hex() for v in values]
