"""Variable metadata of a dataset as the CDISC formats need it: name, label, kind, length, keys,
controlled terms.

A ``DatasetSpec`` is built from a frame and (when the dataset is declared in ``atopic.tables``)
its declaration. The *frame* decides each variable's kind, so what is written is what comes back:

* ``string``: String, Categorical and Enum columns (read back as String);
* ``integer``: any integer column (read back as Int64);
* ``float``: Float32/Float64 (read back as Float64);
* ``date``: Date columns (ADaM ``*DT``), written as SAS dates / ISO 8601 dates.

A column of the Null type (every value missing, no type) takes its declared type, or ``string``
when undeclared. Other types (Boolean, Datetime, nested) are refused: the tables declare none.

Labels come from the declaration; a member of a numbered family gets its number put in
(``CRITy`` "Analysis Criterion y" -> ``CRIT2`` "Analysis Criterion 2"). Undeclared columns take
the label passed in ``labels`` or, failing that, a known SDTM label (``EXTRA_LABELS``), or their
own name. Keys are the declaration's keys present in the frame, numbered in declaration order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import narwhals as nw
import polars as pl

from atopic.errors import Described, InvalidInput
from atopic.tables.analysis import ANALYSIS
from atopic.tables.collected import COLLECTED
from atopic.tables.schema import Column, Table

Kind = Literal["string", "integer", "float", "date"]

DECLARATIONS: dict[str, Table] = {**COLLECTED, **ANALYSIS}
"""Every declared table by name: the collected tables (DM, EX, QS, LB, AE, CM, DS) and the
analysis tables (ADSL, BDS, ADAE)."""

EXTRA_LABELS: dict[str, str] = {
    "SUBJID": "Subject Identifier for the Study",
}
"""SDTMIG labels of variables the registry exports beyond the declarations."""


@dataclass(frozen=True)
class Variable:
    """One variable of a dataset: ``name``, ``label``, ``kind``, ``length`` (the longest value in
    characters for strings, at least 1; 8 bytes for numbers and dates), ``key`` (its position
    among the keys, 1-based, or None), ``iso8601`` (SDTM ``--DTC`` text), ``required`` and
    ``allowed`` (the declaration's controlled terms, or None)."""

    name: str
    label: str
    kind: Kind
    length: int
    digits: int | None = None
    key: int | None = None
    iso8601: bool = False
    required: bool = False
    allowed: tuple[str, ...] | tuple[float, ...] | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset's metadata: ``name``, ``label``, ``variables`` in frame order and the
    declaration it was built from (None for an undeclared dataset)."""

    name: str
    label: str
    variables: tuple[Variable, ...]
    table: Table | None

    @property
    def names(self) -> tuple[str, ...]:
        """The variable names in order."""
        return tuple(v.name for v in self.variables)

    @property
    def labels(self) -> dict[str, str]:
        """Label by variable name."""
        return {v.name: v.label for v in self.variables}


def family_label(column: Column, name: str) -> str:
    """The label of ``name``, a member of ``column``'s family: the placeholder letters of the
    declared name (``y`` in ``CRITy``) replaced in the label by the member's number
    (``CRIT12`` -> "Analysis Criterion 12"). Non-family columns keep their label."""
    if column.family is None:
        return column.label
    placeholder = re.search(r"[a-z]+", column.name)
    if placeholder is None:
        return column.label
    head, tail = column.name[: placeholder.start()], column.name[placeholder.end() :]
    found = re.fullmatch(re.escape(head) + r"([0-9]+)" + re.escape(tail), name)
    if found is None:
        return column.label
    return re.sub(rf"\b{placeholder.group()}\b", found.group(1), column.label, count=1)


def kind_of(dtype: pl.DataType, column: Column | None, subject: str, name: str) -> Kind:
    """The kind of a frame column of Polars type ``dtype`` (see the module docstring)."""
    if dtype == pl.Null:
        if column is None or column.dtype == nw.String:
            return "string"
        if column.dtype.is_integer():
            return "integer"
        if column.dtype.is_numeric():
            return "float"
        if column.dtype == nw.Date:
            return "date"
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return "string"
    if dtype.is_integer():
        return "integer"
    if dtype.is_float():
        return "float"
    if dtype == pl.Date:
        return "date"
    raise InvalidInput(
        subject,
        name,
        Described(f"a column of type {dtype}"),
        "text, whole numbers, numbers or dates (the types CDISC transport files hold)",
    )


def dataset_spec(
    frame: pl.DataFrame,
    name: str,
    *,
    label: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> DatasetSpec:
    """The metadata of ``frame`` written as dataset ``name`` (a declared table name such as
    ``"DM"`` or ``"ADSL"``, or any other name; then ``label`` is needed, else the name is used).
    ``labels`` overrides or adds variable labels."""
    table = DECLARATIONS.get(name)
    labels = dict(labels or {})
    dataset_label = label if label is not None else (table.label if table else name)
    keys = [k for k in (table.keys if table else ()) if k in frame.columns]
    variables = []
    for column_name, dtype in frame.schema.items():
        column = table.column(column_name) if table else None
        kind = kind_of(dtype, column, name, column_name)
        if column_name in labels:
            var_label = labels[column_name]
        elif column is not None:
            var_label = family_label(column, column_name)
        else:
            var_label = EXTRA_LABELS.get(column_name, column_name)
        length, digits = 8, None
        values = frame.get_column(column_name)
        if kind == "string":
            longest = values.cast(pl.String).str.len_chars().max()
            length = max(1, int(longest or 0))  # type: ignore[arg-type]
        elif kind == "integer":
            largest = values.cast(pl.Int64).abs().max()
            length = len(str(largest)) if largest is not None else 1
        elif kind == "float":
            digits = _decimals(values)
        variables.append(
            Variable(
                name=column_name,
                label=var_label,
                kind=kind,
                length=length,
                digits=digits,
                key=keys.index(column_name) + 1 if column_name in keys else None,
                iso8601=bool(column and column.iso8601),
                required=bool(column and column.required),
                allowed=column.allowed if column is not None else None,
            )
        )
    return DatasetSpec(name, dataset_label, tuple(variables), table)


POLARS_TYPES: dict[Kind, pl.DataType] = {
    "string": pl.String(),
    "integer": pl.Int64(),
    "float": pl.Float64(),
    "date": pl.Date(),
}
"""The Polars type each kind reads back as."""


def _decimals(values: pl.Series) -> int:
    """The most decimal places any finite value of ``values`` shows in its shortest form (``0.25``
    2, ``1e-05`` 5, ``3.0`` 0), at most 17."""
    most = 0
    for value in values.cast(pl.Float64).drop_nulls().drop_nans().unique().to_list():
        if value != value or value in (float("inf"), float("-inf")):
            continue
        mantissa, _, exponent = repr(value).partition("e")
        places = len(mantissa.partition(".")[2].rstrip("0")) - int(exponent or 0)
        most = max(most, places)
    return min(most, 17)
