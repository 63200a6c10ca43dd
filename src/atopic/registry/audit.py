"""The append-only, hash-chained audit trail, written by the session itself.

Every insert, change and deletion of a registry row becomes audit rows in the same transaction:
who (username and role), when (UTC, ISO 8601), table, record, field, old, new and why. Each row's
``hash`` is SHA-256 over the previous row's hash and the row's own fields (canonical JSON), so a
changed, removed or reordered row breaks the chain at that point; ``verify_chain`` names the first
broken link. Appends are serialized: SQLite holds its write lock, PostgreSQL takes a transaction
advisory lock before reading the chain head. Database triggers (see the migrations) refuse UPDATE
and DELETE on ``audit_log``.

Rules enforced here, for every front door: changing or deleting a saved row needs a reason
(``session.info["reason"]``); nothing clinical changes after database lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, insert, inspect, select, text
from sqlalchemy.orm import Session

from atopic.errors import InvalidInput
from atopic.registry.models import CLINICAL, AuditEntry, Base, Study, User

GENESIS = "0" * 64
SECRET_FIELDS = frozenset({"password_hash", "token_hash"})
ADVISORY_LOCK = 7_115_001  # any constant shared by all writers


@dataclass(frozen=True)
class Actor:
    """Who is acting: the audit's "who"."""

    username: str
    role: str


class AuditedSession(Session):
    """A session that audits every flush; set ``info["actor"]`` (and ``info["reason"]``)."""


def now() -> str:
    """The current UTC time as ISO 8601 with microseconds (the audit's "when")."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """SHA-256 over the previous hash and the row's fields as canonical JSON."""
    payload = json.dumps([prev_hash, fields], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def _columns(obj: Base) -> list[str]:
    return [c.key for c in inspect(type(obj)).column_attrs]


def _changes(session: Session) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for obj in session.new:
        if isinstance(obj, AuditEntry):
            continue
        for key in _columns(obj):
            if key == "id":
                continue
            value = getattr(obj, key)
            rows.append(_row(obj, "insert", key, None, value))
    for obj in session.dirty:
        if isinstance(obj, AuditEntry) or not session.is_modified(obj):
            continue
        state = inspect(obj)
        for key in _columns(obj):
            history = state.attrs[key].history
            if not history.has_changes():
                continue
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if _value(old) != _value(new):
                rows.append(_row(obj, "update", key, old, new))
    for obj in session.deleted:
        rows.extend(_row(obj, "delete", key, getattr(obj, key), None) for key in _columns(obj))
    return rows


def _row(obj: Base, action: str, key: str, old: Any, new: Any) -> dict[str, Any]:
    secret = key in SECRET_FIELDS
    return {
        "obj": obj,
        "table_name": obj.__tablename__,
        "action": action,
        "field": key,
        "old": "(secret)" if secret and old is not None else _value(old),
        "new": "(secret)" if secret and new is not None else _value(new),
    }


def _serialize_writers(session: Session) -> None:
    """On PostgreSQL, take the writers' advisory lock for the rest of the transaction, before
    the lock state is read and the chain head is read (SQLite writers hold its write lock)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql" and not session.info.get("_atopic_serialized"):
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK})
        session.info["_atopic_serialized"] = True


@event.listens_for(AuditedSession, "after_transaction_end")
def _forget_lock(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop("_atopic_serialized", None)


@event.listens_for(AuditedSession, "before_flush")
def _check_rules(session: Session, flush_context: Any, instances: Any) -> None:
    changed = [o for o in session.dirty if session.is_modified(o)] + list(session.deleted)
    if session.new or changed:
        _serialize_writers(session)
    if changed and not session.info.get("reason"):
        obj = changed[0]
        raise InvalidInput(
            obj.__tablename__, "reason", None, "given when a saved value is changed or deleted"
        )
    clinical = [o for o in (*session.new, *changed) if isinstance(o, CLINICAL)]
    if clinical and session.execute(select(Study.id).where(Study.locked)).first():
        raise InvalidInput(
            clinical[0].__tablename__,
            "database",
            "locked",
            "unlocked before clinical data can change (an admin unlocks, with a reason)",
        )
    if (session.new or changed) and "actor" not in session.info:
        raise RuntimeError("registry writes need session.info['actor'] (who is acting)")


@event.listens_for(AuditedSession, "after_flush")
def _write_audit(session: Session, flush_context: Any) -> None:
    rows = _changes(session)
    if not rows:
        return
    _serialize_writers(session)
    connection = session.connection()
    head = connection.execute(
        select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).scalar()
    prev = head or GENESIS
    actor: Actor = session.info["actor"]
    reason = session.info.get("reason") or ""
    at = now()
    entries = []
    for row in rows:
        obj = row.pop("obj")
        # identity is not set yet for objects inserted by this flush; the primary key values are
        record = ",".join(str(v) for v in inspect(obj).mapper.primary_key_from_instance(obj))
        fields = {
            "at": at,
            "username": actor.username,
            "role": actor.role,
            "record_id": record,
            "reason": reason,
            **row,
        }
        digest = entry_hash(prev, fields)
        entries.append({**fields, "prev_hash": prev, "hash": digest})
        prev = digest
    connection.execute(insert(AuditEntry), entries)


HASHED = (
    "at",
    "username",
    "role",
    "table_name",
    "record_id",
    "action",
    "field",
    "old",
    "new",
    "reason",
)


@dataclass(frozen=True)
class ChainReport:
    """The outcome of ``verify_chain``: rows checked and the first broken link, if any."""

    checked: int
    broken_at: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        """True when every link holds."""
        return self.broken_at is None


def verify_chain(session: Session) -> ChainReport:
    """Recompute every hash in order; name the first row whose link or content does not match."""
    prev = GENESIS
    checked = 0
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        if entry.prev_hash != prev:
            return ChainReport(checked, entry.id, "prev_hash does not match the previous row")
        fields = {name: getattr(entry, name) for name in HASHED}
        if entry_hash(prev, fields) != entry.hash:
            return ChainReport(checked, entry.id, "the row's content does not match its hash")
        prev = entry.hash
        checked += 1
    return ChainReport(checked)


__all__ = ["Actor", "AuditedSession", "ChainReport", "User", "verify_chain"]
