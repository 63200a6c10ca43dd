"""``atopic import redcap`` on the example writes DM/QS/LB, rejects.csv and ignored.csv."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from atopic.cli import main
from atopic.tables import DM, LB, QS
from atopic.tables.files import read_tables

from .conftest import EXAMPLE


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_import_redcap_writes_tables_and_rejects(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "out"
    args = [
        "import",
        "redcap",
        "--export",
        str(EXAMPLE / "export.csv"),
        "--dictionary",
        str(EXAMPLE / "dictionary.csv"),
        "--mapping",
        str(EXAMPLE / "mapping.toml"),
        "--out",
        str(out),
        "--format",
        fmt,
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    tables = read_tables(out, {"DM": DM, "QS": QS, "LB": LB})
    assert set(tables) == {"DM", "QS", "LB"}
    rejects = pl.read_csv(out / "rejects.csv", infer_schema=False)
    assert rejects.height == 5
    assert "rejects 5" in result.output


def test_bad_mapping_prints_the_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text((EXAMPLE / "mapping.toml").read_text().replace('"EASI101"', '"EASI999"'))
    args = [
        "import",
        "redcap",
        "--export",
        str(EXAMPLE / "export.csv"),
        "--dictionary",
        str(EXAMPLE / "dictionary.csv"),
        "--mapping",
        str(bad),
        "--out",
        str(tmp_path / "o"),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0
    assert "EASI999" in result.output
    assert str(bad) in result.output
    assert not (tmp_path / "o").exists()
