"""From collected tables and a design to the analysis folder: derive, analyze, report.

``run(tables, design, out)`` writes into ``out``:

* ``adsl.parquet``, ``bds.parquet``, ``adae.parquet``: the analysis tables;
* ``rejects.csv``: every collected row or record the derivations could not use, with the reason;
* ``ard.parquet`` and ``ard.csv``: the Analysis Results Dataset;
* ``report.html``: the self-contained report made from the ARD.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import narwhals as nw
import polars as pl

from atopic.tables.analysis import ANALYSIS
from atopic.tables.collected import COLLECTED
from atopic.tables.validate import check_table
from atopic.trial.analyze.run import Options, analyze, arm_labels
from atopic.trial.derive.pipeline import derive_all
from atopic.trial.design import Design
from atopic.trial.report import ReportContext, render_report


@dataclass(frozen=True)
class Written:
    """What a run wrote: file paths by name and row counts by table."""

    paths: dict[str, Path]
    rows: dict[str, int]


def report_context(design: Design, bds: pl.DataFrame) -> ReportContext:
    """Names and orders for the report, from the design (and PARAM labels from the BDS)."""
    primary = [e.avisit for e in design.primary if e.avisit]
    labels = dict(bds.select("PARAMCD", "PARAM").unique().iter_rows()) if bds.height else {}
    labels |= {s.variable: f"{s.name} (stratum)" for s in design.randomization.strata}
    units = {a.dose_unit for a in design.arms}
    return ReportContext(
        studyid=design.study.studyid,
        title=design.study.title,
        arms=arm_labels(design),
        control=design.control.label,
        visits=[v.avisit for v in design.visits],
        primary_visit=primary[0] if primary else design.visits[-1].avisit,
        dose_unit=units.pop() if len(units) == 1 else "dose",
        labels=labels,
    )


def _polars(frame: Any) -> pl.DataFrame:
    """A derived table of any engine, computed, as a Polars DataFrame (the analyses' input)."""
    native = nw.from_native(frame)
    return (native.collect() if isinstance(native, nw.LazyFrame) else native).to_polars()


def run(
    tables: Mapping[str, Any], design: Design, out: str | Path, opts: Options | None = None
) -> Written:
    """Derive, analyze and report into ``out`` (created if needed); see the module docstring.
    ``tables`` are native frames of one engine (Polars, DuckDB, PySpark): the derivations run
    there and the analysis tables come back to Polars for the statistics."""
    out = Path(out)
    for name, frame in tables.items():
        if name in COLLECTED:
            check_table(frame, COLLECTED[name])
    derived = derive_all(tables, design)
    frames = {
        name: check_table(_polars(derived[name]), ANALYSIS[name])
        for name in ("ADSL", "BDS", "ADAE")
    }
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, frame in frames.items():
        paths[name] = out / f"{name.lower()}.parquet"
        frame.write_parquet(paths[name])
    paths["REJECTS"] = out / "rejects.csv"
    derived["REJECTS"].write_csv(paths["REJECTS"])
    ard = analyze(frames["ADSL"], frames["BDS"], frames["ADAE"], design, opts)
    paths["ARD"] = out / "ard.parquet"
    ard.write_parquet(paths["ARD"])
    paths["ARD_CSV"] = out / "ard.csv"
    ard.write_csv(paths["ARD_CSV"])
    html = render_report(ard, report_context(design, frames["BDS"]), frames["BDS"])
    paths["REPORT"] = out / "report.html"
    paths["REPORT"].write_text(html, encoding="utf-8")
    rows = {name: frame.height for name, frame in frames.items()}
    rows["REJECTS"] = derived["REJECTS"].height
    rows["ARD"] = ard.height
    return Written(paths, rows)
