"""``atopic derive``: collected tables -> analysis tables on a chosen engine, at any size.

``atopic derive --tables DIR --design FILE --out DIR [--engine polars|duckdb|spark]
[--spark-master URL] [--spark-conf KEY=VALUE ...] [--batch-subjects N]`` reads the collected
tables (Parquet files, folders of Parquet parts as ``atopic synth`` writes them, or CSV),
scores the questionnaires and derives ADSL, BDS and ADAE with the one Narwhals code of
``atopic.trial.derive``, and writes each as a folder of Parquet parts (``OUT/adsl/``,
``OUT/bds/``, ``OUT/adae/``, replaced if present) plus ``OUT/rejects.csv``.
With ``--engine spark``, TABLES and OUT may be URLs (``s3a://``, ``hdfs://``, ``file://`` ...)
that Spark's Hadoop layer reaches. On Polars and DuckDB the subjects are derived in batches
(``--batch-subjects``) so memory stays bounded (DuckDB on the whole table grew to 19 GB at 10^5
subjects); Spark plans the whole and distributes it, unless ``--batch-subjects`` asks for
batches there too (one machine with less memory than the tables need).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from atopic.cli_options import (
    design_option,
    engine_option,
    spark_conf_option,
    spark_master_option,
    spark_settings,
)
from atopic.errors import InvalidInput

if TYPE_CHECKING:
    from atopic.tables.engines import Engine
    from atopic.trial.design import Design

ANALYSIS_NAMES = ("ADSL", "BDS", "ADAE")
BATCH_SUBJECTS = 20_000
"""Polars' and DuckDB's default batch: about 8 GB at its peak on the full synthetic tables of
docs/scale.md (benchmarks/results/bench_scale.txt)."""


@click.command(short_help="Derive ADSL, BDS and ADAE at scale on Polars, DuckDB or Spark.")
@click.option(
    "--tables",
    "tables_dir",
    required=True,
    help="Folder of collected tables (dm, ex, qs, lb, ae[, cm, ds]: Parquet, part folders, CSV); "
    "with --engine spark also a URL (s3a://, hdfs://, file://) of Parquet tables.",
)
@design_option
@click.option(
    "--out",
    "out_dir",
    required=True,
    help="Output folder; with --engine spark also a URL (s3a://, hdfs://, file://).",
)
@engine_option
@spark_master_option
@spark_conf_option
@click.option(
    "--batch-subjects",
    type=click.IntRange(min=1),
    help="Subjects derived at a time, to bound memory (the result does not depend on it). "
    "Default: 20,000 on Polars and DuckDB; the whole at once on Spark.",
)
def derive(
    tables_dir: str,
    design_file: Path,
    out_dir: str,
    engine_name: str,
    spark_master: str | None,
    spark_conf: tuple[str, ...],
    batch_subjects: int | None,
) -> None:
    """Score and derive the analysis tables of the collected tables in TABLES; write them to OUT
    as Parquet part folders (OUT/adsl, OUT/bds, OUT/adae are replaced), with rejects.csv listing
    every row that could not be used."""
    from atopic.tables.collected import COLLECTED
    from atopic.tables.engines import open_engine, place
    from atopic.trial.design import load_design

    try:
        tables_at = place(tables_dir, engine_name, "derive", "tables", existing=True)
        out_at = place(out_dir, engine_name, "derive", "out")
        design = load_design(design_file)
        settings = spark_settings(spark_conf)
        if settings and engine_name != "spark":
            raise InvalidInput("engine", "spark_conf", spark_conf[0], "only with the spark engine")
        with open_engine(engine_name, spark_master=spark_master, spark_conf=settings) as engine:
            tables = engine.read(tables_at, COLLECTED)
            rows = _derive(engine, tables, design, out_at, batch_subjects)
    except InvalidInput as error:
        raise click.ClickException(error.message) from None
    for name, count in rows.items():
        where = _join(out_at, "rejects.csv" if name == "REJECTS" else name.lower())
        click.echo(f"{name}\t{count} rows\t{where}")


def _join(base: str | Path, name: str) -> str | Path:
    return f"{base.rstrip('/')}/{name}" if isinstance(base, str) else base / name


def _fresh(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in ANALYSIS_NAMES:
        shutil.rmtree(out_dir / name.lower(), ignore_errors=True)
        (out_dir / name.lower()).mkdir()


def _derive(
    engine: Engine,
    tables: dict[str, Any],
    design: Design,
    out_dir: str | Path,
    batch_subjects: int | None,
) -> dict[str, int]:
    """Derive on ``engine`` (in batches of ``batch_subjects``, or whole when None on Spark) and
    write the parts; the row count of each table written. A local ``out_dir`` is cleared here, a
    URL one (Spark) by the first batch written to each table's folder."""
    import polars as pl

    from atopic.trial.derive import derive_all
    from atopic.trial.derive.batches import derive_batches

    if isinstance(out_dir, Path):
        _fresh(out_dir)
    rows = dict.fromkeys([*ANALYSIS_NAMES, "REJECTS"], 0)
    rejects: list[pl.DataFrame] = []
    if batch_subjects is None and engine.name != "spark":
        batch_subjects = BATCH_SUBJECTS
    if batch_subjects is None:
        batches = iter([derive_all(tables, design)])
    else:
        batches = derive_batches(tables, design, batch_subjects)
    for k, derived in enumerate(batches):
        for name in ANALYSIS_NAMES:
            if name in derived:
                written = engine.write_batch(derived[name], _join(out_dir, name.lower()), k)
                rows[name] += engine.count_rows(written)
        rejects.append(derived["REJECTS"])
    table = pl.concat(rejects)
    engine.write_text(table.write_csv(), str(_join(out_dir, "rejects.csv")))
    rows["REJECTS"] = table.height
    return rows
