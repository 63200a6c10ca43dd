"""Registry fixtures: every registry test runs on SQLite and on a real PostgreSQL server.

The PostgreSQL server is started from Debian's packages (``/usr/lib/postgresql/*/bin``) in a
temporary directory, listening on a Unix socket only, once per test worker; each test gets a
fresh database. ``make test`` installs the ``postgresql`` package when it is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from atopic.registry import pgserver
from atopic.registry.db import make_engine, upgrade


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'atopic.db'}"
        return
    admin_url: str = request.getfixturevalue("postgres_server")
    url = pgserver.create_database(admin_url)
    yield url
    pgserver.drop_database(admin_url, url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a fresh database migrated to the latest schema."""
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()
