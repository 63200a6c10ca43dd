"""Assemble ``report.html``: sections of tables and figures made from the ARD.

A section appears only when the ARD holds its analysis, so a trial without doses has no
dose-response section and a report never shows an empty table. The HTML is self-contained: the
figures are inline SVG and the only stylesheet is in the page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import jinja2
import polars as pl

from atopic.trial import analyses as ids
from atopic.trial.analyze.mcpmod import curve_from_ard
from atopic.trial.analyze.safety import CATEGORIES
from atopic.trial.ard import ESTIMANDS
from atopic.trial.report import figures as fig
from atopic.trial.report import tables as tab

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@dataclass(frozen=True)
class Item:
    """One table, figure or note of a section (``html`` is trusted markup we made)."""

    kind: str
    html: str
    caption: str = ""


@dataclass
class Section:
    """A numbered report section."""

    id: str
    title: str
    intro: str = ""
    items: list[Item] = field(default_factory=list)


VARIABLES: dict[str, str] = {
    "AVAL": "value",
    "CHG": "change from baseline",
    "PCHG": "% change from baseline",
    "AGE": "Age (years)",
    "AGEGR1": "Age phase",
    "SEX": "Sex",
    "BLIGA": "Baseline vIGA-AD",
    "BLEASI": "Baseline EASI",
}
"""Captions of BDS variables and ADSL columns; strata take their design names."""


@dataclass(frozen=True)
class ReportContext:
    """What the report needs besides the ARD: names and orders from the design."""

    studyid: str
    title: str
    arms: Sequence[str]
    control: str
    visits: Sequence[str]
    primary_visit: str
    dose_unit: str
    labels: dict[str, str] = field(default_factory=dict)

    def label(self, paramcd: str) -> str:
        """The name of a parameter or variable for a caption (its code when none is known);
        ``"EASI:PCHG"`` reads "EASI total score (0-72), % change from baseline"."""
        if ":" in paramcd:
            param, variable = paramcd.split(":", 1)
            return f"{self.label(param)}, {VARIABLES.get(variable, variable)}"
        return self.labels.get(paramcd, VARIABLES.get(paramcd, paramcd))


def _of(ard: pl.DataFrame, analysis: str) -> pl.DataFrame:
    return ard.filter(pl.col("ANALYSIS") == analysis)


def disposition(ard: pl.DataFrame, ctx: ReportContext) -> Section | None:
    rows = _of(ard, ids.DISP).filter(pl.col("SUBGRPVAL") == "Y")
    if rows.is_empty():
        return None
    body = tab.arm_columns(
        rows,
        row_keys=("SUBGROUP",),
        row_label=lambda k: {
            "ITTFL": "Intent to treat",
            "FASFL": "Full analysis set",
            "SAFFL": "Safety",
            "PPROTFL": "Per protocol",
        }.get(k[0], k[0]),
        arms=[*ctx.arms, "Total"],
        cell=tab.n_pct,
    )
    html = tab.layout(
        body,
        table_id="disposition",
        title="Analysis populations",
        stub="",
        subtitle="n (%) of randomized subjects",
    )
    return Section(
        "disposition", "Disposition and analysis populations", items=[Item("table", html)]
    )


def demographics(ard: pl.DataFrame, ctx: ReportContext) -> Section | None:
    rows = _of(ard, ids.DEMOG)
    if rows.is_empty():
        return None
    continuous = rows.filter(pl.col("SUBGROUP").is_null())
    records: list[dict[str, str]] = []
    arms = [*ctx.arms, "Total"]
    grouped = tab.stats_by(continuous, ("PARAMCD", "GROUP"))
    for param in dict.fromkeys(continuous.get_column("PARAMCD").to_list()):
        for label, cell in (
            ("n", lambda s: tab.fmt_number(s.get("n"), 0)),
            ("Mean (SD)", tab.mean_sd),
            ("Median [min, max]", tab.median_range),
        ):
            records.append(
                {
                    "_group": ctx.label(param),
                    "": label,
                    **{a: cell(grouped.get((param, a), {})) for a in arms},
                }
            )
    categorical = rows.filter(pl.col("SUBGROUP").is_not_null())
    grouped = tab.stats_by(categorical, ("SUBGROUP", "SUBGRPVAL", "GROUP"))
    seen = dict.fromkeys((k[0], k[1]) for k in grouped)
    for variable, level in seen:
        records.append(
            {
                "_group": ctx.label(variable),
                "": level,
                **{a: tab.n_pct(grouped.get((variable, level, a), {})) for a in arms},
            }
        )
    body = pl.DataFrame(
        records, schema=dict.fromkeys(["_group", "", *arms], pl.String), orient="row"
    )
    html = tab.layout(
        body,
        table_id="demographics",
        title="Demographics and baseline characteristics",
        subtitle="Intent-to-treat population",
        stub="",
        groupname="_group",
    )
    return Section("demographics", "Demographics and baseline", items=[Item("table", html)])


def _responder_table(
    ard: pl.DataFrame, ctx: ReportContext, estimand: str, visit: str, title: str, table_id: str
) -> str | None:
    at = ard.filter(
        (pl.col("ESTIMAND") == estimand)
        & (pl.col("AVISIT") == visit)
        & pl.col("SUBGROUP").is_null()
    )
    rates = tab.stats_by(_of(at, ids.BIN_RATE), ("PARAMCD", "GROUP"))
    if not rates:
        return None
    cmh_rd = tab.stats_by(_of(at, ids.BIN_CMH_RD), ("PARAMCD", "GROUP"))
    cmh = tab.stats_by(_of(at, ids.BIN_CMH), ("PARAMCD", "GROUP"))
    newcombe = tab.stats_by(_of(at, ids.BIN_RD_NEWCOMBE), ("PARAMCD", "GROUP"))
    fisher = tab.stats_by(_of(at, ids.BIN_FISHER), ("PARAMCD", "GROUP"))
    records = []
    for criterion in dict.fromkeys(k[0] for k in rates):
        for arm in ctx.arms:
            key = (criterion, arm)
            vs = arm != ctx.control
            records.append(
                {
                    "_group": criterion,
                    "": arm,
                    "Responders n/N (%) [95 % CI]": tab.n_over_n_ci(rates.get(key, {})),
                    "CMH difference, % points (95 % CI)": tab.estimate_ci(100, 1)(
                        cmh_rd.get(key, {})
                    )
                    if vs
                    else "",
                    "CMH p": tab.p_value(cmh.get(key, {})) if vs else "",
                    "Newcombe difference (95 % CI)": tab.estimate_ci(100, 1)(newcombe.get(key, {}))
                    if vs
                    else "",
                    "Fisher exact p": tab.p_value(fisher.get(key, {})) if vs else "",
                }
            )
    return tab.layout(
        pl.DataFrame(records),
        table_id=table_id,
        title=title,
        subtitle=f"{visit}; estimand: {ESTIMANDS[estimand]}",
        stub="",
        groupname="_group",
        footnote=(
            "Rates with Wilson score CIs. CMH: risk difference with Cochran-Mantel-Haenszel "
            "weights (stratified Miettinen-Nurminen CI) and the CMH test, stratified by the "
            "randomization strata. Newcombe and Fisher: unstratified."
        ),
    )


def efficacy_binary(ard: pl.DataFrame, ctx: ReportContext) -> Section | None:
    items: list[Item] = []
    main = _responder_table(
        ard, ctx, "composite", ctx.primary_visit, "Responder endpoints", "responders"
    )
    if main is None:
        return None
    items.append(Item("table", main))
    for estimand, title in (
        ("observed", "Responder endpoints: observed cases (sensitivity)"),
        ("locf", "Responder endpoints: LOCF (sensitivity)"),
    ):
        html = _responder_table(
            ard, ctx, estimand, ctx.primary_visit, title, f"responders-{estimand}"
        )
        if html:
            items.append(Item("table", html))
    composite = ard.filter(pl.col("ESTIMAND") == "composite")
    criteria = list(dict.fromkeys(_of(composite, ids.BIN_RATE).get_column("PARAMCD").to_list()))
    for start in range(0, len(criteria), 3):
        chunk = criteria[start : start + 3]
        picture = fig.responder_rates(
            composite, analysis=ids.BIN_RATE, criteria=chunk, arms=ctx.arms, visits=ctx.visits[1:]
        )
        items.append(
            Item(
                "figure",
                fig.svg(picture),
                f"Responder rates (composite estimand) by arm and visit with Wilson 95 % CI: "
                f"{', '.join(chunk)}",
            )
        )
    trend = _of(ard, ids.TREND)
    if not trend.is_empty():
        grouped = tab.stats_by(trend, ("PARAMCD", "AVISIT"))
        body = pl.DataFrame(
            [
                {
                    "Endpoint": k[0],
                    "Visit": k[1],
                    "Z²": tab.fmt_number(s.get("statistic"), 3),
                    "p-value": tab.fmt_p(s.get("p_value")),
                }
                for k, s in grouped.items()
            ]
        )
        items.append(
            Item(
                "table",
                tab.layout(
                    body,
                    table_id="trend",
                    title="Trend over dose",
                    subtitle=ids.ANALYSES[ids.TREND],
                ),
            )
        )
    return Section("responders", "Efficacy: responder endpoints", items=items)


def _continuous_table(
    ard: pl.DataFrame,
    ctx: ReportContext,
    analysis: str,
    title: str,
    table_id: str,
    visit: str | None,
) -> str | None:
    rows = (
        _of(ard, analysis)
        if visit is None
        else _of(ard, analysis).filter(pl.col("AVISIT") == visit)
    )
    rows = rows.filter(pl.col("SUBGROUP").is_null() & pl.col("GROUP").is_not_null())
    if rows.is_empty():
        return None
    per_arm = tab.stats_by(
        rows.filter(pl.col("COMPARATOR").is_null()), ("PARAMCD", "AVISIT", "GROUP")
    )
    versus = tab.stats_by(
        rows.filter(pl.col("COMPARATOR").is_not_null()), ("PARAMCD", "AVISIT", "GROUP")
    )
    records = []
    for key in dict.fromkeys((k[0], k[1]) for k in per_arm):
        for arm in ctx.arms:
            diff = versus.get((*key, arm), {})
            records.append(
                {
                    "_group": f"{ctx.label(key[0])}, {key[1]}",
                    "": arm,
                    "LS mean (SE)": tab.lsmean_se(per_arm.get((*key, arm), {})),
                    "Difference vs control (95 % CI)": ""
                    if arm == ctx.control
                    else tab.estimate_ci()(diff),
                    "p-value": "" if arm == ctx.control else tab.p_value(diff),
                }
            )
    body = pl.DataFrame(records)
    return tab.layout(
        body,
        table_id=table_id,
        title=title,
        subtitle=ids.ANALYSES[analysis],
        stub="",
        groupname="_group",
    )


def efficacy_continuous(ard: pl.DataFrame, ctx: ReportContext) -> Section | None:
    items: list[Item] = []
    for analysis, title, visit in (
        (ids.ANCOVA, "ANCOVA at the primary visit", ctx.primary_visit),
        (ids.MMRM, "MMRM at the primary visit", ctx.primary_visit),
        (ids.MI, "Multiple imputation (MAR), Rubin's rules", ctx.primary_visit),
        (ids.ANCOVA_LOCF, "LOCF (sensitivity)", ctx.primary_visit),
    ):
        html = _continuous_table(ard, ctx, analysis, title, f"cont-{analysis.lower()}", visit)
        if html:
            items.append(Item("table", html))
    summ = _of(ard, ids.SUMM_PCHG)
    for paramcd in dict.fromkeys(summ.get_column("PARAMCD").to_list()):
        picture = fig.mean_over_time(
            ard,
            analysis=ids.SUMM_PCHG,
            paramcd=paramcd,
            arms=ctx.arms,
            visits=ctx.visits,
            ylabel="% change from baseline",
            title=f"Mean % change of {ctx.label(paramcd)} by arm",
        )
        items.append(
            Item(
                "figure",
                fig.svg(picture),
                f"Mean % change from baseline of {ctx.label(paramcd)} by arm and visit, 95 % CI (observed cases)",
            )
        )
    mmrm = _of(ard, ids.MMRM)
    for paramcd in dict.fromkeys(mmrm.get_column("PARAMCD").to_list()):
        picture = fig.mean_over_time(
            mmrm.filter(pl.col("COMPARATOR").is_null()),
            analysis=ids.MMRM,
            paramcd=paramcd,
            arms=ctx.arms,
            visits=ctx.visits[1:],
            estimate="lsmean",
            ylabel="LS mean change from baseline",
            title=f"MMRM: {ctx.label(paramcd)}",
        )
        items.append(
            Item(
                "figure",
                fig.svg(picture),
                f"MMRM LS mean change from baseline of {ctx.label(paramcd)} with 95 % CI",
            )
        )
    if not items:
        return None
    return Section("continuous", "Efficacy: continuous endpoints", items=items)


def dose_response(ard: pl.DataFrame, ctx: ReportContext) -> Section | None:
    rows = _of(ard, ids.MCPMOD)
    if rows.is_empty():
        return None
    items: list[Item] = []
    for (paramcd, visit), part in rows.group_by(["PARAMCD", "AVISIT"], maintain_order=True):
        whole = tab.stats_by(part.filter(pl.col("GROUP").is_null()), ("PARAMCD",))[(paramcd,)]
        selected = part.filter(pl.col("STAT") == "selected_model").get_column("VALUEC")
        tests = tab.stats_by(
            part.filter(pl.col("STAT").is_in(["statistic", "p_value"])), ("GROUP",)
        )
        body = pl.DataFrame(
            [
                {
                    "Candidate model": k[0],
                    "Contrast t": tab.fmt_number(s.get("statistic"), 3),
                    "Adjusted p (one-sided)": tab.fmt_p(s.get("p_value")),
                }
                for k, s in tests.items()
            ]
        )
        note = (
            f"Critical value {tab.fmt_number(whole.get('critical_value'), 3)} at one-sided "
            f"alpha {tab.fmt_number(whole.get('alpha'), 3)}; selected model (AIC): "
            f"{selected[0] if len(selected) else '–'}."
        )
        items.append(
            Item(
                "table",
                tab.layout(
                    body,
                    table_id=f"mcpmod-{paramcd}".lower().replace(":", "-"),
                    title=f"MCP-Mod: {ctx.label(paramcd)} at {visit}",
                    subtitle=ids.ANALYSES[ids.MCPMOD],
                    footnote=note,
                ),
            )
        )
        curve, points = curve_from_ard(ard, paramcd=str(paramcd), avisit=str(visit))
        picture = fig.dose_response(
            curve,
            points,
            xlabel=f"Dose ({ctx.dose_unit})",
            ylabel=ctx.label(str(paramcd)),
            title=f"Dose response of {ctx.label(str(paramcd))} at {visit}",
        )
        items.append(
            Item(
                "figure",
                fig.svg(picture),
                "MCP-Mod: fitted dose-response of the selected model with pointwise 95 % CI, and "
                "the dose-group LS means",
            )
        )
    return Section("dose-response", "Dose response", items=items)


def subgroups(ard: pl.DataFrame, ctx: ReportContext) -> Section | None:
    rows = _of(ard, ids.SUBGROUP)
    if rows.is_empty():
        return None
    items = []
    for paramcd in dict.fromkeys(rows.get_column("PARAMCD").to_list()):
        for arm in [a for a in ctx.arms if a != ctx.control]:
            picture = fig.forest(
                ard,
                analysis=ids.SUBGROUP,
                paramcd=paramcd,
                group=arm,
                comparator=ctx.control,
                xlabel="Risk difference vs control",
                label=ctx.label,
            )
            items.append(
                Item(
                    "figure",
                    fig.svg(picture),
                    f"{paramcd} at {ctx.primary_visit}: {arm} vs {ctx.control} by subgroup (95 % CI)",
                )
            )
    return Section("subgroups", "Subgroups", items=items)


def biomarkers(ard: pl.DataFrame, ctx: ReportContext) -> Section | None:
    rows = _of(ard, ids.GMR)
    if rows.is_empty():
        return None
    per_arm = tab.stats_by(rows, ("PARAMCD", "AVISIT", "GROUP"))
    versus = tab.stats_by(
        _of(ard, ids.GMR_ANCOVA).filter(pl.col("COMPARATOR").is_not_null()),
        ("PARAMCD", "AVISIT", "GROUP"),
    )
    records = []
    for key in dict.fromkeys((k[0], k[1]) for k in per_arm):
        for arm in ctx.arms:
            s = per_arm.get((*key, arm), {})
            vs = arm != ctx.control
            records.append(
                {
                    "_group": f"{ctx.label(key[0])}, {key[1]}",
                    "": arm,
                    "N": tab.fmt_number(s.get("N"), 0),
                    "GMR to baseline (95 % CI)": tab.estimate_ci()(
                        {
                            "estimate": s.get("gmr"),
                            "ci_lower": s.get("ci_lower"),
                            "ci_upper": s.get("ci_upper"),
                        }
                    ),
                    "Ratio vs control (95 % CI)": tab.estimate_ci()(versus.get((*key, arm), {}))
                    if vs
                    else "",
                    "p-value": tab.p_value(versus.get((*key, arm), {})) if vs else "",
                }
            )
    html = tab.layout(
        pl.DataFrame(records),
        table_id="biomarkers",
        title="Biomarkers: geometric mean ratio to baseline",
        subtitle=f"{ids.ANALYSES[ids.GMR]}; {ids.ANALYSES[ids.GMR_ANCOVA]}",
        stub="",
        groupname="_group",
    )
    return Section("biomarkers", "Biomarkers", items=[Item("table", html)])


def safety(ard: pl.DataFrame, ctx: ReportContext) -> Section | None:
    overview = _of(ard, ids.AE_OVERVIEW)
    if overview.is_empty():
        return None
    arms = list(dict.fromkeys(overview.get_column("GROUP").to_list()))

    def cell(s: dict[str, float | None]) -> str:
        return tab.n_pct(s) + ("" if s.get("events") is None else f" [{s['events']:.0f}]")

    body = tab.arm_columns(
        overview,
        row_keys=("PARAMCD",),
        row_label=lambda k: CATEGORIES.get(k[0], k[0]),
        arms=arms,
        cell=cell,
    )
    items = [
        Item(
            "table",
            tab.layout(
                body,
                table_id="ae-overview",
                title="Treatment-emergent adverse events",
                subtitle="Safety population, by actual treatment: subjects n (%) [events]",
                stub="",
                footnote="'–': not collected in this trial's tables.",
            ),
        )
    ]
    socpt = _of(ard, ids.AE_SOCPT)
    if not socpt.is_empty():
        body = tab.arm_columns(
            socpt,
            row_keys=("SUBGROUP", "SUBGRPVAL"),
            row_label=lambda k: k[1] if k[0] == "AEBODSYS" else "    " + k[1].split(" / ", 1)[1],
            arms=arms,
            cell=tab.n_pct,
        )
        items.append(
            Item(
                "table",
                tab.layout(
                    body,
                    table_id="ae-socpt",
                    title="TEAEs by system organ class and preferred term",
                    subtitle="Safety population: subjects n (%)",
                    stub="",
                ),
            )
        )
    return Section("safety", "Safety", items=items)


def subject_figures(
    bds: pl.DataFrame | None, ctx: ReportContext, paramcd: str = "EASI"
) -> Section | None:
    if bds is None or bds.filter(pl.col("PARAMCD") == paramcd).is_empty():
        return None
    items = [
        Item(
            "figure",
            fig.svg(fig.waterfall(bds, paramcd=paramcd, arms=ctx.arms)),
            f"Waterfall: each subject's best % change of {ctx.label(paramcd)} after baseline",
        ),
        Item(
            "figure",
            fig.svg(fig.spaghetti(bds, paramcd=paramcd, arms=ctx.arms, visits=ctx.visits)),
            f"{ctx.label(paramcd)} over time, one line per subject, by arm",
        ),
    ]
    return Section("subjects", "Individual subjects", items=items)


SECTIONS: tuple[Callable[[pl.DataFrame, ReportContext], Section | None], ...] = (
    disposition,
    demographics,
    efficacy_binary,
    efficacy_continuous,
    dose_response,
    subgroups,
    biomarkers,
    safety,
)


def render_report(ard: pl.DataFrame, ctx: ReportContext, bds: pl.DataFrame | None = None) -> str:
    """The whole report as one self-contained HTML page."""
    sections = [s for build in SECTIONS if (s := build(ard, ctx)) is not None]
    if (subjects := subject_figures(bds, ctx)) is not None:
        sections.append(subjects)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    return env.get_template("report.html").render(
        studyid=ctx.studyid,
        title=ctx.title,
        arms=list(ctx.arms),
        control=ctx.control,
        visits=list(ctx.visits),
        sections=sections,
        version=version("atopic"),
    )
