"""Scoring + derivations at scale: `atopic derive` on Polars, DuckDB and Spark (local) against a
pandas baseline, from 10^4 to 10^6 subjects x 12 visits.

Data: ``atopic synth`` tables (item-level QS for EASI, SCORAD, vIGA-AD, POEM, PP-NRS and sleep
NRS; labs, AEs, rescue, discontinuation) for the demo design with 12 visits (weeks 0-24),
written once per size in Parquet parts of at most 50,000 subjects, and reused.

Engines, each in its own process (``atopic derive --engine E``), timed from start to the last
file written; peak memory is the largest sum of resident memory over the process and all its
children (the Spark JVM included), sampled every 0.1 s:

* ``polars``: the embedded default, in batches of 20,000 subjects;
* ``duckdb``: one in-process DuckDB, in batches of 20,000 subjects (before 2026-11-30 it
  derived whole tables: the earlier DuckDB lines in the results were measured so);
* ``spark``: PySpark ``local[*]``, in batches of 100,000 subjects (the whole below that; before
  2026-11-30 afternoon it always derived whole tables, which at 10^5 took 13.8 GB);
* ``pandas`` (baseline): what one writes without atopic: EASI scored from its QS items
  (pivot + the EASI formula) and the BDS core (study day, window, baseline, CHG, PCHG, record
  closest to the target, EASI-50/75/90), written straightforwardly in pandas, part by part.
  It does a fraction of the work (one instrument of six, no labs, no rejects, no ADSL/ADAE,
  no imputation), so the ratio flatters pandas. Its EASI records are checked equal to the BDS
  EASI records (ANL03FL) that atopic derived.

Two scopes: ``full`` (every table as synth writes it; Polars, DuckDB, Spark) and ``easi`` (the
same tables with QS cut to EASI and no LB: what the pandas baseline covers, so the ratio
compares like with like, although atopic still derives ADSL, ADAE, imputations and rejects). Each
engine's output is compared with the Polars output of its scope (a checksum of every value of
every table) as soon as both exist, and its line is printed and recorded then, so a long run that
is stopped keeps what it finished. The ratio columns are the baseline's time over this engine's
(pandas in the EASI scope; Polars in both). A growth table closes the run: each engine's time at
each size, and how many times longer its largest size took than its smallest.

    .venv/bin/python benchmarks/bench_scale.py --subjects 10000,100000
    .venv/bin/python benchmarks/bench_scale.py --subjects 1000000 --engines polars,duckdb,pandas

A run that was stopped goes on with ``--resume RUN`` (its ``run`` field in the results), from a
checkout of the commit it measured: the lines it recorded are kept (and printed, marked
``recorded``), its outputs serve as the references of the checks, and the rest are measured on
the same synthetic tables and recorded under the same run, each with the time it was resumed.
Every engine runs the ``atopic`` of this checkout (``src/`` first on ``PYTHONPATH``), which is
what the recorded commit names; ``+dirty`` is added when ``src/`` has changes not committed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WEEKS = (0, 1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 24)
ENGINES = ("polars", "duckdb", "spark", "pandas")
PART = 50_000  # subjects per synth part
BATCH = 20_000  # subjects per Polars/DuckDB batch (atopic derive's default)
SPARK_BATCH = 100_000  # subjects per Spark batch: 10^5 whole took 13.8 GB of 23 here


def design_text() -> str:
    """The demo design with 12 visits (weeks 0-24; windows meet half way between targets)."""
    text = (ROOT / "examples" / "trial" / "design.toml").read_text()
    targets = [7 * w + 1 for w in WEEKS]
    highs = [1] + [(a + b) // 2 for a, b in itertools.pairwise(targets[1:])]
    highs.append(targets[-1] + 14)
    blocks = []
    for i, (week, target) in enumerate(zip(WEEKS, targets, strict=True)):
        low = -28 if i == 0 else highs[i - 1] + 1
        blocks.append(
            f'[[visits.schedule]]\navisit = "WEEK {week}"\navisitn = {week}\n'
            f"target = {target}\nlow = {low}\nhigh = {highs[i]}\n"
        )
    start, end = text.index("[[visits.schedule]]"), text.index("# Responder criteria")
    return text[:start] + "\n".join(blocks) + "\n" + text[end:]


def prepare(work: Path, subjects: int) -> tuple[Path, Path, float]:
    """The design file and the synthetic tables of ``subjects`` (made once); synth seconds."""
    design = work / "design12.toml"
    design.write_text(design_text())
    tables = work / f"synth-{subjects}"
    if (tables / "done").exists():
        return design, tables, float((tables / "done").read_text())
    shutil.rmtree(tables, ignore_errors=True)
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "atopic", "synth", "--design", str(design)]
    chunk = min(PART, max(1, subjects // 4))  # always a folder of parts, aligned across tables
    cmd += ["--subjects", str(subjects), "--seed", "1", "--out", str(tables), "--chunk", str(chunk)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=_own_atopic())
    seconds = time.perf_counter() - start
    (tables / "done").write_text(f"{seconds:.1f}")
    return design, tables, seconds


class EngineFailed(RuntimeError):
    """An engine's process ended with an error (its message ends with the last of stderr)."""


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (from /proc), each address space once.

    A process the JVM forks (Hadoop's shell commands, ``jspawnhelper``) shares its parent's
    pages until it execs, and /proc shows it with the parent's whole resident size; counted
    twice, that gave a Spark peak above the machine's memory. Processes are told apart by where
    their code and stack start (``/proc/PID/stat`` fields 26 and 28), which a shared or copied
    address space keeps and an exec changes.
    """
    children: dict[int, list[int]] = {}
    rss: dict[int, tuple[tuple[str, str], int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            statm = (entry / "statm").read_text().split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        space = (fields[23], fields[25])  # startcode, startstack (fields 26 and 28)
        rss[int(entry.name)] = (space, int(statm[1]) * os.sysconf("SC_PAGE_SIZE"))
    total, stack, counted = 0, [pid], set()
    while stack:
        p = stack.pop()
        if p in rss and rss[p][0] not in counted:
            counted.add(rss[p][0])
            total += rss[p][1]
        stack.extend(children.get(p, []))
    return total


def measured(cmd: list[str]) -> tuple[float, int]:
    """Run ``cmd``; its wall seconds and the peak resident bytes of its process tree."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_own_atopic()
    )
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.1)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - start
    watcher.join()
    if proc.returncode != 0:
        raise EngineFailed(f"{' '.join(cmd)} failed after {seconds:.0f} s:\n{err[-3000:]}")
    return seconds, peak[0]


def _own_atopic() -> dict[str, str]:
    """The environment that makes a child process import this checkout's ``atopic``."""
    path = os.environ.get("PYTHONPATH")
    return os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), path]))}


def run_engine(engine: str, design: Path, tables: Path, out: Path) -> tuple[float, int]:
    shutil.rmtree(out, ignore_errors=True)
    if engine == "pandas":
        cmd = [sys.executable, str(Path(__file__)), "--pandas-child", str(tables), str(out)]
        return measured(cmd)
    cmd = [sys.executable, "-m", "atopic", "derive", "--tables", str(tables), "--design"]
    cmd += [str(design), "--out", str(out), "--engine", engine]
    cmd += ["--batch-subjects", str(SPARK_BATCH if engine == "spark" else BATCH)]
    return measured(cmd)


# --- the pandas baseline -------------------------------------------------------------------


def pandas_child(tables: Path, out: Path) -> None:
    """EASI from QS items and the BDS core in pandas, one 50,000-subject part at a time."""
    import pandas as pd

    targets = {w: 7 * w + 1 for w in WEEKS}
    design = design_text()
    windows = [
        (int(m[0]), int(m[1]), int(m[2]), int(m[3]))
        for m in re.findall(
            r"avisitn = (\d+)\ntarget = (-?\d+)\nlow = (-?\d+)\nhigh = (-?\d+)", design
        )
    ]
    assert [w[0] for w in windows] == list(WEEKS)
    assert all(targets[w[0]] == w[1] for w in windows)
    # EASI (Hanifin 2001): per region, multiplier x area score x sum of the four signs; QS codes
    # EASI1nn as atopic.instruments.easi declares them (6 per region: 4 signs, area %, area score).
    adult, child = (0.1, 0.2, 0.3, 0.4), (0.2, 0.2, 0.3, 0.3)
    out.mkdir(parents=True)
    parts = sorted((tables / "qs").glob("*.parquet"))
    for k, qs_path in enumerate(parts):
        qs = pd.read_parquet(qs_path, columns=["USUBJID", "QSCAT", "QSTESTCD", "QSSTRESN", "QSDTC"])
        qs = qs[qs["QSCAT"] == "EASI"]
        ex = pd.read_parquet(tables / "ex" / qs_path.name, columns=["USUBJID", "EXSTDTC"])
        dm = pd.read_parquet(tables / "dm" / qs_path.name, columns=["USUBJID", "AGE"])
        first = ex.groupby("USUBJID")["EXSTDTC"].min().str.slice(0, 10)
        wide = qs.pivot_table(
            index=["USUBJID", "QSDTC"], columns="QSTESTCD", values="QSSTRESN", aggfunc="first"
        ).reset_index()
        wide = wide.merge(dm, on="USUBJID")
        total = 0.0
        for r in range(4):
            signs = wide[[f"EASI1{6 * r + i:02d}" for i in range(1, 5)]].sum(axis=1)
            weight = wide["AGE"].lt(8).map({True: child[r], False: adult[r]})
            total = total + weight * wide[f"EASI1{6 * r + 6:02d}"] * signs
        wide["AVAL"] = total.round(2)
        wide["ADT"] = pd.to_datetime(wide["QSDTC"].str.slice(0, 10))
        wide["TRTSDT"] = pd.to_datetime(wide["USUBJID"].map(first))
        days = (wide["ADT"] - wide["TRTSDT"]).dt.days
        wide["ADY"] = days.where(days < 0, days + 1)
        wide["AVISITN"] = pd.NA
        for avisitn, _, low, high in windows:
            wide.loc[(wide["ADY"] >= low) & (wide["ADY"] <= high), "AVISITN"] = avisitn
        wide = wide.dropna(subset=["AVISITN"])
        wide["DIST"] = (wide["ADY"] - wide["AVISITN"].map(targets)).abs()
        wide = wide.sort_values(["USUBJID", "AVISITN", "DIST", "ADY"])
        wide = wide.drop_duplicates(["USUBJID", "AVISITN"])
        base = wide[wide["AVISITN"] == 0].set_index("USUBJID")["AVAL"]
        wide["BASE"] = wide["USUBJID"].map(base)
        wide["CHG"] = wide["AVAL"] - wide["BASE"]
        wide["PCHG"] = 100 * wide["CHG"] / wide["BASE"].where(wide["BASE"] != 0)
        for level in (50, 75, 90):
            wide[f"EASI{level}"] = wide["PCHG"] <= -level
        keep = ["USUBJID", "AVISITN", "ADY", "AVAL", "BASE", "CHG", "PCHG"]
        wide[keep].to_parquet(out / f"part-{k:05d}.parquet", index=False)


# --- the run -------------------------------------------------------------------------------


def checksum(folder: Path) -> list[tuple[str, int, int]]:
    """Per analysis table: its row count and an order-free checksum of every value (the sum of
    each column's value hashes), computed streaming so a 10^6-subject BDS never sits in memory."""
    out = []
    for name in ("adsl", "bds", "adae"):
        scan = pl.scan_parquet(sorted((folder / name).glob("*.parquet")))
        sums = scan.select(pl.len(), pl.all().hash(seed=7).sum()).collect(engine="streaming")
        out.append((name, *sums.row(0)))
    return out


def pandas_agrees(polars_out: Path, pandas_out: Path) -> bool:
    """The baseline's EASI values are atopic's observed EASI records (ANL03FL, not PHANTOM)."""
    cols = ["USUBJID", "AVISITN", "ADY", "AVAL", "BASE", "CHG", "PCHG"]
    ours = (
        pl.scan_parquet(sorted((polars_out / "bds").glob("*.parquet")))
        .filter(
            (pl.col("PARAMCD") == "EASI") & (pl.col("ANL03FL") == "Y") & pl.col("DTYPE").is_null()
        )
        .select(pl.col(c).cast(pl.Float64) if c not in ("USUBJID",) else pl.col(c) for c in cols)
        .sort("USUBJID", "AVISITN")
        .collect()
    )
    theirs = (
        pl.scan_parquet(sorted(pandas_out.glob("*.parquet")))
        .select(pl.col(c).cast(pl.Float64) if c != "USUBJID" else pl.col(c) for c in cols)
        .sort("USUBJID", "AVISITN")
        .collect()
    )
    if ours.height != theirs.height or not ours.select("USUBJID", "AVISITN", "ADY").equals(
        theirs.select("USUBJID", "AVISITN", "ADY")
    ):
        return False
    diff = (ours.select(cols[3:]) - theirs.select(cols[3:])).select(
        pl.all().abs().fill_null(0).max()
    )
    return max(diff.row(0)) < 1e-9


def easi_only(tables: Path) -> Path:
    """The same tables with QS cut to its EASI rows and no LB (made once): the scope the pandas
    baseline covers, so that every engine does comparable work against it."""
    cut = tables.with_name(tables.name + "-easi")
    if (cut / "done").exists():
        return cut
    shutil.rmtree(cut, ignore_errors=True)
    (cut / "qs").mkdir(parents=True)
    for name in ("dm", "ex", "ae", "cm", "ds"):
        if (tables / name).exists():
            (cut / name).symlink_to((tables / name).resolve())
    for part in sorted((tables / "qs").glob("*.parquet")):
        easi = pl.scan_parquet(part).filter(pl.col("QSCAT") == "EASI")
        easi.sink_parquet(cut / "qs" / part.name)
    (cut / "done").write_text("")
    return cut


def count_qs(tables: Path) -> int:
    return (
        pl.scan_parquet(sorted((tables / "qs").glob("*.parquet"))).select(pl.len()).collect().item()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subjects", default="10000,100000,1000000")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument(
        "--scopes", default="full,easi", help="full (every table), easi (EASI only)"
    )
    parser.add_argument("--work", default="/tmp/atopic-bench-scale")
    parser.add_argument("--results", default=str(HERE / "results" / "bench_scale.jsonl"))
    parser.add_argument(
        "--resume", metavar="RUN", help="go on with the run recorded as RUN in --results"
    )
    parser.add_argument("--pandas-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pandas_child:
        pandas_child(Path(args.pandas_child[0]), Path(args.pandas_child[1]))
        return
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    engines = [e for e in args.engines.split(",") if e]
    now = time.strftime("%Y-%m-%dT%H:%M:%S")
    run = {"run": now, "commit": _commit()}
    kept: dict[tuple[int, str, str], dict[str, object]] = {}
    if args.resume:
        run, kept = resumed(args.results, args.resume, run["commit"], now)
        print(f"# resumed {now}: run {run['run']}, commit {run['commit']}", flush=True)
    else:
        print(f"# run {run['run']}, commit {run['commit']}, {os.cpu_count()} cores", flush=True)
    print(
        f"{'subjects':>9} {'scope':>5} {'engine':>7} {'seconds':>9} {'peak GB':>8} "
        f"{'QS rows/s':>11} {'pandas/this':>11} {'polars/this':>11}  outputs",
        flush=True,
    )
    growth: dict[tuple[str, str], dict[int, float]] = {}
    for (subjects, scope, engine), record in kept.items():
        growth.setdefault((scope, engine), {})[subjects] = float(record["seconds"])  # type: ignore[arg-type]
    for subjects in (int(s) for s in args.subjects.split(",")):
        design, tables, synth_s = prepare(work, subjects)
        full_rows = count_qs(tables)
        print(
            f"{subjects:>9} {'':>5} {'synth':>7} {synth_s:>9.1f} {'':>8} "
            f"{full_rows:>11,} QS rows written",
            flush=True,
        )
        for scope in args.scopes.split(","):
            folder = tables if scope == "full" else easi_only(tables)
            qs_rows = full_rows if scope == "full" else count_qs(folder)
            done: dict[str, tuple[float, int, Path]] = {}
            for engine in engines:
                if engine == "pandas" and scope != "easi":
                    continue  # the baseline covers EASI only
                out = work / f"out-{subjects}-{scope}-{engine}"
                recorded = kept.get((subjects, scope, engine))
                if recorded is not None:
                    done[engine] = recorded_line(recorded, out)
                else:
                    try:
                        done[engine] = (*run_engine(engine, design, folder, out), out)
                    except EngineFailed as failure:  # said and kept; the other engines go on
                        print(
                            f"{subjects:>9} {scope:>5} {engine:>7}  FAILED: {failure}", flush=True
                        )
                        record = {**run, "subjects": subjects, "scope": scope, "engine": engine}
                        _append(args.results, record | {"failed": str(failure)})
                        continue
                    growth.setdefault((scope, engine), {})[subjects] = done[engine][0]
                line = Line(subjects, scope, engine, qs_rows, *done[engine])
                check = None if recorded is None else str(recorded["check"])
                report(args.results, run, line, done, check)
    print_growth(growth)


def resumed(
    results: str, run_id: str, commit: str, now: str
) -> tuple[dict[str, str], dict[tuple[int, str, str], dict[str, object]]]:
    """The run ``run_id`` as ``results`` recorded it: its fields for the new records (with the
    time it was resumed) and its measured lines by (subjects, scope, engine). Refused unless this
    checkout is the commit it measured, so that every line of a run measures one code."""
    records = [json.loads(line) for line in Path(results).read_text().splitlines() if line]
    mine = [r for r in records if r.get("run") == run_id]
    if not mine:
        sys.exit(f"--resume {run_id}: no record of that run in {results}")
    measured_commit = mine[0]["commit"]
    if measured_commit.endswith("+dirty"):
        sys.exit(
            f"--resume {run_id}: that run measured uncommitted code, which cannot be checked out"
        )
    if measured_commit != commit:
        sys.exit(
            f"--resume {run_id}: that run measured commit {measured_commit}, this checkout is "
            f"{commit}; resume it from a checkout of {measured_commit} (git worktree add)"
        )
    kept = {(r["subjects"], r["scope"], r["engine"]): r for r in mine if "failed" not in r}
    return {"run": run_id, "commit": commit, "resumed": now}, kept


def recorded_line(record: dict[str, object], out: Path) -> tuple[float, int, Path]:
    """A line the resumed run recorded: its seconds, peak and output (which must still be
    there, as it is the reference of later checks)."""
    if not any(out.rglob("*.parquet")):
        sys.exit(f"the recorded output {out} is gone: rerun that line instead of resuming")
    return float(record["seconds"]), int(record["peak_bytes"]), out  # type: ignore[arg-type]


@dataclass
class Line:
    """One engine's run at one size and scope."""

    subjects: int
    scope: str
    engine: str
    qs_rows: int
    seconds: float
    peak: int
    out: Path


def _commit() -> str:
    """This checkout's commit, ``+dirty`` if ``src/`` (the code every engine runs) has changes."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "src"], capture_output=True)
    return (head.stdout.strip() or "unknown") + ("+dirty" if dirty.stdout.strip() else "")


def _check(line: Line, done: dict[str, tuple[float, int, Path]]) -> str:
    """The output compared with the Polars output of the same scope, when there is one."""
    reference = done.get("polars")
    if line.engine == "polars":
        return "reference"
    if reference is None:
        return "no polars run to compare"
    if line.engine == "pandas":
        return "EASI = atopic" if pandas_agrees(reference[2], line.out) else "EASI DIFFERS"
    return "= polars" if checksum(reference[2]) == checksum(line.out) else "DIFFER"


def report(
    path: str,
    run: dict[str, str],
    line: Line,
    done: dict[str, tuple[float, int, Path]],
    recorded: str | None = None,
) -> None:
    """Check ``line``'s output against Polars, then print and record it (the ratios use the
    baselines of its scope that ran before it). A line a resumed run ``recorded`` (its check
    given) is printed, marked so, and not recorded again."""
    check = _check(line, done) if recorded is None else f"{recorded} (recorded)"
    # A baseline that has not run in this scope (pandas in the full scope) prints as "-".
    ratios = {
        base: f"{done[base][0] / line.seconds:.2f}x" if base in done else "-"
        for base in ("pandas", "polars")
    }
    print(
        f"{line.subjects:>9} {line.scope:>5} {line.engine:>7} {line.seconds:>9.1f} "
        f"{line.peak / 1e9:>8.2f} {line.qs_rows / line.seconds:>11,.0f} "
        f"{ratios['pandas']:>11} {ratios['polars']:>11}  {check}",
        flush=True,
    )
    if recorded is not None:
        return
    record = {**run, "subjects": line.subjects, "scope": line.scope, "engine": line.engine}
    record |= {"seconds": round(line.seconds, 2), "peak_bytes": line.peak}
    record |= {"qs_rows": line.qs_rows, "check": check}
    _append(path, record)


def _append(path: str, record: dict[str, object]) -> None:
    with open(path, "a") as handle:
        handle.write(json.dumps(record) + "\n")


def print_growth(growth: dict[tuple[str, str], dict[int, float]]) -> None:
    """Each engine's seconds at each size, and its largest size's time over its smallest's."""
    sizes = sorted({n for times in growth.values() for n in times})
    if len(sizes) < 2:
        return
    print("\n# how time grows with the number of subjects (seconds)")
    head = "".join(f"{n:>11,}" for n in sizes)
    print(f"{'scope':>5} {'engine':>7}{head}  growth", flush=True)
    for (scope, engine), times in growth.items():
        cells = "".join(f"{times[n]:>11.1f}" if n in times else f"{'':>11}" for n in sizes)
        low, high = min(times), max(times)
        factor = (
            f"x{times[high] / times[low]:.0f} for x{high // low} subjects" if high > low else ""
        )
        print(f"{scope:>5} {engine:>7}{cells}  {factor}", flush=True)


if __name__ == "__main__":
    main()
