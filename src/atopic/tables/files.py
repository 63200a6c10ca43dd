"""Read a folder of tables (Parquet or CSV) into Polars frames typed by the declarations.

``read_tables(folder, declarations)`` finds ``<name>.parquet`` or ``<name>.csv`` (lower or upper
case) for each declared table, or a folder ``<name>/`` of Parquet parts (``part-00000.parquet``,
``part-00001.parquet`` ..., as ``atopic synth`` writes large tables), which is scanned lazily as
one Polars LazyFrame (``polars.scan_parquet``, parts in name order) so a table larger than memory
can be streamed. Parquet keeps its types. CSV is read as text, with nothing inferred,
and each declared column is cast to its declared type. A value that does not convert is an
``InvalidInput`` naming the table, the column, the row (1-based, after the header) and the value,
never a silent null. Columns the declarations do not know are kept as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from atopic.errors import InvalidInput
from atopic.tables.frames import polars_type
from atopic.tables.schema import Table


def _typed_csv(path: Path, table: Table) -> pl.DataFrame:
    raw = pl.read_csv(path, infer_schema=False)
    casts = []
    for name in raw.columns:
        declared = table.column(name)
        if declared is None:
            continue
        target = polars_type(declared)
        if target == pl.String():
            continue
        cleaned = pl.col(name).str.strip_chars()
        cleaned = pl.when(cleaned == "").then(None).otherwise(cleaned)
        casts.append(cleaned.cast(target, strict=False).alias(name))
        bad = raw.with_row_index("row", offset=1).filter(
            pl.col(name).str.strip_chars().ne("")
            & pl.col(name).is_not_null()
            & cleaned.cast(target, strict=False).is_null()
        )
        if bad.height:
            raise InvalidInput(
                table.name,
                f"{name} (row {bad.item(0, 'row')} of {path.name})",
                bad.item(0, name),
                f"{declared.describe_dtype()}",
            )
    return raw.with_columns(casts)


def read_tables(
    folder: str | Path, declarations: Mapping[str, Table]
) -> dict[str, pl.DataFrame | pl.LazyFrame]:
    """The tables of ``declarations`` found in ``folder`` (absent ones are left out), by name:
    a DataFrame per file, a LazyFrame per folder of Parquet parts."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidInput("tables", "folder", str(folder), "an existing folder")
    out: dict[str, pl.DataFrame | pl.LazyFrame] = {}
    for name, table in declarations.items():
        for stem in (name.lower(), name.upper()):
            parquet, csv = folder / f"{stem}.parquet", folder / f"{stem}.csv"
            if parquet.exists():
                out[name] = pl.read_parquet(parquet)
                break
            if csv.exists():
                out[name] = _typed_csv(csv, table)
                break
            if (folder / stem).is_dir():
                out[name] = _scan_parts(folder / stem)
                break
    return out


def _scan_parts(path: Path) -> pl.LazyFrame:
    """The Parquet parts of a table folder as one LazyFrame (parts in name order)."""
    parts = sorted(p for p in path.iterdir() if p.suffix == ".parquet" and p.is_file())
    if not parts:
        raise InvalidInput(
            "tables",
            "folder",
            str(path),
            "a folder of Parquet parts (part-00000.parquet, part-00001.parquet ...)",
        )
    return pl.scan_parquet(parts)
