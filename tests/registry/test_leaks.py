"""No allocation reaches a blinded role: every service and the export, called as every role.

For each role, every read service of ``atopic.registry.services`` (and the allocation reads of
``atopic.registry.randomization``), the export and the allocation-related writes are called on a
randomized trial whose arm codes are distinctive (``ARM_PBO_X`` ...). Everything returned, every
exported file and every exception message is serialized to one text, which must not contain an
arm code for a role that may not see the allocation, and must contain every arm code for one that
may (so the test can fail). Both before and after database lock (statisticians are unblinded by
the lock), on SQLite and PostgreSQL.

A guard test lists every public function of ``services``: a new one fails it until it is
classified here, so a new read service cannot skip the leak test.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy import inspect as sa_inspect

from atopic.registry import admin as registry_admin
from atopic.registry import randomization as rnd
from atopic.registry import reads
from atopic.registry import services as svc
from atopic.registry.audit import Actor
from atopic.registry.export import export_tables, write_tables
from atopic.registry.models import Base, Subject
from atopic.registry.roles import Role
from tests.registry.test_export import ARMS, TREATMENT_DETAILS, Trial, build_trial, usubjid

READ_FUNCTIONS = frozenset(
    {"diagnosis_view", "dose_list", "lab_list", "adverse_event_list", "audit_view", "dashboard"}
)
"""Read functions of ``atopic.registry.reads`` (the web pages' data): called by every role too."""
READ_SERVICES = frozenset({"subject_record", "audit_trail", "list_subjects"})
"""Services that return registry data: called by every role in the leak test."""
WRITE_SERVICES = frozenset(
    {
        "add_site",
        "create_study",
        "enrol_subject",
        "schedule_visit",
        "record_assessment",
        "record_dose",
        "record_lab",
        "record_adverse_event",
        "record_medication",
        "record_diagnosis",
    }
)
"""Services that store what their caller gives; their results echo the input."""
HELPERS = frozenset({"age_on"})
"""Public functions of ``services`` that are not services (no actor, no session)."""

ROLES = [role.value for role in Role]


def _unblinded(role: str, locked: bool) -> bool:
    """Who may see the allocation of every subject (randomization.can_see_allocation)."""
    return role == Role.PHARMACIST or (role == Role.STATISTICIAN and locked)


def _serialize(value: Any) -> str:
    """A returned value as text: ORM rows by their columns, dataclasses by their fields."""
    if isinstance(value, Base):
        columns = sa_inspect(type(value)).column_attrs
        return json.dumps({c.key: getattr(value, c.key) for c in columns}, default=str)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json.dumps(dataclasses.asdict(value), default=str)
    if isinstance(value, list | tuple):
        return "\n".join(_serialize(v) for v in value)
    return json.dumps(value, default=str)


def _call(out: list[str], what: str, fn: Callable[[], Any]) -> None:
    """Call ``fn``; append its serialized result, or the exception's type and message."""
    try:
        out.append(f"{what}: {_serialize(fn())}")
    except Exception as error:  # every refusal is part of what the role sees
        out.append(f"{what} raised {type(error).__name__}: {error}")


def _everything_seen(trial: Trial, actor: Actor, tmp_path: Path) -> str:
    """What ``actor`` gets back from every read, the export, and the allocation writes."""
    out: list[str] = []
    with trial.factory() as session:
        session.info["actor"] = actor
        ids = {s.usubjid: s.id for s in session.scalars(select(Subject).order_by(Subject.usubjid))}
        reads_module = [(name, getattr(reads, name)) for name in sorted(READ_FUNCTIONS)]
        for name, fn in [(n, getattr(svc, n)) for n in sorted(READ_SERVICES)] + reads_module:
            if "usubjid" in inspect.signature(fn).parameters:
                for subject in ids:
                    _call(out, f"{name}({subject})", lambda f=fn, u=subject: f(session, actor, u))
            elif "limit" in inspect.signature(fn).parameters:
                _call(out, name, lambda f=fn: f(session, actor, limit=10_000))
            else:
                _call(out, name, lambda f=fn: f(session, actor))
        for subject, sid in ids.items():
            _call(out, f"arm_for({subject})", lambda i=sid: rnd.arm_for(session, actor, i))
        _call(out, "allocation_table", lambda: rnd.allocation_table(session, actor))

        def exported() -> str:
            tables = export_tables(session, actor)
            files = write_tables(tables, tmp_path / f"export-{actor.role}", "csv")
            parquet = write_tables(tables, tmp_path / f"parquet-{actor.role}", "parquet")
            texts = [path.read_text() for path in files]
            texts += [repr(path.read_bytes()) for path in parquet]
            return "\n".join([repr(tables), *texts])

        _call(out, "export_tables", exported)
        # Allocation-related writes, rolled back: what they return or refuse.
        with session.begin_nested() as savepoint:
            _call(
                out,
                "randomize",
                lambda: rnd.randomize(session, actor, ids[usubjid(5)], {}),
            )
            _call(
                out,
                "record_dose",
                lambda: svc.record_dose(
                    session,
                    actor,
                    usubjid=usubjid(4),
                    product="MSC_X",
                    lot="L1",
                    dose=1e6,
                    unit="cells",
                    route="SC",
                    given_at="2026-02-01T10:00:00",
                ),
            )
            savepoint.rollback()
        session.rollback()
    return "\n".join(out)


@pytest.fixture(params=[False, True], ids=["open", "locked"])
def locked(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def trial(engine: Engine, locked: bool) -> Trial:
    built = build_trial(engine)
    if locked:
        with built.factory() as session, session.begin():
            registry_admin.lock_database(session, Actor("ada", "admin"), "final analysis")
    return built


@pytest.mark.parametrize("role", ROLES)
def test_no_arm_code_reaches_a_blinded_role(
    trial: Trial, locked: bool, role: str, tmp_path: Path
) -> None:
    seen = _everything_seen(trial, Actor(f"someone.{role}", role), tmp_path)
    found = [arm for arm in ARMS if arm in seen]
    if _unblinded(role, locked):
        assert found == list(ARMS), f"a {role} should see every arm; saw {found}"
    else:
        leaks = [line[:300] for line in seen.splitlines() if any(a in line for a in ARMS)]
        assert not found, f"a {role} (blinded) saw {found}:\n" + "\n".join(leaks)


@pytest.mark.parametrize("role", ROLES)
def test_no_treatment_detail_reaches_a_blinded_role(
    trial: Trial, locked: bool, role: str, tmp_path: Path
) -> None:
    """Not only arm codes: the placebo product and lot and the dose amounts reveal the arm."""
    seen = _everything_seen(trial, Actor(f"someone.{role}", role), tmp_path)
    found = [detail for detail in TREATMENT_DETAILS if detail in seen]
    if _unblinded(role, locked):
        assert "PLACEBO_X" in found
    else:
        leaks = [line[:300] for line in seen.splitlines() if any(d in line for d in found)]
        assert not found, f"a {role} (blinded) saw {found}:\n" + "\n".join(leaks)


def test_no_log_line_names_an_arm_or_a_subject(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        trial = build_trial(engine)
        for role in ROLES:
            with trial.factory() as session:
                actor = Actor(f"someone.{role}", role)
                for call in (export_tables, svc.audit_trail):
                    with contextlib.suppress(PermissionError):
                        call(session, actor)
    assert caplog.records, "nothing was logged: the test would prove nothing"
    assert not [arm for arm in ARMS if arm in caplog.text]
    with trial.factory() as session:
        usubjids = session.scalars(select(Subject.usubjid)).all()
    assert usubjids
    assert not [u for u in usubjids if u in caplog.text]  # no identifiers in logs


def test_every_public_service_is_classified() -> None:
    public = {
        name
        for name, fn in inspect.getmembers(svc, inspect.isfunction)
        if fn.__module__ == svc.__name__ and not name.startswith("_")
    }
    unclassified = public - READ_SERVICES - WRITE_SERVICES - HELPERS
    assert not unclassified, (
        f"new service(s) {sorted(unclassified)}: add each to READ_SERVICES (then the leak test "
        "calls it as every role) or WRITE_SERVICES in tests/registry/test_leaks.py"
    )
    assert public >= READ_SERVICES | WRITE_SERVICES | HELPERS


def test_every_public_read_function_is_classified() -> None:
    public = {
        name
        for name, fn in inspect.getmembers(reads, inspect.isfunction)
        if fn.__module__ == reads.__name__ and not name.startswith("_")
    }
    assert public - {"subject_age"} == READ_FUNCTIONS, (
        "add each new read function of atopic.registry.reads to READ_FUNCTIONS"
    )
