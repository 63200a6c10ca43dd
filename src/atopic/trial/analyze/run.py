"""Run every analysis a design asks for, over ADSL, BDS and ADAE, into one ARD.

What is analysed, and how (decided here, once)
    * Populations: efficacy on ITTFL = "Y" (or the endpoint's population flag) by planned arm
      (TRT01P); safety on SAFFL = "Y" by actual arm (TRT01A).
    * Responder endpoints, primary estimand (ESTIMAND "composite"): the ANL01FL records, where an
      intercurrent event handled by the composite strategy or a missing visit is a non-responder
      (DTYPE NRI, made by ``trial.derive``). Subjects not eligible for a criterion (CRITyFL null,
      e.g. baseline itch < 4 for PP-NRS4) are not evaluated: the ARD's N says how many were.
      Methods: Wilson rate per arm; CMH test and CMH-weighted risk difference (stratified MN CI)
      by the randomization strata; unstratified Newcombe and MN intervals and Fisher's exact test.
      Sensitivity: observed cases (ANL03FL, ESTIMAND "observed") and LOCF (ANL02FL, "locf").
      Rates by every post-baseline visit feed the responder figure.
    * Trend: Cochran-Armitage over the arms' doses for each responder endpoint at its visit.
    * Continuous endpoints: ANCOVA at the endpoint's visit on arm + BASE + strata over the
      observed ANL01FL values ("observed"; values after a composite intercurrent event are
      missing); multiple imputation under MAR by arm, ANCOVA per imputation, Rubin's rules
      ("mar"); ANCOVA after LOCF ("locf", sensitivity only); MMRM of the variable over all
      post-baseline visits ("mar").
    * Dose response: MCP-Mod on the first continuous primary or secondary endpoint (by design
      order) when the design has at least three doses plus placebo.
    * Subgroups: unstratified Newcombe risk difference of each primary responder endpoint within
      age phase, sex, each stratification factor and baseline IGA.
    * Biomarkers: geometric mean ratio to baseline (IGE, EOS) at every post-baseline visit.
    * Safety: TEAE overview and incidence by SOC and preferred term.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import polars as pl

from atopic.errors import InvalidInput
from atopic.trial import analyses as ids
from atopic.trial.analyze import descriptive, safety
from atopic.trial.analyze.ancova import ancova
from atopic.trial.analyze.binary import responder_analysis
from atopic.trial.analyze.biomarkers import geometric_mean_ratio
from atopic.trial.analyze.imputation import impute_mar, mi_ancova
from atopic.trial.analyze.mcpmod import mcpmod
from atopic.trial.analyze.mmrm import MMRM
from atopic.trial.analyze.trend import trend_test
from atopic.trial.ard import COLUMNS, ArdRow, to_frame, with_estimand
from atopic.trial.derive.criteria import numbered
from atopic.trial.design import Design, Endpoint

SUBJECT = "analysis"
BIOMARKERS: tuple[str, ...] = ("IGE", "EOS")
SUBGROUPS: tuple[str, ...] = ("AGEGR1", "SEX")
SUBJECT_COLUMNS: tuple[str, ...] = ("USUBJID", "TRT01P", "AGEGR1", "SEX", "BLIGA")


@dataclass(frozen=True)
class Options:
    """Settings of a run: MI imputations and seed, confidence level, MMRM covariance."""

    mi_imputations: int = 20
    seed: int = 20261130
    conf_level: float = 0.95
    mmrm_cov: str = "us"
    mmrm_df: str = "kenward-roger"
    mcpmod_models: dict[str, object] | None = None
    """Candidate models with guesstimates; None: ``default_candidates(max dose)``."""
    endpoints: tuple[str, ...] | None = None
    """Only these endpoint ids (responder and continuous analyses); None: every endpoint."""
    descriptive: bool = True
    """Disposition, demographics and observed summaries by visit."""
    safety: bool = True
    biomarkers: bool = True
    all_visits: bool = True
    """Responder rates at every post-baseline visit (False: only at the endpoint's visit)."""
    sensitivity: bool = True
    """Observed-case and LOCF responder analyses, ANCOVA after LOCF, trend test, subgroups."""
    mi: bool = True
    mmrm: bool = True
    dose_response: bool = True
    """MCP-Mod. A virtual trial (``atopic.simulate.trials``) turns off what it does not need."""


def default_candidates(max_dose: float) -> dict[str, object]:
    """The default MCP-Mod candidate set (Pinheiro et al. 2014, Stat Med 33:1646, section 4):
    linear; Emax with ED50 at 10 % and 30 % of the top dose; sigmoid Emax with ED50 at 50 % and
    Hill 3; exponential with delta at 50 % of the top dose (convex); quadratic peaking beyond the
    top dose (at 1.5 times it). Guesstimates in the design's dose unit."""
    return {
        "linear": None,
        "emax": [0.1 * max_dose, 0.3 * max_dose],
        "sigEmax": (0.5 * max_dose, 3.0),
        "exponential": 0.5 * max_dose,
        "quadratic": -1.0 / (2 * 1.5 * max_dose),
    }


def arm_labels(design: Design) -> list[str]:
    """TRT01P values in design order (the arms' labels)."""
    return [arm.label for arm in design.arms]


def strata_columns(design: Design) -> list[str]:
    """The ADSL STRATwR columns of the design's stratification factors."""
    return [s.variable for s in design.randomization.strata]


def _subjects(adsl: pl.DataFrame, design: Design, population: str) -> pl.DataFrame:
    descriptive.require_columns(adsl, "ADSL", (population, *SUBJECT_COLUMNS))
    keep = list(dict.fromkeys([*SUBJECT_COLUMNS, *strata_columns(design)]))
    return adsl.filter(pl.col(population) == "Y").select(keep)


def _records(
    bds: pl.DataFrame,
    subjects: pl.DataFrame,
    paramcd: str,
    flag: str,
    visits: Sequence[str] | None = None,
) -> pl.DataFrame:
    """The ``flag`` = "Y" BDS records of a parameter for the population's subjects, with their
    subject-level columns (arm, strata, subgroups) from ADSL."""
    part = bds.filter((pl.col("PARAMCD") == paramcd) & (pl.col(flag) == "Y"))
    if visits is not None:
        part = part.filter(pl.col("AVISIT").is_in(list(visits)))
    subject_level = [c for c in subjects.columns if c != "USUBJID"]
    return part.drop([c for c in subject_level if c in part.columns]).join(
        subjects, on="USUBJID", how="inner"
    )


def _crit_column(design: Design, paramcd: str, criterion: str) -> str:
    for y, c in numbered(design.criteria_for(paramcd)):
        if c.name == criterion:
            return f"CRIT{y}FL"
    raise InvalidInput(
        "design", f"criterion of {paramcd}", criterion, "a criterion declared for the parameter"
    )


def _evaluated(records: pl.DataFrame, column: str) -> pl.DataFrame:
    """Records whose criterion could be evaluated (null CRITyFL = not eligible)."""
    return records.filter(pl.col(column).is_not_null())


def _tag(ard_rows: list[ArdRow], analysis: str | None = None, **keys: str) -> list[ArdRow]:
    return [replace(r, **({"ANALYSIS": analysis} if analysis else {}), **keys) for r in ard_rows]


def _selected(design: Design, opts: Options, kind: str) -> list[Endpoint]:
    """The design's endpoints of ``kind`` that the options select, in design order."""
    chosen = opts.endpoints
    if chosen is not None:
        ids_ = [e.id for e in design.endpoints]
        for ident in chosen:
            if ident not in ids_:
                raise InvalidInput(SUBJECT, "endpoints", ident, "one of " + ", ".join(ids_))
    return [e for e in design.endpoints if e.kind == kind and (chosen is None or e.id in chosen)]


def responders(
    adsl: pl.DataFrame, bds: pl.DataFrame, design: Design, opts: Options
) -> list[ArdRow]:
    """Responder endpoints: primary estimand at every visit, sensitivities at the endpoint's
    visit, trend over dose and subgroups (module docstring)."""
    out: list[ArdRow] = []
    arms = arm_labels(design)
    control = design.control.label
    strata = strata_columns(design)
    doses = {arm.label: arm.dose for arm in design.arms}
    for endpoint in _selected(design, opts, "responder"):
        subjects = _subjects(adsl, design, endpoint.population)
        column = _crit_column(design, endpoint.paramcd, endpoint.criterion or "")
        name = endpoint.criterion or endpoint.id
        visits = [v.avisit for v in design.post_baseline]
        if not opts.all_visits:
            visits = [endpoint.avisit or visits[-1]]
        for visit in visits:
            data = _evaluated(_records(bds, subjects, endpoint.paramcd, "ANL01FL", [visit]), column)
            if data.is_empty():
                continue
            result = responder_analysis(
                data,
                control=control,
                response=column,
                strata=strata,
                order=arms,
                conf_level=opts.conf_level,
            )
            out += with_estimand(result.ard(name, visit), "composite")
        visit = endpoint.avisit or visits[-1]
        if not opts.sensitivity:
            continue
        for flag, estimand in (("ANL03FL", "observed"), ("ANL02FL", "locf")):
            data = _evaluated(_records(bds, subjects, endpoint.paramcd, flag, [visit]), column)
            if not data.is_empty():
                result = responder_analysis(
                    data,
                    control=control,
                    response=column,
                    strata=strata,
                    order=arms,
                    conf_level=opts.conf_level,
                )
                out += with_estimand(result.ard(name, visit), estimand)
        primary = _evaluated(_records(bds, subjects, endpoint.paramcd, "ANL01FL", [visit]), column)
        if len({doses[a] for a in arms}) >= 2 and not primary.is_empty():
            trend = trend_test(primary, scores=doses, response=column)
            out += with_estimand(trend.ard(name, visit), "composite")
        if endpoint.role == "primary" and not primary.is_empty():
            out += subgroups(primary, design, name, visit, column, opts)
    return out


def subgroups(
    data: pl.DataFrame, design: Design, name: str, visit: str, column: str, opts: Options
) -> list[ArdRow]:
    """Unstratified Newcombe risk difference vs control within each subgroup level, plus the
    overall row (ANALYSIS SUBGROUP-RD)."""
    arms = arm_labels(design)
    control = design.control.label
    out: list[ArdRow] = []
    overall = responder_analysis(data, control=control, response=column, order=arms)
    out += _tag(
        [r for r in overall.ard(name, visit) if r.ANALYSIS == "BIN-RD-NEWCOMBE"], ids.SUBGROUP
    )
    variables = [*SUBGROUPS, *strata_columns(design), "BLIGA"]
    for variable in variables:
        if variable not in data.columns:
            continue
        values = data.get_column(variable)
        # Whole numbers (baseline IGA 3.0) read as levels: "3", not "3.0".
        if values.dtype.is_float() and (values.drop_nulls() % 1 == 0).all():
            values = values.cast(pl.Int64)
        levels = values.cast(pl.String)
        for level in sorted(set(levels.drop_nulls().to_list())):
            part = data.filter(levels == level)
            present = set(part.get_column("TRT01P").to_list())
            if control not in present or len(present) < 2:
                continue
            result = responder_analysis(
                part, control=control, response=column, order=arms, conf_level=opts.conf_level
            )
            kept = [r for r in result.ard(name, visit) if r.ANALYSIS == "BIN-RD-NEWCOMBE"]
            out += _tag(kept, ids.SUBGROUP, SUBGROUP=variable, SUBGRPVAL=level)
    return with_estimand(out, "composite")


def continuous(
    adsl: pl.DataFrame, bds: pl.DataFrame, design: Design, opts: Options
) -> list[ArdRow]:
    """Continuous endpoints: ANCOVA (observed), MI-ANCOVA (MAR), ANCOVA after LOCF."""
    out: list[ArdRow] = []
    arms = arm_labels(design)
    control = design.control.label
    strata = strata_columns(design)
    post = [v.avisit for v in design.post_baseline]
    for endpoint in _selected(design, opts, "continuous"):
        subjects = _subjects(adsl, design, endpoint.population)
        variable = endpoint.variable or "CHG"
        visit = endpoint.avisit or post[-1]
        for flag, analysis, estimand in (
            ("ANL01FL", ids.ANCOVA, "observed"),
            ("ANL02FL", ids.ANCOVA_LOCF, "locf"),
        )[: 2 if opts.sensitivity else 1]:
            fit = ancova(
                _records(bds, subjects, endpoint.paramcd, flag, [visit]),
                control=control,
                response=variable,
                strata=strata,
                order=arms,
                conf_level=opts.conf_level,
            )
            out += with_estimand(fit.ard(_param(endpoint), visit, analysis=analysis), estimand)
        if not opts.mi:
            continue
        # NRI rows (responder criteria of the same parameter) hold no value: for a continuous
        # analysis they are absent visits, which is what PHANTOM says.
        records = _records(bds, subjects, endpoint.paramcd, "ANL01FL", post).with_columns(
            pl.when(pl.col("DTYPE") == "NRI")
            .then(pl.lit("PHANTOM"))
            .otherwise(pl.col("DTYPE"))
            .alias("DTYPE")
        )
        completed = impute_mar(
            records,
            visits=post,
            m=opts.mi_imputations,
            seed=opts.seed,
            strata=strata,
        )
        pooled = mi_ancova(
            completed.filter(pl.col("AVISIT") == visit),
            control=control,
            response=variable,
            strata=strata,
            conf_level=opts.conf_level,
        )
        out += with_estimand(pooled.ard(_param(endpoint), visit), "mar")
    return out


def _param(endpoint: Endpoint) -> str:
    """The ARD PARAMCD of a continuous endpoint: the parameter and its variable (``EASI:PCHG``)."""
    return f"{endpoint.paramcd}:{endpoint.variable or 'CHG'}"


def mmrm(adsl: pl.DataFrame, bds: pl.DataFrame, design: Design, opts: Options) -> pl.DataFrame:
    """MMRM of each continuous endpoint's variable over every post-baseline visit: arm*visit +
    BASE*visit + strata, REML, the options' covariance (unstructured by default, with the
    fallback order of reference/trials.md) and Kenward-Roger df; ESTIMAND "mar"."""
    frames = []
    post = [v.avisit for v in design.post_baseline]
    seen: set[str] = set()
    for endpoint in _selected(design, opts, "continuous"):
        if _param(endpoint) in seen:
            continue
        seen.add(_param(endpoint))
        subjects = _subjects(adsl, design, endpoint.population)
        data = _records(bds, subjects, endpoint.paramcd, "ANL01FL", post).filter(
            pl.col(endpoint.variable or "CHG").is_not_null()
        )
        fit = MMRM(cov=opts.mmrm_cov, df=opts.mmrm_df, conf_level=opts.conf_level).fit(
            data,
            response=endpoint.variable or "CHG",
            subject="USUBJID",
            visit="AVISIT",
            group="TRT01P",
            covariates=("BASE",),
            visit_interactions=("BASE",),
            strata=tuple(strata_columns(design)),
            reference=design.control.label,
        )
        frames.append(fit.ard(_param(endpoint), analysis=ids.MMRM))
    return pl.concat(frames, how="vertical_relaxed") if frames else to_frame([])


def dose_response(
    adsl: pl.DataFrame, bds: pl.DataFrame, design: Design, opts: Options
) -> pl.DataFrame | None:
    """MCP-Mod on the first continuous endpoint (design order), observed values at its visit,
    adjusted for BASE and the strata; None when the design has fewer than 3 doses plus placebo
    (MCP-Mod's minimum, reference/trials.md)."""
    doses = sorted({arm.dose for arm in design.arms})
    endpoint = next(iter(_selected(design, opts, "continuous")), None)
    if endpoint is None or len(doses) < 4 or doses[0] != 0:
        return None
    subjects = _subjects(adsl, design, endpoint.population)
    visit = endpoint.avisit or design.post_baseline[-1].avisit
    by_label = {arm.label: arm.dose for arm in design.arms}
    data = _records(bds, subjects, endpoint.paramcd, "ANL01FL", [visit]).with_columns(
        pl.col("TRT01P").replace_strict(by_label, return_dtype=pl.Float64).alias("DOSE")
    )
    result = mcpmod(
        data,
        models=opts.mcpmod_models or default_candidates(doses[-1]),
        response=endpoint.variable or "CHG",
        covariates=("BASE", *strata_columns(design)),
        direction="decreasing",
        level=opts.conf_level,
        seed=opts.seed,
    )
    return result.ard(
        paramcd=_param(endpoint), avisit=visit, analysis=ids.MCPMOD, estimand="observed"
    )


def biomarkers(
    adsl: pl.DataFrame, bds: pl.DataFrame, design: Design, opts: Options
) -> list[ArdRow]:
    """Geometric mean ratio to baseline of IGE and EOS by arm at every post-baseline visit."""
    out: list[ArdRow] = []
    subjects = _subjects(adsl, design, "ITTFL")
    for paramcd in BIOMARKERS:
        for visit in (v.avisit for v in design.post_baseline):
            data = _records(bds, subjects, paramcd, "ANL01FL", [visit]).filter(
                pl.col("AVAL").is_not_null() & pl.col("BASE").is_not_null()
            )
            if data.is_empty():
                continue
            result = geometric_mean_ratio(
                data,
                control=design.control.label,
                group="TRT01P",
                order=arm_labels(design),
                conf_level=opts.conf_level,
                nonpositive="reject",
            )
            out += with_estimand(result.ard(paramcd, visit), "observed")
    return out


def summaries(adsl: pl.DataFrame, bds: pl.DataFrame, design: Design) -> list[ArdRow]:
    """Disposition, demographics and baseline, observed summaries by visit."""
    arms = arm_labels(design)
    out: list[ArdRow] = []
    randomized = adsl.filter(pl.col("ITTFL") == "Y")
    for flag in ("ITTFL", "FASFL", "SAFFL", "PPROTFL"):
        if flag in adsl.columns:
            out += descriptive.summarise_categorical(
                randomized, flag, analysis=ids.DISP, order=arms, levels=("Y", "N")
            )
    for variable in ("AGE", "BLEASI", "BLIGA"):
        if variable in adsl.columns:
            out += descriptive.summarise_continuous(
                randomized, variable, analysis=ids.DEMOG, order=arms
            )
    for variable in ("SEX", "AGEGR1", *strata_columns(design)):
        if variable in adsl.columns:
            out += descriptive.summarise_categorical(
                randomized, variable, analysis=ids.DEMOG, order=arms
            )
    itt = bds.join(randomized.select("USUBJID"), on="USUBJID", how="semi")
    for paramcd in itt.get_column("PARAMCD").unique().sort().to_list():
        for variable, analysis in (
            ("AVAL", ids.SUMM_AVAL),
            ("CHG", ids.SUMM_CHG),
            ("PCHG", ids.SUMM_PCHG),
        ):
            out += descriptive.summarise_by_visit(
                itt, paramcd, variable, analysis=analysis, by="TRTP", order=arms
            )
    return out


def analyze(
    adsl: pl.DataFrame,
    bds: pl.DataFrame,
    adae: pl.DataFrame,
    design: Design,
    opts: Options | None = None,
) -> pl.DataFrame:
    """Every analysis of the design, as one ARD frame (``atopic.trial.ard.COLUMNS``)."""
    opts = opts or Options()
    arms = arm_labels(design)
    out: list[ArdRow] = []
    if opts.descriptive:
        out += summaries(adsl, bds, design)
    out += responders(adsl, bds, design, opts)
    out += continuous(adsl, bds, design, opts)
    if opts.biomarkers:
        out += biomarkers(adsl, bds, design, opts)
    if opts.safety:
        out += safety.teae_overview(adsl, adae, order=arms)
        out += safety.teae_by_soc_pt(adsl, adae, order=arms)
    frames = [to_frame(out)]
    if opts.mmrm:
        frames.append(mmrm(adsl, bds, design, opts).select(COLUMNS))
    if opts.dose_response and (mcp := dose_response(adsl, bds, design, opts)) is not None:
        frames.append(mcp.select(COLUMNS))
    return pl.concat(frames, how="vertical_relaxed")
