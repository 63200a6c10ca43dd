"""From collected tables to report.html: the demo trial through derive, analyze and report, and
the ``atopic analyze`` command on files and on a locked registry."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from atopic.cli import main
from atopic.demo import DEMO_PASSWORDS, build_demo
from atopic.registry.admin import lock_database
from atopic.registry.audit import Actor
from atopic.registry.db import make_engine, session_factory, transaction
from atopic.registry.export import export_tables, write_tables
from atopic.tables.collected import COLLECTED
from atopic.tables.files import read_tables
from atopic.trial import analyses as ids
from atopic.trial import ard
from atopic.trial.analyze.run import Options
from atopic.trial.design import load_design
from atopic.trial.workflow import run

DESIGN = Path(__file__).resolve().parents[2] / "examples" / "trial" / "design.toml"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("registry") / "demo.db"
    build_demo(str(path))
    return path


@pytest.fixture(scope="module")
def tables_dir(registry: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    factory = session_factory(make_engine(str(registry)))
    pharmacist = Actor("pharmacist", "pharmacist")
    with factory() as session, session.begin():
        session.info["actor"] = pharmacist
        frames = export_tables(session, pharmacist)
    out = tmp_path_factory.mktemp("tables")
    write_tables(frames, out, "csv")
    return out


@pytest.fixture(scope="module")
def result(tables_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("analysis")
    tables = read_tables(tables_dir, COLLECTED)
    run(tables, load_design(DESIGN), out, Options(mi_imputations=5))
    return out


def test_every_output_is_written(result: Path) -> None:
    names = {p.name for p in result.iterdir()}
    assert {"adsl.parquet", "bds.parquet", "adae.parquet", "rejects.csv", "ard.parquet"} <= names
    assert {"ard.csv", "report.html"} <= names
    csv = pl.read_csv(result / "ard.csv", infer_schema_length=None)
    assert csv.columns == list(ard.COLUMNS)
    assert csv.height == pl.read_parquet(result / "ard.parquet").height


def test_responder_rates_in_the_ard_count_the_bds_flags(result: Path) -> None:
    """BIN-RATE n and N recomputed from the BDS records (ANL01FL, week 12, EASI-50 = CRIT1FL)."""
    frame = pl.read_parquet(result / "ard.parquet")
    bds = pl.read_parquet(result / "bds.parquet")
    week12 = bds.filter(
        (pl.col("PARAMCD") == "EASI") & (pl.col("AVISIT") == "WEEK 12") & (pl.col("ANL01FL") == "Y")
    )
    for arm, part in week12.group_by("TRTP"):
        responders = part.filter(pl.col("CRIT1FL") == "Y").height
        keys = {"paramcd": "EASI-50", "avisit": "WEEK 12", "group": arm[0]}
        assert ard.value(frame, ids.BIN_RATE, "n", estimand="composite", **keys) == responders
        assert ard.value(frame, ids.BIN_RATE, "N", estimand="composite", **keys) == part.height


def test_the_report_shows_the_ard_numbers_and_is_self_contained(result: Path) -> None:
    html = (result / "report.html").read_text()
    frame = pl.read_parquet(result / "ard.parquet")
    for section in ("disposition", "demographics", "responders", "continuous", "safety"):
        assert f'id="{section}"' in html
    assert html.count("<svg") >= 5
    assert not re.search(r"""(src|href)=["']https?://""", html)
    high = "MSC 5.0x10^7 cells SC"
    keys = {"paramcd": "EASI-50", "avisit": "WEEK 12", "group": high, "estimand": "composite"}
    n = ard.value(frame, ids.BIN_RATE, "n", **keys)
    big_n = ard.value(frame, ids.BIN_RATE, "N", **keys)
    assert f"{n:.0f}/{big_n:.0f} ({100 * n / big_n:.1f}%)" in html


def test_same_input_gives_the_same_outputs_byte_for_byte(
    tables_dir: Path, result: Path, tmp_path: Path
) -> None:
    run(
        read_tables(tables_dir, COLLECTED), load_design(DESIGN), tmp_path, Options(mi_imputations=5)
    )
    for name in ("ard.csv", "report.html"):
        assert (tmp_path / name).read_bytes() == (result / name).read_bytes(), name


def test_cli_analyzes_a_folder_of_tables(tables_dir: Path, tmp_path: Path) -> None:
    args = ["analyze", "--tables", str(tables_dir), "--design", str(DESIGN), "--out", str(tmp_path)]
    outcome = CliRunner().invoke(main, [*args, "--imputations", "2"])
    assert outcome.exit_code == 0, outcome.output
    assert "ADSL\t36 rows" in outcome.output
    assert (tmp_path / "report.html").exists()


@pytest.mark.slow
def test_cli_on_duckdb_gives_the_same_ard(tables_dir: Path, result: Path, tmp_path: Path) -> None:
    """The derivations on DuckDB, the statistics on what comes back: the same ARD to the byte."""
    args = ["analyze", "--tables", str(tables_dir), "--design", str(DESIGN), "--out", str(tmp_path)]
    outcome = CliRunner().invoke(main, [*args, "--imputations", "5", "--engine", "duckdb"])
    assert outcome.exit_code == 0, outcome.output
    assert (tmp_path / "ard.csv").read_bytes() == (result / "ard.csv").read_bytes()


def test_cli_names_the_bad_value_of_a_table(tables_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    for path in tables_dir.iterdir():
        (bad / path.name).write_bytes(path.read_bytes())
    lb = pl.read_csv(bad / "lb.csv", infer_schema=False)
    lb = lb.with_columns(
        pl.when(pl.int_range(pl.len()) == 2)
        .then(pl.lit("zero"))
        .otherwise("LBSTRESN")
        .alias("LBSTRESN")
    )
    lb.write_csv(bad / "lb.csv")
    args = ["analyze", "--tables", str(bad), "--design", str(DESIGN), "--out", str(tmp_path / "o")]
    outcome = CliRunner().invoke(main, args)
    assert outcome.exit_code == 1
    assert "LB LBSTRESN (row 3 of lb.csv) must be numeric (Float64); got 'zero'" in outcome.output


def test_cli_on_a_registry_needs_the_lock_and_an_unblinded_user(
    registry: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.db"
    copy.write_bytes(registry.read_bytes())
    runner = CliRunner()
    base = ["analyze", "--db", str(copy), "--design", str(DESIGN), "--out", str(tmp_path / "o")]

    def as_user(role: str) -> object:
        env = {"ATOPIC_PASSWORD": DEMO_PASSWORDS[role]}
        return runner.invoke(main, [*base, "--as", role, "--imputations", "2"], env=env)

    outcome = as_user("statistician")
    assert outcome.exit_code == 1
    assert "the registry is not locked" in outcome.output
    factory = session_factory(make_engine(str(copy)))
    admin = Actor("admin", "admin")
    with transaction(factory, admin, reason="end of study") as session:
        lock_database(session, admin, "end of study")
    outcome = as_user("monitor")
    assert outcome.exit_code == 1
    assert "blinded" in outcome.output
    outcome = as_user("statistician")
    assert outcome.exit_code == 0, outcome.output
    assert (tmp_path / "o" / "report.html").exists()
