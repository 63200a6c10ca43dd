"""SAS transport v5: the demo trial's collected and derived tables come back exactly (types,
labels, missing values, column order); what v5 cannot hold is refused by name, never truncated."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from atopic.errors import InvalidInput
from atopic.interop.cdisc import DECLARATIONS, read_xpt, write_xpt
from atopic.interop.cdisc.xpt import INTEGER_MAX, LABEL_MAX, TEXT_MAX


@pytest.mark.parametrize("name", ["DM", "EX", "QS", "LB", "AE"])
def test_collected_tables_of_the_demo_trial_round_trip_exactly(
    name: str, collected: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    frame = collected[name]
    write_xpt(frame, tmp_path / f"{name}.xpt", name)
    back = read_xpt(tmp_path / f"{name}.xpt")
    assert_frame_equal(back.frame, frame)
    assert back.name == name
    assert back.label == DECLARATIONS[name].label
    for column in frame.columns:
        declared = DECLARATIONS[name].column(column)
        if declared is not None:
            assert back.labels[column] == declared.label


@pytest.mark.parametrize("name", ["ADSL", "BDS", "ADAE"])
def test_derived_analysis_tables_round_trip_exactly(
    name: str, analysis: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    frame = analysis[name]
    spec = write_xpt(frame, tmp_path / f"{name}.xpt", name)
    back = read_xpt(tmp_path / f"{name}.xpt")
    assert_frame_equal(back.frame, frame)
    assert back.labels == spec.labels
    assert list(back.frame.columns) == list(frame.columns)


def test_family_members_get_numbered_labels(
    analysis: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    write_xpt(analysis["BDS"], tmp_path / "bds.xpt", "BDS")
    labels = read_xpt(tmp_path / "bds.xpt").labels
    assert labels["CRIT1"] == "Analysis Criterion 1"
    assert labels["CRIT2FL"] == "Criterion 2 Evaluation Result Flag"
    assert labels["ANL01FL"] == "Analysis Flag 01"


def test_adam_dates_are_sas_dates_with_date9_and_dtc_stays_text(
    collected: dict[str, pl.DataFrame], analysis: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    import pyreadstat

    write_xpt(analysis["ADSL"], tmp_path / "adsl.xpt", "ADSL")
    raw, meta = pyreadstat.read_xport(str(tmp_path / "adsl.xpt"), disable_datetime_conversion=True)
    assert meta.original_variable_types["TRTSDT"] == "DATE9"
    assert meta.readstat_variable_types["TRTSDT"] == "double"
    first = analysis["ADSL"].get_column("TRTSDT").drop_nulls()[0]
    assert raw["TRTSDT"].dropna().iloc[0] == (first - dt.date(1960, 1, 1)).days
    write_xpt(collected["AE"], tmp_path / "ae.xpt", "AE")
    _, meta = pyreadstat.read_xport(str(tmp_path / "ae.xpt"), metadataonly=True)
    assert meta.readstat_variable_types["AESTDTC"] == "string"


def test_character_lengths_are_the_longest_value(
    collected: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    frame = collected["QS"]
    write_xpt(frame, tmp_path / "qs.xpt", "QS")
    lengths = read_xpt(tmp_path / "qs.xpt").lengths
    for column, dtype in frame.schema.items():
        if dtype == pl.String:
            longest = frame.get_column(column).str.len_bytes().max() or 1
            assert lengths[column] == longest, column
        else:
            assert lengths[column] == 8


def test_missing_values_of_every_type_come_back_as_null(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "STUDYID": ["S1", "S1", "S1"],
            "USUBJID": ["S1-1", "S1-2", "S1-3"],
            "TRTSDT": [dt.date(2026, 1, 5), None, dt.date(1959, 12, 31)],
            "TRT01PN": [1, None, 3],
            "AGE": [34.5, None, 0.25],
            "TRT01A": [None, "Placebo", None],
        }
    )
    write_xpt(frame, tmp_path / "adsl.xpt", "ADSL")
    assert_frame_equal(read_xpt(tmp_path / "adsl.xpt").frame, frame)


def test_whole_numbers_and_numbers_keep_their_types(tmp_path: Path) -> None:
    frame = pl.DataFrame({"STUDYID": ["S"], "AVAL": [3.0], "ADY": [3], "AWLO": [-(2**53)]})
    write_xpt(frame, tmp_path / "bds.xpt", "BDS")
    back = read_xpt(tmp_path / "bds.xpt").frame
    assert back.schema == {
        "STUDYID": pl.String,
        "AVAL": pl.Float64,
        "ADY": pl.Int64,
        "AWLO": pl.Int64,
    }
    assert_frame_equal(back, frame)


def test_an_empty_table_keeps_its_columns_and_types(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        schema={"STUDYID": pl.String, "AESEQ": pl.Int64, "ASTDT": pl.Date, "AVAL": pl.Float64}
    )
    write_xpt(frame, tmp_path / "adae.xpt", "ADAE")
    assert_frame_equal(read_xpt(tmp_path / "adae.xpt").frame, frame)


def test_a_column_with_no_type_takes_its_declared_type(tmp_path: Path) -> None:
    frame = pl.DataFrame({"STUDYID": ["S"], "TRTSDT": [None], "SUBJID": [None]})
    assert frame.schema["TRTSDT"] == pl.Null
    write_xpt(frame, tmp_path / "adsl.xpt", "ADSL")
    back = read_xpt(tmp_path / "adsl.xpt").frame
    assert back.schema == {"STUDYID": pl.String, "TRTSDT": pl.Date, "SUBJID": pl.String}


def test_categorical_text_is_written_as_text(tmp_path: Path) -> None:
    frame = pl.DataFrame({"SEX": ["F", "M"]}, schema={"SEX": pl.Categorical})
    write_xpt(frame, tmp_path / "dm.xpt", "DM")
    assert read_xpt(tmp_path / "dm.xpt").frame["SEX"].to_list() == ["F", "M"]


REFUSED = [
    ("AETERM", "x" * (TEXT_MAX + 1), f"at most {TEXT_MAX} bytes"),
    ("AETERM", "Ekzem am Fuß", "printable ASCII"),
    ("AETERM", "", "one character missing value"),
    ("AETERM", "   ", "one character missing value"),
    ("AETERM", "Pruritus  ", "trailing blanks"),
    ("AETERM", "tab\there", "printable ASCII"),
    ("AESEQ", INTEGER_MAX + 1, "2^53"),
    ("AVAL", float("nan"), "finite number"),
    ("AVAL", float("inf"), "finite number"),
    ("AVAL", 1e75, "IBM floating point range"),
    ("AVAL", 1e-80, "IBM floating point range"),
    ("ASTDT", dt.date(1500, 1, 1), "SAS dates"),
]


@pytest.mark.parametrize(("column", "value", "limit"), REFUSED)
def test_values_xpt_cannot_hold_are_refused_by_row_column_and_limit(
    column: str, value: object, limit: str, tmp_path: Path
) -> None:
    frame = pl.DataFrame({"STUDYID": ["S1", "S1"], column: [None, value]}, strict=False)
    path = tmp_path / "adae.xpt"
    with pytest.raises(InvalidInput) as caught:
        write_xpt(frame, path, "ADAE")
    error = caught.value
    assert error.subject == "ADAE row 2"
    assert error.field == column
    assert limit in error.allowed
    assert not path.exists()


def test_text_is_refused_not_truncated_with_the_value_in_the_message(tmp_path: Path) -> None:
    long = "A" * 150 + "é" * 30  # 180 characters, 210 bytes: too long in bytes, not in characters
    frame = pl.DataFrame({"STUDYID": ["S1"], "AETERM": [long]})
    with pytest.raises(InvalidInput, match="printable ASCII") as caught:
        write_xpt(frame, tmp_path / "ae.xpt", "AE")
    assert long in caught.value.message


@pytest.mark.parametrize(
    ("frame", "name", "labels", "field"),
    [
        (pl.DataFrame({"LONGNAME9": [1]}), "AE", None, "variable name"),
        (pl.DataFrame({"1ST": [1]}), "AE", None, "variable name"),
        (pl.DataFrame({"A": [1]}), "ADVERYLONG", None, "dataset name"),
        (pl.DataFrame({"AETERM": ["x"]}), "AE", {"AETERM": "L" * (LABEL_MAX + 1)}, "AETERM label"),
        (pl.DataFrame({"AETERM": ["x"]}), "AE", {"AETERM": "Schweregrad (Ärztin)"}, "AETERM label"),
    ],
)
def test_names_and_labels_xpt_cannot_hold_are_refused(
    frame: pl.DataFrame, name: str, labels: dict[str, str] | None, field: str, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput) as caught:
        write_xpt(frame, tmp_path / "x.xpt", name, labels=labels)
    assert caught.value.field == field
    assert "SAS transport v5" in caught.value.allowed


def test_types_cdisc_files_cannot_hold_are_refused(tmp_path: Path) -> None:
    frame = pl.DataFrame({"STUDYID": ["S"], "FLAG": [True]})
    with pytest.raises(InvalidInput, match="FLAG must be text, whole numbers, numbers or dates"):
        write_xpt(frame, tmp_path / "dm.xpt", "DM")


def test_every_declaration_fits_xpt_names_and_labels() -> None:
    """Every declared name is at most 8 characters and every label at most 40 of ASCII, so every
    declared column can be written (family placeholders are checked through a member)."""
    for table in DECLARATIONS.values():
        assert len(table.name) <= 8
        assert len(table.label) <= LABEL_MAX
        for column in table.columns:
            assert column.label.isascii(), column.name
            assert len(column.label) <= LABEL_MAX, column.name
            assert len(column.name) <= 8 or column.family is not None, column.name


def test_a_last_row_of_blanks_in_an_all_text_dataset_is_refused(tmp_path: Path) -> None:
    """ReadStat (like SAS) takes trailing all-blank records for the file's padding."""
    frame = pl.DataFrame({"STUDYID": ["S1", None], "AETERM": ["Pruritus", None]})
    with pytest.raises(
        InvalidInput, match="AE row 2 STUDYID, AETERM must be a value in the last row"
    ):
        write_xpt(frame, tmp_path / "ae.xpt", "AE")
    with_number = frame.with_columns(pl.Series("AESEQ", [1, None]))
    write_xpt(with_number, tmp_path / "ae.xpt", "AE")
    assert_frame_equal(read_xpt(tmp_path / "ae.xpt").frame, with_number)
