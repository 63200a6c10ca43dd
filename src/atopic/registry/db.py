"""Engines and sessions: SQLite by default (``./atopic.db``), PostgreSQL by URL; Alembic migrations.

SQLite is opened with WAL journaling, foreign keys on, a 10 s busy timeout and ``synchronous=FULL``
(an acknowledged commit survives a crash); units of work that write (``transaction``) begin
IMMEDIATE so writers queue instead of failing on lock upgrades, while reads begin DEFERRED and
never hold the write lock. Within one process, SQLite writers also queue on a lock of the engine
before BEGIN IMMEDIATE (one writer at a time, as datasette does): threads waiting on a lock are
woken as it frees, while SQLite's busy handler polls with growing sleeps, which made the slowest
writes under load wait seconds while others went through.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import sessionmaker

from atopic.registry.audit import Actor, AuditedSession

DEFAULT_URL = "sqlite:///atopic.db"
WRITE = "atopic_write"
"""Execution option marking a connection that will write (see ``transaction``)."""
MIGRATIONS = Path(__file__).parent / "migrations"
_WRITERS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


def normalize_url(url: str | None) -> str:
    """A SQLAlchemy URL from what a user typed: a path, ``sqlite:///...`` or ``postgresql://...``.

    ``postgresql://`` is given the psycopg 3 driver.
    """
    if not url:
        return DEFAULT_URL
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if "://" not in url:
        return f"sqlite:///{url}"
    return url


def make_engine(url: str | None = None, **kw: Any) -> Engine:
    """An engine for ``url`` (default ``./atopic.db``) with the SQLite settings above."""
    engine = create_engine(normalize_url(url), **kw)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        _WRITERS[engine] = threading.Lock()
    return engine


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event issue BEGIN
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # Units of work that write begin IMMEDIATE (take the write lock first, so they queue on the
    # busy timeout instead of failing on a lock upgrade); reads begin DEFERRED and block nobody.
    if connection.get_execution_options().get(WRITE):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


def session_factory(engine: Engine) -> sessionmaker[AuditedSession]:
    """Sessions that audit every write (see ``atopic.registry.audit``)."""
    return sessionmaker(bind=engine, class_=AuditedSession, expire_on_commit=False)


@contextmanager
def transaction(
    factory: sessionmaker[AuditedSession], actor: Actor, reason: str | None = None
) -> Iterator[AuditedSession]:
    """One unit of work as ``actor``: commit on success, roll back on any error."""
    bind = factory.kw.get("bind")
    writer = _WRITERS.get(bind) if isinstance(bind, Engine) else None
    with writer or nullcontext(), factory() as session:
        session.info["actor"] = actor
        if reason:
            session.info["reason"] = reason
        with session.begin():
            session.connection(execution_options={WRITE: True})
            yield session


def alembic_config(engine: Engine) -> Config:
    """Alembic configuration pointing at the packaged migrations and this engine."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or migrate the schema to ``revision`` (``atopic db init`` / ``atopic db upgrade``)."""
    command.upgrade(alembic_config(engine), revision)
