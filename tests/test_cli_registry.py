"""``atopic db`` and ``atopic users`` through click's CliRunner: SQLite, and once PostgreSQL."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from atopic.cli import main
from atopic.errors import InvalidInput
from atopic.registry import pgserver
from atopic.registry.audit import Actor
from atopic.registry.db import make_engine, session_factory, transaction
from atopic.registry.models import AuditEntry, Site, Study, Subject

ADA = "ada's long passphrase"
BOB = "bob's long passphrase"


def run(*args: str, stdin: str | None = None, password: str | None = ADA, **env: str) -> Result:
    """Run ``atopic ARGS`` with the acting password in ATOPIC_PASSWORD (unless None)."""
    environment: dict[str, str | None] = {
        "ATOPIC_PASSWORD": password,
        "ATOPIC_TOKEN": None,
        "ATOPIC_USER": None,
        "ATOPIC_DB": None,
        **env,
    }
    return CliRunner().invoke(main, list(args), input=stdin, env=environment)


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A SQLite registry initialised with the first admin ``ada``."""
    path = str(tmp_path / "atopic.db")
    result = run("db", "init", "--db", path, "--admin", "ada", "--password-stdin", stdin=ADA + "\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"database ready: sqlite:///{path}", "first admin: ada"]
    return path


def _add_study(url: str) -> None:
    engine = make_engine(url)
    try:
        with transaction(session_factory(engine), Actor("ada", "admin")) as session:
            site, study = Site(code="S01", name="Site one"), Study(studyid="ATO-001", title="Demo")
            session.add_all([site, study])
    finally:
        engine.dispose()


def _enrol(url: str, usubjid: str) -> None:
    engine = make_engine(url)
    try:
        with transaction(session_factory(engine), Actor("ivan", "investigator")) as session:
            session.add(
                Subject(
                    study_id=session.scalars(select(Study.id)).one(),
                    site_id=session.scalars(select(Site.id)).one(),
                    usubjid=usubjid,
                    sex="M",
                    age=8,
                    enrolled_on=dt.date(2026, 2, 1),
                )
            )
    finally:
        engine.dispose()


def test_every_subcommand_has_a_one_line_help() -> None:
    for group in ("db", "users"):
        result = run(group, "--help")
        assert result.exit_code == 0
        lines = result.output.split("Commands:")[1].strip().splitlines()
        command = main.commands[group]
        assert isinstance(command, click.Group)
        assert [line.split()[0] for line in lines] == sorted(command.commands)
        assert all(len(line.split(maxsplit=1)) == 2 for line in lines)


def test_users_add_list_disable(db: str) -> None:
    added = run(
        "users",
        "add",
        "bob",
        "--role",
        "monitor",
        "--password-stdin",
        "--as",
        "ada",
        "--db",
        db,
        stdin=BOB + "\n",
    )
    assert (added.exit_code, added.stdout) == (0, "added bob (monitor)\n")
    prompted = run(
        "users",
        "add",
        "cora",
        "--role",
        "coordinator",
        "--as",
        "ada",
        "--db",
        db,
        stdin="cora's passphrase\ncora's passphrase\n",
    )
    assert prompted.exit_code == 0, prompted.output
    assert "cora's passphrase" not in prompted.output  # hidden prompt

    listed = run("users", "list", "--as", "ada", "--db", db)
    assert listed.exit_code == 0
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert [row[:4] for row in rows] == [
        ["ada", "admin", "-", "active"],
        ["bob", "monitor", "-", "active"],
        ["cora", "coordinator", "-", "active"],
    ]
    assert "argon2" not in listed.output

    missing_reason = run("users", "disable", "bob", "--as", "ada", "--db", db)
    assert missing_reason.exit_code == 2  # usage error: --reason is required
    disabled = run("users", "disable", "bob", "--reason", "left", "--as", "ada", "--db", db)
    assert (disabled.exit_code, disabled.stdout) == (0, "disabled bob\n")
    assert "bob monitor - disabled" in " ".join(
        run("users", "list", "--as", "ada", "--db", db).stdout.split()
    )
    refused = run("users", "list", "--as", "bob", "--db", db, password=BOB)
    assert refused.exit_code == 1
    assert "authentication failed" in refused.output


def test_the_acting_password_can_be_prompted(db: str) -> None:
    result = run("users", "list", "--as", "ada", "--db", db, password=None, stdin=ADA + "\n")
    assert result.exit_code == 0, result.output
    assert "Password for ada" in result.stderr
    wrong = run("users", "list", "--as", "ada", "--db", db, password="not ada's password")
    assert wrong.exit_code == 1
    assert wrong.stderr == (
        "Error: authentication failed: wrong username or password, or the user is disabled\n"
    )


def test_errors_print_the_message_and_exit_1_without_traceback(db: str) -> None:
    bad_role = run(
        "users",
        "add",
        "eve",
        "--role",
        "wizard",
        "--password-stdin",
        "--as",
        "ada",
        "--db",
        db,
        stdin="eve's long passphrase\n",
    )
    assert bad_role.exit_code == 1
    assert bad_role.stderr.startswith("Error: user role must be one of admin, investigator")
    assert "Traceback" not in bad_role.output
    short = run(
        "users",
        "add",
        "eve",
        "--role",
        "monitor",
        "--password-stdin",
        "--as",
        "ada",
        "--db",
        db,
        stdin="short\n",
    )
    assert short.exit_code == 1
    assert short.stderr == (
        "Error: user password must be at least 12 characters (at most 1024); "
        "got a password of 5 characters\n"
    )
    run(
        "users",
        "add",
        "bob",
        "--role",
        "monitor",
        "--password-stdin",
        "--as",
        "ada",
        "--db",
        db,
        stdin=BOB + "\n",
    )
    forbidden = run(
        "users",
        "add",
        "eve",
        "--role",
        "admin",
        "--password-stdin",
        "--as",
        "bob",
        "--db",
        db,
        password=BOB,
        stdin="eve's long passphrase\n",
    )
    assert forbidden.exit_code == 1
    assert forbidden.stderr == "Error: a monitor may not manage users (allowed: admin)\n"
    no_db = run("db", "verify", "--db", str(Path(db).with_name("other.db")))
    assert no_db.exit_code == 1
    assert "no atopic registry at" in no_db.stderr
    assert not Path(db).with_name("other.db").exists()
    again = run(
        "db",
        "init",
        "--db",
        db,
        "--admin",
        "mallory",
        "--password-stdin",
        stdin="mallory's passphrase\n",
    )
    assert again.exit_code == 1
    assert "first admin must be created only while no user exists" in again.stderr


def test_verify_ok_then_tampering_names_the_row(db: str) -> None:
    ok = run("db", "verify", "--db", db)
    assert ok.exit_code == 0
    assert ok.stdout.splitlines() == ["audit chain: 6 rows, ok", "integrity check: ok"]
    with sqlite3.connect(db) as connection:
        connection.execute("DROP TRIGGER audit_log_no_update")
        connection.execute("UPDATE audit_log SET new = 'mallory' WHERE field = 'username'")
        row = connection.execute("SELECT id FROM audit_log WHERE new = 'mallory'").fetchone()[0]
    broken = run("db", "verify", "--db", db)
    assert broken.exit_code == 1
    first = broken.stdout.splitlines()[0]
    assert first.startswith(f"audit chain: broken at row {row}: the row's content does not match")
    assert first.endswith(f"({row - 1} rows before it verify)")


def test_lock_and_unlock(db: str) -> None:
    url = f"sqlite:///{db}"
    _add_study(url)
    locked = run("db", "lock", "--as", "ada", "--db", db)
    assert (locked.exit_code, locked.stdout) == (0, "database locked (1 studies)\n")
    with pytest.raises(InvalidInput, match="database must be unlocked"):
        _enrol(url, "ATO-001-0001")
    assert run("db", "unlock", "--as", "ada", "--db", db).exit_code == 2  # --reason required
    unlocked = run("db", "unlock", "--as", "ada", "--db", db, "--reason", "data query")
    assert (unlocked.exit_code, unlocked.stdout) == (0, "database unlocked (1 studies)\n")
    _enrol(url, "ATO-001-0001")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            reasons = connection.execute(
                select(AuditEntry.username, AuditEntry.new, AuditEntry.reason)
                .where(AuditEntry.field == "locked", AuditEntry.action == "update")
                .order_by(AuditEntry.id)
            ).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in reasons] == [
        ("ada", "True", "database lock"),
        ("ada", "False", "data query"),
    ]
    run(
        "users",
        "add",
        "ivan",
        "--role",
        "investigator",
        "--password-stdin",
        "--as",
        "ada",
        "--db",
        db,
        stdin="ivan's long passphrase\n",
    )
    refused = run("db", "lock", "--as", "ivan", "--db", db, password="ivan's long passphrase")
    assert refused.exit_code == 1
    assert refused.stderr == "Error: an investigator may not lock (allowed: admin)\n"


def test_a_token_acts_for_its_user(db: str) -> None:
    issued = run("users", "token", "ada", "--label", "nightly", "--as", "ada", "--db", db)
    assert issued.exit_code == 0
    token = issued.stdout.strip()
    assert len(token) >= 43
    assert "shown only once" in issued.stderr
    assert token.encode() not in Path(db).read_bytes()
    listed = run("users", "list", "--db", db, password=None, ATOPIC_TOKEN=token)
    assert listed.exit_code == 0
    assert listed.stdout.startswith("ada ")
    revoked = run(
        "users",
        "revoke-token",
        "ada",
        "--label",
        "nightly",
        "--reason",
        "rotated",
        "--db",
        db,
        password=None,
        ATOPIC_TOKEN=token,
    )
    assert revoked.exit_code == 0, revoked.output
    refused = run("users", "list", "--db", db, password=None, ATOPIC_TOKEN=token)
    assert refused.exit_code == 1
    assert "unknown or revoked" in refused.stderr
    anonymous = run("users", "list", "--db", db, password=None)
    assert anonymous.exit_code == 2
    assert "give --as USERNAME" in anonymous.stderr


def test_backup_and_restore(db: str, tmp_path: Path) -> None:
    backup = tmp_path / "atopic.backup.db"
    made = run("db", "backup", str(backup), "--db", db)
    assert (made.exit_code, made.stdout) == (0, f"backup written: {backup}\n")
    run(
        "users",
        "add",
        "bob",
        "--role",
        "monitor",
        "--password-stdin",
        "--as",
        "ada",
        "--db",
        db,
        stdin=BOB + "\n",
    )
    declined = run("db", "restore", str(backup), "--db", db, stdin="n\n")
    assert declined.exit_code == 1
    restored = run("db", "restore", str(backup), "--db", db, "--yes")
    assert restored.exit_code == 0, restored.output
    assert restored.stdout.splitlines()[1:] == ["audit chain: 6 rows, ok", "integrity check: ok"]
    listed = run("users", "list", "--as", "ada", "--db", db)
    assert [line.split()[0] for line in listed.stdout.splitlines()] == ["ada"]


def test_upgrade_an_existing_registry(db: str) -> None:
    result = run("db", "upgrade", "--db", db)
    assert (result.exit_code, result.stdout) == (0, f"schema up to date: sqlite:///{db}\n")


@pytest.fixture
def pg_url(postgres_server: str) -> Iterator[str]:
    """A fresh PostgreSQL database, as a user would type it (``postgresql://...``)."""
    url = pgserver.create_database(postgres_server)
    yield url.replace("postgresql+psycopg://", "postgresql://")
    pgserver.drop_database(postgres_server, url)


def test_the_commands_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    init = run("db", "init", "--db", pg_url, "--admin", "ada", "--password-stdin", stdin=ADA + "\n")
    assert init.exit_code == 0, init.output
    assert init.stdout.startswith("database ready: postgresql+psycopg://postgres@/t_")
    added = run(
        "users",
        "add",
        "bob",
        "--role",
        "statistician",
        "--password-stdin",
        "--as",
        "ada",
        "--db",
        pg_url,
        stdin=BOB + "\n",
    )
    assert added.exit_code == 0, added.output
    backup = tmp_path / "registry.dump"
    assert run("db", "backup", str(backup), "--db", pg_url).exit_code == 0
    assert backup.read_bytes().startswith(b"PGDMP")
    disabled = run("users", "disable", "bob", "--reason", "left", "--as", "ada", "--db", pg_url)
    assert disabled.exit_code == 0
    verified = run("db", "verify", "--db", pg_url)
    assert (verified.exit_code, verified.stdout) == (0, "audit chain: 13 rows, ok\n")
    restored = run("db", "restore", str(backup), "--db", pg_url, "--yes")
    assert restored.exit_code == 0, restored.output
    assert restored.stdout.splitlines()[1:] == ["audit chain: 12 rows, ok"]
    listed = run("users", "list", "--as", "ada", "--db", pg_url)
    assert [line.split()[3] for line in listed.stdout.splitlines()] == ["active", "active"]


def test_db_study_creates_the_study_and_its_list_from_the_design_file(db: str) -> None:
    from atopic.registry.models import RandomizationSlot
    from atopic.trial.design import load_design

    design = Path(__file__).resolve().parents[1] / "examples" / "trial" / "design.toml"
    made = run(
        "db", "study", "--as", "ada", "--db", db, "--design", str(design),
        ATOPIC_RANDOMIZATION_SEED="a seed kept with the master list",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    plan = load_design(design).randomization_plan()
    engine = make_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as connection:
            study = connection.execute(select(Study.studyid, Study.design)).one()
            arms = set(connection.execute(select(RandomizationSlot.arm)).scalars())
            slots = connection.execute(select(RandomizationSlot.id)).all()
    finally:
        engine.dispose()
    assert study == ("ATO-MSC-201", design.read_text())
    assert arms == {code for code, _ in plan["arms"]}
    assert len(slots) >= plan["list_length"] * len(plan["strata"]["IGA"])
    assert (
        made.stdout
        == f"study ATO-MSC-201: 3 arms, 2 strata, {len(slots)} concealed randomization slots\n"
    )
    again = run(
        "db", "study", "--as", "ada", "--db", db, "--design", str(design),
        ATOPIC_RANDOMIZATION_SEED="another",
    )  # fmt: skip
    assert again.exit_code == 1
