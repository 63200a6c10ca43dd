"""SAS transport v5 (XPT) files, written and read through pyreadstat (ReadStat).

XPT v5 is the format FDA and PMDA accept for submission datasets. What it can hold, and what
atopic refuses (``InvalidInput`` naming the dataset, row, column, value and the limit) rather
than truncate or change:

* names of the dataset and its variables: at most 8 characters, a letter or underscore first,
  then letters, digits or underscores (``NAME_PATTERN``);
* dataset and variable labels: at most 40 characters of printable ASCII;
* character values: printable ASCII (space to ``~``; v5 records no encoding), at most 200 bytes,
  no trailing blanks (SAS pads with blanks and drops them on reading), and never empty or blank:
  SAS has one character missing value, the blank, so ``""`` would come back as null. Write a null
  for a missing value;
* numbers: IBM double precision, with a 56-bit mantissa that holds every IEEE double exactly
  between ``NUMBER_MIN`` and ``NUMBER_MAX`` in magnitude (ReadStat overflows to infinity from
  about 2^250, and underflows below 16^-65); NaN and infinity are refused, a null is ``.``;
* whole numbers: at most 2^53 in magnitude (exact in a double); they carry the format ``F20.``
  which marks them as integers for reading back;
* dates: SAS dates (days since 1960-01-01) with the format ``DATE9.``, from 1582-10-15 (the
  Gregorian calendar SAS counts in) to 9999-12-31;
* a last row with every value missing when every variable is text: it is all blanks, which
  readers (ReadStat, SAS) cannot tell from the blank padding at the end of the file.

Character lengths are the longest value in the data (at least 1), as FDA asks. SDTM ``--DTC``
variables are written as the ISO 8601 text they are; ADaM ``*DT`` variables as SAS dates.

Reading gives back the frame exactly: kinds from the formats (``DATE9.`` date, ``F20.`` whole
number, other numbers Float64, character String), blanks as nulls, column order as stored.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from atopic.errors import Described, InvalidInput
from atopic.interop.cdisc.metadata import POLARS_TYPES, DatasetSpec, Kind, dataset_spec

NAME_MAX = 8
"""Longest dataset or variable name in XPT v5, in characters."""
LABEL_MAX = 40
"""Longest dataset or variable label in XPT v5, in characters."""
TEXT_MAX = 200
"""Longest character value in XPT v5, in bytes."""
NUMBER_MAX = 1e74
"""Largest magnitude atopic writes to XPT (ReadStat's IBM conversion overflows near 2^250)."""
NUMBER_MIN = 1e-78
"""Smallest non-zero magnitude atopic writes to XPT (IBM doubles underflow below 16^-65)."""
INTEGER_MAX = 2**53
"""Largest whole number, in magnitude, that a double holds exactly."""
DATE_MIN = dt.date(1582, 10, 15)
DATE_MAX = dt.date(9999, 12, 31)
NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_]{0,7}"
"""A valid XPT v5 name (SAS V5 naming rules)."""
PRINTABLE = r"^[\x20-\x7E]*$"
"""Printable ASCII, the characters atopic writes to XPT."""
DATE_FORMAT = "DATE9."
INTEGER_FORMAT = "F20."


@dataclass(frozen=True)
class XptDataset:
    """What an XPT file holds: dataset ``name`` and ``label``, the ``frame``, and per variable its
    ``labels`` and storage ``lengths`` (bytes) and ``formats`` (``"DATE9"``, ``"F20"`` or "")."""

    name: str
    label: str
    frame: pl.DataFrame
    labels: dict[str, str]
    lengths: dict[str, int]
    formats: dict[str, str]


def check_xpt(frame: pl.DataFrame, spec: DatasetSpec) -> None:
    """Raise ``InvalidInput`` for the first thing of ``frame`` XPT v5 cannot hold (see the module
    docstring): names, labels, then values column by column."""
    _check_name(spec.name, spec.name, "dataset name")
    _check_label(spec.name, "dataset label", spec.label)
    for variable in spec.variables:
        _check_name(spec.name, variable.name, "variable name")
        _check_label(spec.name, f"{variable.name} label", variable.label)
    for variable in spec.variables:
        _check_values(frame, spec.name, variable.name, variable.kind)
    text_only = all(v.kind == "string" for v in spec.variables)
    if text_only and frame.height and all(v is None for v in frame.row(frame.height - 1)):
        raise InvalidInput(
            f"{spec.name} row {frame.height}",
            ", ".join(spec.names),
            Described("every value missing"),
            "a value in the last row when every variable is text (SAS transport v5 cannot "
            "tell trailing blank rows from the padding of the file)",
        )


def write_xpt(
    frame: pl.DataFrame,
    path: str | Path,
    name: str,
    *,
    label: str | None = None,
    labels: dict[str, str] | None = None,
) -> DatasetSpec:
    """Write ``frame`` as dataset ``name`` (``"DM"``, ``"ADSL"`` ...) to the XPT v5 file
    ``path``, with the labels of the declaration (``labels`` overrides or adds). Returns the
    metadata written. Refuses, before writing anything, what XPT v5 cannot hold exactly."""
    import pyreadstat

    spec = dataset_spec(frame, name, label=label, labels=labels)
    check_xpt(frame, spec)
    out = frame.with_columns(pl.col(v.name).cast(POLARS_TYPES[v.kind]) for v in spec.variables)
    formats = {v.name: _FORMATS[v.kind] for v in spec.variables if v.kind in _FORMATS}
    pyreadstat.write_xport(
        out,
        str(path),
        file_label=spec.label,
        column_labels=[v.label for v in spec.variables],
        table_name=spec.name,
        file_format_version=5,
        variable_format=formats,
    )
    return spec


def read_xpt(path: str | Path) -> XptDataset:
    """Read an XPT file written by ``write_xpt`` (or by SAS) back into a typed Polars frame."""
    import pyreadstat

    raw, meta = pyreadstat.read_xport(str(path), output_format="polars")
    formats = {n: (f or "").upper() for n, f in meta.original_variable_types.items()}
    types = meta.readstat_variable_types
    columns = []
    for name in meta.column_names:
        kind = _kind(types[name], formats[name], raw.get_column(name))
        col = pl.col(name)
        if kind == "string":
            col = col.cast(pl.String)
            col = pl.when(col == "").then(None).otherwise(col)
        columns.append(col.cast(POLARS_TYPES[kind]).alias(name))
    frame = raw.select(columns) if columns else raw
    return XptDataset(
        name=meta.table_name or "",
        label=meta.file_label or "",
        frame=frame,
        labels={n: (lab or "") for n, lab in meta.column_names_to_labels.items()},
        lengths=dict(meta.variable_storage_width),
        formats=formats,
    )


_FORMATS: dict[Kind, str] = {"date": DATE_FORMAT, "integer": INTEGER_FORMAT}


def _kind(readstat_type: str, fmt: str, values: pl.Series) -> Kind:
    if readstat_type == "string":
        return "string"
    if fmt.startswith("DATE"):
        return "date"
    if re.fullmatch(r"F?[0-9]+", fmt):
        numbers = values.cast(pl.Float64).drop_nulls()
        if numbers.is_empty() or bool((numbers == numbers.round(0)).all()):
            return "integer"
    return "float"


def _check_name(dataset: str, name: str, what: str) -> None:
    if re.fullmatch(NAME_PATTERN, name) is None:
        raise InvalidInput(
            dataset,
            what,
            name,
            f"at most {NAME_MAX} characters, a letter or _ first, then letters, digits or _ "
            "(SAS transport v5)",
        )


def _check_label(dataset: str, field: str, label: str) -> None:
    if len(label) > LABEL_MAX or re.fullmatch(PRINTABLE, label) is None:
        raise InvalidInput(
            dataset,
            field,
            label,
            f"at most {LABEL_MAX} characters of printable ASCII (SAS transport v5)",
        )


def _check_values(frame: pl.DataFrame, dataset: str, name: str, kind: Kind) -> None:
    col = pl.col(name)
    checks: list[tuple[pl.Expr, str]]
    if kind == "string":
        col = col.cast(pl.String)
        checks = [
            (
                col.str.strip_chars(" ") == "",
                "null or text that is not empty or blank (SAS transport v5 has one character "
                "missing value, the blank: write null)",
            ),
            (
                ~col.str.contains(PRINTABLE),
                "printable ASCII (SAS transport v5 records no encoding)",
            ),
            (
                col.str.len_bytes() > TEXT_MAX,
                f"at most {TEXT_MAX} bytes (the SAS transport v5 limit on a character value)",
            ),
            (
                col.str.ends_with(" "),
                "text without trailing blanks (SAS transport v5 drops them)",
            ),
        ]
    elif kind == "float":
        col = col.cast(pl.Float64)
        checks = [
            (~col.is_finite(), "a finite number or null (SAS transport v5 has no NaN or infinity)"),
            (
                (col.abs() > NUMBER_MAX) | ((col != 0) & (col.abs() < NUMBER_MIN)),
                f"0 or between {NUMBER_MIN:g} and {NUMBER_MAX:g} in magnitude "
                "(the IBM floating point range of SAS transport v5)",
            ),
        ]
    elif kind == "integer":
        col = col.cast(pl.Int64)
        checks = [
            (
                col.abs() > INTEGER_MAX,
                f"at most 2^53 = {INTEGER_MAX} in magnitude (exact in a SAS number)",
            )
        ]
    else:
        col = col.cast(pl.Date)
        checks = [
            (
                (col < DATE_MIN) | (col > DATE_MAX),
                f"a date from {DATE_MIN} to {DATE_MAX} (SAS dates)",
            )
        ]
    for bad, allowed in checks:
        found = (
            frame.select(pl.col(name), bad.fill_null(False).alias("__bad"))
            .with_row_index("__row", offset=1)
            .filter(pl.col("__bad"))
        )
        if found.height:
            raise InvalidInput(
                f"{dataset} row {found.item(0, '__row')}", name, found.item(0, name), allowed
            )
