"""Virtual trials at scale: the vectorised model against a per-patient scipy ``solve_ivp`` loop.

Workload (default): 1,000 trials x 100 patients (100,000 virtual patients of ``miyano2021``), each
run to its untreated steady state (up to 1000 weeks from the published start values) and then
through a 12-week treatment phase with weekly visits; in every trial half the patients receive
placebo (background care) and half a single SC dose of 5 x 10^7 MSC (``CellMechanism`` defaults).
The vectorised path (``atopic.simulate.model``: ETDRK4, 0.5-week baseline steps with early stop at
the steady state, 0.1-week treatment steps) runs chunks of ``--chunk`` patients, so memory stays
bounded. In the same run, the first ``--loop`` patients are simulated one at a time with
``scipy.integrate.solve_ivp`` (LSODA, rtol 1e-8, atol 1e-6, the tolerances of the authors'
``odeint`` calls): 1000 weeks untreated, then the 12 weeks. Both paths produce the same EASI
(the largest difference is printed).

Patient-weeks are model weeks: 1000 baseline + 12 treatment weeks per patient for both paths
(the vectorised path stops a settled patient early, which is part of its speed; the loop's
adaptive LSODA steps also become long once a patient settles). Treatment-phase rates are shown
separately.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_simulate.py
    .venv/bin/python benchmarks/bench_simulate.py --trials 20 --loop 5      # quick look
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

from atopic.simulate.model import (
    START,
    CellMechanism,
    CellRegimen,
    Treatment,
    derivative,
    easi,
    population,
    steady_state,
    treat,
)
from atopic.simulate.model import cell_therapy as ct
from atopic.simulate.model.therapies import NONE

HERE = Path(__file__).resolve().parent
BASELINE_WEEKS = 1000.0


def _arms(n: int) -> np.ndarray:
    """Dose (cells) per patient: alternating placebo / 5 x 10^7 inside each trial."""
    return np.where(np.arange(n) % 2 == 0, 0.0, 5e7)


def vectorised(
    params: np.ndarray, weeks: np.ndarray, chunk: int
) -> tuple[np.ndarray, float, float, np.ndarray, np.ndarray]:
    """EASI (n, visits) by chunks; seconds in baseline and treatment; weeks run; residuals."""
    n = params.shape[0]
    out = np.empty((n, weeks.size))
    ran = np.empty(n)
    res = np.empty(n)
    t_base = t_treat = 0.0
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        p = params[lo:hi]
        t0 = time.perf_counter()
        base = steady_state(p, chunk=chunk)
        t1 = time.perf_counter()
        tr = Treatment(cell=CellRegimen(_arms(n)[lo:hi], "cells", "SC", (0.0,)))
        course = treat(p, base, weeks, tr, chunk=chunk)
        t2 = time.perf_counter()
        t_base += t1 - t0
        t_treat += t2 - t1
        out[lo:hi] = course.easi
        ran[lo:hi] = base.weeks
        res[lo:hi] = base.residual
    return out, t_base, t_treat, ran, res


def loop(params: np.ndarray, weeks: np.ndarray) -> tuple[np.ndarray, float, float]:
    """EASI (m, visits), one patient at a time with solve_ivp (LSODA)."""
    mech = CellMechanism()
    doses = _arms(params.shape[0])
    out = np.empty((params.shape[0], weeks.size))
    t_base = t_treat = 0.0
    e0 = NONE.vector()
    for i, row in enumerate(params):
        k = row[:, None]
        t0 = time.perf_counter()
        base = solve_ivp(
            lambda _t, y, k=k: derivative(y[:, None], k, e0, 0.0)[:, 0],
            (0.0, BASELINE_WEEKS),
            START,
            method="LSODA",
            rtol=1e-8,
            atol=1e-6,
        )
        t1 = time.perf_counter()
        mods = ct.modifiers(CellRegimen(doses[i], "cells", "SC", (0.0,)), mech)
        sol = solve_ivp(
            lambda t, y, k=k, mods=mods: derivative(y[:, None], k, e0, 1.0, mods(t, False))[:, 0],
            (0.0, float(weeks[-1])),
            base.y[:, -1],
            method="LSODA",
            rtol=1e-8,
            atol=1e-6,
            t_eval=weeks,
        )
        t2 = time.perf_counter()
        t_base += t1 - t0
        t_treat += t2 - t1
        out[i] = easi(sol.y[0], sol.y[1])
    return out, t_base, t_treat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--loop", type=int, default=20, help="patients in the solve_ivp loop")
    parser.add_argument("--chunk", type=int, default=10_000, help="patients per vectorised chunk")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "bench_simulate.txt")
    args = parser.parse_args()

    n = args.trials * args.patients
    weeks = np.arange(0.0, args.weeks + 1.0)
    params = population("miyano2021").sample(n, np.random.default_rng(args.seed))

    start = time.perf_counter()
    vec, vb, vt, ran, res = vectorised(params, weeks, args.chunk)
    vec_total = time.perf_counter() - start
    ref, lb, lt = loop(params[: args.loop], weeks)
    m = args.loop
    diff = float(np.max(np.abs(ref - vec[:m])))

    # One trial's outcome, to show the output is used: EASI-50 at the last week, MSC vs placebo.
    pch = 1 - vec[:, -1] / vec[:, 0]
    resp = (pch >= 0.5).reshape(args.trials, args.patients)
    dose = _arms(n).reshape(args.trials, args.patients) > 0
    diff50 = (resp & dose).sum(1) / dose.sum(1) - (resp & ~dose).sum(1) / (~dose).sum(1)

    pw_base, pw_treat = BASELINE_WEEKS, float(args.weeks)
    rows = [
        ("baseline (1000 wk)", vb, n * pw_base, lb, m * pw_base),
        (f"treatment ({args.weeks} wk)", vt, n * pw_treat, lt, m * pw_treat),
        ("total", vb + vt, n * (pw_base + pw_treat), lb + lt, m * (pw_base + pw_treat)),
    ]
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    lines = [
        f"Virtual trials: {args.trials:,} trials x {args.patients} patients = {n:,} patients, "
        f"steady state + {args.weeks} weeks (weekly visits), chunks of {args.chunk:,}; "
        f"solve_ivp loop on {m} patients",
        f"  {'phase':20s} {'vectorised s':>13s} {'patient-weeks/s':>16s} {'loop s':>9s} "
        f"{'patient-weeks/s':>16s} {'ratio':>8s}",
    ]
    for name, vs, vpw, ls, lpw in rows:
        ratio = (vpw / vs) / (lpw / ls)
        lines.append(
            f"  {name:20s} {vs:13.1f} {vpw / vs:16,.0f} {ls:9.2f} {lpw / ls:16,.0f} {ratio:7.0f}x"
        )
    lines += [
        f"  wall time of the vectorised run {vec_total:.1f} s; peak RSS {peak_gb:.2f} GB; "
        f"weeks run to settle: median {np.median(ran):.0f}, max {np.max(ran):.0f}",
        f"  steady state: {int(np.sum(res > 1e-9))} of {n:,} patients not settled (relative rate "
        f"> 1e-9/week) after 1000 weeks; largest residual {np.max(res):.1e}/week, median "
        f"{np.median(res):.1e}",
        f"  largest |EASI difference| vectorised vs solve_ivp over the {m} patients x {weeks.size} "
        f"visits: {diff:.2e}",
        f"  EASI-50 at week {args.weeks}, MSC 5x10^7 SC minus placebo, across trials: mean "
        f"{100 * diff50.mean():.1f} points (2.5-97.5 %: {100 * np.quantile(diff50, 0.025):.1f} "
        f"to {100 * np.quantile(diff50, 0.975):.1f})",
        f"# OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')} "
        f".venv/bin/python benchmarks/bench_simulate.py {' '.join(sys.argv[1:])} "
        f"({os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}, "
        f"{dt.date.today().isoformat()})",
    ]
    text = "\n".join(lines)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
