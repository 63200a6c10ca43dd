"""The examples in docs/instruments.md and in the instruments' docstrings run as written."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import atopic.instruments

DOCS = Path(__file__).parents[2] / "docs" / "instruments.md"
MODULES = sorted(m.name for m in pkgutil.iter_modules(atopic.instruments.__path__))


def test_docs_examples_run() -> None:
    result = doctest.testfile(str(DOCS), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(f"atopic.instruments.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_every_instrument_is_in_the_docs_table() -> None:
    text = DOCS.read_text()
    for name in atopic.instruments.INSTRUMENTS:
        assert f"| `{name}` |" in text
