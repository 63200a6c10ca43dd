"""Shared fixtures of the derive tests: the demo design and a key-wise frame comparison."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from atopic.trial.design import Design, load_design

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "trial" / "design.toml"


@pytest.fixture(scope="session")
def design() -> Design:
    return load_design(EXAMPLE)


def by_key(frame: Any, keys: Sequence[str], column: str) -> dict[Any, Any]:
    """``{key tuple (or the single key): value of column}`` of an eager Polars frame."""
    out = {}
    for row in frame.iter_rows(named=True):
        key = tuple(row[k] for k in keys)
        out[key[0] if len(keys) == 1 else key] = row[column]
    assert len(out) == frame.height, "keys are not unique"
    return out


def frame(**columns: Any) -> pl.DataFrame:
    """A literal Polars frame (a shorthand for the tests)."""
    return pl.DataFrame(columns)
