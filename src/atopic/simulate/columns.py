"""Columns built from NumPy codes without a Python loop over rows.

Text columns of the synthetic tables repeat a few values many times (item codes, visit names,
dates, subject identifiers within a chunk), so they are built as dictionary-encoded Polars
Categorical columns from integer codes: four bytes a row instead of a string. ``as_strings``
turns them into ordinary String columns for callers that want plain text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
import pyarrow as pa

EPOCH = np.datetime64("1970-01-01", "D")


def categorical(name: str, codes: np.ndarray, categories: Sequence[str]) -> pl.Series:
    """A Categorical column whose row r is ``categories[codes[r]]`` (categories distinct)."""
    array = pa.DictionaryArray.from_arrays(
        pa.array(np.asarray(codes, dtype=np.uint32), type=pa.uint32()),
        pa.array(list(categories), type=pa.large_string()),
    )
    series = pl.from_arrow(array)
    assert isinstance(series, pl.Series)
    return series.alias(name)


def constant(name: str, value: str, n: int) -> pl.Series:
    """A Categorical column holding ``value`` on all ``n`` rows."""
    return categorical(name, np.zeros(n, dtype=np.uint32), [value])


def labels(name: str, slot: np.ndarray, texts: Sequence[str]) -> pl.Series:
    """Row r is ``texts[slot[r]]``; ``texts`` may repeat (they are made distinct first)."""
    unique, inverse = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
    return categorical(name, inverse[slot], [str(u) for u in unique])


def dates(
    name: str, days: np.ndarray, suffix: Sequence[str] | None = None, slot: np.ndarray | None = None
) -> pl.Series:
    """ISO 8601 dates of ``days`` (days since 1970-01-01), optionally followed by
    ``suffix[slot[r]]`` (a time such as ``"T10:00"``)."""
    days = np.asarray(days, dtype=np.int64)
    key = days if suffix is None else days * len(suffix) + np.asarray(slot)
    unique, inverse = np.unique(key, return_inverse=True)
    base = unique if suffix is None else unique // len(suffix)
    text = np.datetime_as_string(EPOCH + base.astype("timedelta64[D]"), unit="D").astype(object)
    if suffix is not None:
        text = text + np.asarray(suffix, dtype=object)[unique % len(suffix)]
    return categorical(name, inverse, [str(t) for t in text])


TENTHS_TEXT: tuple[str, ...] = tuple(
    str(t // 10) if t % 10 == 0 else f"{t // 10}.{t % 10}" for t in range(1001)
)
"""Text of every value 0, 0.1, ... 100 as entered (``wide_to_qs``: 1.5 -> "1.5", 2 -> "2")."""


def sequence(subject: np.ndarray, n_subjects: int) -> np.ndarray:
    """--SEQ: 1, 2, ... within each subject for rows sorted by subject."""
    counts = np.bincount(subject, minlength=n_subjects)
    starts = np.cumsum(counts) - counts
    return np.arange(len(subject), dtype=np.int64) - starts[subject] + 1


def as_strings(frame: pl.DataFrame) -> pl.DataFrame:
    """Every Categorical column as String."""
    return frame.with_columns(pl.col(pl.Categorical).cast(pl.String))
