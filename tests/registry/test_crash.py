"""Crash safety: writers killed with SIGKILL mid-load lose no acknowledged write.

Each round starts ``WRITERS`` writer processes together on the same database (forked by the
helper ``tests/registry/crash_writer.py``, which imports the registry once). Each writer loops
over transactions as an investigator (a visit and its vIGA-AD score) and acknowledges each one,
in its acknowledgement file, only after its commit has returned. A short seeded delay after the
first acknowledgement the writers are killed with SIGKILL: in even rounds one writer first (then
a survivor must go on committing, so the killed writer, perhaps inside a transaction, left no lock
behind) and the rest a little later; in odd rounds all at once.

Then the database is reopened with a fresh engine ("restart") and checked; the only assertions
are durability and integrity ones:

* every write acknowledged in this or any earlier round is present, with its score;
* each writer's committed writes are exactly its first ``m`` steps, ``acked <= m <= acked + 1``
  (at most the one write committed but not yet acknowledged when the kill came);
* no visit without its assessment and item, nor the reverse (a transaction is all or nothing);
* SQLite: ``PRAGMA integrity_check`` is ``ok`` and ``PRAGMA foreign_key_check`` finds nothing;
  PostgreSQL: ``amcheck`` finds no corrupt heap page or B-tree index;
* the audit chain verifies and covers every audit row, and there is exactly one audit row per
  field of every committed visit, assessment and item (no write unaudited, no audit row left by
  a transaction that rolled back).

The database is kept across rounds, so each restart re-checks every earlier acknowledgement.
Rounds: ``ATOPIC_CRASH_ROUNDS`` (default 5, at most 1000); seed: ``ATOPIC_CRASH_SEED``. The test
prints each round and a summary (``pytest -s``). On PostgreSQL (a shared server) only the writer
processes are killed, never the server: a killed writer's backend rolls its transaction back.
SIGKILL ends processes, not the machine: what ``synchronous=FULL`` adds against power loss is
not exercised here.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest
from sqlalchemy import Engine, func, inspect, select, text

from atopic.registry import services
from atopic.registry.audit import Actor, verify_chain
from atopic.registry.db import make_engine, session_factory, transaction, upgrade
from atopic.registry.models import Assessment, AssessmentItem, AuditEntry, Base, Subject, Visit
from tests.registry.crash_writer import grade, visit_name

ROOT = Path(__file__).resolve().parents[2]
ADMIN = Actor("ada", "admin")
INVESTIGATOR = Actor("ivan", "investigator")
STUDYID = "ATO-CRASH"
WRITERS = 3
SUBJECTS = 8
DEFAULT_ROUNDS = 5
MAX_ROUNDS = 1000
DEFAULT_SEED = 20260105
HANG_GUARD = 90.0
"""Seconds without the awaited progress before the test gives up (a hang guard, not a timing
assertion: a round needs well under a second of progress)."""
WRITER_MAX_SECONDS = 600.0
"""A writer stops by itself after this long, so that none outlives a test run that went wrong."""
WRITTEN = (Visit, Assessment, AssessmentItem)
"""The tables each writer step inserts into, one row each."""

Ack = tuple[int, str, int]
"""An acknowledged step: (step, USUBJID, visit number)."""


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _rounds() -> int:
    rounds = _env_int("ATOPIC_CRASH_ROUNDS", DEFAULT_ROUNDS)
    if not 1 <= rounds <= MAX_ROUNDS:
        pytest.fail(f"ATOPIC_CRASH_ROUNDS must be from 1 to {MAX_ROUNDS}; got {rounds}")
    return rounds


class ForkServer:
    """The helper process that forks writers, and reaps them when asked (no zombies)."""

    def __init__(self, logs: Path) -> None:
        self._stderr_path = logs / "fork-server.stderr"
        self._stderr: IO[bytes] = self._stderr_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.registry.crash_writer"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )

    def _ask(self, command: dict[str, Any]) -> dict[str, int]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            pytest.fail(f"the fork server died:\n{self._stderr_path.read_text()[-4000:]}")
        return dict(json.loads(answer))

    def spawn(self, **spec: Any) -> int:
        """Fork a writer (``crash_writer.run`` with ``spec``); its PID."""
        return self._ask({"spawn": spec})["pid"]

    def reap(self, pid: int) -> int:
        """Wait for writer ``pid`` to end; its exit status (-9 after SIGKILL)."""
        return self._ask({"reap": pid})["status"]

    def close(self) -> None:
        """End the server (it kills and reaps any writer left) and wait for it."""
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=HANG_GUARD)
        finally:
            if self.proc.poll() is None:  # only if it hung: our own child, by its PID
                self.proc.kill()
                self.proc.wait()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self._stderr.close()


@dataclass
class Writer:
    """One writer process of a round: its PID, files and (once reaped) exit status."""

    index: int
    pid: int
    acks_path: Path
    stderr_path: Path
    status: int | None = None

    def read(self) -> tuple[list[Ack], list[str]]:
        """The acknowledgements so far, and any other line (an ``ERROR``)."""
        try:
            content = self.acks_path.read_text()
        except FileNotFoundError:
            return [], []
        acks: list[Ack] = []
        other: list[str] = []
        # A line cut short by the kill has no newline: it was never acknowledged.
        for line in content.splitlines(keepends=True):
            parts = line.split()
            if line.endswith("\n") and len(parts) == 5 and parts[0] == "ACK":
                acks.append((int(parts[2]), parts[3], int(float(parts[4]))))
            elif line.endswith("\n"):
                other.append(line.rstrip("\n"))
        return acks, other

    def ack_count(self) -> int:
        """Acknowledgements so far; fails the test if the writer reported an error."""
        acks, other = self.read()
        if other:
            pytest.fail(f"writer {self.index} failed: {other}\n{self.stderr()}")
        return len(acks)

    def kill(self) -> None:
        """SIGKILL this writer (its PID is not reaped yet, so it cannot have been reused)."""
        if self.status is None:
            os.kill(self.pid, signal.SIGKILL)

    def stderr(self) -> str:
        """What the writer wrote to stderr (a traceback if it failed)."""
        return self.stderr_path.read_text(errors="replace")[-4000:]


def _wait_for(done: Callable[[], bool], what: str) -> None:
    """Poll until ``done()`` (which fails the test if a writer reported an error)."""
    deadline = time.monotonic() + HANG_GUARD
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"no progress for {HANG_GUARD:g} s while {what}")
        time.sleep(0.01)


@dataclass
class Round:
    """What one round did."""

    number: int
    mode: str
    start: int
    acks: dict[int, list[Ack]] = field(default_factory=dict)

    @property
    def acked(self) -> int:
        """Writes acknowledged in this round."""
        return sum(len(a) for a in self.acks.values())


def _set_up(url: str) -> list[str]:
    """Migrate the schema, add a site, a study and ``SUBJECTS`` subjects; their USUBJIDs."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        factory = session_factory(engine)
        with transaction(factory, ADMIN) as session:
            services.add_site(session, ADMIN, "S01", "Site one")
            services.create_study(session, ADMIN, STUDYID, "Crash safety")
        usubjids = [f"{STUDYID}-{i + 1:04d}" for i in range(SUBJECTS)]
        with transaction(factory, INVESTIGATOR) as session:
            for usubjid in usubjids:
                services.enrol_subject(
                    session,
                    INVESTIGATOR,
                    studyid=STUDYID,
                    site_code="S01",
                    usubjid=usubjid,
                    sex="F",
                    enrolled_on="2026-01-05",
                    age=30,
                )
    finally:
        engine.dispose()
    return usubjids


def _next_visitnum(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            highest = connection.execute(select(func.max(Visit.visitnum))).scalar()
    finally:
        engine.dispose()
    return 1 if highest is None else int(highest) + 1


def _crash_round(
    server: ForkServer,
    url: str,
    number: int,
    rng: random.Random,
    usubjids: list[str],
    logs: Path,
) -> Round:
    """Start the writers, SIGKILL them mid-load, reap them; the acknowledgements they gave."""
    mode = "one, then the rest" if number % 2 == 0 else "all at once"
    result = Round(number, mode, _next_visitnum(url))
    writers: list[Writer] = []
    try:
        for index in range(WRITERS):
            acks_path = logs / f"round{number}-writer{index}.acks"
            stderr_path = logs / f"round{number}-writer{index}.stderr"
            pid = server.spawn(
                url=url,
                writer=index,
                writers=WRITERS,
                start=result.start,
                usubjids=usubjids,
                acks=str(acks_path),
                stderr=str(stderr_path),
                max_seconds=WRITER_MAX_SECONDS,
            )
            writers.append(Writer(index, pid, acks_path, stderr_path))
        # Mid-load: the first commit is in; the delay runs from there.
        _wait_for(lambda: any(w.ack_count() >= 1 for w in writers), "loading")
        time.sleep(rng.uniform(0.2, 0.8))
        if number % 2 == 0:
            victim = writers[rng.randrange(WRITERS)]
            victim.kill()
            victim.status = server.reap(victim.pid)
            survivors = [w for w in writers if w is not victim]
            marks = {w.index: w.ack_count() for w in survivors}
            # Two more commits by a survivor: the second began after the victim died (after the
            # first was acknowledged), so the victim left no lock behind.
            _wait_for(
                lambda: any(w.ack_count() >= marks[w.index] + 2 for w in survivors),
                f"going on after writer {victim.index} was killed",
            )
            time.sleep(rng.uniform(0.05, 0.3))
        for writer in rng.sample(writers, len(writers)):
            writer.kill()
    finally:
        for writer in writers:
            writer.kill()
        for writer in writers:
            if writer.status is None:
                writer.status = server.reap(writer.pid)
    for writer in writers:
        acks, other = writer.read()
        if writer.status != -signal.SIGKILL or other:
            pytest.fail(
                f"writer {writer.index} ended with status {writer.status}, not by SIGKILL "
                f"({other}):\n{writer.stderr()}"
            )
        result.acks[writer.index] = acks
    return result


def _integrity(engine: Engine) -> None:
    """The database's own consistency check: integrity_check (SQLite), amcheck (PostgreSQL)."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalars().all() == ["ok"]
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            return
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))
        tables = connection.execute(
            text(
                "SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'"
            )
        ).all()
        for oid, name in tables:
            problems = connection.execute(
                text("SELECT blkno, offnum, msg FROM verify_heapam(:oid)"), {"oid": oid}
            ).all()
            assert problems == [], f"heap of {name}: {problems}"
        indexes = connection.execute(
            text(
                "SELECT c.oid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND a.amname = 'btree'"
            )
        ).scalars()
        for oid in indexes:
            connection.execute(text("SELECT bt_index_check(:oid, true)"), {"oid": oid})
        connection.commit()


def _verify(
    url: str,
    usubjids: list[str],
    crash: Round,
    acked: dict[tuple[str, int], int],
    baseline_audit: int,
) -> tuple[int, int]:
    """Reopen the database and check it (see the module docstring); (visits, audit rows)."""
    engine = make_engine(url)
    try:
        _integrity(engine)
        factory = session_factory(engine)
        with factory() as session:
            rows = session.execute(
                select(Subject.usubjid, Visit.visitnum, Visit.name, Assessment.total)
                .join(Visit, Visit.subject_id == Subject.id)
                .outerjoin(Assessment, Assessment.visit_id == Visit.id)
            ).all()
            found = {(u, int(v)): (name, total) for u, v, name, total in rows}
            assert len(found) == len(rows), "a visit with more than one assessment"

            # Every acknowledged write, from this round and all before, with its score.
            missing = sorted(key for key in acked if key not in found)
            assert not missing, f"acknowledged but lost: {missing[:10]} ({len(missing)} in all)"
            for key, step in acked.items():
                assert found[key][1] is not None, f"visit {key} lost its assessment"
                assert float(found[key][1]) == grade(step), f"visit {key} has the wrong score"

            # This round: each writer committed exactly its first m steps, acked <= m <= acked+1.
            committed: dict[int, set[int]] = {w: set() for w in range(WRITERS)}
            for (usubjid, visitnum), (name, _total) in found.items():
                if visitnum < crash.start:
                    continue
                lap, writer = divmod(visitnum - crash.start, WRITERS)
                step = lap * SUBJECTS + usubjids.index(usubjid)
                assert name == visit_name(crash.start, writer, step), (
                    f"visit {usubjid} {visitnum} is {name!r}"
                )
                committed[writer].add(step)
            for writer, steps in committed.items():
                count = len(crash.acks[writer])
                assert steps == set(range(len(steps))), f"writer {writer} has gaps: {steps}"
                assert count <= len(steps) <= count + 1, (
                    f"writer {writer}: {len(steps)} committed, {count} acknowledged"
                )

            # All or nothing: one assessment and one item per visit.
            counts = {
                model: session.execute(select(func.count()).select_from(model)).scalar_one()
                for model in WRITTEN
            }
            assert counts[Visit] == counts[Assessment] == counts[AssessmentItem] == len(found)

            # The audit: the chain holds over every row; one row per field of each written row.
            report = verify_chain(session)
            total = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
            assert report.ok, f"audit chain broken at {report.broken_at}: {report.problem}"
            assert report.checked == total
            # (Counted per table and matched by visit name: insert rows carry no record_id.)
            expected_audit = baseline_audit
            for model in WRITTEN:
                audited = session.execute(
                    select(func.count())
                    .select_from(AuditEntry)
                    .where(AuditEntry.table_name == model.__tablename__)
                    .where(AuditEntry.action == "insert")
                ).scalar_one()
                assert audited == counts[model] * _audited_fields(model), model.__tablename__
                expected_audit += audited
            audited_names = session.scalars(
                select(AuditEntry.new)
                .where(AuditEntry.table_name == Visit.__tablename__)
                .where(AuditEntry.action == "insert")
                .where(AuditEntry.field == "name")
            ).all()
            assert sorted(audited_names) == sorted(name for name, _total in found.values())
            assert total == expected_audit
            assert total >= len(acked)
    finally:
        engine.dispose()
    return len(found), total


def _audited_fields(model: type[Base]) -> int:
    """Audit rows an insert into ``model`` writes: one per column but the id."""
    return len([c for c in inspect(model).column_attrs if c.key != "id"])


def _audit_rows(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    finally:
        engine.dispose()


@pytest.mark.slow
def test_acknowledged_writes_survive_sigkill_of_writers(db_url: str, tmp_path: Path) -> None:
    """Writers SIGKILLed mid-load, R rounds: no acknowledged write lost, database and chain ok."""
    backend = db_url.split(":", 1)[0].split("+", 1)[0]
    rounds = _rounds()
    seed = _env_int("ATOPIC_CRASH_SEED", DEFAULT_SEED)
    began = time.monotonic()
    usubjids = _set_up(db_url)
    baseline_audit = _audit_rows(db_url)
    acked: dict[tuple[str, int], int] = {}
    visits = audit = 0
    server = ForkServer(tmp_path)
    try:
        for number in range(rounds):
            rng = random.Random(f"{seed}-{number}")
            crash = _crash_round(server, db_url, number, rng, usubjids, tmp_path)
            for writer_acks in crash.acks.values():
                for step, usubjid, visitnum in writer_acks:
                    acked[(usubjid, visitnum)] = step
            visits, audit = _verify(db_url, usubjids, crash, acked, baseline_audit)
            print(
                f"crash round {number + 1}/{rounds} [{backend}]: killed {crash.mode}; "
                f"{crash.acked} writes acknowledged "
                f"({', '.join(str(len(a)) for a in crash.acks.values())} by writer); "
                f"{len(acked)} acknowledged so far, {visits} committed, all present; "
                f"{audit} audit rows, chain ok"
            )
    finally:
        server.close()
    print(
        f"crash safety [{backend}]: {rounds} rounds of {WRITERS} writers SIGKILLed mid-load, "
        f"{len(acked)} acknowledged writes all present ({visits} committed), integrity ok, "
        f"audit chain verified over {audit} rows, {time.monotonic() - began:.1f} s (seed {seed})"
    )
