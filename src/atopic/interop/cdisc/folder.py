"""A folder of submission datasets: every table as XPT or Dataset-JSON, plus define.xml.

``write_datasets(tables, out, "xpt")`` writes ``dm.xpt``, ``qs.xpt`` ... (or ``.json``) and a
``define.xml`` describing them; ``read_datasets(out)`` reads every dataset file back. Nothing is
written when one table cannot be held by the format: every table is checked first.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import polars as pl

from atopic.errors import InvalidInput
from atopic.interop.cdisc.dataset_json import read_dataset_json, write_dataset_json
from atopic.interop.cdisc.define import write_define
from atopic.interop.cdisc.metadata import DatasetSpec, dataset_spec
from atopic.interop.cdisc.standards import ADAM_NAMES, SDTM_NAMES, STANDARDS
from atopic.interop.cdisc.xpt import check_xpt, read_xpt, write_xpt

Format = Literal["xpt", "json"]
FORMATS: tuple[str, ...] = ("xpt", "json")


def write_datasets(
    tables: Mapping[str, Any],
    out: str | Path,
    fmt: Format,
    *,
    study: str | None = None,
    define: bool = True,
) -> dict[str, Path]:
    """Write the declared ``tables`` (Polars DataFrames or LazyFrames by name: DM, EX, QS, LB,
    AE, CM, DS, ADSL, BDS, ADAE) into ``out`` as ``<name>.xpt`` or ``<name>.json``, in the order
    SDTM then ADaM, and (``define``) a ``define.xml``. ``study`` defaults to the one STUDYID of
    the tables. Returns the paths by table name, and ``"DEFINE"``."""
    if fmt not in FORMATS:
        raise InvalidInput("export", "format", fmt, "one of " + ", ".join(FORMATS))
    unknown = [name for name in tables if name not in STANDARDS]
    if unknown:
        raise InvalidInput("export", "table", unknown[0], "one of " + ", ".join(STANDARDS))
    frames = {name: _eager(tables[name]) for name in (*SDTM_NAMES, *ADAM_NAMES) if name in tables}
    study = study or _study(frames)
    specs: dict[str, DatasetSpec] = {}
    for name, frame in frames.items():
        specs[name] = dataset_spec(frame, name)
        if fmt == "xpt":
            check_xpt(frame, specs[name])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, frame in frames.items():
        path = out / f"{name.lower()}.{fmt}"
        _atomic(path, frame, name, fmt, study)
        paths[name] = path
    if define:
        paths["DEFINE"] = write_define(
            [(specs[name], paths[name].name) for name in frames], out / "define.xml", study=study
        )
    return paths


def read_datasets(folder: str | Path) -> dict[str, pl.DataFrame]:
    """Every ``*.xpt`` and ``*.json`` dataset in ``folder``, by dataset name (the name stored in
    the file, e.g. ``"DM"``), typed as written."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidInput("datasets", "folder", str(folder), "an existing folder")
    out: dict[str, pl.DataFrame] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() == ".xpt":
            xpt = read_xpt(path)
            out[xpt.name] = xpt.frame
        elif path.suffix.lower() == ".json":
            dsj = read_dataset_json(path)
            out[dsj.name] = dsj.frame
    return out


def _eager(frame: Any) -> pl.DataFrame:
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    if isinstance(frame, pl.DataFrame):
        return frame
    return pl.DataFrame(frame)


def _study(frames: Mapping[str, pl.DataFrame]) -> str:
    studies: set[str] = set()
    for frame in frames.values():
        if "STUDYID" in frame.columns:
            studies |= set(frame.get_column("STUDYID").drop_nulls().unique().to_list())
    if len(studies) != 1:
        shown = ", ".join(sorted(studies)) or "none"
        raise InvalidInput(
            "export", "STUDYID", shown, "one study in the tables (or pass the study)"
        )
    return studies.pop()


def _atomic(path: Path, frame: pl.DataFrame, name: str, fmt: str, study: str) -> None:
    """Write through a temporary file in the same folder, so a failed write leaves no half file."""
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=f".{fmt}", delete=False) as tmp:
        temporary = Path(tmp.name)
    try:
        if fmt == "xpt":
            write_xpt(frame, temporary, name)
        else:
            write_dataset_json(frame, temporary, name, study=study, define="define.xml")
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
