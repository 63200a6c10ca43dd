"""CDISC Dataset-JSON v1.1 files (https://github.com/cdisc-org/DataExchange-DatasetJson,
doc/dataset-json1-1.md, final 2024-12-05).

One dataset per file: the top-level attributes in the order the specification recommends
(datasetJSONCreationDateTime, datasetJSONVersion, fileOID, originator, sourceSystem, studyOID,
metaDataVersionOID, metaDataRef, itemGroupOID, records, name, label, columns, rows); one column
object per variable (itemOID, name, label, dataType, targetDataType, length, displayFormat,
keySequence); rows as arrays in column order. Missing values are ``null`` and an empty string is
``""``: the two stay distinct, unlike in XPT.

Data types (the specification's "Supported Column Data Type Combinations"):

* text: ``string``; SDTM ``--DTC`` text: ``datetime`` (ISO 8601 as a string, possibly partial);
* whole numbers: ``integer`` (JSON integers);
* other numbers: ``double`` (JSON numbers; Python writes the shortest text that reads back as
  the same double); NaN and infinity are refused, JSON has no such numbers;
* ADaM dates: ``date`` with ``targetDataType`` ``integer`` and ``displayFormat`` ``DATE9.``, the
  values ISO 8601 date strings, as the specification prescribes for ADaM.

``itemGroupOID`` is ``IG.<name>`` and ``itemOID`` ``IT.<name>.<variable>``, the OIDs of the
define.xml that ``atopic.interop.cdisc.define`` writes. String ``length`` is the longest value in
characters (at least 1), as in the define.xml.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from atopic import __version__
from atopic.errors import InvalidInput
from atopic.interop.cdisc.metadata import POLARS_TYPES, DatasetSpec, Kind, Variable, dataset_spec

VERSION = "1.1.0"
"""The Dataset-JSON version written."""
DATE_FORMAT = "DATE9."


@dataclass(frozen=True)
class JsonDataset:
    """What a Dataset-JSON file holds: dataset ``name`` and ``label``, the ``frame``, the
    ``labels`` and ``columns`` (the column objects as written) and the top-level attributes
    (``document`` without ``columns`` and ``rows``)."""

    name: str
    label: str
    frame: pl.DataFrame
    labels: dict[str, str]
    columns: list[dict[str, Any]]
    document: dict[str, Any]


def item_group_oid(name: str) -> str:
    """The OID of a dataset, shared with define.xml (``IG.DM``)."""
    return f"IG.{name}"


def item_oid(dataset: str, variable: str) -> str:
    """The OID of a variable, shared with define.xml (``IT.DM.USUBJID``)."""
    return f"IT.{dataset}.{variable}"


def column_object(spec: DatasetSpec, variable: Variable) -> dict[str, Any]:
    """The Dataset-JSON column object of one variable."""
    out: dict[str, Any] = {
        "itemOID": item_oid(spec.name, variable.name),
        "name": variable.name,
        "label": variable.label,
        "dataType": data_type(variable),
    }
    if variable.kind == "date":
        out["targetDataType"] = "integer"
    if variable.kind == "string":
        out["length"] = variable.length
    if variable.kind == "date":
        out["displayFormat"] = DATE_FORMAT
    if variable.key is not None:
        out["keySequence"] = variable.key
    return out


def data_type(variable: Variable) -> str:
    """The Dataset-JSON ``dataType`` of a variable (see the module docstring)."""
    if variable.kind == "string":
        return "datetime" if variable.iso8601 else "string"
    return {"integer": "integer", "float": "double", "date": "date"}[variable.kind]


def write_dataset_json(
    frame: pl.DataFrame,
    path: str | Path,
    name: str,
    *,
    label: str | None = None,
    labels: dict[str, str] | None = None,
    study: str | None = None,
    define: str | None = None,
    created: dt.datetime | None = None,
) -> DatasetSpec:
    """Write ``frame`` as dataset ``name`` to the Dataset-JSON v1.1 file ``path``.

    ``study`` becomes ``studyOID`` (``ST.<study>``, as in define.xml) and ``metaDataVersionOID``;
    ``define`` (a relative path such as ``"define.xml"``) becomes ``metaDataRef``. ``created``
    defaults to now (UTC, seconds). Returns the metadata written.
    """
    spec = dataset_spec(frame, name, label=label, labels=labels)
    for variable in spec.variables:
        if variable.kind == "float":
            _check_finite(frame, spec.name, variable.name)
    created = created or dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
    document: dict[str, Any] = {
        "datasetJSONCreationDateTime": created.isoformat(),
        "datasetJSONVersion": VERSION,
        "fileOID": f"atopic.{study or 'study'}.{spec.name}",
        "originator": "atopic",
        "sourceSystem": {"name": "atopic", "version": __version__},
    }
    if study is not None:
        document["studyOID"] = f"ST.{study}"
        document["metaDataVersionOID"] = f"MDV.{study}"
    if define is not None:
        document["metaDataRef"] = define
    document |= {
        "itemGroupOID": item_group_oid(spec.name),
        "records": frame.height,
        "name": spec.name,
        "label": spec.label,
        "columns": [column_object(spec, v) for v in spec.variables],
    }
    dates = [v.name for v in spec.variables if v.kind == "date"]
    out = frame.with_columns(pl.col(n).cast(pl.Date).dt.to_string("%Y-%m-%d") for n in dates)
    out = out.with_columns(
        pl.col(v.name).cast(POLARS_TYPES[v.kind])
        for v in spec.variables
        if v.kind in ("string", "integer", "float")
    )
    document["rows"] = [list(row) for row in out.iter_rows()]
    text = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    Path(path).write_text(text, encoding="utf-8")
    return spec


def read_dataset_json(path: str | Path) -> JsonDataset:
    """Read a Dataset-JSON v1.1 file back into a typed Polars frame (kinds from ``dataType`` and
    ``targetDataType``; see the module docstring)."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InvalidInput(path.name, "content", str(error), "Dataset-JSON (JSON)") from None
    for key in ("datasetJSONVersion", "itemGroupOID", "records", "name", "label", "columns"):
        if key not in document:
            raise InvalidInput(path.name, key, None, "present (required by Dataset-JSON v1.1)")
    version = str(document["datasetJSONVersion"])
    if not version.startswith("1.1"):
        raise InvalidInput(path.name, "datasetJSONVersion", version, "1.1 or 1.1.x")
    columns: list[dict[str, Any]] = document["columns"]
    kinds = {c["name"]: _kind(path.name, c) for c in columns}
    rows = document.get("rows") or []
    if len(rows) != document["records"]:
        raise InvalidInput(path.name, "records", document["records"], f"{len(rows)} (the rows)")
    raw_schema = {n: (pl.String if k == "date" else POLARS_TYPES[k]) for n, k in kinds.items()}
    try:
        frame = pl.DataFrame(rows, schema=raw_schema, orient="row", strict=True)
        frame = frame.with_columns(
            pl.col(n).str.to_date("%Y-%m-%d", strict=True) for n, k in kinds.items() if k == "date"
        )
    except (pl.exceptions.PolarsError, TypeError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InvalidInput(path.name, "rows", first, "values of the columns' dataType") from None
    meta = {k: v for k, v in document.items() if k not in ("columns", "rows")}
    return JsonDataset(
        name=document["name"],
        label=document["label"],
        frame=frame,
        labels={c["name"]: c.get("label", "") for c in columns},
        columns=columns,
        document=meta,
    )


def _kind(file: str, column: dict[str, Any]) -> Kind:
    data = column.get("dataType")
    target = column.get("targetDataType")
    if data in ("date",) and target == "integer":
        return "date"
    if data in ("string", "datetime", "date", "time", "URI") and target is None:
        return "string"
    if data == "integer" and target is None:
        return "integer"
    if data in ("float", "double") and target is None:
        return "float"
    raise InvalidInput(
        file,
        f"{column.get('name')} dataType",
        f"{data}" + (f" (targetDataType {target})" if target else ""),
        "string, datetime, date, integer, float or double (date with targetDataType integer)",
    )


def _check_finite(frame: pl.DataFrame, dataset: str, name: str) -> None:
    col = pl.col(name).cast(pl.Float64)
    found = (
        frame.select(pl.col(name), (~col.is_finite()).fill_null(False).alias("__bad"))
        .with_row_index("__row", offset=1)
        .filter(pl.col("__bad"))
    )
    if found.height:
        raise InvalidInput(
            f"{dataset} row {found.item(0, '__row')}",
            name,
            found.item(0, name),
            "a finite number or null (JSON has no NaN or infinity)",
        )
