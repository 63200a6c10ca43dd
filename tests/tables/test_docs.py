"""docs/tables.md: its examples run and print what the page says."""

from __future__ import annotations

import doctest
from pathlib import Path

import atopic.tables

PAGE = Path(__file__).resolve().parents[2] / "docs" / "tables.md"


def test_docs_tables_examples_run_as_written() -> None:
    result = doctest.testfile(str(PAGE), module_relative=False, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0


def test_docs_tables_names_every_public_function_and_table() -> None:
    text = PAGE.read_text()
    missing = [name for name in atopic.tables.__all__ if name not in text]
    assert set(missing) <= {"Column", "Problem", "Table", "WideTable"}


def test_validate_table_docstring_example_runs() -> None:
    result = doctest.testmod(atopic.tables.validate, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
