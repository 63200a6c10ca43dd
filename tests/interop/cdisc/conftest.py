"""Fixtures: the demo trial's collected tables (exported from the demo registry as the unblinded
pharmacist) and the analysis tables derived from them with examples/trial/design.toml."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from atopic.demo import build_demo
from atopic.registry.audit import Actor
from atopic.registry.db import make_engine, session_factory
from atopic.registry.export import export_tables
from atopic.trial.derive import derive_all
from atopic.trial.design import load_design

DESIGN = Path(__file__).resolve().parents[3] / "examples" / "trial" / "design.toml"


@pytest.fixture(scope="session")
def demo_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("registry") / "demo.db"
    build_demo(str(path))
    return path


@pytest.fixture(scope="session")
def collected(demo_registry: Path) -> dict[str, pl.DataFrame]:
    factory = session_factory(make_engine(str(demo_registry)))
    pharmacist = Actor("pharmacist", "pharmacist")
    with factory() as session, session.begin():
        session.info["actor"] = pharmacist
        return export_tables(session, pharmacist)


@pytest.fixture(scope="session")
def analysis(collected: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    derived = derive_all(collected, load_design(DESIGN))
    return {name: derived[name] for name in ("ADSL", "BDS", "ADAE")}
