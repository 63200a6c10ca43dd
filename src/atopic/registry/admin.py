"""Database administration: lock and unlock, backup and restore, verification.

A database lock freezes clinical data for analysis: ``lock_database`` marks every study locked
and the audited session (``atopic.registry.audit``) then refuses any clinical insert, change or
deletion. Unlocking is an admin act with a reason, recorded in the audit trail like any change.

Backups are whole-database copies that keep the audit chain as it is: SQLite through its online
backup API (consistent while others write), PostgreSQL through ``pg_dump -Fc`` and
``pg_restore --clean --if-exists``. Connection passwords go to the PostgreSQL tools through the
environment, never on a command line. ``verify`` recomputes the audit chain and, on SQLite, runs
``PRAGMA integrity_check``.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from atopic.errors import Described, InvalidInput
from atopic.registry.audit import Actor, ChainReport, now, verify_chain
from atopic.registry.db import normalize_url
from atopic.registry.models import Study
from atopic.registry.roles import require
from atopic.registry.users import acting, check_reason

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"


# --- lock ------------------------------------------------------------------------------------


def is_locked(session: Session) -> bool:
    """True when any study is locked (then no clinical data may change)."""
    return session.execute(select(Study.id).where(Study.locked)).first() is not None


def lock_database(session: Session, actor: Actor, reason: str) -> int:
    """Lock every study (admins only, with a reason); returns how many were locked.

    Refused when there is no study (nothing would be frozen) or the database is already locked.
    """
    require(actor.role, "lock")
    why = check_reason("database", reason)
    studies = session.scalars(select(Study).order_by(Study.id)).all()
    if not studies:
        raise InvalidInput(
            "database", "lock", Described("no study"), "a registry with at least one study"
        )
    if all(study.locked for study in studies):
        raise InvalidInput("database", "lock", "locked", "unlocked before it is locked")
    with acting(session, actor, why):
        at = now()
        for study in studies:
            if not study.locked:
                study.locked, study.locked_at = True, at
    return len(studies)


def unlock_database(session: Session, actor: Actor, reason: str) -> int:
    """Unlock every locked study (admins only); the reason is required and audited.

    Returns how many studies were unlocked; refused when nothing is locked.
    """
    require(actor.role, "lock")
    why = check_reason("database", reason)
    locked = session.scalars(select(Study).where(Study.locked).order_by(Study.id)).all()
    if not locked:
        raise InvalidInput("database", "unlock", "unlocked", "locked before it is unlocked")
    with acting(session, actor, why):
        for study in locked:
            study.locked, study.locked_at = False, None
    return len(locked)


# --- verify ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyReport:
    """The audit chain's report and, on SQLite, the lines of ``PRAGMA integrity_check``."""

    chain: ChainReport
    integrity: tuple[str, ...] | None = None

    @property
    def integrity_ok(self) -> bool:
        """True when the storage check passed or does not apply (PostgreSQL)."""
        return self.integrity is None or self.integrity == ("ok",)

    @property
    def ok(self) -> bool:
        """True when the chain holds and the storage check passed."""
        return self.chain.ok and self.integrity_ok


def verify(session: Session) -> VerifyReport:
    """Check the audit chain (first broken link) and, on SQLite, the file's integrity."""
    integrity = None
    if session.get_bind().dialect.name == "sqlite":
        integrity = tuple(str(line) for line in session.scalars(text("PRAGMA integrity_check")))
    return VerifyReport(verify_chain(session), integrity)


# --- backup and restore ----------------------------------------------------------------------


def _url(engine_url: str) -> URL:
    url = make_url(normalize_url(engine_url))
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise InvalidInput(
            "database", "url", url.render_as_string(), "a sqlite:/// path or a postgresql:// URL"
        )
    return url


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise InvalidInput("database", "url", url.render_as_string(), "a SQLite database file")
    return Path(url.database)


def _read_only(path: Path) -> str:
    """A SQLite URI opening ``path`` read-only (percent-encoded, so any file name works)."""
    return path.resolve().as_uri() + "?mode=ro"


def pg_tool(name: str) -> str:
    """The newest ``pg_dump``/``pg_restore`` (Debian's /usr/lib/postgresql/*/bin, else PATH).

    The newest is chosen because pg_dump refuses servers newer than itself.
    """
    found = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")

    def version(path: str) -> tuple[int, ...]:
        parts = Path(path).parent.parent.name.split(".")
        return tuple(int(p) for p in parts if p.isdigit())

    if found:
        return max(found, key=version)
    on_path = shutil.which(name)
    if on_path is None:
        raise FileNotFoundError(f"{name} not found in /usr/lib/postgresql/*/bin or on PATH")
    return on_path


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and an environment carrying it."""
    from psycopg.conninfo import make_conninfo

    params: dict[str, str] = {}
    for key, value in url.query.items():
        params[key] = value if isinstance(value, str) else value[-1]
    if url.host:
        params["host"] = url.host
    if url.port:
        params["port"] = str(url.port)
    if url.username:
        params["user"] = url.username
    if url.database:
        params["dbname"] = url.database
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return make_conninfo(**params), env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        # The first line says what failed; PostgreSQL puts row values only in DETAIL lines,
        # which could hold identifiers, so those are never shown.
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        detail = next((line for line in lines if "DETAIL" not in line), "no message")[:300]
        raise RuntimeError(f"{what} failed (exit {done.returncode}): {detail}")


def backup(engine_url: str, path: str | os.PathLike[str]) -> Path:
    """Copy the whole database at ``engine_url`` into a new file ``path``; returns the path.

    SQLite: the online backup API (a consistent snapshot while others write). PostgreSQL:
    ``pg_dump -Fc``. The copy is written next to ``path`` and renamed into place, so a failed
    backup leaves no partial file; an existing file is never overwritten.
    """
    url = _url(engine_url)
    target = Path(path)
    if target.exists():
        raise InvalidInput("backup", "path", str(target), "a file that does not exist yet")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if url.get_backend_name() == "sqlite":
            source_path = _sqlite_path(url)
            if not source_path.is_file():
                raise InvalidInput("backup", "database", str(source_path), "an existing file")
            with (
                closing(sqlite3.connect(_read_only(source_path), uri=True)) as source,
                closing(sqlite3.connect(partial)) as copy,
            ):
                source.backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        else:
            conninfo, env = _libpq(url)
            _run(
                [pg_tool("pg_dump"), "-Fc", "--file", str(partial), "--dbname", conninfo],
                env,
                "pg_dump",
            )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def restore(path: str | os.PathLike[str], engine_url: str) -> None:
    """Replace the database at ``engine_url`` with the backup in ``path``.

    SQLite: the backup API copies the file into the target (created if missing), in one step.
    PostgreSQL: ``pg_restore --clean --if-exists --no-owner --single-transaction``, so a failed
    restore changes nothing. The file must be a backup of the same kind as the target. Close
    other connections first; run ``verify`` afterwards.
    """
    url = _url(engine_url)
    source = Path(path)
    if not source.is_file():
        raise InvalidInput("restore", "path", str(source), "an existing backup file")
    with source.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if url.get_backend_name() == "sqlite":
        if header != SQLITE_HEADER:
            raise InvalidInput(
                "restore",
                "path",
                Described(f"{source}, not a SQLite database"),
                "a backup made by atopic db backup from a SQLite registry",
            )
        target = _sqlite_path(url)
        with (
            closing(sqlite3.connect(_read_only(source), uri=True)) as backup_db,
            closing(sqlite3.connect(target)) as live,
        ):
            backup_db.backup(live)
        return
    if not header.startswith(PG_DUMP_HEADER):
        raise InvalidInput(
            "restore",
            "path",
            Described(f"{source}, not a pg_dump custom-format file"),
            "a backup made by atopic db backup from a PostgreSQL registry",
        )
    conninfo, env = _libpq(url)
    _run(
        [
            pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--dbname",
            conninfo,
            str(source),
        ],
        env,
        "pg_restore",
    )


__all__ = [
    "VerifyReport",
    "backup",
    "is_locked",
    "lock_database",
    "restore",
    "unlock_database",
    "verify",
]
