"""Hypothesis: small frames generated from the declarations (any declared table, any subset of
its columns in declared order, values within the declarations' and the format's limits, nulls
anywhere) come back from XPT and Dataset-JSON exactly, with their labels; text beyond XPT's limits
is refused, naming the column."""

from __future__ import annotations

import re
import string
import tempfile
from pathlib import Path
from typing import Any

import narwhals as nw
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from atopic.errors import InvalidInput
from atopic.interop.cdisc import (
    DECLARATIONS,
    read_dataset_json,
    read_xpt,
    write_dataset_json,
    write_xpt,
)
from atopic.interop.cdisc.metadata import family_label
from atopic.interop.cdisc.xpt import (
    DATE_MAX,
    DATE_MIN,
    INTEGER_MAX,
    NUMBER_MAX,
    NUMBER_MIN,
    TEXT_MAX,
)
from atopic.tables.schema import Column

PRINTABLE = string.ascii_letters + string.digits + string.punctuation + " "


def _xpt_text(limit: int) -> st.SearchStrategy[str]:
    """Printable ASCII that XPT holds exactly: not blank, no trailing blank."""
    return st.text(PRINTABLE, min_size=1, max_size=limit).map(str.rstrip).filter(bool)


def _json_text(limit: int) -> st.SearchStrategy[str]:
    return st.text(max_size=limit)


def _member(column: Column, number: int) -> str:
    """A real name of a family column (``CRITy`` -> ``CRIT3``, ``ANLzzFL`` -> ``ANL03FL``)."""
    if column.family is None:
        return column.name
    width = 2 if "zz" in column.name else 1
    return re.sub(r"[a-z]+", f"{number:0{width}d}", column.name, count=1)


def _values(column: Column, xpt: bool) -> st.SearchStrategy[Any]:
    if column.dtype == nw.String:
        if column.allowed is not None:
            values: st.SearchStrategy[Any] = st.sampled_from(column.allowed)
        elif column.iso8601:
            values = st.dates(DATE_MIN, DATE_MAX).map(
                lambda d: d.isoformat()[: 4 + 3 * (d.day % 3)]
            )
        else:
            limit = min(column.max_length or TEXT_MAX, TEXT_MAX)
            values = _xpt_text(limit) if xpt else _json_text(limit)
    elif column.dtype.is_integer():
        values = st.integers(-INTEGER_MAX, INTEGER_MAX)
    elif column.dtype.is_numeric():
        magnitude = st.floats(NUMBER_MIN, NUMBER_MAX)
        values = st.one_of(st.just(0.0), magnitude, magnitude.map(lambda x: -x))
        if not xpt:
            values = st.floats(allow_nan=False, allow_infinity=False)
    else:
        values = st.dates(DATE_MIN, DATE_MAX)
    return st.one_of(st.none(), values)


_TYPES = {"string": pl.String, "integer": pl.Int64, "float": pl.Float64, "date": pl.Date}


def _polars_type(column: Column) -> type[pl.DataType]:
    if column.dtype == nw.String:
        return pl.String
    if column.dtype.is_integer():
        return pl.Int64
    if column.dtype.is_numeric():
        return pl.Float64
    return pl.Date


@st.composite
def declared_frames(draw: st.DrawFn, xpt: bool) -> tuple[str, pl.DataFrame, dict[str, str]]:
    """(table name, frame, expected label per column)."""
    name = draw(st.sampled_from(sorted(DECLARATIONS)))
    table = DECLARATIONS[name]
    chosen = [c for c in table.columns if draw(st.booleans())] or [table.columns[0]]
    rows = draw(st.integers(0, 4))
    data: dict[str, list[Any]] = {}
    schema: dict[str, type[pl.DataType]] = {}
    labels: dict[str, str] = {}
    for column in chosen:
        real = _member(column, draw(st.integers(1, 9)))
        data[real] = draw(st.lists(_values(column, xpt), min_size=rows, max_size=rows))
        schema[real] = _polars_type(column)
        labels[real] = family_label(column, real)
    return name, pl.DataFrame(data, schema=schema), labels


@settings(max_examples=150, deadline=None)
@given(declared_frames(xpt=True))
def test_generated_frames_round_trip_through_xpt(
    case: tuple[str, pl.DataFrame, dict[str, str]],
) -> None:
    name, frame, labels = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.xpt"
        text_only = all(dtype == pl.String for dtype in frame.schema.values())
        if text_only and frame.height and all(v is None for v in frame.row(-1)):
            with pytest.raises(InvalidInput, match="padding"):
                write_xpt(frame, path, name)
            return
        write_xpt(frame, path, name)
        back = read_xpt(path)
    assert_frame_equal(back.frame, frame)
    assert back.labels == labels
    assert (back.name, back.label) == (name, DECLARATIONS[name].label)


@settings(max_examples=150, deadline=None)
@given(declared_frames(xpt=False))
def test_generated_frames_round_trip_through_dataset_json(
    case: tuple[str, pl.DataFrame, dict[str, str]],
) -> None:
    name, frame, labels = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.json"
        write_dataset_json(frame, path, name)
        back = read_dataset_json(path)
    assert_frame_equal(back.frame, frame)
    assert back.labels == labels


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["AETERM", "AEDECOD", "AEREL"]),
    st.text(PRINTABLE, min_size=TEXT_MAX + 1, max_size=TEXT_MAX + 50).map(
        lambda s: "x" + s.strip() + "x"
    ),
)
def test_text_longer_than_200_bytes_is_refused_naming_the_column(column: str, text: str) -> None:
    frame = pl.DataFrame({"STUDYID": ["S1"], column: [text]})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ae.xpt"
        with pytest.raises(InvalidInput) as caught:
            write_xpt(frame, path, "AE")
        assert (caught.value.subject, caught.value.field) == ("AE row 1", column)
        assert "200 bytes" in caught.value.allowed
        assert caught.value.value == text
        assert not path.exists()
