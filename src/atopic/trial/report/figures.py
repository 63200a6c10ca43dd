"""The report's figures, drawn with matplotlib and returned as inline SVG text.

Statistics (means with CIs, responder rates, fitted dose-response, subgroup effects) are read from
the ARD and never recomputed. Subject-level pictures (waterfall, spaghetti) are listings, not
statistics, so they are drawn from the BDS records themselves.

Every function returns a ``matplotlib.figure.Figure``; ``svg()`` turns one into deterministic SVG
text (fixed hash salt, no date) so the same data give the same report byte for byte.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import matplotlib

matplotlib.use("Agg")  # headless: the report is written by a CLI or a server, never shown

import matplotlib.pyplot as plt
import polars as pl
from matplotlib.figure import Figure

PALETTE = ("#4d4d4d", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b")
"""Arm colours in design order; the control (first arm) is grey."""


def svg(figure: Figure) -> str:
    """The figure as SVG text without the XML prolog, reproducible byte for byte."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "atopic", "svg.fonttype": "path"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _colour(arms: Sequence[str], arm: str) -> str:
    return PALETTE[list(arms).index(arm) % len(PALETTE)] if arm in arms else PALETTE[-1]


def _wide(ard: pl.DataFrame, stats: Sequence[str], keys: Sequence[str]) -> pl.DataFrame:
    """ARD rows -> one row per key combination with one column per statistic."""
    part = ard.filter(pl.col("STAT").is_in(list(stats))).select(*keys, "STAT", "VALUE")
    return part.pivot(on="STAT", index=list(keys), values="VALUE")


def mean_over_time(
    ard: pl.DataFrame,
    *,
    analysis: str,
    paramcd: str,
    arms: Sequence[str],
    visits: Sequence[str],
    estimate: str = "mean",
    ylabel: str,
    title: str,
) -> Figure:
    """Mean (or LS mean) by arm and visit with its 95 % CI as error bars, arms side by side."""
    rows = ard.filter((pl.col("ANALYSIS") == analysis) & (pl.col("PARAMCD") == paramcd))
    wide = _wide(rows, (estimate, "ci_lower", "ci_upper"), ("GROUP", "AVISIT"))
    figure, ax = plt.subplots(figsize=(7, 4))
    width = 0.08 * max(len(visits), 1) / max(len(arms), 1)
    for k, arm in enumerate(arms):
        sub = wide.filter(pl.col("GROUP") == arm)
        xs, ys, lo, hi = [], [], [], []
        for i, visit in enumerate(visits):
            hit = sub.filter(pl.col("AVISIT") == visit)
            if hit.height != 1 or hit.item(0, estimate) is None:
                continue
            xs.append(i + (k - (len(arms) - 1) / 2) * width)
            ys.append(hit.item(0, estimate))
            lo.append(hit.item(0, "ci_lower"))
            hi.append(hit.item(0, "ci_upper"))
        errors = [
            [max(0.0, y - low) if low is not None else 0 for y, low in zip(ys, lo, strict=True)],
            [max(0.0, high - y) if high is not None else 0 for y, high in zip(ys, hi, strict=True)],
        ]
        ax.errorbar(xs, ys, yerr=errors, marker="o", capsize=3, label=arm, color=_colour(arms, arm))
    ax.axhline(0, color="#999999", linewidth=0.8)
    ax.set_xticks(range(len(visits)), list(visits))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(frameon=False)
    ax.grid(axis="y", alpha=0.3)
    return figure


def responder_rates(
    ard: pl.DataFrame,
    *,
    analysis: str,
    criteria: Sequence[str],
    arms: Sequence[str],
    visits: Sequence[str],
) -> Figure:
    """Responder rate (%) with Wilson 95 % CI by arm and visit, one panel per criterion."""
    figure, axes = plt.subplots(
        1, len(criteria), figsize=(3.6 * len(criteria), 3.6), sharey=True, squeeze=False
    )
    for ax, criterion in zip(axes[0], criteria, strict=True):
        rows = ard.filter(
            (pl.col("ANALYSIS") == analysis)
            & (pl.col("PARAMCD") == criterion)
            & pl.col("COMPARATOR").is_null()
        )
        wide = _wide(rows, ("rate", "ci_lower", "ci_upper"), ("GROUP", "AVISIT"))
        for arm in arms:
            sub = wide.filter(pl.col("GROUP") == arm)
            points = [(i, sub.filter(pl.col("AVISIT") == v)) for i, v in enumerate(visits)]
            points = [(i, h) for i, h in points if h.height == 1 and h.item(0, "rate") is not None]
            if not points:
                continue
            xs = [i for i, _ in points]
            ys = [100 * h.item(0, "rate") for _, h in points]
            # max(0, ...): a Wilson limit at a rate of 0 or 1 can differ from it by rounding.
            lo = [
                100 * max(0.0, h.item(0, "rate") - (h.item(0, "ci_lower") or h.item(0, "rate")))
                for _, h in points
            ]
            hi = [
                100 * max(0.0, (h.item(0, "ci_upper") or h.item(0, "rate")) - h.item(0, "rate"))
                for _, h in points
            ]
            ax.errorbar(
                xs, ys, yerr=[lo, hi], marker="o", capsize=3, label=arm, color=_colour(arms, arm)
            )
        ax.set_title(criterion)
        ax.set_xticks(range(len(visits)), list(visits), rotation=45, ha="right")
        ax.set_ylim(0, 100)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("Responders (%)")
    axes[0][-1].legend(frameon=False, fontsize="small")
    return figure


def waterfall(
    bds: pl.DataFrame, *, paramcd: str, arms: Sequence[str], arm_column: str = "TRTP"
) -> Figure:
    """Best (lowest) observed % change from baseline per subject after baseline, sorted, coloured
    by arm; dashed lines at -50 % and -75 % (EASI-50/75)."""
    best = (
        bds.filter(
            (pl.col("PARAMCD") == paramcd)
            & pl.col("DTYPE").is_null()
            & (pl.col("ABLFL").is_null())
            & pl.col("PCHG").is_not_null()
            & (pl.col("AVISITN") > 0)
        )
        .group_by("USUBJID", arm_column)
        .agg(pl.col("PCHG").min().alias("BEST"))
        .sort("BEST", descending=True)
    )
    figure, ax = plt.subplots(figsize=(8, 3.6))
    colours = [_colour(arms, a) for a in best.get_column(arm_column).to_list()]
    ax.bar(
        range(best.height), best.get_column("BEST").to_list(), color=colours, width=1.0, linewidth=0
    )
    for level in (-50, -75):
        ax.axhline(level, linestyle="--", color="#777777", linewidth=0.8)
    handles = [plt.Rectangle((0, 0), 1, 1, color=_colour(arms, a)) for a in arms]
    ax.legend(handles, list(arms), frameon=False, fontsize="small")
    ax.set_xticks([])
    ax.set_xlabel("Subjects")
    ax.set_ylabel(f"Best % change of {paramcd}")
    ax.set_title(f"Best % change from baseline of {paramcd} (observed)")
    return figure


def spaghetti(
    bds: pl.DataFrame,
    *,
    paramcd: str,
    arms: Sequence[str],
    visits: Sequence[str],
    arm_column: str = "TRTP",
) -> Figure:
    """Each subject's observed values over the analysis visits, one panel per arm."""
    data = bds.filter(
        (pl.col("PARAMCD") == paramcd)
        & pl.col("DTYPE").is_null()
        & (pl.col("ANL01FL") == "Y")
        & pl.col("AVAL").is_not_null()
    )
    position = {v: i for i, v in enumerate(visits)}
    figure, axes = plt.subplots(
        1, len(arms), figsize=(3.4 * len(arms), 3.4), sharey=True, squeeze=False
    )
    for ax, arm in zip(axes[0], arms, strict=True):
        sub = data.filter(pl.col(arm_column) == arm)
        for (_,), one in sub.group_by(["USUBJID"], maintain_order=True):
            one = one.filter(pl.col("AVISIT").is_in(list(position))).sort("AVISITN")
            xs = [position[v] for v in one.get_column("AVISIT").to_list()]
            ax.plot(xs, one.get_column("AVAL").to_list(), color=_colour(arms, arm), alpha=0.45)
        ax.set_title(arm)
        ax.set_xticks(range(len(visits)), list(visits), rotation=45, ha="right")
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel(paramcd)
    return figure


def dose_response(
    curve: pl.DataFrame,
    points: pl.DataFrame,
    *,
    xlabel: str = "Dose",
    ylabel: str,
    title: str,
) -> Figure:
    """The fitted dose-response curve with its pointwise 95 % CI (``curve``: dose, fit,
    ci_lower, ci_upper) and the dose-group LS means with 95 % CIs (``points``: dose, lsmean, se),
    as ``atopic.trial.analyze.mcpmod.curve_from_ard`` returns them from the ARD."""
    figure, ax = plt.subplots(figsize=(6, 4))
    if curve.height:
        ax.plot(curve["dose"], curve["fit"], color=PALETTE[1], label="MCP-Mod fit (selected model)")
        ax.fill_between(
            curve["dose"], curve["ci_lower"], curve["ci_upper"], alpha=0.2, color=PALETTE[1]
        )
    if points.height:
        half = [1.959963984540054 * se for se in points["se"]]
        ax.errorbar(
            points["dose"],
            points["lsmean"],
            yerr=[half, half],
            fmt="o",
            color=PALETTE[0],
            capsize=3,
            label="LS mean by dose (95 % CI)",
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return figure


def forest(
    ard: pl.DataFrame,
    *,
    analysis: str,
    paramcd: str,
    group: str,
    comparator: str,
    xlabel: str,
    label: Callable[[str], str] = str,
) -> Figure:
    """Subgroup estimates with 95 % CIs (rows with SUBGROUP set; the overall row first)."""
    rows = ard.filter(
        (pl.col("ANALYSIS") == analysis)
        & (pl.col("PARAMCD") == paramcd)
        & (pl.col("GROUP") == group)
        & (pl.col("COMPARATOR") == comparator)
    ).with_columns(
        pl.col("SUBGROUP").fill_null("Overall"), pl.col("SUBGRPVAL").fill_null("all subjects")
    )
    wide = _wide(rows, ("estimate", "ci_lower", "ci_upper"), ("SUBGROUP", "SUBGRPVAL"))
    wide = wide.with_columns((pl.col("SUBGROUP") != "Overall").alias("_order")).sort(
        "_order", "SUBGROUP", "SUBGRPVAL"
    )
    labels = [f"{label(s)}: {v}" for s, v in zip(wide["SUBGROUP"], wide["SUBGRPVAL"], strict=True)]
    figure, ax = plt.subplots(figsize=(7, 0.45 * max(len(labels), 3) + 1))
    ys = list(range(len(labels)))[::-1]
    for y, est, lo, hi in zip(
        ys, wide["estimate"], wide["ci_lower"], wide["ci_upper"], strict=True
    ):
        if est is None:
            continue
        if lo is not None and hi is not None:
            ax.plot([lo, hi], [y, y], color=PALETTE[1])
        ax.plot([est], [y], "s", color=PALETTE[1])
    ax.axvline(0, color="#777777", linewidth=0.8)
    ax.set_yticks(ys, labels)
    ax.set_xlabel(xlabel)
    ax.set_title(f"{paramcd}: {group} vs {comparator} by subgroup")
    ax.grid(axis="x", alpha=0.3)
    return figure
