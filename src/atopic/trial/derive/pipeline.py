"""The derivations put together: collected tables -> ADSL, BDS, ADAE and the rejects.

Each table is a chain of the small ``derive_*`` functions of this package, run lazily (Polars
LazyFrame by default; DuckDB relations stay in DuckDB). The rejects table lists every collected
row or derived record that could not be used, with the reason; nothing is dropped silently.

BDS analysis flags (one record per subject x parameter x analysis visit each)
    ANL01FL  primary: the design's strategy for each intercurrent event (composite: records after
             the event are set missing), NRI for responder criteria; imputed rows DTYPE NRI.
    ANL02FL  LOCF sensitivity: as ANL01FL before NRI, with missing visits carried forward
             (DTYPE LOCF).
    ANL03FL  observed, treatment policy for every intercurrent event (no imputation; PHANTOM
             rows where nothing was observed).
Observed-case summaries use ANL01FL = "Y" and DTYPE null.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import narwhals as nw
import polars as pl

from atopic.errors import Described, InvalidInput
from atopic.tables.checkpoints import checkpoint
from atopic.trial.derive._frames import (
    as_narwhals,
    rejects,
    require,
    stack_rejects,
    study_day,
    text,
    to_date,
)
from atopic.trial.derive.adae import ADAE_ORDER, derive_var_aoccfl, derive_var_trtemfl, prepare_adae
from atopic.trial.derive.adsl import (
    ADSL_ORDER,
    derive_var_age,
    derive_var_agegr1,
    derive_var_fasfl,
    derive_var_ittfl,
    derive_var_pprotfl,
    derive_var_saffl,
    derive_vars_blsev,
    derive_vars_strata,
    derive_vars_trta,
    derive_vars_trtdt,
    derive_vars_trtp,
    stratum_value,
)
from atopic.trial.derive.baseline import (
    derive_var_ablfl,
    derive_var_base,
    derive_var_chg,
    derive_var_pchg,
    split_same_date,
)
from atopic.trial.derive.criteria import crit_count, derive_vars_crit
from atopic.trial.derive.ice import compute_ice, derive_var_icefl
from atopic.trial.derive.impute import derive_param_locf, derive_param_nri
from atopic.trial.derive.params import derive_params_observed
from atopic.trial.derive.select import derive_param_phantom, derive_var_anlfl
from atopic.trial.derive.windows import derive_vars_avisit
from atopic.trial.design import Design

ANALYSIS_FLAGS: tuple[str, ...] = ("ANL01FL", "ANL02FL", "ANL03FL")


def _table(tables: Mapping[str, Any], name: str) -> Any:
    if name not in tables:
        raise InvalidInput(
            "tables",
            name,
            Described("no such table"),
            f"a collected table {name} (given: {', '.join(tables)})",
        )
    return as_narwhals(tables[name])[0].lazy()


def _core(tables: Mapping[str, Any], design: Design) -> tuple[Any, pl.DataFrame]:
    dm = _table(tables, "DM")
    ex = _table(tables, "EX")
    require(dm, "DM", ("STUDYID", "USUBJID", "SITEID", "SEX"), "for ADSL")
    require(ex, "EX", ("USUBJID", "EXTRT", "EXDOSE", "EXSTDTC"), "for ADSL")
    core = derive_var_ittfl(dm)
    core = derive_vars_trtp(core, design.arms)
    core = derive_vars_trtdt(core, ex)
    core = derive_var_saffl(core)
    core = derive_var_fasfl(core)
    core = derive_vars_trta(core, ex, design.arms)
    core = derive_var_age(core)
    core = checkpoint(derive_var_agegr1(core))
    refused = [
        rejects(
            ex.filter(to_date("EXSTDTC").is_null()),
            "EX",
            nw.concat_str(
                [
                    text("EX EXSTDTC must be a complete date; got "),
                    nw.col("EXSTDTC").cast(nw.String).fill_null("nothing"),
                ]
            ),
            dtc="EXSTDTC",
        ),
        rejects(
            core.filter((nw.col("SAFFL") == "Y") & nw.col("TRT01AN").is_null()),
            "EX",
            text(
                "ADSL TRT01A must be the one arm whose product, dose and unit match every EX "
                "record of the subject; got none (EXTRT/EXDOSE/EXDOSU match no single arm)"
            ),
        ),
        rejects(
            core.filter(nw.col("AGE").is_null()),
            "DM",
            text("ADSL AGE must be known (DM AGE, or BRTHDTC and a first dose); got nothing"),
        ),
    ]
    return core, stack_rejects(refused)


def _observed(tables: Mapping[str, Any], design: Design, subjects: Any) -> tuple[Any, pl.DataFrame]:
    """Observed records with ADT, ADY, windows, ABLFL, BASE, CHG and PCHG; and their rejects."""
    sources = {name: tables[name] for name in ("QS", "LB") if name in tables}
    context = subjects.select("USUBJID", "AGE")
    records, refused = derive_params_observed(sources, context)
    records = checkpoint(records)
    marker = subjects.select("USUBJID", "TRTSDT", nw.lit(True).alias("__in_adsl"))
    recs = records.join(marker, on="USUBJID", how="left").with_columns(to_date("ADTC").alias("ADT"))
    recs = recs.with_columns(study_day("ADT", "TRTSDT").alias("ADY"))
    recs = derive_vars_avisit(recs, design.visits)
    why = (
        nw.when(nw.col("__in_adsl").is_null())
        .then(text("BDS USUBJID must be a subject of DM; got a subject DM does not list"))
        .when(nw.col("ADT").is_null())
        .then(
            nw.concat_str(
                [
                    text("BDS ADT must be a complete date; got "),
                    nw.col("ADTC").cast(nw.String).fill_null("nothing"),
                ]
            )
        )
        .when(nw.col("TRTSDT").is_null())
        .then(text("BDS ADY must count from the first dose; got a subject never dosed (no TRTSDT)"))
        .when(nw.col("AVISIT").is_null())
        .then(
            nw.concat_str(
                [
                    text("BDS ADY must be in an analysis window of the design; got day "),
                    nw.col("ADY").cast(nw.String),
                ]
            )
        )
        .otherwise(text(None))
    )
    recs = checkpoint(recs.with_columns(why.alias("__why")))
    bad = rejects(
        recs.filter(~nw.col("__why").is_null()),
        "BDS",
        nw.col("__why"),
        paramcd="PARAMCD",
        dtc="ADTC",
    )
    recs = recs.filter(nw.col("__why").is_null()).drop("__why", "__in_adsl", "TRTSDT")
    recs = derive_var_ablfl(recs, design.baseline_visit)
    recs, doubled, reason = split_same_date(recs, design.baseline_visit)
    twice = rejects(doubled, "BDS", reason, paramcd="PARAMCD", dtc="ADTC")
    recs = checkpoint(derive_var_pchg(derive_var_chg(derive_var_base(recs))))
    return recs, stack_rejects([refused, bad, twice])


def _baseline(records: Any) -> Any:
    return records.filter(nw.col("ABLFL") == "Y").select(
        "USUBJID", "PARAMCD", nw.col("AVAL").alias("BASE")
    )


def _finish_adsl(
    core: Any, records: Any, tables: Mapping[str, Any], design: Design
) -> tuple[Any, pl.DataFrame]:
    base = _baseline(records)
    adsl = derive_vars_strata(core, base, design.randomization.strata)
    adsl = derive_vars_blsev(adsl, base)
    adsl = derive_var_pprotfl(adsl, records, _table(tables, "EX"), design)
    refused = []
    for stratum in design.randomization.strata:
        value = nw.col(stratum_value(stratum)).cast(nw.String).fill_null("nothing")
        what = {
            "baseline": f"baseline {stratum.paramcd}",
            "dm": f"DM {stratum.column}",
            "age_phase": "AGEGR1",
        }[stratum.source]
        refused.append(
            rejects(
                adsl.filter(nw.col(stratum.variable).is_null()),
                "ADSL",
                nw.concat_str(
                    [
                        text(
                            f"ADSL {stratum.variable} (stratum {stratum.name}, from {what}) must be "
                            f"one of {', '.join(stratum.levels)}; got "
                        ),
                        value,
                    ]
                ),
            )
        )
    strata = [s.variable for s in design.randomization.strata]
    adsl = checkpoint(adsl.select(*ADSL_ORDER, *strata, "BLIGA", "BLEASI").sort("USUBJID"))
    return adsl, stack_rejects(refused)


def _finish_bds(
    records: Any, tables: Mapping[str, Any], design: Design, adsl: Any
) -> tuple[Any, pl.DataFrame]:
    events, refused = compute_ice(tables, design)
    recs = derive_var_icefl(records, events).with_columns(text(None).alias("DTYPE"))
    recs = derive_var_anlfl(recs, design.baseline_visit, "ANL01FL", exclude="ICEFL")
    recs = derive_var_anlfl(recs, design.baseline_visit, "ANL03FL")
    itt = adsl.filter(nw.col("ITTFL") == "Y").select("STUDYID", "USUBJID")
    recs = checkpoint(recs)
    bds = derive_param_phantom(recs, itt, design.visits, flags=("ANL01FL", "ANL03FL"))
    bds = derive_var_pchg(derive_var_chg(derive_var_base(bds)))
    bds = checkpoint(derive_vars_crit(bds, design.criteria))
    bds = derive_param_locf(bds, design.criteria, "ANL02FL")
    bds = derive_param_nri(bds, design.criteria, design.baseline_visit)
    treatment = adsl.select(
        "USUBJID",
        nw.col("TRT01P").alias("TRTP"),
        nw.col("TRT01PN").alias("TRTPN"),
        nw.col("TRT01A").alias("TRTA"),
        nw.col("TRT01AN").alias("TRTAN"),
    )
    bds = bds.join(treatment, on="USUBJID", how="left")
    crit = [
        c for y in range(1, crit_count(design.criteria) + 1) for c in (f"CRIT{y}", f"CRIT{y}FL")
    ]
    order = [
        "STUDYID",
        "USUBJID",
        "TRTP",
        "TRTPN",
        "TRTA",
        "TRTAN",
        "PARAMCD",
        "PARAM",
        "PARAMN",
        "AVISIT",
        "AVISITN",
        "ADT",
        "ADY",
        "AWLO",
        "AWHI",
        "AWTARGET",
        "AVAL",
        "BASE",
        "ABLFL",
        "CHG",
        "PCHG",
    ]
    tail = ["DTYPE", *ANALYSIS_FLAGS, "ICE", "ICEFL"]
    dtype_rank = (
        nw.when(nw.col("DTYPE").is_null())
        .then(0)
        .when(nw.col("DTYPE") == "PHANTOM")
        .then(1)
        .when(nw.col("DTYPE") == "LOCF")
        .then(2)
        .otherwise(3)
    )
    bds = (
        bds.with_columns(dtype_rank.alias("__rank"))
        .sort("USUBJID", "PARAMN", "AVISITN", "__rank", "ADY", nulls_last=True)
        .select(*order, *crit, *tail)
    )
    return bds, refused


def _finish_adae(ae: Any, design: Design, adsl: Any) -> tuple[Any, pl.DataFrame]:
    prepared = prepare_adae(ae, adsl)
    coded = nw.col("AEDECOD").is_null() | (
        nw.col("AEDECOD").cast(nw.String).str.strip_chars() == ""
    )
    if "AEDECOD" not in prepared.collect_schema().names():
        prepared = prepared.with_columns(text(None).alias("AEDECOD"))
    why = (
        nw.when(~nw.col("__in_adsl"))
        .then(text("ADAE USUBJID must be a subject of DM; got a subject DM does not list"))
        .when(coded)
        .then(text("ADAE AEDECOD must be a coded preferred term (MedDRA); got nothing"))
        .otherwise(text(None))
    )
    marked = checkpoint(prepared.with_columns(why.alias("__why")))
    refused = rejects(
        marked.filter(~nw.col("__why").is_null()), "AE", nw.col("__why"), dtc="AESTDTC"
    )
    adae = marked.filter(nw.col("__why").is_null()).drop("__why", "__in_adsl")
    adae = derive_var_trtemfl(adae, design.teae_window_days)
    adae = derive_var_aoccfl(adae, ["USUBJID"], "AOCCFL")
    if "AEBODSYS" not in adae.collect_schema().names():
        adae = adae.with_columns(text(None).alias("AEBODSYS"))
    adae = derive_var_aoccfl(adae, ["USUBJID", "AEBODSYS"], "AOCCSFL")
    adae = derive_var_aoccfl(adae, ["USUBJID", "AEBODSYS", "AEDECOD"], "AOCCPFL")
    names = adae.collect_schema().names()
    missing = [c for c in ADAE_ORDER if c not in names]
    if missing:
        adae = adae.with_columns(*[text(None).alias(c) for c in missing])
    adae = adae.select(*ADAE_ORDER).sort("USUBJID", "AESEQ")
    return adae, refused


def _same_kind(frame: Any, like: Any) -> Any:
    """Collect ``frame`` when ``like`` (an input table) is eager; return it native."""
    nf, _ = as_narwhals(like)
    if isinstance(nf, nw.DataFrame) and isinstance(frame, nw.LazyFrame):
        return frame.collect().to_native()
    return frame.to_native()


def derive_adsl(tables: Mapping[str, Any], design: Design) -> Any:
    """ADSL from DM, EX, QS and LB (see ``adsl``'s rules). Eager in, eager out; lazy in, lazy
    out. Use ``derive_all`` for the rejects."""
    core, _ = _core(tables, design)
    records, _ = _observed(tables, design, core)
    adsl, _ = _finish_adsl(core, records, tables, design)
    return _same_kind(adsl, tables["DM"])


def derive_bds(tables: Mapping[str, Any], design: Design, adsl: Any) -> Any:
    """The BDS (efficacy and biomarker parameters) from QS, LB, CM and DS given ``adsl``
    (from ``derive_adsl``). Use ``derive_all`` for the rejects."""
    sl = as_narwhals(adsl)[0].lazy()
    records, _ = _observed(tables, design, sl)
    bds, _ = _finish_bds(records, tables, design, sl)
    return _same_kind(bds, tables["DM"])


def derive_adae(tables: Mapping[str, Any], design: Design, adsl: Any) -> Any:
    """ADAE from AE given ``adsl``. Use ``derive_all`` for the rejects."""
    adae, _ = _finish_adae(_table(tables, "AE"), design, as_narwhals(adsl)[0].lazy())
    return _same_kind(adae, tables["DM"])


def derive_all(tables: Mapping[str, Any], design: Design) -> dict[str, Any]:
    """Every analysis table from the collected ``tables`` (``{"DM": ..., "EX": ..., "QS": ...,
    "LB": ..., "AE": ..., optional "CM", "DS"}``, native frames of one engine).

    Returns ``{"ADSL", "BDS", "ADAE", "REJECTS"}``: the analysis tables in the engine and
    laziness of DM (Polars eager in, eager out), and REJECTS, an eager Polars frame with
    SOURCE, USUBJID, PARAMCD, DTC and reason for every row that could not be used.
    """
    core, bad_core = _core(tables, design)
    records, bad_records = _observed(tables, design, core)
    adsl, bad_adsl = _finish_adsl(core, records, tables, design)
    bds, bad_bds = _finish_bds(records, tables, design, adsl)
    parts = [bad_core, bad_records, bad_adsl, bad_bds]
    out = {"ADSL": _same_kind(adsl, tables["DM"]), "BDS": _same_kind(bds, tables["DM"])}
    if "AE" in tables:
        adae, bad_adae = _finish_adae(_table(tables, "AE"), design, adsl)
        out["ADAE"] = _same_kind(adae, tables["DM"])
        parts.append(bad_adae)
    out["REJECTS"] = stack_rejects(parts)
    return out


__all__ = ["ANALYSIS_FLAGS", "derive_adae", "derive_adsl", "derive_all", "derive_bds"]
