"""open_engine: reading a folder of tables on Polars and DuckDB gives the declared types and the
values read_tables gives; writing Parquet round-trips; bad names are refused in words."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from atopic.errors import InvalidInput
from atopic.simulate.synth import synthesize
from atopic.tables.collected import COLLECTED
from atopic.tables.engines import ENGINES, open_engine
from atopic.tables.files import read_tables
from atopic.trial.design import load_design

DESIGN = Path(__file__).resolve().parents[2] / "examples" / "trial" / "design.toml"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DM and EX as Parquet files, QS as a folder of two parts, LB and AE as CSV."""
    tables = synthesize(load_design(DESIGN), 12, seed=3)
    out = tmp_path_factory.mktemp("engines")
    tables["DM"].write_parquet(out / "dm.parquet")
    tables["EX"].write_parquet(out / "EX.parquet")
    (out / "qs").mkdir()
    qs = tables["QS"]
    qs.head(qs.height // 2).write_parquet(out / "qs" / "part-00000.parquet")
    qs.tail(qs.height - qs.height // 2).write_parquet(out / "qs" / "part-00001.parquet")
    tables["LB"].write_csv(out / "lb.csv")
    tables["AE"].write_csv(out / "ae.csv")
    return out


@pytest.mark.parametrize("name", ["polars", "duckdb"])
def test_read_gives_what_read_tables_gives(folder: Path, name: str) -> None:
    expected = {
        k: v.collect() if isinstance(v, pl.LazyFrame) else v
        for k, v in read_tables(folder, COLLECTED).items()
    }
    with open_engine(name) as engine:
        got = engine.read(folder, COLLECTED)
        assert set(got) == {"DM", "EX", "QS", "LB", "AE"} == set(expected)
        for table, frame in got.items():
            assert_frame_equal(engine.to_polars(frame), expected[table])


@pytest.mark.parametrize("name", ["polars", "duckdb"])
def test_write_batch_round_trips(folder: Path, tmp_path: Path, name: str) -> None:
    with open_engine(name) as engine:
        dm = engine.read(folder, COLLECTED)["DM"]
        written = engine.write_batch(dm, tmp_path / "adsl", 3)
        assert written == [str(tmp_path / "adsl" / "part-00003.parquet")]
        assert_frame_equal(pl.read_parquet(written[0]), engine.to_polars(dm))
        eager = engine.to_polars(dm)  # an eager Polars frame is written the same way
        assert_frame_equal(pl.read_parquet(engine.write_batch(eager, tmp_path / "x", 0)[0]), eager)


def test_a_frame_of_another_kind_is_refused_by_name(tmp_path: Path) -> None:
    with open_engine("duckdb") as duck, open_engine("polars") as polars:
        relation = duck.from_polars(pl.DataFrame({"USUBJID": ["S1"]}))
        # The relation's module path differs between DuckDB releases; its class name does not.
        with pytest.raises(
            TypeError,
            match=r"^the polars engine writes a Polars frame; got a "
            r"duckdb\S*\.DuckDBPyRelation$",
        ):
            polars.write_batch(relation, tmp_path / "adsl", 0)
        with pytest.raises(
            TypeError,
            match=re.escape(
                "the duckdb engine writes a Polars frame or a DuckDB relation; got a builtins.dict"
            ),
        ):
            duck.write_batch({"USUBJID": ["S1"]}, tmp_path / "adsl", 0)
    assert not (tmp_path / "adsl").exists()  # refused before anything was made


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")
def test_spark_writes_a_polars_frame_and_refuses_other_kinds(tmp_path: Path) -> None:
    frame = pl.DataFrame({"USUBJID": ["S1", "S2", None], "AVAL": [1.5, None, 3.0]})
    with open_engine("spark", spark_master="local[1]") as engine:
        written = engine.write_batch(frame, tmp_path / "bds", 0)
        with pytest.raises(
            TypeError,
            match=re.escape(
                "the spark engine writes a Polars frame or a Spark DataFrame; got a builtins.dict"
            ),
        ):
            engine.write_batch({"USUBJID": ["S1"]}, tmp_path / "bds", 1)
    assert Path(written[0]).name == "part-00000-00000.parquet"
    assert all(Path(f).name.startswith("part-00000-") for f in written)
    assert_frame_equal(pl.read_parquet(sorted((tmp_path / "bds").glob("*.parquet"))), frame)


def test_from_polars_keeps_the_values() -> None:
    frame = pl.DataFrame({"USUBJID": ["A", None], "AVAL": [1.5, None]})
    for name in ("polars", "duckdb"):
        with open_engine(name) as engine:
            assert_frame_equal(engine.to_polars(engine.from_polars(frame)), frame)


def test_an_unknown_engine_is_refused_with_the_choices() -> None:
    with pytest.raises(InvalidInput) as error, open_engine("dask"):
        pass
    assert "engine name must be one of " + ", ".join(ENGINES) in error.value.message
    assert "dask" in error.value.message


def test_a_spark_master_needs_the_spark_engine() -> None:
    with (
        pytest.raises(InvalidInput, match="only with the spark engine"),
        open_engine("duckdb", spark_master="spark://h:7077"),
    ):
        pass


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with open_engine("polars") as engine, pytest.raises(InvalidInput, match="an existing folder"):
        engine.read(tmp_path / "nowhere", COLLECTED)


@pytest.mark.parametrize("name", ["polars", "duckdb"])
def test_urls_are_refused_by_every_reader_and_writer_but_spark(name: str) -> None:
    url = "s3a://bucket/trial"
    refusal = "must be a local folder \\(URLs need --engine spark\\); got 's3a://bucket/trial"
    with open_engine(name) as engine:
        frame = engine.from_polars(pl.DataFrame({"USUBJID": ["S1"]}))
        with pytest.raises(InvalidInput, match="tables folder " + refusal):
            engine.read(url, COLLECTED)
        with pytest.raises(InvalidInput, match="out folder " + refusal):
            engine.write_batch(frame, url + "/adsl", 0)
        with pytest.raises(InvalidInput, match="out file " + refusal):
            engine.write_text("x", url + "/rejects.csv")
    assert not Path("s3a:").exists()  # what a URL taken as a local path would have made


def test_duckdb_spills_to_a_private_folder_removed_on_close() -> None:
    cwd = Path.cwd()
    with open_engine("duckdb") as engine:
        folder = Path(
            engine.session.sql("select current_setting('temp_directory')").fetchall()[0][0]
        )
        assert folder.is_dir()
        assert cwd not in folder.parents
        assert folder.name.startswith("atopic-duckdb-")
    assert not folder.exists()


def test_local_spark_gets_half_the_memory_at_least_spark_default() -> None:
    from atopic.tables.engines import local_driver_memory

    assert local_driver_memory(24 * 2**30) == "12288m"
    assert local_driver_memory(23 * 2**30 + 5) == "11776m"
    assert local_driver_memory(1 * 2**30) == "1024m"  # never below Spark's own 1 GiB
    assert local_driver_memory(None) is None
    assert local_driver_memory(0) is None
