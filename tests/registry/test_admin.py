"""Database lock, backup, restore and verify on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

from atopic.errors import InvalidInput
from atopic.registry import admin, users
from atopic.registry.audit import Actor, AuditedSession
from atopic.registry.db import make_engine, session_factory, transaction, upgrade
from atopic.registry.models import AuditEntry, Base, Site, Study, Subject
from atopic.registry.roles import Forbidden, Role

ADMIN = Actor("ada", "admin")
INVESTIGATOR = Actor("ivan", "investigator")


def _seed(factory: sessionmaker[AuditedSession], usubjid: str = "ATO-001-0001") -> None:
    with transaction(factory, users.SYSTEM) as session:
        users.create_first_admin(session, "ada", "ada's long passphrase")
    with transaction(factory, ADMIN) as session:
        site, study = Site(code="S01", name="Site one"), Study(studyid="ATO-001", title="Demo")
        session.add_all([site, study])
        session.flush()
        session.add(_subject(study.id, site.id, usubjid))


def _subject(study_id: int, site_id: int, usubjid: str) -> Subject:
    return Subject(
        study_id=study_id,
        site_id=site_id,
        usubjid=usubjid,
        sex="F",
        age=34,
        enrolled_on=dt.date(2026, 1, 5),
    )


def _enrol(factory: sessionmaker[AuditedSession], usubjid: str) -> None:
    with transaction(factory, INVESTIGATOR) as session:
        study = session.scalars(select(Study)).one()
        site = session.scalars(select(Site)).one()
        session.add(_subject(study.id, site.id, usubjid))


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        return {
            table.name: sorted(tuple(row) for row in connection.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[AuditedSession]:
    factory = session_factory(engine)
    _seed(factory)
    return factory


def test_lock_freezes_clinical_data_and_unlock_is_audited(
    factory: sessionmaker[AuditedSession],
) -> None:
    with transaction(factory, ADMIN) as session:
        assert admin.lock_database(session, ADMIN, "database lock for the primary analysis") == 1
    with factory() as session:
        study = session.scalars(select(Study)).one()
        assert study.locked
        assert study.locked_at
        assert admin.is_locked(session)
    with pytest.raises(InvalidInput, match="subject database must be unlocked"):
        _enrol(factory, "ATO-001-0002")
    with (
        pytest.raises(InvalidInput, match="subject database must be unlocked"),
        transaction(factory, INVESTIGATOR, reason="late fix") as session,
    ):
        session.scalars(select(Subject)).one().age = 35
    with (
        pytest.raises(InvalidInput, match="database reason must be a short explanation"),
        transaction(factory, ADMIN) as session,
    ):
        admin.unlock_database(session, ADMIN, "")
    with transaction(factory, ADMIN) as session:
        assert admin.unlock_database(session, ADMIN, "query on subject 0001 visit 3") == 1
    _enrol(factory, "ATO-001-0002")
    with factory() as session:
        changes = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.table_name == "study", AuditEntry.field == "locked")
            .order_by(AuditEntry.id)
        ).all()
        assert admin.verify(session).ok
    assert [(c.action, c.old, c.new) for c in changes] == [
        ("insert", None, "False"),
        ("update", "False", "True"),
        ("update", "True", "False"),
    ]
    unlock = changes[-1]
    assert (unlock.username, unlock.role) == ("ada", "admin")
    assert unlock.reason == "query on subject 0001 visit 3"
    assert changes[1].reason == "database lock for the primary analysis"


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_only_admins_lock_and_unlock(factory: sessionmaker[AuditedSession], role: Role) -> None:
    actor = Actor("someone", role.value)
    with (
        pytest.raises(Forbidden, match=f"an? {role.value} may not lock"),
        transaction(factory, actor) as session,
    ):
        admin.lock_database(session, actor, "lock")
    with transaction(factory, ADMIN) as session:
        admin.lock_database(session, ADMIN, "lock")
    with pytest.raises(Forbidden), transaction(factory, actor) as session:
        admin.unlock_database(session, actor, "unlock")


def test_lock_and_unlock_say_when_there_is_nothing_to_do(engine: Engine) -> None:
    factory = session_factory(engine)
    with (
        pytest.raises(InvalidInput, match="at least one study; got no study"),
        transaction(factory, ADMIN) as session,
    ):
        admin.lock_database(session, ADMIN, "lock")
    _seed(factory)
    with (
        pytest.raises(InvalidInput, match="database unlock must be locked before it is unlocked"),
        transaction(factory, ADMIN) as session,
    ):
        admin.unlock_database(session, ADMIN, "unlock")
    with transaction(factory, ADMIN) as session:
        admin.lock_database(session, ADMIN, "lock")
    with (
        pytest.raises(InvalidInput, match="database lock must be unlocked before it is locked"),
        transaction(factory, ADMIN) as session,
    ):
        admin.lock_database(session, ADMIN, "lock again")


def test_backup_and_restore_round_trip(
    engine: Engine, db_url: str, factory: sessionmaker[AuditedSession], tmp_path: Path
) -> None:
    before = _snapshot(engine)
    path = admin.backup(db_url, tmp_path / "registry.backup")
    assert path.is_file()
    assert not (tmp_path / "registry.backup.partial").exists()
    with pytest.raises(InvalidInput, match="backup path must be a file that does not exist yet"):
        admin.backup(db_url, path)

    _enrol(factory, "ATO-001-0002")  # changes after the backup are lost by the restore
    with transaction(factory, ADMIN) as session:
        users.add_user(session, ADMIN, "bob", "bob's long passphrase", "monitor")
    assert _snapshot(engine) != before
    engine.dispose()

    admin.restore(path, db_url)
    assert _snapshot(engine) == before
    with factory() as session:
        report = admin.verify(session)
        assert report.ok
        assert report.chain.checked == len(before["audit_log"])
        assert users.authenticate(session, "ada", "ada's long passphrase") == ADMIN
        assert users.authenticate(session, "bob", "bob's long passphrase") is None
    _enrol(factory, "ATO-001-0002")  # the restored database takes new writes, still chained
    with factory() as session:
        assert admin.verify(session).ok
    with (  # the append-only triggers came back too
        engine.connect() as connection,
        pytest.raises(DBAPIError, match="append-only"),
    ):
        connection.execute(text("DELETE FROM audit_log"))


def test_restore_refuses_a_file_of_the_wrong_kind(db_url: str, tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup\n")
    with pytest.raises(InvalidInput, match="restore path must be a backup made by atopic db"):
        admin.restore(junk, db_url)
    with pytest.raises(InvalidInput, match="restore path must be an existing backup file"):
        admin.restore(tmp_path / "missing.backup", db_url)


def test_a_sqlite_backup_restores_into_a_new_file(tmp_path: Path) -> None:
    source_url = f"sqlite:///{tmp_path / 'atopic.db'}"
    engine = make_engine(source_url)
    upgrade(engine)
    _seed(session_factory(engine))
    path = admin.backup(source_url, tmp_path / "copy.db")
    assert path.read_bytes()[:16] == admin.SQLITE_HEADER
    assert not Path(str(path) + "-wal").exists()  # one self-contained file
    target = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    admin.restore(path, target)
    copy = make_engine(target)
    try:
        assert _snapshot(copy) == _snapshot(engine)
        with session_factory(copy)() as session:
            report = admin.verify(session)
        assert report.ok
        assert report.integrity == ("ok",)
    finally:
        copy.dispose()
        engine.dispose()


def test_verify_reports_the_first_broken_link(
    engine: Engine, factory: sessionmaker[AuditedSession]
) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_change ON audit_log"))
        fifth = connection.execute(
            text("SELECT id FROM audit_log ORDER BY id LIMIT 1 OFFSET 4")
        ).scalar()
        connection.execute(text("UPDATE audit_log SET reason = 'x' WHERE id = :i"), {"i": fifth})
    with factory() as session:
        report = admin.verify(session)
    assert not report.ok
    assert (report.chain.broken_at, report.chain.checked) == (fifth, 4)
    assert report.integrity_ok
    assert report.integrity == (("ok",) if engine.dialect.name == "sqlite" else None)


def test_pg_tools_are_found() -> None:
    assert Path(admin.pg_tool("pg_dump")).name == "pg_dump"
    assert Path(admin.pg_tool("pg_restore")).name == "pg_restore"
