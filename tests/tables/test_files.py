"""atopic.tables.files.read_tables: files as DataFrames, folders of Parquet parts as LazyFrames."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from atopic.errors import InvalidInput
from atopic.tables.collected import COLLECTED
from atopic.tables.files import read_tables

DM = pl.DataFrame(
    {
        "STUDYID": ["S1"] * 3,
        "USUBJID": ["S1-001", "S1-002", "S1-003"],
        "SITEID": ["01", "01", "02"],
        "AGE": [34.0, 51.0, 27.0],
        "SEX": ["F", "M", "F"],
    }
)


def test_a_parquet_file_is_read_as_a_dataframe(tmp_path: Path) -> None:
    DM.write_parquet(tmp_path / "dm.parquet")
    read = read_tables(tmp_path, COLLECTED)
    assert set(read) == {"DM"}
    assert isinstance(read["DM"], pl.DataFrame)
    assert read["DM"].equals(DM)


def test_a_csv_file_is_cast_to_the_declared_types(tmp_path: Path) -> None:
    DM.write_csv(tmp_path / "DM.csv")
    read = read_tables(tmp_path, COLLECTED)["DM"]
    assert isinstance(read, pl.DataFrame)
    assert read.schema["AGE"] == pl.Float64
    assert read.equals(DM)


def test_a_folder_of_parquet_parts_is_one_lazy_table_in_part_order(tmp_path: Path) -> None:
    (tmp_path / "dm").mkdir()
    DM.slice(2).write_parquet(tmp_path / "dm" / "part-00001.parquet")
    DM.slice(0, 2).write_parquet(tmp_path / "dm" / "part-00000.parquet")
    (tmp_path / "dm" / "notes.txt").write_text("not a part")
    read = read_tables(tmp_path, COLLECTED)["DM"]
    assert isinstance(read, pl.LazyFrame)
    assert read.collect().equals(DM)


def test_a_file_wins_over_a_folder_of_the_same_table(tmp_path: Path) -> None:
    (tmp_path / "dm").mkdir()
    DM.slice(0, 1).write_parquet(tmp_path / "dm" / "part-00000.parquet")
    DM.write_parquet(tmp_path / "dm.parquet")
    read = read_tables(tmp_path, COLLECTED)["DM"]
    assert isinstance(read, pl.DataFrame)
    assert read.height == 3


def test_a_table_folder_without_parts_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "qs").mkdir()
    with pytest.raises(InvalidInput) as error:
        read_tables(tmp_path, COLLECTED)
    assert error.value.field == "folder"
    assert str(tmp_path / "qs") in error.value.message
    assert "part-00000.parquet" in error.value.message


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as error:
        read_tables(tmp_path / "nowhere", COLLECTED)
    assert error.value.field == "folder"
