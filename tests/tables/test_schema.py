"""Table declarations (atopic.tables.schema) and the declared tables as data."""

from __future__ import annotations

import narwhals as nw
import pytest

from atopic.tables import TABLES, Column, Table
from atopic.tables.schema import LABEL_MAX, NAME_MAX, number, text


@pytest.mark.parametrize("table", TABLES.values(), ids=list(TABLES))
def test_every_table_has_unique_column_names(table: Table) -> None:
    names = [c.name for c in table.columns]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("table", TABLES.values(), ids=list(TABLES))
def test_every_label_fits_in_40_characters_and_every_name_in_8(table: Table) -> None:
    assert len(table.label) <= LABEL_MAX
    for column in table.columns:
        assert 0 < len(column.label) <= LABEL_MAX, column.name
        assert len(column.name) <= NAME_MAX, column.name
        assert column.name.isupper() or column.family, column.name


@pytest.mark.parametrize("table", TABLES.values(), ids=list(TABLES))
def test_every_key_is_a_declared_plain_column(table: Table) -> None:
    for key in table.keys:
        assert table[key].family is None


@pytest.mark.parametrize("table", TABLES.values(), ids=list(TABLES))
def test_every_table_requires_its_subject_identifier(table: Table) -> None:
    assert table["USUBJID"].required
    assert table["STUDYID"].required


def test_table_refuses_two_columns_with_one_name() -> None:
    with pytest.raises(ValueError, match="duplicate column"):
        Table("T", "Test", (text("A", "A"), number("A", "B")), keys=())


def test_table_refuses_a_key_it_does_not_declare() -> None:
    with pytest.raises(ValueError, match="B is not a declared column"):
        Table("T", "Test", (text("A", "A"),), keys=("B",))


def test_column_lookup_prefers_the_exact_name_then_a_family() -> None:
    table = Table(
        "T",
        "Test",
        (text("CRIT1", "Exact"), text("CRITy", "Family", family=r"CRIT[1-9]")),
        keys=(),
    )
    assert table.column("CRIT1") is not None
    assert table["CRIT1"].label == "Exact"
    assert table["CRIT2"].label == "Family"
    assert table.column("CRIT10") is None
    assert table.column("CRITX") is None


def test_float_column_accepts_integers_but_integer_column_refuses_floats() -> None:
    assert number("AVAL", "Analysis Value").accepts_dtype(nw.Int32())
    assert Column("ADY", nw.Int64(), "Day").accepts_dtype(nw.Int32())
    assert not Column("ADY", nw.Int64(), "Day").accepts_dtype(nw.Float64())


def test_text_column_accepts_categorical_but_not_numbers() -> None:
    column = text("SEX", "Sex")
    assert column.accepts_dtype(nw.String())
    assert column.accepts_dtype(nw.Categorical())
    assert not column.accepts_dtype(nw.Int64())


def test_table_repr_says_what_it_is() -> None:
    assert repr(TABLES["DM"]) == "<Table DM (Demographics): 11 columns>"
