"""Figures and the HTML summary of a virtual-trial run (matplotlib; SVG and PNG files).

* ``trajectories``: every virtual patient's EASI over the visits, one panel per arm, from the
  BDS of replicate 0 of the first sweep point (``atopic.trial.report.figures.spaghetti``).
* ``pchg_distribution``: EASI % change from baseline at the primary visit by arm (observed
  values, ANL01FL), pooled over the first ``EXAMPLE_REPLICATES`` replicates.
* ``power_curves``: power (or type I error) with its Wilson 95 % band against the swept variable
  (sample size, dose, follow-up, or dosing schedule: one tick per schedule, labelled by its
  SWEEPLABEL, "weeks 0, 4"), one panel per primary endpoint, one line per comparison.
* ``dose_response``: power and mean estimate (2.5-97.5 % of the replicates as a band) against
  dose, one row of panels per primary endpoint, when the run has two doses or more.

The subject-level figures regenerate replicates 0.. of the first sweep point in this process: the
data depend on the replicate's seed alone, so they are the replicates the results describe.
``write_outputs`` writes results and summary (Parquet + CSV), the figures and ``summary.html``
(self-contained, figures inline as SVG).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import polars as pl
from matplotlib.figure import Figure

from atopic.trial.report.figures import PALETTE, spaghetti, svg
from atopic.trial.report.tables import layout

if TYPE_CHECKING:
    from atopic.simulate.trials import TrialResults

EXAMPLE_REPLICATES = 10
"""Replicates pooled for the distribution of % change (and the first one for trajectories)."""
MAX_PANELS = 4


def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _primary(summary: pl.DataFrame, run: TrialResults) -> list[str]:
    """Endpoints to draw: the primary ones simulated, else the first simulated ones."""
    simulated = list(dict.fromkeys(summary.get_column("ENDPOINT").to_list()))
    primary = [e.id for e in run.design.primary if e.id in simulated]
    return (primary or simulated)[:MAX_PANELS]


def trajectories(bds: pl.DataFrame, arms: list[str], visits: list[str]) -> Figure:
    """EASI of every virtual patient of one replicate over the visits, a panel per arm."""
    figure = spaghetti(bds, paramcd="EASI", arms=arms, visits=visits)
    figure.suptitle("Virtual patients: EASI by visit (one virtual trial, observed values)", y=1.04)
    return figure


def pchg_distribution(
    bds: pl.DataFrame, arms: list[str], visit: str, paramcd: str = "EASI"
) -> Figure:
    """Violin and box of % change from baseline at ``visit`` by arm (observed, ANL01FL)."""
    data = bds.filter(
        (pl.col("PARAMCD") == paramcd)
        & (pl.col("AVISIT") == visit)
        & (pl.col("ANL01FL") == "Y")
        & pl.col("DTYPE").is_null()
        & pl.col("PCHG").is_not_null()
    )
    values = [data.filter(pl.col("TRTP") == a).get_column("PCHG").to_list() for a in arms]
    present = [i for i, v in enumerate(values) if len(v) > 1]
    figure, ax = plt.subplots(figsize=(1.6 * len(arms) + 2.5, 4))
    if present:
        parts = ax.violinplot([values[i] for i in present], positions=present, showextrema=False)
        for body, i in zip(parts["bodies"], present, strict=True):  # type: ignore[index]
            body.set_facecolor(_colour(i))
            body.set_alpha(0.35)
        ax.boxplot([values[i] for i in present], positions=present, widths=0.15, showfliers=False)
    for level in (-50, -75, -90):
        ax.axhline(level, linestyle=":", color="#888888", linewidth=0.8)
    ax.set_xticks(
        range(len(arms)), [f"{a}\n(n={len(v)})" for a, v in zip(arms, values, strict=True)]
    )
    ax.tick_params(axis="x", labelsize="small")
    ax.set_ylabel(f"% change from baseline of {paramcd}")
    ax.set_title(f"{paramcd} % change at {visit} by arm (observed; dotted: -50, -75, -90 %)")
    return figure


def power_curves(
    summary: pl.DataFrame,
    endpoints: list[str],
    xlabel: str,
    alpha: float,
    ticks: dict[float, str] | None = None,
) -> Figure:
    """Rate with its Wilson 95 % band against SWEEPVAL, a panel per endpoint, a line per arm;
    ``ticks`` (SWEEPVAL -> label) names categorical points such as schedules."""
    figure, axes = plt.subplots(
        1, len(endpoints), figsize=(4.6 * len(endpoints), 3.8), squeeze=False, sharey=True
    )
    measure = summary.item(0, "MEASURE")
    for ax, endpoint in zip(axes[0], endpoints, strict=True):
        part = summary.filter(pl.col("ENDPOINT") == endpoint)
        groups = list(dict.fromkeys(part.get_column("GROUP").to_list()))
        for i, group in enumerate(groups):
            line = part.filter(pl.col("GROUP") == group).sort("SWEEPVAL")
            x = line.get_column("SWEEPVAL").to_list()
            colour = _colour(i + 1)
            ax.fill_between(
                x,
                line.get_column("RATE_CI_LOWER").to_list(),
                line.get_column("RATE_CI_UPPER").to_list(),
                color=colour,
                alpha=0.15,
                linewidth=0,
            )
            ax.plot(x, line.get_column("RATE").to_list(), marker="o", color=colour, label=group)
        ax.axhline(0.8, linestyle="--", color="#777777", linewidth=0.8)
        ax.axhline(alpha, linestyle=":", color="#777777", linewidth=0.8)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(xlabel)
        if ticks:
            ax.set_xticks(list(ticks), list(ticks.values()), fontsize="small")
            ax.set_xlim(min(ticks) - 0.5, max(ticks) + 0.5)
        ax.set_title(endpoint)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(f"{measure} (Wilson 95 % band)")
    axes[0][-1].legend(frameon=False, fontsize="small")
    figure.suptitle(f"{measure.capitalize()} against {xlabel} (dashed 0.8, dotted alpha)")
    return figure


def dose_response(summary: pl.DataFrame, endpoints: list[str], dose_unit: str) -> Figure:
    """Power and the estimate's mean (2.5-97.5 % band) against dose, per endpoint."""
    figure, axes = plt.subplots(
        2, len(endpoints), figsize=(4.6 * len(endpoints), 6.6), squeeze=False
    )
    for j, endpoint in enumerate(endpoints):
        part = summary.filter(pl.col("ENDPOINT") == endpoint).sort("DOSE")
        dose = part.get_column("DOSE").to_list()
        top, bottom = axes[0][j], axes[1][j]
        top.fill_between(
            dose,
            part.get_column("RATE_CI_LOWER").to_list(),
            part.get_column("RATE_CI_UPPER").to_list(),
            color=_colour(1),
            alpha=0.15,
            linewidth=0,
        )
        top.plot(dose, part.get_column("RATE").to_list(), marker="o", color=_colour(1))
        top.axhline(0.8, linestyle="--", color="#777777", linewidth=0.8)
        top.set_ylim(0, 1.02)
        top.set_title(endpoint)
        top.grid(alpha=0.3)
        bottom.fill_between(
            dose,
            part.get_column("Q025").to_list(),
            part.get_column("Q975").to_list(),
            color=_colour(2),
            alpha=0.15,
            linewidth=0,
        )
        bottom.plot(dose, part.get_column("MEAN").to_list(), marker="o", color=_colour(2))
        bottom.axhline(0, color="#999999", linewidth=0.8)
        bottom.set_xlabel(f"Dose ({dose_unit})")
        bottom.grid(alpha=0.3)
        kind = part.item(0, "ESTIMATOR") if part.height else ""
        bottom.set_ylabel(f"estimate vs control ({kind})", fontsize="small")
    axes[0][0].set_ylabel(f"{summary.item(0, 'MEASURE')} (Wilson 95 % band)")
    figure.suptitle("Dose response: power and effect estimate by dose")
    return figure


def _save(figure: Figure, out: Path, name: str) -> tuple[str, dict[str, Path]]:
    png = out / f"{name}.png"
    figure.savefig(png, dpi=110, bbox_inches="tight", metadata={"Software": None})
    text = svg(figure)
    path = out / f"{name}.svg"
    path.write_text(text, encoding="utf-8")
    return text, {f"{name}.svg": path, f"{name}.png": png}


def _figures(run: TrialResults, out: Path) -> tuple[list[tuple[str, str]], dict[str, Path]]:
    from atopic.simulate.engines import replicate_seeds
    from atopic.simulate.trials import derive_replicates, scenario_design

    paths: dict[str, Path] = {}
    shown: list[tuple[str, str]] = []
    summary = run.summary
    endpoints = _primary(summary, run)
    first = run.scenarios[0]
    design = scenario_design(run.design, first)
    arms = [a.label for a in design.arms]
    visits = [v.avisit for v in design.visits]
    k = min(EXAMPLE_REPLICATES, run.settings["n_trials"])
    seeds = replicate_seeds(run.settings["seed"], k)
    bds = derive_replicates(run.generator, design, first.subjects, range(len(seeds)), seeds)["BDS"]
    text, written = _save(
        trajectories(bds.filter(pl.col("REPLICATE") == 0), arms, visits), out, "trajectories"
    )
    paths |= written
    shown.append(("Virtual patient trajectories by arm (replicate 0)", text))
    primary = next((e.avisit for e in design.primary if e.avisit), visits[-1])
    text, written = _save(pchg_distribution(bds, arms, primary), out, "pchg_distribution")
    paths |= written
    shown.append(
        (
            f"EASI % change at {primary} by arm, {k} virtual trials pooled ({k * first.subjects} patients)",
            text,
        )
    )
    sweep = run.settings.get("sweep")
    if sweep:
        name = str(sweep).partition("=")[0]
        xlabel = {
            "subjects": "subjects per trial",
            "dose": "dose",
            "followup": "follow-up (AVISITN)",
            "schedule": "dosing schedule of the treated arm",
        }[name]
        ticks = None
        if name == "schedule":
            ticks = dict(
                summary.select("SWEEPVAL", "SWEEPLABEL").unique(maintain_order=True).rows()
            )
        text, written = _save(
            power_curves(summary, endpoints, xlabel, run.settings["alpha"], ticks),
            out,
            "power_curves",
        )
        paths |= written
        shown.append((f"Power curves against {xlabel}", text))
    doses = summary.filter(pl.col("SCENARIO") == 0).get_column("DOSE").unique()
    dose_source = summary
    if sweep and str(sweep).startswith("dose"):
        doses = summary.get_column("DOSE").unique()
    else:
        dose_source = summary.filter(pl.col("SCENARIO") == 0)
    if doses.len() >= 2:
        units = {a.dose_unit for a in design.arms}
        unit = units.pop() if len(units) == 1 else "dose"
        text, written = _save(dose_response(dose_source, endpoints, unit), out, "dose_response")
        paths |= written
        shown.append(("Dose response: power and estimate by dose", text))
    return shown, paths


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def summary_table(summary: pl.DataFrame) -> str:
    """The summary as an HTML table (great_tables): one row per sweep point x endpoint x arm."""
    rows = []
    for r in summary.iter_rows(named=True):
        rows.append(
            {
                "Sweep": "" if r["SWEEP"] is None else f"{r['SWEEP']} = {r['SWEEPLABEL']}",
                "Endpoint": f"{r['ENDPOINT']} ({r['ROLE']})",
                "Test": f"{r['TEST']} ({r['ESTIMAND']})",
                "Arm vs control": r["GROUP"],
                "Subjects": str(r["SUBJECTS"]),
                r[
                    "MEASURE"
                ]: f"{r['RATE']:.3f} ({r['RATE_CI_LOWER']:.3f}, {r['RATE_CI_UPPER']:.3f})",
                "Significant / trials": f"{r['N_SIGNIFICANT']} / {r['N_TRIALS']}",
                "Estimate mean (SD)": f"{_fmt(r['MEAN'])} ({_fmt(r['SD'])})",
                "Estimate 2.5-97.5 %": f"{_fmt(r['Q025'])} to {_fmt(r['Q975'])}",
                "Not estimable": str(r["N_NOT_ESTIMABLE"]),
            }
        )
    body = pl.DataFrame(rows, orient="row").cast(pl.String)
    return layout(
        body,
        table_id="summary",
        title="Operating characteristics",
        subtitle="Rate of two-sided p < alpha with its Wilson 95 % Monte Carlo interval",
        footnote=(
            "Estimate: responder endpoints CMH-weighted risk difference (proportion); continuous "
            "LS-mean difference (variable's unit); ratio endpoints ratio of geometric mean ratios."
        ),
    )


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
       max-width: 1150px; padding: 1.5rem; color: #222; line-height: 1.45; }}
h2 {{ border-bottom: 2px solid #ddd; padding-bottom: 0.2rem; margin-top: 2rem; }}
figure {{ margin: 1rem 0; }} figure svg {{ max-width: 100%; height: auto; }}
figcaption {{ font-size: 0.9rem; color: #555; }}
dl {{ display: grid; grid-template-columns: max-content auto; gap: 0.2rem 1rem; }}
dt {{ font-weight: 600; }} dd {{ margin: 0; }}
.note {{ background: #f6f6f6; border-left: 4px solid #bbb; padding: 0.5rem 0.8rem; }}
</style></head><body>
<h1>{title}</h1>
<p class="note">{note}</p>
<h2>1. Settings</h2>
<dl>{settings}</dl>
<h2>2. Operating characteristics</h2>
{table}
<h2>3. Figures</h2>
{figures}
</body></html>
"""


def render_html(run: TrialResults, shown: list[tuple[str, str]]) -> str:
    """``summary.html``: settings, the summary table and the figures inline."""
    s = run.settings
    labels = {
        "studyid": "Study",
        "title": "Design",
        "generator": "Patient generator",
        "n_trials": "Virtual trials per sweep point",
        "subjects": "Subjects per trial",
        "sweep": "Sweep",
        "null": "No true effect (type I error run)",
        "alpha": "Two-sided alpha",
        "continuous": "Continuous endpoints analysed by",
        "endpoints": "Endpoints",
        "seed": "Seed",
    }
    items = "".join(
        f"<dt>{html.escape(label)}</dt><dd>{html.escape(_fmt(s.get(key)) if not isinstance(s.get(key), list) else ', '.join(s[key]))}</dd>"
        for key, label in labels.items()
    )
    figures = "".join(
        f"<figure>{text}<figcaption>{html.escape(caption)}</figcaption></figure>"
        for caption, text in shown
    )
    note = (
        "Every replicate was generated, derived and analysed with atopic.trial (the code that "
        "analyses a real trial). A replicate is significant when the two-sided p-value of the "
        "endpoint's test is below alpha: CMH test (responders), ANCOVA or MMRM contrast "
        "(continuous), log-scale ANCOVA (ratios); no multiplicity adjustment. Numbers come from "
        "results.parquet and summary.parquet beside this page."
    )
    return _PAGE.format(
        title=html.escape(f"Virtual trials: {s['studyid']}"),
        note=html.escape(note),
        settings=items,
        table=summary_table(run.summary),
        figures=figures,
    )


def write_outputs(run: TrialResults, out: Path, *, figures: bool = True) -> dict[str, Path]:
    """Write results/summary (Parquet + CSV), the figures and summary.html into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, frame in (("results", run.results), ("summary", run.summary)):
        paths[f"{name}.parquet"] = out / f"{name}.parquet"
        frame.write_parquet(paths[f"{name}.parquet"])
        paths[f"{name}.csv"] = out / f"{name}.csv"
        frame.write_csv(paths[f"{name}.csv"])
    shown: list[tuple[str, str]] = []
    if figures:
        shown, written = _figures(run, out)
        paths |= written
    paths["summary.html"] = out / "summary.html"
    paths["summary.html"].write_text(render_html(run, shown), encoding="utf-8")
    return paths
