"""Fixtures: the instrument declarations as data and the synthetic example in examples/redcap/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from atopic.cli_import import instrument_schemas
from atopic.interop.redcap import Field, read_dictionary

EXAMPLE = Path(__file__).parents[3] / "examples" / "redcap"


@pytest.fixture(scope="session")
def schemas() -> list[dict[str, Any]]:
    return instrument_schemas()


@pytest.fixture(scope="session")
def example_dictionary() -> dict[str, Field]:
    return read_dictionary(EXAMPLE / "dictionary.csv")
