"""The examples in docstrings and docs/diagnosis.md run, and every feature code is documented."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

from atopic.diagnosis import CRITERIA

DOC = Path(__file__).resolve().parents[2] / "docs" / "diagnosis.md"
MODULES = ["age", "result", "rules", "hanifin_rajka", "uk_working_party", "chinese", "dispatch"]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(f"atopic.diagnosis.{module}"))
    assert result.failed == 0


def test_docs_page_examples_run() -> None:
    result = doctest.testfile(str(DOC), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("name", list(CRITERIA))
def test_docs_page_names_every_criteria_set_and_feature_code(name: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    criteria = CRITERIA[name]
    assert f"`{name}`" in text
    assert criteria.source in text
    missing = [code for code in criteria.codes if f"`{code}`" not in text]
    assert missing == []
