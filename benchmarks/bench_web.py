"""Web load: concurrent clients on loopback saving assessments and reading subject pages.

For each backend (SQLite file, PostgreSQL from Debian's packages) the script builds a registry
with subjects and scheduled visits, starts ``atopic serve`` in a subprocess on 127.0.0.1, and runs
``--clients`` concurrent clients (httpx, API tokens) for ``--rounds`` iterations each: save one
vIGA-AD assessment at a fresh visit (POST, audited) and read the subject's record (GET, JSON). It
prints p50/p95/p99 latency and throughput per operation. The load is bounded in count and time and
targets loopback only.

Two load profiles run on each backend:

* ``bedside``: each client pauses between requests for a think time drawn uniformly from 0.5x to
  1.5x ``--think`` seconds (seeded), as a clinician does between entering a value and saving.
  This is the profile of the goal "p95 under 100 ms at 50 clients".
* ``stress``: no pause at all, every client fires its next request as soon as the last answers.
  This measures the server's capacity; by Little's law the mean latency is then clients /
  throughput, so on two cores (shared with the load generator) it cannot be under 100 ms at 50
  clients unless the server answers some 500 requests a second.

The audit trail's cost is measured at the service layer in the same run: the same
``record_assessment`` writes through the audited session and through a plain SQLAlchemy session
(no audit listeners), on fresh SQLite databases; the ratio is printed.

    .venv/bin/python benchmarks/bench_web.py                     # 50 clients x 10 rounds
    .venv/bin/python benchmarks/bench_web.py --clients 10 --rounds 3 --backends sqlite   # smoke
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy.orm import Session, sessionmaker

from atopic.registry import pgserver
from atopic.registry import services as svc
from atopic.registry.audit import Actor
from atopic.registry.db import make_engine, session_factory, transaction, upgrade
from atopic.registry.users import add_user, create_first_admin, create_token

ADMIN = Actor("admin", "admin")
COORD = Actor("coordinator", "coordinator")
PASSWORD = "benchmark-password"


def build(url: str, subjects: int, visits_per_subject: int) -> str:
    """A registry with subjects and scheduled visits; returns an API token of a coordinator."""
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    with factory() as session, session.begin():
        create_first_admin(session, "admin", PASSWORD)
    with transaction(factory, ADMIN) as session:
        add_user(session, ADMIN, "coordinator", PASSWORD, "coordinator")
        svc.add_site(session, ADMIN, "S01", "Site one")
        svc.create_study(session, ADMIN, "BENCH", "Benchmark")
        token = create_token(session, COORD, "coordinator", "bench")
    with transaction(factory, COORD) as session:
        for n in range(subjects):
            usubjid = f"BENCH-{n:04d}"
            svc.enrol_subject(
                session,
                COORD,
                studyid="BENCH",
                site_code="S01",
                usubjid=usubjid,
                sex="F",
                enrolled_on="2026-01-05",
                birth_date="1990-01-01",
            )
            for v in range(1, visits_per_subject + 1):
                svc.schedule_visit(
                    session,
                    COORD,
                    usubjid,
                    v,
                    f"VISIT {v}",
                    actual_date=dt.date(2026, 1, 5) + dt.timedelta(days=7 * v),
                )
    engine.dispose()
    return token


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of ``values`` in ms."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index] * 1000


async def load(
    base: str, token: str, clients: int, rounds: int, subjects: int, think: float, offset: int
) -> dict:
    """Run the clients (pausing ``think`` seconds on average between requests, 0 for none);
    return latencies (s) per operation and the wall time. ``offset`` shifts the visits used so a
    second profile saves at fresh visits."""
    latencies: dict[str, list[float]] = {"save assessment (POST)": [], "subject page (GET)": []}
    errors: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients)

    async def pause(rng: random.Random) -> None:
        if think > 0:
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))

    async def client(c: int, http: httpx.AsyncClient) -> None:
        rng = random.Random(c)
        await pause(rng)  # clients arrive spread out, not all in the same millisecond
        for r in range(rounds):
            usubjid = f"BENCH-{c % subjects:04d}"
            visit = 1 + offset + (c // subjects) * rounds + r
            body = {"data": {"grade": (c + r) % 5}, "assessed_on": "2026-02-01"}
            t0 = time.perf_counter()
            try:
                response = await http.post(
                    f"/api/subjects/{usubjid}/visits/{visit}/assessments/viga-ad", json=body
                )
                if response.status_code != 201:
                    errors.append(f"POST {response.status_code} {response.text[:120]}")
            except httpx.HTTPError as error:
                errors.append(f"POST {type(error).__name__}")
            latencies["save assessment (POST)"].append(time.perf_counter() - t0)
            await pause(rng)
            t0 = time.perf_counter()
            try:
                response = await http.get(f"/api/subjects/{usubjid}")
                if response.status_code != 200:
                    errors.append(f"GET {response.status_code}")
            except httpx.HTTPError as error:
                errors.append(f"GET {type(error).__name__}")
            latencies["subject page (GET)"].append(time.perf_counter() - t0)
            await pause(rng)

    start = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as http:
        await asyncio.gather(*(client(c, http) for c in range(clients)))
    return {"latencies": latencies, "wall": time.perf_counter() - start, "errors": errors}


def serve(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``atopic serve`` in a subprocess (its output to ``log``); waits until it answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "atopic", "serve", "--db", url, "--port", str(port)],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start")


def audit_cost(n: int) -> tuple[float, float]:
    """Seconds for ``n`` record_assessment writes with and without the audit listeners."""
    results = []
    for audited in (True, False):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'a.db'}"
            build(url, subjects=1, visits_per_subject=n)
            engine = make_engine(url)
            factory = (
                session_factory(engine) if audited else sessionmaker(bind=engine, class_=Session)
            )
            start = time.perf_counter()
            for v in range(1, n + 1):
                with factory() as session, session.begin():
                    session.connection(execution_options={"atopic_write": True})
                    session.info["actor"] = COORD
                    svc.record_assessment(
                        session,
                        COORD,
                        usubjid="BENCH-0000",
                        visitnum=v,
                        instrument="viga-ad",
                        data={"grade": v % 5},
                        assessed_on="2026-02-01",
                    )
            results.append(time.perf_counter() - start)
            engine.dispose()
    return results[0], results[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--audit-writes", type=int, default=300)
    parser.add_argument("--profiles", default="bedside,stress")
    parser.add_argument("--think", type=float, default=1.0, help="mean think time (s), bedside")
    args = parser.parse_args()
    profiles = {"bedside": args.think, "stress": 0.0}
    chosen = [(p, profiles[p]) for p in args.profiles.split(",")]
    subjects = min(args.clients, 50)
    visits = (args.clients // subjects + 1) * args.rounds * len(chosen)
    print(
        f"{args.clients} clients x {args.rounds} rounds (one save + one read each), "
        f"loopback, {os.cpu_count()} CPUs; bedside think time {0.5 * args.think:g}-"
        f"{1.5 * args.think:g} s, stress none"
    )
    print(
        f"{'backend':<11} {'profile':<8} {'operation':<24} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'req/s':>7}"
    )
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            server_cm = pgserver.temporary_server(fsync=True) if backend == "postgresql" else None
            admin = server_cm.__enter__() if server_cm else None
            try:
                url = (
                    pgserver.create_database(admin)
                    if admin
                    else f"sqlite:///{Path(tmp) / 'bench.db'}"
                )
                token = build(url, subjects, visits)
                port = pgserver._free_port()
                log = Path(tmp) / "server.log"
                process = serve(url, port, log)
                results = {}
                try:
                    for k, (profile, think) in enumerate(chosen):
                        results[profile] = result = asyncio.run(
                            load(
                                f"http://127.0.0.1:{port}",
                                token,
                                args.clients,
                                args.rounds,
                                subjects,
                                think,
                                offset=k * (args.clients // subjects + 1) * args.rounds,
                            )
                        )
                finally:
                    process.terminate()
                    process.wait(timeout=30)
                    if len(results) < len(chosen) or any(r["errors"] for r in results.values()):
                        print("server log (last lines):")
                        print("\n".join(log.read_text(errors="replace").splitlines()[-15:]))
            finally:
                if server_cm:
                    server_cm.__exit__(None, None, None)
        for profile, result in results.items():
            total = sum(len(v) for v in result["latencies"].values())
            for op, values in result["latencies"].items():
                print(
                    f"{backend:<11} {profile:<8} {op:<24} {len(values):>5} "
                    f"{percentile(values, 50):>8.1f} {percentile(values, 95):>8.1f} "
                    f"{percentile(values, 99):>8.1f} {len(values) / result['wall']:>7.1f}"
                )
            print(
                f"{backend:<11} {profile:<8} {'all requests':<24} {total:>5} {'':>8} {'':>8} "
                f"{'':>8} {total / result['wall']:>7.1f}   errors: {len(result['errors'])}"
            )
            for error in result["errors"][:5]:
                print("   ", error)
    audited, plain = audit_cost(args.audit_writes)
    print(
        f"audit trail cost (SQLite, {args.audit_writes} saves, service layer): "
        f"{audited:.2f} s audited vs {plain:.2f} s without = {audited / plain:.2f}x"
    )
    print("goal: p95 under 100 ms at 50 clients (bedside profile)")


if __name__ == "__main__":
    main()
