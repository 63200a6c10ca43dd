"""Fixtures: the demo registry (``atopic.demo.build_demo`` on a temporary SQLite file), its
collected tables as the unblinded pharmacist and blinded as the statistician, the instrument
declarations as data, and a factory of fresh, empty registries holding only the demo's study,
sites and users (the target of an import)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy.orm import sessionmaker

from atopic.cli_import import instrument_schemas
from atopic.demo import DEMO_PASSWORDS, SITES, STUDYID, build_demo
from atopic.registry import services as svc
from atopic.registry.audit import Actor
from atopic.registry.db import make_engine, session_factory, transaction, upgrade
from atopic.registry.export import export_tables
from atopic.registry.users import add_user, create_first_admin

INVESTIGATOR = Actor("investigator", "investigator")
PHARMACIST = Actor("pharmacist", "pharmacist")
STATISTICIAN = Actor("statistician", "statistician")


@pytest.fixture(scope="session")
def demo_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fhir-registry") / "demo.db"
    build_demo(str(path))
    return path


def export_as(factory: sessionmaker[Any], actor: Actor) -> dict[str, pl.DataFrame]:
    with factory() as session, session.begin():
        session.info["actor"] = actor
        return export_tables(session, actor)


@pytest.fixture(scope="session")
def demo_factory(demo_registry: Path) -> sessionmaker[Any]:
    return session_factory(make_engine(str(demo_registry)))


@pytest.fixture(scope="session")
def collected(demo_factory: sessionmaker[Any]) -> dict[str, pl.DataFrame]:
    return export_as(demo_factory, PHARMACIST)


@pytest.fixture(scope="session")
def blinded(demo_factory: sessionmaker[Any]) -> dict[str, pl.DataFrame]:
    return export_as(demo_factory, STATISTICIAN)


@pytest.fixture(scope="session")
def schemas() -> list[dict[str, Any]]:
    return instrument_schemas()


@pytest.fixture
def fresh_registry(tmp_path: Path) -> Callable[[], tuple[Path, sessionmaker[Any]]]:
    """A new registry with the demo's users, sites and study and no subjects."""

    def make() -> tuple[Path, sessionmaker[Any]]:
        path = tmp_path / "fresh.db"
        engine = make_engine(str(path))
        upgrade(engine)
        factory = session_factory(engine)
        admin = Actor("admin", "admin")
        with factory() as session, session.begin():
            create_first_admin(session, "admin", DEMO_PASSWORDS["admin"])
        with transaction(factory, admin) as session:
            for role, password in DEMO_PASSWORDS.items():
                if role != "admin":
                    add_user(session, admin, role, password, role)
            for code, name in SITES:
                svc.add_site(session, admin, code, name)
            svc.create_study(session, admin, STUDYID, "Demo MSC trial")
        return path, factory

    return make
