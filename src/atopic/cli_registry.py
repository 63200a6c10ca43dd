"""``atopic db ...`` and ``atopic users ...``: thin commands over ``atopic.registry``.

Every command takes ``--db URL`` (default ``./atopic.db``; a path, ``sqlite:///...`` or
``postgresql://...``; also ``ATOPIC_DB``). Commands that change or read records act as someone:
``--as USERNAME`` (or ``ATOPIC_USER``) with the password from ``ATOPIC_PASSWORD`` or a hidden
prompt, or, for scripts, an API token in ``ATOPIC_TOKEN``. ``db init`` needs no identity: it
creates the schema and, with ``--admin``, the first admin of an empty registry.

``db upgrade``, ``backup``, ``restore`` and ``verify`` work on the database as a whole and are
gated by the database's own credentials (file permissions, the PostgreSQL URL), which they
need anyway; an application password would add nothing there.

An InvalidInput or Forbidden message is printed as ``Error: ...`` with exit status 1, without a
traceback. Database errors print their class (and, for connection problems, the server's first
line), never the SQL parameters, which could hold identifiers. Registry modules are imported
inside the commands so that ``atopic score`` does not pay for SQLAlchemy at start-up.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from atopic.cli_options import design_option
from atopic.errors import InvalidInput
from atopic.registry.roles import Forbidden

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import sessionmaker

    from atopic.registry.admin import VerifyReport
    from atopic.registry.audit import Actor, AuditedSession

DEFAULT_DB = "atopic.db"


def _message(error: Exception) -> str | None:
    """The line to print for an expected error, or None to let it propagate (a bug)."""
    if isinstance(error, InvalidInput | Forbidden):
        return str(error)
    if "sqlalchemy.exc" in sys.modules:
        from sqlalchemy.exc import DBAPIError, OperationalError

        if isinstance(error, OperationalError):
            first = (str(error.orig).strip().splitlines() or [""])[0]
            return f"database error: {first}"
        if isinstance(error, DBAPIError):
            return f"database refused the operation ({type(error.orig).__name__})"
    if isinstance(error, FileNotFoundError | RuntimeError):  # pg_dump/pg_restore missing or failed
        return str(error)
    return None


class _Group(click.Group):
    """A command group that turns the registry's expected errors into ``Error: ...``, exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException:
            raise
        except Exception as error:
            message = _message(error)
            if message is None:
                raise
            raise click.ClickException(message) from None


def _db_option(function: Any) -> Any:
    return click.option(
        "--db",
        "db",
        default=DEFAULT_DB,
        show_default=True,
        envvar="ATOPIC_DB",
        help="SQLite path or sqlite:///PATH, or postgresql://USER@HOST/NAME (env ATOPIC_DB).",
    )(function)


def _as_option(function: Any) -> Any:
    return click.option(
        "--as",
        "as_user",
        envvar="ATOPIC_USER",
        help="Act as USERNAME; password from ATOPIC_PASSWORD or a prompt (env ATOPIC_USER).",
    )(function)


def _shown(db: str) -> str:
    """The database URL for messages, with any password masked."""
    from sqlalchemy.engine import make_url

    from atopic.registry.db import normalize_url

    return make_url(normalize_url(db)).render_as_string(hide_password=True)


@contextmanager
def _engine(db: str, *, create: bool = False) -> Iterator[Engine]:
    """An engine on ``db``; unless ``create``, refuse a database ``db init`` has not made."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url

    from atopic.registry.db import make_engine, normalize_url

    url = make_url(normalize_url(db))
    missing = click.ClickException(
        f"no atopic registry at {_shown(db)}; create it with: atopic db init --db {_shown(db)}"
    )
    if (
        not create
        and url.get_backend_name() == "sqlite"
        and url.database not in (None, "", ":memory:")
        and not Path(url.database).is_file()
    ):
        raise missing
    engine = make_engine(db)
    try:
        if not create and not inspect(engine).has_table("alembic_version"):
            raise missing
        yield engine
    finally:
        engine.dispose()


def _factory(engine: Engine) -> sessionmaker[AuditedSession]:
    from atopic.registry.db import session_factory

    return session_factory(engine)


def _identify(factory: sessionmaker[AuditedSession], as_user: str | None) -> Actor:
    """Who is acting: ``--as`` with a password (env or prompt), else the ATOPIC_TOKEN token."""
    from atopic.registry.users import actor_for_token, authenticate

    token = os.environ.get("ATOPIC_TOKEN")
    with factory() as session, session.begin():
        if as_user is None:
            if not token:
                raise click.UsageError("give --as USERNAME (or an API token in ATOPIC_TOKEN)")
            actor = actor_for_token(session, token)
            if actor is None:
                raise click.ClickException("the token in ATOPIC_TOKEN is unknown or revoked")
            return actor
        password = os.environ.get("ATOPIC_PASSWORD")
        if password is None:
            password = click.prompt(f"Password for {as_user}", hide_input=True, err=True)
        actor = authenticate(session, as_user, password)
    if actor is None:
        raise click.ClickException(
            "authentication failed: wrong username or password, or the user is disabled"
        )
    return actor


def _new_password(username: str, from_stdin: bool) -> str:
    """A new user's password: the first line of stdin, or a hidden prompt asked twice."""
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    return click.prompt(
        f"Password for new user {username}", hide_input=True, confirmation_prompt=True, err=True
    )


def _print_report(report: VerifyReport) -> None:
    chain = report.chain
    if chain.ok:
        click.echo(f"audit chain: {chain.checked} rows, ok")
    else:
        click.echo(
            f"audit chain: broken at row {chain.broken_at}: {chain.problem} "
            f"({chain.checked} rows before it verify)"
        )
    if report.integrity is not None:
        click.echo("integrity check: " + "; ".join(report.integrity))


# --- atopic db -------------------------------------------------------------------------------


@click.group(cls=_Group, short_help="Create, migrate, back up, verify and lock the registry.")
def db() -> None:
    """The registry database: schema, backups, audit verification and database lock."""


@db.command(short_help="Create or migrate the schema; optionally the first admin.")
@_db_option
@click.option("--admin", "admin", default=None, help="Create this first admin (empty registry).")
@click.option("--password-stdin", is_flag=True, help="Read the admin's password from stdin.")
def init(db: str, admin: str | None, password_stdin: bool) -> None:
    """Create the schema (or migrate it to the latest revision) and, with --admin USERNAME,
    the first admin of a registry that has no user yet."""
    from atopic.registry.db import transaction, upgrade
    from atopic.registry.users import SYSTEM, create_first_admin

    password = _new_password(admin, password_stdin) if admin else None
    with _engine(db, create=True) as engine:
        upgrade(engine)
        click.echo(f"database ready: {_shown(db)}")
        if admin and password is not None:
            with transaction(_factory(engine), SYSTEM) as session:
                info = create_first_admin(session, admin, password)
            click.echo(f"first admin: {info.username}")


@db.command(short_help="Migrate the schema to the latest revision.")
@_db_option
def upgrade(db: str) -> None:
    """Apply the pending migrations of an existing registry."""
    from atopic.registry.db import upgrade as migrate

    with _engine(db) as engine:
        migrate(engine)
    click.echo(f"schema up to date: {_shown(db)}")


@db.command(short_help="Copy the whole database into a new file.")
@_db_option
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup(db: str, path: Path) -> None:
    """Write a backup of the database to PATH (SQLite: a database file; PostgreSQL: pg_dump
    custom format). PATH must not exist yet."""
    from atopic.registry import admin

    with _engine(db):
        pass  # refuses a database that does not exist
    written = admin.backup(db, path)
    click.echo(f"backup written: {written}")


@db.command(short_help="Replace the database with a backup, then verify it.")
@_db_option
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore(db: str, path: Path, yes: bool) -> None:
    """Replace the database with the backup in PATH (everything in it now is lost), then verify
    the audit chain of the result; exit status 1 if it does not verify."""
    from atopic.registry import admin

    if not yes:
        click.confirm(f"Replace {_shown(db)} with {path}?", abort=True, err=True)
    admin.restore(path, db)
    with _engine(db) as engine, _factory(engine)() as session:
        report = admin.verify(session)
    click.echo(f"restored {path} into {_shown(db)}")
    _print_report(report)
    sys.exit(0 if report.ok else 1)


@db.command(short_help="Check the audit chain (and SQLite's integrity).")
@_db_option
def verify(db: str) -> None:
    """Recompute the audit chain; print "audit chain: N rows, ok" or the first broken row id
    (exit status 1). On SQLite also run PRAGMA integrity_check."""
    from atopic.registry import admin

    with _engine(db) as engine, _factory(engine)() as session:
        report = admin.verify(session)
    _print_report(report)
    sys.exit(0 if report.ok else 1)


@db.command(short_help="Create a study and its randomization list from a trial design file.")
@_db_option
@_as_option
@design_option
@click.option(
    "--list-length",
    type=int,
    default=None,
    help="Slots per stratum (default: the design's planned_subjects).",
)
def study(db: str, as_user: str | None, design_file: Path, list_length: int | None) -> None:
    """Create the design's study (admins only) with the design file stored beside it, and
    generate its concealed randomization list from the design's arms, ratios, strata and block
    sizes. The seed comes from ATOPIC_RANDOMIZATION_SEED or a prompt and is never stored: keep it
    with the master list."""
    from atopic.registry import randomization as rnd
    from atopic.registry import services as svc
    from atopic.registry.db import transaction
    from atopic.trial.design import load_design

    text = design_file.read_text(encoding="utf-8")
    design = load_design(text)
    plan = design.randomization_plan()
    if list_length is not None:
        plan["list_length"] = list_length
    if not plan["list_length"]:
        raise click.UsageError("give --list-length (the design has no planned_subjects)")
    seed = os.environ.get("ATOPIC_RANDOMIZATION_SEED") or click.prompt(
        "Randomization seed (not stored)", hide_input=True, confirmation_prompt=True
    )
    with _engine(db) as engine:
        factory = _factory(engine)
        actor = _identify(factory, as_user)
        with transaction(factory, actor) as session:
            created = svc.create_study(
                session, actor, design.study.studyid, design.study.title, text
            )
            summary = rnd.setup_randomization(
                session, actor, created.id, rnd.RandomizationDesign(**plan), seed
            )
    click.echo(
        f"study {design.study.studyid}: {len(design.arms)} arms, {len(summary.strata)} strata, "
        f"{summary.slots} concealed randomization slots"
    )


@db.command(short_help="Lock the database: no clinical data may change.")
@_db_option
@_as_option
@click.option("--reason", default="database lock", show_default=True, help="Why (audited).")
def lock(db: str, as_user: str | None, reason: str) -> None:
    """Lock every study (admins only); clinical data then cannot change until an unlock."""
    from atopic.registry import admin
    from atopic.registry.db import transaction

    with _engine(db) as engine:
        factory = _factory(engine)
        actor = _identify(factory, as_user)
        with transaction(factory, actor) as session:
            count = admin.lock_database(session, actor, reason)
    click.echo(f"database locked ({count} studies)")


@db.command(short_help="Unlock the database (admins, with a reason; audited).")
@_db_option
@_as_option
@click.option("--reason", required=True, help="Why the lock is lifted (audited).")
def unlock(db: str, as_user: str | None, reason: str) -> None:
    """Unlock every locked study (admins only); the reason is kept in the audit trail."""
    from atopic.registry import admin
    from atopic.registry.db import transaction

    with _engine(db) as engine:
        factory = _factory(engine)
        actor = _identify(factory, as_user)
        with transaction(factory, actor) as session:
            count = admin.unlock_database(session, actor, reason)
    click.echo(f"database unlocked ({count} studies)")


# --- atopic users ----------------------------------------------------------------------------


@click.group(cls=_Group, short_help="Add, list and disable users; issue API tokens.")
def users() -> None:
    """People who log in, their roles, and API tokens for scripts."""


@users.command(short_help="Add a user with a role (admins).")
@_db_option
@_as_option
@click.argument("username")
@click.option(
    "--role",
    required=True,
    help="admin, investigator, coordinator, pharmacist, monitor or statistician.",
)
@click.option("--site", "site_code", default=None, help="Site code the user belongs to.")
@click.option("--password-stdin", is_flag=True, help="Read the new password from stdin.")
def add(
    db: str,
    as_user: str | None,
    username: str,
    role: str,
    site_code: str | None,
    password_stdin: bool,
) -> None:
    """Add USERNAME with --role; the password (12 characters or more) is read from stdin's
    first line with --password-stdin, else prompted for twice."""
    from atopic.registry.db import transaction
    from atopic.registry.users import add_user

    with _engine(db) as engine:
        factory = _factory(engine)
        password = _new_password(username, password_stdin)
        actor = _identify(factory, as_user)
        with transaction(factory, actor) as session:
            info = add_user(session, actor, username, password, role, site_code)
    click.echo(f"added {info.username} ({info.role})")


@users.command(name="list", short_help="List users, roles and status (admins).")
@_db_option
@_as_option
def list_(db: str, as_user: str | None) -> None:
    """One line per user: username, role, site, active or disabled, created."""
    from atopic.registry.users import list_users

    with _engine(db) as engine:
        factory = _factory(engine)
        actor = _identify(factory, as_user)
        with factory() as session:
            found = list_users(session, actor)
    for info in found:
        status = "active" if info.active else "disabled"
        click.echo(
            f"{info.username:<24} {info.role:<13} {info.site_code or '-':<10} {status:<9} "
            f"{info.created_at}"
        )


@users.command(short_help="Disable a user (admins, with a reason).")
@_db_option
@_as_option
@click.argument("username")
@click.option("--reason", required=True, help="Why (audited).")
def disable(db: str, as_user: str | None, username: str, reason: str) -> None:
    """Disable USERNAME: no more logins or token use; the account stays for the audit trail."""
    from atopic.registry.db import transaction
    from atopic.registry.users import disable_user

    with _engine(db) as engine:
        factory = _factory(engine)
        actor = _identify(factory, as_user)
        with transaction(factory, actor) as session:
            disable_user(session, actor, username, reason)
    click.echo(f"disabled {username}")


@users.command(short_help="Issue an API token for scripts (shown once).")
@_db_option
@_as_option
@click.argument("username")
@click.option("--label", required=True, help="What the token is for (names it for revoking).")
def token(db: str, as_user: str | None, username: str, label: str) -> None:
    """Print a new API token for USERNAME (yourself, or anyone as an admin) on stdout. Only its
    SHA-256 is stored: it cannot be shown again."""
    from atopic.registry.db import transaction
    from atopic.registry.users import create_token

    with _engine(db) as engine:
        factory = _factory(engine)
        actor = _identify(factory, as_user)
        with transaction(factory, actor) as session:
            secret = create_token(session, actor, username, label)
    click.echo(secret)
    click.echo("store this token now: it is shown only once", err=True)


@users.command(name="revoke-token", short_help="Revoke a user's API tokens by label.")
@_db_option
@_as_option
@click.argument("username")
@click.option("--label", required=True, help="The label given when the token was issued.")
@click.option("--reason", required=True, help="Why (audited).")
def revoke_token(db: str, as_user: str | None, username: str, label: str, reason: str) -> None:
    """Revoke USERNAME's active tokens with --label (yourself, or anyone as an admin)."""
    from atopic.registry.db import transaction
    from atopic.registry.users import revoke_token as revoke

    with _engine(db) as engine:
        factory = _factory(engine)
        actor = _identify(factory, as_user)
        with transaction(factory, actor) as session:
            count = revoke(session, actor, username, label, reason)
    click.echo(f"revoked {count} token(s) of {username} labelled {label!r}")
