"""The registry's tables (SQLAlchemy 2 declarative models).

Subjects are pseudonymous (USUBJID only; no names). Item values are stored as entered
(``AssessmentItem.value_text``) with their numeric reading; totals are derived from them and
stamped with the instrument version. The allocation lives only in ``RandomizationSlot``, which no
blinded role reads. ``AuditEntry`` is append-only (database triggers refuse UPDATE and DELETE).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every registry model."""

    metadata = MetaData(naming_convention=NAMING)


class Site(Base):
    """A trial site."""

    __tablename__ = "site"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class User(Base):
    """A person who logs in; ``role`` decides what they may do and see."""

    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[str] = mapped_column(String(40))


class ApiToken(Base):
    """A token for scripts; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[str] = mapped_column(String(40))
    revoked_at: Mapped[str | None] = mapped_column(String(40))


class Study(Base):
    """A trial: its design (TOML text as given), lock state."""

    __tablename__ = "study"
    id: Mapped[int] = mapped_column(primary_key=True)
    studyid: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    design: Mapped[str] = mapped_column(Text, default="")
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    locked_at: Mapped[str | None] = mapped_column(String(40))


class Subject(Base):
    """A pseudonymous trial subject."""

    __tablename__ = "subject"
    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    usubjid: Mapped[str] = mapped_column(String(40), unique=True)
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    age: Mapped[int | None] = mapped_column(Integer)
    enrolled_on: Mapped[dt.date] = mapped_column(Date)
    strata: Mapped[str] = mapped_column(Text, default="{}")
    visits: Mapped[list[Visit]] = relationship(back_populates="subject", order_by="Visit.visitnum")


class Visit(Base):
    """A planned or done visit (VISITNUM, VISIT)."""

    __tablename__ = "visit"
    __table_args__ = (UniqueConstraint("subject_id", "visitnum"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    visitnum: Mapped[float] = mapped_column(Float)
    name: Mapped[str] = mapped_column(String(40))
    planned_date: Mapped[dt.date | None] = mapped_column(Date)
    actual_date: Mapped[dt.date | None] = mapped_column(Date)
    subject: Mapped[Subject] = relationship(back_populates="visits")


class Assessment(Base):
    """One scored instrument at a visit; total and band derived from the items, version-stamped."""

    __tablename__ = "assessment"
    __table_args__ = (UniqueConstraint("visit_id", "instrument", "evaluator"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"))
    instrument: Mapped[str] = mapped_column(String(20))
    evaluator: Mapped[str] = mapped_column(String(20))
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    total: Mapped[str] = mapped_column(String(20))
    band: Mapped[str | None] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(120))
    items: Mapped[list[AssessmentItem]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="AssessmentItem.id"
    )


class AssessmentItem(Base):
    """One item value as entered (QSORRES) with its numeric reading (QSSTRESN)."""

    __tablename__ = "assessment_item"
    __table_args__ = (UniqueConstraint("assessment_id", "qstestcd"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id"))
    qstestcd: Mapped[str] = mapped_column(String(8))
    field: Mapped[str] = mapped_column(String(60))
    value_text: Mapped[str] = mapped_column(String(60))
    value_num: Mapped[float | None] = mapped_column(Float)
    assessment: Mapped[Assessment] = relationship(back_populates="items")


class Dose(Base):
    """A dose of the investigational product (EX)."""

    __tablename__ = "dose"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    product: Mapped[str] = mapped_column(String(80))
    lot: Mapped[str] = mapped_column(String(40))
    dose: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))
    route: Mapped[str] = mapped_column(String(20))
    given_at: Mapped[str] = mapped_column(String(40))
    given_by: Mapped[str] = mapped_column(String(80))


class Lab(Base):
    """A laboratory result (LB): IgE, eosinophils and others by code and unit."""

    __tablename__ = "lab"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    testcd: Mapped[str] = mapped_column(String(8))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))
    collected_on: Mapped[dt.date] = mapped_column(Date)


class AdverseEvent(Base):
    """An adverse event (AE)."""

    __tablename__ = "adverse_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    term: Mapped[str] = mapped_column(String(200))
    decod: Mapped[str | None] = mapped_column(String(200))
    bodsys: Mapped[str | None] = mapped_column(String(200))
    severity: Mapped[str | None] = mapped_column(String(10))
    toxgr: Mapped[int | None] = mapped_column(Integer)
    serious: Mapped[bool] = mapped_column(Boolean, default=False)
    related: Mapped[str] = mapped_column(String(20))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)


class ConMed(Base):
    """A concomitant or rescue medication."""

    __tablename__ = "conmed"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    name: Mapped[str] = mapped_column(String(200))
    indication: Mapped[str] = mapped_column(String(200), default="")
    rescue: Mapped[bool] = mapped_column(Boolean, default=False)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)


class DiagnosisRecord(Base):
    """A diagnostic-criteria result, kept with the answers it was made from."""

    __tablename__ = "diagnosis_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    criteria: Mapped[str] = mapped_column(String(40))
    diagnosed: Mapped[bool] = mapped_column(Boolean)
    answers: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(Text)
    assessed_on: Mapped[dt.date] = mapped_column(Date)


class RandomizationSlot(Base):
    """One line of the concealed randomization list; ``subject_id`` is set when it is used."""

    __tablename__ = "randomization_slot"
    __table_args__ = (UniqueConstraint("study_id", "stratum", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"))
    stratum: Mapped[str] = mapped_column(String(200))
    seq: Mapped[int] = mapped_column(Integer)
    block: Mapped[int] = mapped_column(Integer)
    arm: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subject.id"), unique=True)
    assigned_at: Mapped[str | None] = mapped_column(String(40))


class Unblinding(Base):
    """An emergency unblinding of one subject: who, when and why."""

    __tablename__ = "unblinding"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[str] = mapped_column(String(40))


class AuditEntry(Base):
    """One change: who, when, table, record, field, old, new, why; chained by SHA-256."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[str] = mapped_column(String(40))
    username: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(20))
    table_name: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(10))
    field: Mapped[str] = mapped_column(String(60))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


CLINICAL = (
    Subject,
    Visit,
    Assessment,
    AssessmentItem,
    Dose,
    Lab,
    AdverseEvent,
    ConMed,
    DiagnosisRecord,
    RandomizationSlot,
    Unblinding,
)
"""Models holding clinical data: frozen by a database lock."""

BLINDED_TABLES = frozenset({"randomization_slot", "dose"})
"""Tables whose contents reveal the allocation (redacted for blinded roles, also in the audit):
the list itself, and the doses (product, amount and lot tell placebo from each dose level)."""
