"""Writer processes for the crash-safety test (``tests/registry/test_crash.py``).

Run as ``python -m tests.registry.crash_writer``, this module is a small fork server: it imports
the registry once, then reads one JSON command per line on stdin and answers one JSON line on
stdout:

* ``{"spawn": {"url": ..., "writer": W, "writers": K, "start": S, "usubjids": [...],
  "acks": PATH, "stderr": PATH, "max_seconds": T}}`` forks a writer process (``run``), answers
  ``{"pid": PID}``;
* ``{"reap": PID}`` waits for that writer to end, answers ``{"pid": PID, "status": CODE}`` (as
  ``subprocess`` reports it: ``-9`` after SIGKILL).

The test sends SIGKILL to the writers' PIDs itself; a writer is never waited for (so its PID is
never reused) before the test has asked to reap it. When stdin closes, the server kills and reaps
any writer still running, then exits. Forking from one warm process starts a writer in
milliseconds instead of a fresh interpreter's second of imports, which keeps many kill rounds
cheap on a small, busy machine; each writer is still a process of its own with its own database
connection, killed with SIGKILL.

A writer (``run``) loops over steps ``i = 0, 1, 2, ...``; each step is one transaction as an
investigator that schedules visit ``S + (i // len(usubjids)) * K + W`` of subject
``usubjids[i % len(usubjids)]`` (named by ``visit_name``) and records a vIGA-AD grade of
``grade(i)`` at it. Writers never collide: for any subject the visit numbers of different writers
differ modulo ``K``. Only after the commit has returned does the writer append ``ACK W i USUBJID
VISITNUM`` to its acknowledgement file, in one ``write`` call, so every acknowledged step must
survive a crash. (The file is not fsynced: SIGKILL ends the process, not the machine, and the
kernel keeps what was written.) A writer that fails appends ``ERROR ...`` and leaves its
traceback in its stderr file. It stops by itself after ``max_seconds`` or once the server is gone.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
from typing import Any

from atopic.registry import services
from atopic.registry.audit import Actor
from atopic.registry.db import make_engine, session_factory, transaction

INVESTIGATOR = Actor("ivan", "investigator")
VISIT_DATE = "2026-01-05"


def step(start: int, writer: int, writers: int, usubjids: list[str], i: int) -> tuple[str, int]:
    """The subject and visit number that ``writer`` writes at step ``i``."""
    lap, index = divmod(i, len(usubjids))
    return usubjids[index], start + lap * writers + writer


def visit_name(start: int, writer: int, i: int) -> str:
    """The visit name (VISIT) written at step ``i``: unique in the database, found in the audit."""
    return f"{start}-W{writer}-{i}"


def grade(i: int) -> int:
    """The vIGA-AD grade written at step ``i`` (0-4)."""
    return i % 5


def run(
    url: str,
    writer: int,
    writers: int,
    start: int,
    usubjids: list[str],
    acks: str,
    max_seconds: float,
) -> int:
    """Write and acknowledge steps until killed, orphaned or out of time; the exit status."""
    parent = os.getppid()
    deadline = time.monotonic() + max_seconds
    engine = make_engine(url)
    factory = session_factory(engine)
    ack_fd = os.open(acks, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    i = 0
    while time.monotonic() < deadline and os.getppid() == parent:
        usubjid, visitnum = step(start, writer, writers, usubjids, i)
        with transaction(factory, INVESTIGATOR) as session:
            services.schedule_visit(
                session,
                INVESTIGATOR,
                usubjid,
                visitnum,
                visit_name(start, writer, i),
                actual_date=VISIT_DATE,
            )
            services.record_assessment(
                session,
                INVESTIGATOR,
                usubjid=usubjid,
                visitnum=visitnum,
                instrument="viga-ad",
                data={"grade": grade(i)},
                assessed_on=VISIT_DATE,
            )
        # The transaction has committed: only now is the write acknowledged.
        os.write(ack_fd, f"ACK {writer} {i} {usubjid} {visitnum}\n".encode())
        i += 1
    os.close(ack_fd)
    engine.dispose()
    return 0


def _child(spec: dict[str, Any]) -> None:
    """The forked writer: own stdin/stdout (/dev/null) and stderr (its file); never returns."""
    code = 1
    try:
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(os.open(spec["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 2)
        code = run(
            spec["url"],
            int(spec["writer"]),
            int(spec["writers"]),
            int(spec["start"]),
            list(spec["usubjids"]),
            spec["acks"],
            float(spec["max_seconds"]),
        )
    except BaseException as error:
        traceback.print_exc()
        with open(spec["acks"], "a") as acks:
            acks.write(f"ERROR {type(error).__name__}: {error}".replace("\n", " ") + "\n")
    finally:
        sys.stderr.flush()
        os._exit(code)


def serve() -> int:
    """The fork server loop (see the module docstring)."""
    children: set[int] = set()
    try:
        for line in sys.stdin:
            command = json.loads(line)
            if "spawn" in command:
                pid = os.fork()
                if pid == 0:
                    _child(command["spawn"])
                children.add(pid)
                answer: dict[str, int] = {"pid": pid}
            else:
                pid = int(command["reap"])
                if pid not in children:
                    raise ValueError(f"{pid} is not a writer of this server")
                children.discard(pid)
                _, status = os.waitpid(pid, 0)
                answer = {"pid": pid, "status": os.waitstatus_to_exitcode(status)}
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
    finally:
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        for pid in children:
            os.waitpid(pid, 0)
    return 0


if __name__ == "__main__":
    raise SystemExit(serve())
