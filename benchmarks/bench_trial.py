"""Trial analytics at scale: BDS derivations on Polars against pandas, and MMRM against R.

Derivations: ``--subjects`` (default 1,000,000) subjects x 12 analysis visits x 3 parameters
(EASI, IGA, PPNRS: 36 million records at 10^6) of synthetic observed records (a few visits
missing, days jittered inside the windows). The chain is the BDS core of ``atopic.trial.derive``:
study day, analysis window (AVISIT), baseline flag, BASE, CHG, PCHG, ANL01FL (closest to target)
and the responder criteria (EASI-50/75/90, IGA 0/1, PP-NRS4), run lazily by the package's own
``derive_*`` functions on Polars, and the same rules written straightforwardly in pandas. Each
engine runs in its own process, so peak memory (max RSS) is its own; the outputs are compared
for equality on every record before the times are printed.

MMRM: 2,000 subjects x 6 visits, unstructured covariance, REML, fitted by
``atopic.trial.analyze.mmrm`` and, when Rscript with nlme is installed, by
``nlme::gls(corSymm, varIdent, REML)`` in the same run on the same data.

    .venv/bin/python benchmarks/bench_trial.py                          # 10^6 subjects
    .venv/bin/python benchmarks/bench_trial.py --subjects 10000,100000  # growth
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent
WEEKS = (0, 1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 24)
DESIGN = """
[study]
studyid = "BENCH"
title = "Benchmark"

[[arms]]
code = "PBO"
label = "Placebo"
product = "Placebo"
dose = 0
dose_unit = "10^6 Therapeutic Cells"
route = "SUBCUTANEOUS"
schedule = { weeks = [0] }
ratio = 1
control = true

[[arms]]
code = "HIGH"
label = "MSC"
product = "MSC"
dose = 50
dose_unit = "10^6 Therapeutic Cells"
route = "SUBCUTANEOUS"
schedule = { weeks = [0] }
ratio = 1

[randomization]
block_sizes = [4]

[visits]
baseline = "WEEK 0"
{visits}

[[criteria]]
name = "EASI-50"
paramcd = "EASI"
responder = ["PCHG <= -50"]

[[criteria]]
name = "EASI-75"
paramcd = "EASI"
responder = ["PCHG <= -75"]

[[criteria]]
name = "EASI-90"
paramcd = "EASI"
responder = ["PCHG <= -90"]

[[criteria]]
name = "IGA 0/1"
paramcd = "IGA"
responder = ["AVAL <= 1", "CHG <= -2"]

[[criteria]]
name = "PP-NRS4"
paramcd = "PPNRS"
responder = ["CHG <= -4"]
eligible = ["BASE >= 4"]

[[endpoints]]
id = "EASI75"
role = "primary"
kind = "responder"
paramcd = "EASI"
criterion = "EASI-75"
avisit = "WEEK 24"
population = "ITTFL"
"""


def windows() -> list[tuple[str, int, int, int, int]]:
    """(AVISIT, AVISITN, target, low, high) per week: windows half-way between targets."""
    targets = [1 + 7 * w for w in WEEKS]
    out = []
    for i, (week, target) in enumerate(zip(WEEKS, targets, strict=True)):
        low = -28 if i == 0 else (targets[i - 1] + target) // 2 + 1
        high = (
            1 if i == 0 else (target + targets[i + 1]) // 2 if i + 1 < len(targets) else target + 28
        )
        out.append((f"WEEK {week}", week, target, low, high))
    return out


def design_text() -> str:
    blocks = [
        f'[[visits.schedule]]\navisit = "{a}"\navisitn = {n}\ntarget = {t}\nlow = {lo}\nhigh = {hi}\n'
        for a, n, t, lo, hi in windows()
    ]
    return DESIGN.replace("{visits}", "\n".join(blocks))


def make_records(subjects: int, seed: int = 1) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(records, adsl): observed EASI, IGA and PPNRS per visit (about 4 % of visits missing).

    Built from integer arrays; USUBJID text is made once by Polars (numpy text arrays would
    dominate the memory being measured)."""
    rng = np.random.default_rng(seed)
    usubjid = pl.format("BENCH-{}", pl.col("SUBJ").cast(pl.String).str.zfill(7))
    start = np.datetime64("2026-01-05") + rng.integers(0, 365, subjects).astype("timedelta64[D]")
    adsl = pl.DataFrame({"SUBJ": np.arange(subjects), "TRTSDT": start}).select(
        usubjid.alias("USUBJID"), "TRTSDT"
    )
    v = len(WEEKS)
    sub = np.repeat(np.arange(subjects, dtype=np.int32), v)
    week = np.tile(np.array(WEEKS, dtype=np.int32), subjects)
    jitter = np.where(week == 0, -rng.integers(0, 3, sub.size), rng.integers(-2, 3, sub.size))
    day = 7 * week + jitter  # days after the first dose: study day = day + 1
    adt = start[sub] + day.astype("timedelta64[D]")
    severity = rng.uniform(0.45, 0.9, subjects)[sub] * np.exp(-week / rng.uniform(8, 40, sub.size))
    keep = (week == 0) | (rng.random(sub.size) > 0.04)
    parts = []
    for paramcd, scale, step in (("EASI", 72.0, 0.1), ("IGA", 4.0, 1.0), ("PPNRS", 10.0, 1.0)):
        noise = rng.normal(0, 0.06, sub.size)
        aval = np.clip(np.round((severity + noise) * scale / step) * step, 0, scale)
        parts.append(
            pl.DataFrame(
                {"SUBJ": sub[keep], "ADT": adt[keep], "AVAL": np.round(aval[keep], 1)}
            ).with_columns(pl.lit(paramcd).alias("PARAMCD"))
        )
    records = pl.concat(parts).select(usubjid.alias("USUBJID"), "PARAMCD", "ADT", "AVAL")
    return records, adsl


def derive_polars(records: pl.DataFrame, adsl: pl.DataFrame) -> pl.DataFrame:
    """The BDS core with atopic.trial.derive on a Polars LazyFrame."""
    from atopic.trial.derive.baseline import (
        derive_var_ablfl,
        derive_var_base,
        derive_var_chg,
        derive_var_pchg,
    )
    from atopic.trial.derive.criteria import derive_vars_crit
    from atopic.trial.derive.select import derive_var_anlfl
    from atopic.trial.derive.windows import derive_var_dy, derive_vars_avisit
    from atopic.trial.design import load_design

    design = load_design(design_text())
    frame = (
        records.lazy()
        .join(adsl.lazy(), on="USUBJID")
        .with_columns(pl.lit(None, dtype=pl.String).alias("DTYPE"))
    )
    frame = derive_var_dy(frame, "ADT", "ADY")
    frame = derive_vars_avisit(frame, design.visits)
    frame = derive_var_ablfl(frame, design.baseline_visit)
    frame = derive_var_base(frame)
    frame = derive_var_chg(frame)
    frame = derive_var_pchg(frame)
    frame = derive_var_anlfl(frame, design.baseline_visit)
    frame = derive_vars_crit(frame, design.criteria)
    return frame.collect()


def derive_pandas(records: pl.DataFrame, adsl: pl.DataFrame) -> pl.DataFrame:
    """The same rules written straightforwardly in pandas (the baseline)."""
    import pandas as pd

    df = records.to_pandas().merge(adsl.to_pandas(), on="USUBJID")
    delta = (df["ADT"] - df["TRTSDT"]).dt.days
    df["ADY"] = np.where(delta >= 0, delta + 1, delta)
    df["AVISIT"] = None
    df["AVISITN"] = np.nan
    df["AWTARGET"] = np.nan
    for avisit, avisitn, target, low, high in windows():
        inside = (df["ADY"] >= low) & (df["ADY"] <= high)
        df.loc[inside, "AVISIT"] = avisit
        df.loc[inside, "AVISITN"] = float(avisitn)
        df.loc[inside, "AWTARGET"] = target
    candidate = (df["AVISIT"] == "WEEK 0") & (df["ADY"] <= 1) & df["AVAL"].notna()
    last = df["ADT"].where(candidate).groupby([df["USUBJID"], df["PARAMCD"]]).transform("max")
    df["ABLFL"] = np.where(candidate & (df["ADT"] == last), "Y", None)
    base = df["AVAL"].where(df["ABLFL"] == "Y")
    df["BASE"] = base.groupby([df["USUBJID"], df["PARAMCD"]]).transform("max")
    df["CHG"] = df["AVAL"] - df["BASE"]
    df["PCHG"] = np.where(df["BASE"] != 0, 100 * df["CHG"] / df["BASE"].abs(), np.nan)
    distance = (df["ADY"] - df["AWTARGET"]).abs()
    order = df.assign(_d=distance, _late=-df["ADY"]).sort_values(
        ["USUBJID", "PARAMCD", "AVISITN", "_d", "_late"]
    )
    chosen = ~order.duplicated(["USUBJID", "PARAMCD", "AVISITN"]) & order["AVISIT"].notna()
    df["ANL01FL"] = None
    df.loc[order.index[chosen.to_numpy()], "ANL01FL"] = "Y"
    is_base_visit = df["AVISIT"] == "WEEK 0"
    df.loc[is_base_visit, "ANL01FL"] = np.where(df.loc[is_base_visit, "ABLFL"] == "Y", "Y", None)
    eps = 1e-9

    def flag(param: str, holds: pd.Series, needed: pd.Series, eligible: pd.Series | None = None):
        out = pd.Series(np.where(holds, "Y", "N"), index=df.index, dtype=object)
        out[~needed] = None
        if eligible is not None:
            out[eligible == False] = None  # noqa: E712 (a missing eligibility stays missing)
        out[df["PARAMCD"] != param] = None
        return out

    easi_known = df["PCHG"].notna()
    df["CRIT1FL"] = None
    df["CRIT2FL"] = None
    df["CRIT3FL"] = None
    for k, cut in ((1, -50), (2, -75), (3, -90)):
        easi = flag("EASI", df["PCHG"] <= cut + eps * max(1, abs(cut)), easi_known)
        df[f"CRIT{k}FL"] = easi
    iga = flag("IGA", (df["AVAL"] <= 1 + eps) & (df["CHG"] <= -2 + 2 * eps), df["CHG"].notna())
    df.loc[df["PARAMCD"] == "IGA", "CRIT1FL"] = iga[df["PARAMCD"] == "IGA"]
    eligible = pd.Series(
        np.where(df["BASE"].isna(), None, df["BASE"] >= 4 - 4 * eps), index=df.index
    )
    nrs = flag("PPNRS", df["CHG"] <= -4 + 4 * eps, df["CHG"].notna() & df["BASE"].notna(), eligible)
    df.loc[df["PARAMCD"] == "PPNRS", "CRIT1FL"] = nrs[df["PARAMCD"] == "PPNRS"]
    return pl.from_pandas(df[COMPARED])


COMPARED = ["USUBJID", "PARAMCD", "ADT", "ADY", "AVISITN", "ABLFL", "BASE", "CHG", "PCHG",
            "ANL01FL", "CRIT1FL", "CRIT2FL", "CRIT3FL"]  # fmt: skip


def child(engine: str, subjects: int, out: Path) -> None:
    """Run one engine in this process; write its result and timings."""
    records, adsl = make_records(subjects)
    start = time.perf_counter()
    result = derive_polars(records, adsl) if engine == "polars" else derive_pandas(records, adsl)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    rows = result.height
    compared = result.select(COMPARED)
    del result, records, adsl  # the comparison below is not part of what is measured
    compared.with_columns(pl.col("ADY").cast(pl.Int64), pl.col("PCHG").fill_nan(None)).sort(
        "USUBJID", "PARAMCD", "ADT"
    ).write_parquet(out / f"{engine}.parquet")
    (out / f"{engine}.json").write_text(
        json.dumps({"seconds": seconds, "peak_gb": peak, "rows": rows})
    )


def run_derivations(subjects: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        stats = {}
        for engine in ("polars", "pandas"):
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    engine,
                    "--subjects",
                    str(subjects),
                    "--tmp",
                    tmp,
                ],
                check=True,
            )
            stats[engine] = json.loads((out / f"{engine}.json").read_text())
        same = pl.read_parquet(out / "polars.parquet").equals(
            pl.read_parquet(out / "pandas.parquet")
        )
    rows = stats["polars"]["rows"]
    for engine in ("polars", "pandas"):
        s = stats[engine]
        print(
            f"{subjects:>10,} {engine:<7} {rows:>12,} {s['seconds']:>9.1f} {rows / s['seconds']:>14,.0f} "
            f"{s['peak_gb']:>8.2f}"
        )
    ratio = stats["pandas"]["seconds"] / stats["polars"]["seconds"]
    print(f"{'':>10} polars is {ratio:.1f}x faster than pandas; outputs identical: {same}")


def run_mmrm(subjects: int = 2000, visits: int = 6) -> None:
    from atopic.trial.analyze.mmrm import MMRM

    rng = np.random.default_rng(7)
    arm = np.repeat(rng.choice(["PBO", "LOW", "HIGH"], subjects), visits)
    sub = np.repeat(np.arange(subjects), visits)
    visit = np.tile(np.arange(1, visits + 1), subjects)
    base = np.repeat(rng.normal(30, 8, subjects), visits)
    effect = np.select([arm == "HIGH", arm == "LOW"], [-6.0, -3.0], 0.0) * visit / visits
    cov = 16 * 0.6 ** np.abs(np.subtract.outer(np.arange(visits), np.arange(visits)))
    noise = rng.multivariate_normal(np.zeros(visits), cov, subjects).ravel()
    chg = -2 - 0.1 * (base - 30) + effect + noise
    keep = rng.random(chg.size) > 0.08
    data = pl.DataFrame(
        {
            "USUBJID": [f"S{i:05d}" for i in sub[keep]],
            "TRT01P": arm[keep],
            "AVISIT": [f"V{v}" for v in visit[keep]],
            "AVISITN": visit[keep],
            "BASE": base[keep],
            "CHG": chg[keep],
        }
    )
    start = time.perf_counter()
    fit = MMRM(cov="us", df="satterthwaite").fit(
        data, response="CHG", subject="USUBJID", visit="AVISIT", group="TRT01P",
        covariates=("BASE",), visit_interactions=("BASE",), strata=(), reference="PBO",
    )  # fmt: skip
    ours = time.perf_counter() - start
    print(f"MMRM (unstructured, REML) {subjects} subjects x {visits} visits, {data.height} rows")
    print(f"  atopic.trial.analyze.mmrm   {ours:8.2f} s   logLik {fit.loglik_:.6f}")
    if shutil.which("Rscript") is None:
        print("  R not installed: nlme::gls not run")
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.csv"
        data.write_csv(path)
        script = f"""
suppressMessages(library(nlme))
d <- read.csv("{path}")
d$TRT01P <- relevel(factor(d$TRT01P), ref = "PBO"); d$AVISIT <- factor(d$AVISIT)
t0 <- proc.time()[["elapsed"]]
f <- gls(CHG ~ TRT01P * AVISIT + BASE * AVISIT, data = d,
         correlation = corSymm(form = ~ AVISITN | USUBJID),
         weights = varIdent(form = ~ 1 | AVISIT), method = "REML")
cat(proc.time()[["elapsed"]] - t0, format(as.numeric(logLik(f)), digits = 15), "\\n")
"""
        result = subprocess.run(
            ["Rscript", "-e", script], capture_output=True, text=True, check=True
        )
        seconds, loglik = (float(x) for x in result.stdout.split())
    print(f"  R nlme::gls                 {seconds:8.2f} s   logLik {loglik:.6f}")
    print(
        f"  ratio (R / atopic): {seconds / ours:.1f}x; logLik difference {abs(loglik - fit.loglik_):.2e}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", default="1000000", help="comma-separated subject counts")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--tmp", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--skip-mmrm", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child, int(args.subjects), Path(args.tmp))
        return
    print(f"BDS derivations: subjects x {len(WEEKS)} visits x 3 parameters, {os.cpu_count()} CPUs")
    print(
        f"{'subjects':>10} {'engine':<7} {'records':>12} {'seconds':>9} {'records/s':>14} {'peak GB':>8}"
    )
    for n in (int(x) for x in args.subjects.split(",")):
        run_derivations(n)
    if not args.skip_mmrm:
        run_mmrm()


if __name__ == "__main__":
    main()
