"""The audit trail: every write audited in the same transaction, chained, append-only."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from atopic.errors import InvalidInput
from atopic.registry.audit import Actor, verify_chain
from atopic.registry.db import session_factory, transaction
from atopic.registry.models import AuditEntry, Site, Study, Subject

ADMIN = Actor("ada", "admin")
INVESTIGATOR = Actor("ivan", "investigator")


def _seed(engine: Engine) -> int:
    factory = session_factory(engine)
    with transaction(factory, ADMIN) as session:
        site, study = Site(code="S01", name="Site one"), Study(studyid="ATO-001", title="Demo")
        session.add_all([site, study])
        session.flush()
        subject = Subject(
            study_id=study.id,
            site_id=site.id,
            usubjid="ATO-001-0001",
            sex="F",
            age=34,
            enrolled_on=dt.date(2026, 1, 5),
        )
        session.add(subject)
        session.flush()
        return subject.id


def test_every_insert_is_audited_and_the_chain_verifies(engine: Engine) -> None:
    _seed(engine)
    factory = session_factory(engine)
    with factory() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert {e.table_name for e in entries} == {"site", "study", "subject"}
        assert all(e.username == "ada" and e.action == "insert" for e in entries)
        assert any(e.field == "usubjid" and e.new == "ATO-001-0001" for e in entries)
        report = verify_chain(session)
        assert report.ok
        assert report.checked == len(entries)


def test_a_change_needs_a_reason_and_is_audited_with_old_and_new(engine: Engine) -> None:
    subject_id = _seed(engine)
    factory = session_factory(engine)
    with (
        pytest.raises(InvalidInput, match="subject reason must be given when a saved value"),
        transaction(factory, INVESTIGATOR) as session,
    ):
        session.get(Subject, subject_id).age = 35
    with transaction(factory, INVESTIGATOR, reason="transcription error") as session:
        session.get(Subject, subject_id).age = 35
    with factory() as session:
        change = session.scalars(select(AuditEntry).where(AuditEntry.action == "update")).one()
        assert (change.field, change.old, change.new) == ("age", "34", "35")
        assert (change.username, change.reason) == ("ivan", "transcription error")
        assert verify_chain(session).ok


def test_audit_rows_cannot_be_changed_or_deleted(engine: Engine) -> None:
    _seed(engine)
    with engine.connect() as connection:
        with pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text("UPDATE audit_log SET username = 'eve'"))
        connection.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text("DELETE FROM audit_log"))


def test_verify_names_the_first_broken_link(engine: Engine) -> None:
    _seed(engine)
    factory = session_factory(engine)
    with engine.begin() as connection:  # a tamperer with database access drops the trigger
        if engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_change ON audit_log"))
        third = connection.execute(
            text("SELECT id FROM audit_log ORDER BY id LIMIT 1 OFFSET 2")
        ).scalar()
        connection.execute(
            text("UPDATE audit_log SET new = 'tampered' WHERE id = :i"), {"i": third}
        )
    with factory() as session:
        report = verify_chain(session)
    assert not report.ok
    assert report.broken_at == third
    assert report.checked == 2


def test_nothing_clinical_changes_after_lock(engine: Engine) -> None:
    subject_id = _seed(engine)
    factory = session_factory(engine)
    with transaction(factory, ADMIN, reason="database lock") as session:
        session.scalars(select(Study)).one().locked = True
    with (
        pytest.raises(InvalidInput, match="database must be unlocked"),
        transaction(factory, INVESTIGATOR, reason="late fix") as session,
    ):
        session.get(Subject, subject_id).age = 36
