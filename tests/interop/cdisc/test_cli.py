"""``atopic export sdtm`` and ``atopic export adam`` through click's CliRunner, from the demo
registry (as the unblinded pharmacist, and blinded as the monitor) and from a tables folder."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result
from polars.testing import assert_frame_equal

from atopic.cli import main
from atopic.demo import DEMO_PASSWORDS
from atopic.interop.cdisc import define_problems, read_datasets

from .conftest import DESIGN


def run(*args: str, user: str = "pharmacist") -> Result:
    env = {
        "ATOPIC_PASSWORD": DEMO_PASSWORDS[user],
        "ATOPIC_TOKEN": None,
        "ATOPIC_USER": None,
        "ATOPIC_DB": None,
    }
    return CliRunner().invoke(main, list(args), env=env)


@pytest.fixture(scope="module")
def tables_dir(
    collected: dict[str, pl.DataFrame], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("tables")
    for name, frame in collected.items():
        frame.write_parquet(out / f"{name.lower()}.parquet")
    return out


@pytest.mark.parametrize("fmt", ["xpt", "json"])
def test_export_sdtm_from_the_registry_writes_every_table_and_define(
    fmt: str, demo_registry: Path, collected: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    result = run(
        "export",
        "sdtm",
        "--db",
        str(demo_registry),
        "--as",
        "pharmacist",
        "--format",
        fmt,
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{n.lower()}.{fmt}" for n in collected] + ["define.xml"]
    )
    assert "DM\t36 rows\t" in result.stdout
    assert define_problems((tmp_path / "define.xml").read_text()) == []
    back = read_datasets(tmp_path)
    for name, frame in collected.items():
        assert_frame_equal(back[name], frame)


def test_export_sdtm_as_a_blinded_user_says_so(demo_registry: Path, tmp_path: Path) -> None:
    result = run(
        "export",
        "sdtm",
        "--db",
        str(demo_registry),
        "--as",
        "monitor",
        "--out",
        str(tmp_path),
        user="monitor",
    )
    assert result.exit_code == 0, result.output
    assert "blinded export (monitor)" in result.stderr
    assert "ARMCD" not in read_datasets(tmp_path)["DM"].columns


def test_export_sdtm_from_a_tables_folder(
    tables_dir: Path, collected: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    result = run(
        "export", "sdtm", "--tables", str(tables_dir), "--format", "json", "--out", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    assert_frame_equal(read_datasets(tmp_path)["QS"], collected["QS"])


@pytest.mark.parametrize("source", ["registry", "tables"])
def test_export_adam_derives_with_the_design(
    source: str,
    demo_registry: Path,
    tables_dir: Path,
    analysis: dict[str, pl.DataFrame],
    tmp_path: Path,
) -> None:
    where = (
        ["--db", str(demo_registry), "--as", "pharmacist"]
        if source == "registry"
        else ["--tables", str(tables_dir)]
    )
    result = run("export", "adam", *where, "--design", str(DESIGN), "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "adae.xpt",
        "adsl.xpt",
        "bds.xpt",
        "define.xml",
    ]
    back = read_datasets(tmp_path)
    for name, frame in analysis.items():
        assert_frame_equal(back[name], frame)
    assert define_problems((tmp_path / "define.xml").read_text()) == []


def test_export_adam_from_analysis_tables_without_design(
    analysis: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    source = tmp_path / "analysis"
    source.mkdir()
    for name, frame in analysis.items():
        frame.write_parquet(source / f"{name.lower()}.parquet")
    result = run(
        "export",
        "adam",
        "--tables",
        str(source),
        "--format",
        "json",
        "--out",
        str(tmp_path / "out"),
    )
    assert result.exit_code == 0, result.output
    assert_frame_equal(read_datasets(tmp_path / "out")["BDS"], analysis["BDS"])


def test_export_adam_from_the_registry_needs_a_design(demo_registry: Path, tmp_path: Path) -> None:
    result = run("export", "adam", "--db", str(demo_registry), "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "--design" in result.output


def test_a_value_xpt_cannot_hold_is_an_error_line_and_nothing_is_written(
    collected: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    source = tmp_path / "tables"
    source.mkdir()
    ae = collected["AE"].with_columns(pl.lit("Ekzem am Fuß").alias("AETERM"))
    ae.write_parquet(source / "ae.parquet")
    collected["DM"].write_parquet(source / "dm.parquet")
    result = run("export", "sdtm", "--tables", str(source), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "Error: AE row 1 AETERM must be printable ASCII" in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
