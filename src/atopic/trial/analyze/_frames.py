"""Input checks shared by the binary, ANCOVA, biomarker and imputation methods.

Frames come in as Polars (the default) or anything Narwhals reads (pandas, PyArrow ...); they are
converted once to Polars here. Every refusal is an ``InvalidInput`` naming the column and value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import narwhals as nw
import polars as pl

from atopic.errors import Described, InvalidInput


def to_polars(data: Any, subject: str) -> pl.DataFrame:
    """The frame as Polars; pandas, PyArrow and other Narwhals-readable frames are converted."""
    if isinstance(data, pl.DataFrame):
        return data
    try:
        return nw.from_native(data, eager_only=True).to_polars()
    except TypeError as exc:
        raise InvalidInput(
            subject, "data", Described(type(data).__name__), "a Polars or pandas data frame"
        ) from exc


def require_columns(frame: pl.DataFrame, subject: str, columns: Sequence[str]) -> None:
    """Raise ``InvalidInput`` naming the first column the frame lacks."""
    for column in columns:
        if column not in frame.columns:
            raise InvalidInput(
                subject,
                column,
                Described("no such column"),
                f"a column of the data {frame.columns}",
            )


def check_conf_level(conf_level: float, subject: str) -> float:
    """The confidence level as a float strictly between 0 and 1."""
    if (
        isinstance(conf_level, bool)
        or not isinstance(conf_level, int | float)
        or not math.isfinite(conf_level)
        or not 0 < conf_level < 1
    ):
        raise InvalidInput(subject, "conf_level", conf_level, "a number strictly between 0 and 1")
    return float(conf_level)


def no_nulls(frame: pl.DataFrame, subject: str, columns: Sequence[str]) -> None:
    """Raise ``InvalidInput`` for the first null in a column that must be complete."""
    for column in columns:
        nulls = frame.get_column(column).is_null()
        if nulls.any():
            row = int(nulls.arg_true()[0])
            raise InvalidInput(
                subject, f"{column} (row {row})", None, "present for every analysed subject"
            )


def check_control(groups: Sequence[str], control: str, subject: str, column: str) -> None:
    """Raise ``InvalidInput`` unless the control arm is one of the groups present."""
    if control not in groups:
        raise InvalidInput(subject, f"control ({column})", control, f"one of {sorted(groups)}")


def ordered_groups(present: Sequence[str], control: str, order: Sequence[str] | None) -> list[str]:
    """Control first, then ``order`` (or sorted) for the other arms present."""
    others = [g for g in present if g != control]
    if order is None:
        return [control, *sorted(others)]
    ranked = [g for g in order if g in others]
    return [control, *ranked, *sorted(set(others) - set(ranked))]


def stratum_labels(frame: pl.DataFrame, strata: Sequence[str]) -> list[str]:
    """One text label per row for the crossed levels of the strata columns (``"EU/4"``)."""
    if not strata:
        return ["all"] * frame.height
    parts = [frame.get_column(s).cast(pl.String).to_list() for s in strata]
    return ["/".join(values) for values in zip(*parts, strict=True)]
