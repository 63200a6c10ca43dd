"""``atopic derive`` on Polars (in subject batches), DuckDB and PySpark (local mode): the same
analysis tables, in the same order and types, and the same rejects, from one folder of tables."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from atopic.cli import main
from atopic.simulate.synth import write_synth
from atopic.trial.design import load_design

DESIGN = Path(__file__).resolve().parent.parent / "examples" / "trial" / "design.toml"
NAMES = ("adsl", "bds", "adae")


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 synthetic subjects as folders of Parquet parts (chunks of 8), with bad rows added:
    QS items of a subject DM does not list and a lab with a partial date."""
    out = tmp_path_factory.mktemp("collected")
    write_synth(load_design(DESIGN), 30, out, seed=5, chunk=8)
    qs = pl.read_parquet(out / "qs" / "part-00000.parquet")
    qs.head(4).with_columns(pl.lit("ZZZ-999").alias("USUBJID")).write_parquet(
        out / "qs" / "part-99999.parquet"
    )
    lb_part = out / "lb" / "part-00001.parquet"
    lb = pl.read_parquet(lb_part)
    lb.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.col("LBDTC").str.slice(0, 7))
        .otherwise(pl.col("LBDTC"))
        .alias("LBDTC")
    ).write_parquet(lb_part)
    return out


def _derive(tables: Path, out: Path, *extra: str) -> str:
    args = ["derive", "--tables", str(tables), "--design", str(DESIGN), "--out", str(out)]
    result = CliRunner().invoke(main, [*args, *extra])
    assert result.exit_code == 0, result.output
    return result.output


def _read(out: Path) -> dict[str, pl.DataFrame]:
    frames = {name: pl.read_parquet(sorted((out / name).glob("*.parquet"))) for name in NAMES}
    frames["rejects"] = pl.read_csv(out / "rejects.csv", infer_schema=False)
    return frames


@pytest.fixture(scope="module")
def on_polars(tables: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    out = tmp_path_factory.mktemp("polars")
    printed = _derive(tables, out, "--batch-subjects", "7")
    assert len(list((out / "bds").glob("*.parquet"))) == 5  # 30 subjects, 7 at a time
    frames = _read(out)
    assert f"ADSL\t{frames['adsl'].height} rows" in printed
    return frames


def _same(got: dict[str, pl.DataFrame], expected: dict[str, pl.DataFrame]) -> None:
    for name in NAMES:  # same rows, same order, same types
        assert_frame_equal(got[name], expected[name])
    key = list(expected["rejects"].columns)
    assert_frame_equal(got["rejects"].sort(key), expected["rejects"].sort(key))


def test_polars_batches_give_the_tables_of_one_batch(
    tables: Path, on_polars: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    _derive(tables, tmp_path, "--batch-subjects", "1000")
    assert len(list((tmp_path / "bds").glob("*.parquet"))) == 1
    _same(_read(tmp_path), on_polars)
    assert on_polars["adsl"].height == 30
    rejects = on_polars["rejects"]
    assert rejects.filter(pl.col("USUBJID") == "ZZZ-999").height == 1  # 4 items of one EASI
    assert rejects.filter(pl.col("reason").str.contains("must be a complete date")).height == 1


@pytest.mark.slow
def test_duckdb_gives_the_same_tables(
    tables: Path, on_polars: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    # In batches (2 of 15 subjects: each batch costs DuckDB seconds of fixed work), as on Polars:
    # each batch's checkpoint tables are dropped before the next, and the stacked parts are the
    # tables of the whole.
    _derive(tables, tmp_path, "--engine", "duckdb", "--batch-subjects", "15")
    assert len(list((tmp_path / "bds").glob("*.parquet"))) == 2
    _same(_read(tmp_path), on_polars)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")
@pytest.mark.parametrize(("where", "batches"), [("path", ["--batch-subjects", "15"]), ("url", [])])
def test_spark_local_gives_the_same_tables(
    tables: Path,
    on_polars: dict[str, pl.DataFrame],
    tmp_path: Path,
    where: str,
    batches: list[str],
) -> None:
    # No skip: `make test` installs PySpark (dev extra) and a Java runtime (Makefile `java`).
    # "url": file:// URLs go through Spark's Hadoop file system layer, as s3a:// or hdfs:// do.
    # "path" derives in 2 batches of 15 subjects (each costs Spark a minute or more of fixed
    # work); "url" derives the whole at once.
    source, out = (
        (str(tables), str(tmp_path))
        if where == "path"
        else (
            tables.as_uri(),
            tmp_path.as_uri(),
        )
    )
    (tmp_path / "bds").mkdir()
    (tmp_path / "bds" / "part-00009-00000.parquet").write_text("from an earlier run")
    args = ["derive", "--tables", source, "--design", str(DESIGN), "--out", out, *batches]
    result = CliRunner().invoke(main, [*args, "--engine", "spark", "--spark-master", "local[2]"])
    assert result.exit_code == 0, result.output
    assert f"{out.rstrip('/')}/rejects.csv" in result.output
    parts = sorted(p.name for p in (tmp_path / "bds").glob("*.parquet"))
    assert parts[0].startswith("part-00000-")
    assert parts[-1].startswith("part-00001-" if batches else "part-00000-")
    _same(_read(tmp_path), on_polars)


@pytest.mark.parametrize(
    ("tables_at", "engine", "message"),
    [
        ("s3a://bucket/trial", "polars", "derive tables must be a local folder (URLs need"),
        ("s3a://bucket/trial", "duckdb", "derive tables must be a local folder (URLs need"),
        ("no/such/folder", "polars", "derive tables must be an existing folder; got 'no/such"),
    ],
)
def test_urls_need_spark_and_folders_must_exist(
    tmp_path: Path, tables_at: str, engine: str, message: str
) -> None:
    args = ["derive", "--tables", tables_at, "--design", str(DESIGN), "--out", str(tmp_path)]
    result = CliRunner().invoke(main, [*args, "--engine", engine])
    assert result.exit_code == 1
    assert message in result.output


def test_a_spark_master_without_spark_is_refused(tables: Path, tmp_path: Path) -> None:
    args = ["derive", "--tables", str(tables), "--design", str(DESIGN), "--out", str(tmp_path)]
    result = CliRunner().invoke(main, [*args, "--spark-master", "spark://h:7077"])
    assert result.exit_code == 1
    assert "engine spark_master must be only with the spark engine" in result.output


def test_spark_settings_are_key_value_pairs_for_spark_only(tables: Path, tmp_path: Path) -> None:
    args = ["derive", "--tables", str(tables), "--design", str(DESIGN), "--out", str(tmp_path)]
    result = CliRunner().invoke(main, [*args, "--engine", "spark", "--spark-conf", "memory"])
    assert result.exit_code == 1
    assert "engine spark_conf must be KEY=VALUE" in result.output
    assert "got 'memory'" in result.output
    result = CliRunner().invoke(main, [*args, "--spark-conf", "spark.executor.memory=8g"])
    assert "engine spark_conf must be only with the spark engine" in result.output


def test_the_engine_choices_are_the_engines() -> None:
    from atopic.cli_options import ENGINE_NAMES
    from atopic.tables.engines import ENGINES

    assert tuple(ENGINE_NAMES) == ENGINES
