"""Batch scoring throughput: EASI and SCORAD through ``score_table``, against a per-row loop over
the scalar path and a hand-written NumPy kernel of the same formula, in one run.

Goal (the issue): 10 million assessments per instrument; the batch path within 2x the time of the
NumPy kernel *with* validation, and at least 100x the rows per second of the scalar loop.

    .venv/bin/python benchmarks/bench_scoring.py                 # 10M rows (several minutes)
    .venv/bin/python benchmarks/bench_scoring.py --rows 200000   # smoke run, well under a minute

Data (synthetic, seeded, every row valid) is generated with NumPy and wrapped as Polars columns
without a copy:

- EASI: 16 signs drawn from {0, 1, 1.5, 2, 2.5, 3} (Float64); age uniform 1-90 years (Float64).
  ``--easi-area percent`` (default): every region gives ``area_percent`` as a float 0-100 in steps
  of 0.1 (so the interval edges 0, 10, 30 ... 90, 100 occur) and its ``area_score`` column is all
  null; this exercises the half-open interval lookup and the one-of rule on nulls.
  ``--easi-area score``: every region gives ``area_score`` 0-6 (Int64), ``area_percent`` all null.
- SCORAD: per-region involvement 0-100 in steps of 0.1 (Float64), ``extent_percent`` all null,
  six signs 0-3 (Int64), pruritus and sleeplessness 0-10 in steps of 0.1 (Float64), age uniform
  0.5-90 years (Float64), so the infant shares (age < 2) apply to about 1.7 % of rows.

Methods, each timed as best of ``--repeat`` runs (the loop: ``--loop-repeat``):

- batch polars: ``score_table(instrument, polars_frame)`` (eager: scored frame and rejects are
  materialised inside the call).
- batch duckdb: ``duckdb.from_arrow(frame.to_arrow())``, ``score_table`` on the relation and
  ``.to_arrow_table()`` on the scored relation; all three are inside the timing.
- numpy no-validation: the formula vectorised by hand, producing every numeric output (total and
  parts, exact to the nearest double: integer units, then one true division) and each band as an
  int8 code (NumPy has no cheap string column; the batch path builds String band columns). It runs
  on blocks of ``--numpy-chunk`` rows (16,384 by default) so that its temporaries stay in cache:
  on whole 10M-row arrays every ufunc streams 80 MB through memory and the kernel is 2-4x slower.
  That naive variant is timed too ("whole" rows, unless ``--no-whole-arrays``) but is not the
  baseline.
- numpy with validation: the same plus the masks the batch path checks (grid with the same float
  tolerance, ranges, excluded 0.5, presence rules), and the outputs compacted to the valid rows,
  as ``score_table`` keeps only valid rows in ``scored``. Optional inputs are encoded NumPy-style,
  NaN for "not given". This is the baseline of the 2x goal.
- scalar loop: ``score_fields(instrument, flat)`` for each of the first ``--loop-rows`` rows, with
  the flat dicts built before the timer starts (the loop's best case). Its rows/s is extrapolated
  from that subset; the table says so.

Before the table is printed the NumPy outputs are checked to equal the batch outputs exactly
(``np.array_equal`` on totals, parts and band labels), and the loop's totals to equal the NumPy
totals on its subset, so the baseline really is the same formula.

NumPy's element-wise ufuncs are single-threaded and use no BLAS, so OPENBLAS_NUM_THREADS and the
like do not matter here; Polars and DuckDB use their own thread pools (printed).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import narwhals
import numpy as np
import polars as pl

from atopic.instruments import EASI, SCORAD, score_table
from atopic.instruments.domains import FLOAT_TOLERANCE
from atopic.instruments.easi import CHILD_AGE_LIMIT, MULTIPLIER_TENTHS
from atopic.instruments.easi import REGIONS as EASI_REGIONS
from atopic.instruments.easi import SIGNS as EASI_SIGNS
from atopic.instruments.scalar import score_fields
from atopic.instruments.scorad import CLINICIAN_SIGNS, INFANT_AGE_LIMIT, SHARES
from atopic.instruments.scorad import REGIONS as SCORAD_REGIONS
from atopic.instruments.spec import BandSet, Instrument
from atopic.instruments.unverified import SCORAD_INFANT_SHARES

Arrays = dict[str, np.ndarray]
"""Input columns as NumPy arrays, keyed by item field; NaN marks an optional value not given."""
Outputs = dict[str, np.ndarray]
"""Result columns: output name -> Float64, band field -> int8 band code."""

GOAL_VS_NUMPY = 2.0
GOAL_VS_LOOP = 100.0


# --------------------------------------------------------------------------------------------
# Synthetic data


def _grid(rng: np.random.Generator, n: int, hi_units: int, scale: int) -> np.ndarray:
    """Floats ``k / scale`` with ``k`` uniform in 0..hi_units."""
    return rng.integers(0, hi_units + 1, n).astype(np.float64) / scale


def easi_arrays(n: int, seed: int, area: str) -> Arrays:
    """EASI inputs by field (see the module docstring)."""
    rng = np.random.default_rng(seed)
    sign_values = np.array([0.0, 1.0, 1.5, 2.0, 2.5, 3.0])
    out: Arrays = {}
    for region in EASI_REGIONS:
        for sign in EASI_SIGNS:
            out[f"{region}.{sign}"] = sign_values[rng.integers(0, 6, n)]
        nothing = np.full(n, np.nan)
        if area == "percent":
            out[f"{region}.area_percent"] = _grid(rng, n, 1000, 10)
            out[f"{region}.area_score"] = nothing
        else:
            out[f"{region}.area_percent"] = nothing
            out[f"{region}.area_score"] = rng.integers(0, 7, n)
    out["age_years"] = rng.uniform(1.0, 90.0, n)
    return out


def scorad_arrays(n: int, seed: int) -> Arrays:
    """SCORAD inputs by field (see the module docstring)."""
    rng = np.random.default_rng(seed + 1)
    out: Arrays = {f"extent.{r}": _grid(rng, n, 1000, 10) for r in SCORAD_REGIONS}
    out["extent_percent"] = np.full(n, np.nan)
    for sign in CLINICIAN_SIGNS:
        out[f"intensity.{sign}"] = rng.integers(0, 4, n)
    out["pruritus"] = _grid(rng, n, 100, 10)
    out["sleeplessness"] = _grid(rng, n, 100, 10)
    out["age_years"] = rng.uniform(0.5, 90.0, n)
    return out


def wide_frame(instrument: Instrument, arrays: Arrays) -> pl.DataFrame:
    """The wide table (one column per item code), sharing memory with the arrays where it can;
    NaN becomes null (optional value not given)."""
    columns = []
    for item in instrument.items:
        values = arrays[item.field]
        nullable = values.dtype.kind == "f" and item.optional
        columns.append(pl.Series(item.code, values, nan_to_null=nullable))
    return pl.DataFrame(columns)


# --------------------------------------------------------------------------------------------
# Hand-written NumPy kernels


def _steps_ok(x: np.ndarray, scale: int, lo: int, hi: int, excluded: tuple[int, ...] = ()):
    """Float on the grid of 1/scale within [lo, hi] units (same tolerance as the library);
    returns (ok mask, units as float). NaN fails every comparison, so it is never ok."""
    y = x * scale
    k = np.floor(y + 0.5)
    ok = (np.abs(y - k) <= FLOAT_TOLERANCE * max(1, abs(lo), abs(hi))) & (k >= lo) & (k <= hi)
    for unit in excluded:
        ok &= k != unit
    return ok, k


def _units(x: np.ndarray, scale: int) -> np.ndarray:
    """Units of a valid non-negative float on the grid of 1/scale (round half up)."""
    return (x * scale + 0.5).astype(np.int64)


def _band_codes(units: np.ndarray, scale: int, band_set: BandSet) -> np.ndarray:
    """Index of the band (0 = least severe), rounding half up first when the band set says so."""
    if band_set.decimals is None:
        banded, band_scale = units, scale
    else:
        band_scale = 10**band_set.decimals
        banded = (units * (2 * band_scale) + scale) // (2 * scale)
    code = np.zeros(len(units), dtype=np.int8)
    for cut in band_set.cuts[1:]:
        threshold = int(cut.lower * band_scale)
        code += banded >= threshold if cut.inclusive else banded > threshold
    return code


def _default_set(instrument: Instrument, field: str) -> BandSet:
    banding = next(b for b in instrument.bandings if b.field == field)
    return next(iter(banding.sets.values()))


EASI_EDGES = np.array([10.0, 30.0, 50.0, 70.0, 90.0])
"""Lower edges of EASI area scores 2..6; score = (# edges <= %) + (% > 0)."""


def numpy_easi(a: Arrays, validate: bool) -> tuple[Outputs, np.ndarray | None]:
    """EASI by hand: area score from the half-open intervals, multipliers by age < 8, integer
    twentieths, one division by 20. With ``validate``: also the validity mask, outputs compacted."""
    n = len(a["age_years"])
    valid = np.ones(n, dtype=bool) if validate else None
    age = a["age_years"]
    child = age < CHILD_AGE_LIMIT
    if valid is not None:
        valid &= (age >= 0) & (age <= 130)
    units: dict[str, np.ndarray] = {}
    total = np.zeros(n, dtype=np.int64)
    for region in EASI_REGIONS:
        signs = np.zeros(n, dtype=np.int64)
        for sign in EASI_SIGNS:
            x = a[f"{region}.{sign}"]
            if valid is not None:
                ok, _ = _steps_ok(x, 2, 0, 6, (1,))
                valid &= ok
            signs += _units(x, 2)
        percent, score = a[f"{region}.area_percent"], a[f"{region}.area_score"]
        if score.dtype.kind == "f":  # all-NaN column (not given) or float scores
            score_given = ~np.isnan(score)
            score_units = score.astype(np.int64)  # garbage where NaN: never selected below
        else:
            score_given, score_units = np.ones(n, dtype=bool), score
        percent_given = ~np.isnan(percent)
        from_percent = np.searchsorted(EASI_EDGES, percent, side="right") + (percent > 0)
        area = np.where(percent_given, from_percent, score_units)
        if valid is not None:
            valid &= percent_given ^ score_given  # one of the two, not both
            valid &= ~percent_given | ((percent >= 0) & (percent <= 100))
            if score.dtype.kind == "f":
                ok, _ = _steps_ok(score, 1, 0, 6)
                valid &= ~score_given | ok
            else:
                valid &= (score >= 0) & (score <= 6)
        adult, young = MULTIPLIER_TENTHS[region]
        multiplier = np.where(child, young, adult)
        units[region] = multiplier * area * signs
        units[f"{region}_area"] = area
        total += units[region]
    units["total"] = total
    out: Outputs = {}
    for o in EASI.outputs:
        u = units[o.name] if valid is None else units[o.name][valid]
        out[o.name] = u.astype(np.float64) / float(o.scale)
    total_units = total if valid is None else total[valid]
    out["band"] = _band_codes(total_units, 20, _default_set(EASI, "band"))
    return out, valid


def numpy_scorad(a: Arrays, validate: bool) -> tuple[Outputs, np.ndarray | None]:
    """SCORAD by hand: rule of nines (infant shares under 2), A in thousandths of a percent,
    totals in 1/10000, one division per output. With ``validate``: also the validity mask."""
    n = len(a["age_years"])
    valid = np.ones(n, dtype=bool) if validate else None
    age = a["age_years"]
    infant = age < INFANT_AGE_LIMIT
    extent_percent = a["extent_percent"]
    extent_given = ~np.isnan(extent_percent)
    any_region = np.zeros(n, dtype=bool)
    by_region = np.zeros(n, dtype=np.int64)
    for region in SCORAD_REGIONS:
        x = a[f"extent.{region}"]
        given = ~np.isnan(x)
        if valid is not None:
            ok, _ = _steps_ok(x, 10, 0, 1000)
            valid &= (ok | ~given) & (given | extent_given)
            any_region |= given
        tenths = _units(x, 10)  # garbage where NaN: such a row has extent_percent or is invalid
        share = SHARES[region]
        if region in SCORAD_INFANT_SHARES:
            share = np.where(infant, SCORAD_INFANT_SHARES[region], share)
        by_region += share * tenths
    a_milli = np.where(extent_given, _units(extent_percent, 10) * 100, by_region)
    b = np.zeros(n, dtype=np.int64)
    for sign in CLINICIAN_SIGNS:
        x = a[f"intensity.{sign}"]
        if valid is not None:
            valid &= (x >= 0) & (x <= 3)
        b += x
    pruritus, sleeplessness = a["pruritus"], a["sleeplessness"]
    if valid is not None:
        ok_extent, _ = _steps_ok(extent_percent, 10, 0, 1000)
        valid &= ok_extent | ~extent_given
        valid &= ~(extent_given & any_region)
        age_given = ~np.isnan(age)
        valid &= ~age_given | ((age >= 0) & (age <= 130))
        valid &= age_given | extent_given
        valid &= _steps_ok(pruritus, 10, 0, 100)[0] & _steps_ok(sleeplessness, 10, 0, 100)[0]
    c_tenths = _units(pruritus, 10) + _units(sleeplessness, 10)
    objective = a_milli * 2 + b * 35000
    units = {
        "total": objective + c_tenths * 1000,
        "extent": a_milli,
        "intensity": b,
        "subjective": c_tenths,
        "objective": objective,
    }
    out: Outputs = {}
    for o in SCORAD.outputs:
        u = units[o.name] if valid is None else units[o.name][valid]
        out[o.name] = u.astype(np.float64) / float(o.scale)
    for field, output, scale in (("band", "total", 10000), ("objective_band", "objective", 10000)):
        u = units[output] if valid is None else units[output][valid]
        out[field] = _band_codes(u, scale, _default_set(SCORAD, field))
    return out, valid


def _quiet(
    kernel: Callable[[Arrays, bool], tuple[Outputs, np.ndarray | None]],
) -> Callable[[Arrays, bool], tuple[Outputs, np.ndarray | None]]:
    """NaN (not given) cast to int64 is harmless here (never selected); silence the warning."""

    def run(a: Arrays, validate: bool) -> tuple[Outputs, np.ndarray | None]:
        with np.errstate(invalid="ignore"):
            return kernel(a, validate)

    return run


def in_chunks(
    kernel: Callable[[Arrays, bool], tuple[Outputs, np.ndarray | None]], chunk: int
) -> Callable[[Arrays, bool], tuple[Outputs, np.ndarray | None]]:
    """The kernel run on row blocks of ``chunk`` rows (views, no copy), outputs concatenated: the
    temporaries stay in cache instead of streaming 80 MB arrays through memory once per ufunc.
    ``chunk`` 0: whole arrays in one call."""
    if chunk <= 0:
        return kernel

    def run(a: Arrays, validate: bool) -> tuple[Outputs, np.ndarray | None]:
        n = len(a["age_years"])
        parts = [
            kernel({k: v[i : i + chunk] for k, v in a.items()}, validate)
            for i in range(0, n, chunk)
        ]
        out = {k: np.concatenate([p[0][k] for p in parts]) for k in parts[0][0]}
        masks = [p[1] for p in parts]
        return out, None if masks[0] is None else np.concatenate(masks)

    return run


NUMPY_KERNELS: dict[str, Callable[[Arrays, bool], tuple[Outputs, np.ndarray | None]]] = {
    "EASI": _quiet(numpy_easi),
    "SCORAD": _quiet(numpy_scorad),
}


# --------------------------------------------------------------------------------------------
# Methods and checks


@dataclass
class Row:
    instrument: str
    method: str
    rows: int
    seconds: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls and the last result (one result alive at a time)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        result = None
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def batch_polars(instrument: Instrument, frame: pl.DataFrame) -> pl.DataFrame:
    result = score_table(instrument, frame)
    if result.rejects.height:
        raise AssertionError(f"{instrument.name}: {result.rejects.height} synthetic rows rejected")
    return result.scored


def batch_duckdb(instrument: Instrument, frame: pl.DataFrame) -> pl.DataFrame:
    relation = duckdb.from_arrow(frame.to_arrow())
    result = score_table(instrument, relation)
    table = result.scored.to_arrow_table()
    if len(result.rejects):
        raise AssertionError(f"{instrument.name}: {len(result.rejects)} synthetic rows rejected")
    return table


def check_same(
    instrument: Instrument, expected: Outputs, scored: Any, engine: str, sample: int
) -> None:
    """NumPy outputs == batch outputs, exactly; bands compared as labels."""
    got = scored if isinstance(scored, pl.DataFrame) else pl.from_arrow(scored)
    assert isinstance(got, pl.DataFrame)
    n = len(expected["total"])
    assert got.height == n, (engine, got.height, n)
    if engine != "polars":
        # DuckDB does not promise row order: compare the sorted totals over all rows, then the
        # other outputs row by row in an order keyed on every output.
        keys = [o.name for o in instrument.outputs]
        order = np.lexsort([expected[k] for k in reversed(keys)])
        expected = {k: v[order] for k, v in expected.items()}
        got = got.select(*keys, *(b.field for b in instrument.bandings)).sort(keys)
    assert np.array_equal(got["total"].to_numpy(), expected["total"]), (engine, "total")
    rows = np.random.default_rng(0).choice(n, size=min(sample, n), replace=False)
    for o in instrument.outputs:
        assert np.array_equal(got[o.name].to_numpy()[rows], expected[o.name][rows]), (engine, o)
    for banding in instrument.bandings:
        labels = np.array(_default_set(instrument, banding.field).labels(), dtype=object)
        want = labels[expected[banding.field][rows]]
        have = got[banding.field].to_numpy()[rows]
        assert np.array_equal(have, want), (engine, banding.field)


def _peak_gb() -> float:
    """Peak resident memory of this process so far, in GB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def run_instrument(instrument: Instrument, arrays: Arrays, args: argparse.Namespace) -> list[Row]:
    name = instrument.name
    n = len(arrays["age_years"])
    frame = wide_frame(instrument, arrays)
    table: list[Row] = []
    say = print if args.verbose else (lambda *a, **k: None)

    def timed(method: str, fn: Callable[[], Any], repeat: int, rows: int, note: str = "") -> Any:
        seconds, result = best_of(fn, repeat)
        table.append(Row(name, method, rows, seconds, note))
        say(f"  {name} {method}: {seconds:.3f}s (peak RSS {_peak_gb():.1f} GB)", flush=True)
        return result

    chunked = in_chunks(NUMPY_KERNELS[name], args.numpy_chunk)
    blocks = f"blocks of {args.numpy_chunk:,} rows" if args.numpy_chunk > 0 else "whole arrays"
    timed("numpy no-validation", lambda: chunked(arrays, False), args.repeat, n, blocks)
    expected, valid = timed(
        "numpy with validation", lambda: chunked(arrays, True), args.repeat, n, blocks
    )
    assert valid is not None
    assert valid.all(), f"{name}: NumPy masks reject synthetic rows"
    del valid
    if args.whole_arrays and args.numpy_chunk > 0:
        whole = NUMPY_KERNELS[name]
        note = "one call on whole arrays (memory-bound)"
        timed("numpy no-val, whole", lambda: whole(arrays, False), args.repeat, n, note)
        again, _ = timed("numpy with-val, whole", lambda: whole(arrays, True), args.repeat, n, note)
        assert np.array_equal(again["total"], expected["total"]), f"{name}: chunked != whole"
        del again

    for engine in args.engines:
        run = batch_polars if engine == "polars" else batch_duckdb
        scored = timed(f"batch {engine}", lambda run=run: run(instrument, frame), args.repeat, n)
        check_same(instrument, expected, scored, engine, args.check_sample)
        del scored
        gc.collect()

    m = min(args.loop_rows, n)
    flats = [
        {item.field: row[item.code] for item in instrument.items}
        for row in frame.head(m).iter_rows(named=True)
    ]
    scores = timed(
        "scalar loop",
        lambda: [score_fields(instrument, flat) for flat in flats],
        args.loop_repeat,
        m,
        f"score_fields on the first {m:,} rows; rate extrapolated",
    )
    loop_totals = np.array([float(s.total) for s in scores])
    assert np.array_equal(loop_totals, expected["total"][:m]), f"{name}: loop != NumPy"
    return table  # frame, outputs and scores are freed here


# --------------------------------------------------------------------------------------------
# Report


def print_environment(args: argparse.Namespace) -> None:
    threads = duckdb.execute("select current_setting('threads')").fetchall()[0]
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "n/a"
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    print(
        f"cpu_count {os.cpu_count()} (usable {affinity}); polars {pl.__version__} "
        f"thread_pool_size {pl.thread_pool_size()}; duckdb {duckdb.__version__} threads "
        f"{threads[0] if threads else '?'}; narwhals {narwhals.__version__}; numpy "
        f"{np.__version__} (single-threaded ufuncs)"
    )
    print(
        "NumPy here uses no BLAS: OPENBLAS_NUM_THREADS / MKL_NUM_THREADS are irrelevant. "
        f"rows {args.rows:,}, seed {args.seed}, repeat best of {args.repeat} "
        f"(loop: {args.loop_repeat}), EASI area as {args.easi_area}"
    )
    print(f"load average at start {_load()} (other work on the machine skews every row)")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def print_table(rows: list[Row]) -> None:
    header = (
        f"{'instrument':<10} {'method':<23} {'rows':>12} {'seconds':>9} {'rows/s':>13} "
        f"{'time vs numpy+val':>17} {'speed vs loop':>13}  note"
    )
    print(header)
    print("-" * len(header))
    for instrument in dict.fromkeys(r.instrument for r in rows):
        mine = [r for r in rows if r.instrument == instrument]
        base = next(r for r in mine if r.method == "numpy with validation")
        loop = next((r for r in mine if r.method == "scalar loop"), None)
        for r in mine:
            vs_numpy = base.rate / r.rate
            vs_loop = f"{r.rate / loop.rate:12.1f}x" if loop else f"{'n/a':>13}"
            print(
                f"{r.instrument:<10} {r.method:<23} {r.rows:>12,} {r.seconds:>9.3f} "
                f"{r.rate:>13,.0f} {vs_numpy:>16.2f}x {vs_loop}  {r.note}"
            )
    print(
        "time vs numpy+val: this method's time per row / the NumPy-with-validation kernel's "
        f"(goal for batch: <= {GOAL_VS_NUMPY:g}x). speed vs loop: rows/s / the scalar loop's "
        f"(goal for batch: >= {GOAL_VS_LOOP:g}x). The goals are stated for 10M rows."
    )
    for r in rows:
        if not r.method.startswith("batch"):
            continue
        mine = [x for x in rows if x.instrument == r.instrument]
        base = next(x for x in mine if x.method == "numpy with validation")
        loop = next(x for x in mine if x.method == "scalar loop")
        vs_numpy, vs_loop = base.rate / r.rate, r.rate / loop.rate
        print(
            f"{r.instrument} {r.method}: {vs_numpy:.2f}x the NumPy time "
            f"({'met' if vs_numpy <= GOAL_VS_NUMPY else 'NOT met'}), {vs_loop:,.0f}x the loop "
            f"({'met' if vs_loop >= GOAL_VS_LOOP else 'NOT met'})"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows per instrument")
    parser.add_argument(
        "--loop-rows", type=int, default=20_000, help="rows the scalar loop is timed on"
    )
    parser.add_argument("--engines", default="polars,duckdb", help="comma list: polars,duckdb")
    parser.add_argument("--instruments", default="easi,scorad", help="comma list: easi,scorad")
    parser.add_argument("--repeat", type=int, default=3, help="best of R (batch and NumPy)")
    parser.add_argument("--loop-repeat", type=int, default=1, help="best of R (scalar loop)")
    parser.add_argument("--easi-area", choices=("percent", "score"), default="percent")
    parser.add_argument(
        "--numpy-chunk",
        type=int,
        default=16_384,
        help="rows per block for the NumPy kernels (0: whole arrays)",
    )
    parser.add_argument(
        "--no-whole-arrays",
        dest="whole_arrays",
        action="store_false",
        help="skip the extra NumPy rows timed on whole arrays",
    )
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument(
        "--check-sample", type=int, default=100_000, help="rows compared output by output"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="progress on the way")
    args = parser.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    args.instruments = [i.strip().lower() for i in args.instruments.split(",") if i.strip()]
    if set(args.engines) - {"polars", "duckdb"}:
        parser.error("--engines takes polars and/or duckdb")
    if set(args.instruments) - {"easi", "scorad"}:
        parser.error("--instruments takes easi and/or scorad")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print_environment(args)
    rows: list[Row] = []
    for name in args.instruments:
        if name == "easi":
            arrays = easi_arrays(args.rows, args.seed, args.easi_area)
            rows += run_instrument(EASI, arrays, args)
        else:
            arrays = scorad_arrays(args.rows, args.seed)
            rows += run_instrument(SCORAD, arrays, args)
        del arrays
        gc.collect()
    print_table(rows)
    print(f"load average at end {_load()}; peak RSS {_peak_gb():.1f} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
