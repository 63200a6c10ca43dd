"""Imputed rows: non-responder imputation (NRI, the primary rule for responder criteria) and last
observation carried forward (LOCF, a labelled sensitivity analysis only).

Rules
    * NRI: at every post-baseline visit of a parameter with criteria, when the ANL01FL row cannot
      give a criterion (PHANTOM row: visit absent or its data set missing after an intercurrent
      event handled by the composite strategy; or a null CRITyFL of an eligible subject, e.g. no
      baseline), a row with DTYPE "NRI", AVAL null and CRITyFL "N" is added and takes ANL01FL
      over. Criteria the subject is known to be ineligible for stay null. So ANL01FL = "Y" gives
      exactly one record per subject x parameter x visit with every evaluable criterion set.
    * LOCF: for every visit whose ANL01FL row is a PHANTOM row, the last observed ANL01FL value of
      an earlier visit (baseline included) is carried forward into a row with DTYPE "LOCF"
      (ADT and ADY of the carried record; CHG, PCHG and criteria recomputed). ANL02FL = "Y" marks
      the LOCF sensitivity set: LOCF rows, and the ANL01FL row of every other visit (observed,
      or PHANTOM when there was nothing to carry). LOCF rows never carry ANL01FL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import narwhals as nw

from atopic.trial.derive._frames import as_narwhals, concat, give_back, require, text
from atopic.trial.derive.baseline import derive_var_chg, derive_var_pchg
from atopic.trial.derive.criteria import (
    crit_count,
    derive_vars_crit,
    ineligible_expr,
    numbered,
)
from atopic.trial.design import Criterion

CELL = ("USUBJID", "PARAMCD")


def derive_param_nri(dataset: Any, criteria: Sequence[Criterion], baseline_avisit: str) -> Any:
    """Add NRI rows and move ANL01FL onto them (module docstring)."""
    frame, native = as_narwhals(dataset)
    ys = crit_count(criteria)
    require(
        frame,
        "BDS",
        ("PARAMCD", "AVISIT", "ANL01FL", "DTYPE", *[f"CRIT{y}FL" for y in range(1, ys + 1)]),
        "to add non-responder rows",
    )
    if not ys:
        return give_back(frame, native)
    # A row needs NRI when one of its parameter's criteria is null and not known-ineligible.
    needs: Any = nw.lit(False)
    for y, c in numbered(criteria):
        gap = (
            (nw.col("PARAMCD") == c.paramcd) & nw.col(f"CRIT{y}FL").is_null() & ~ineligible_expr(c)
        )
        needs = needs | gap
    target = ((nw.col("ANL01FL") == "Y") & (nw.col("AVISIT") != baseline_avisit) & needs).fill_null(
        False
    )
    marked = frame.with_columns(target.alias("__nri"))
    nri = marked.filter(nw.col("__nri")).with_columns(
        text("NRI").alias("DTYPE"),
        *[nw.lit(None, dtype=nw.Float64()).alias(c) for c in ("AVAL", "CHG", "PCHG")],
        nw.lit(None, dtype=nw.Date()).alias("ADT"),
        nw.lit(None, dtype=nw.Int64()).alias("ADY"),
        text(None).alias("ABLFL"),
    )
    flags = []
    for y in range(1, ys + 1):
        expr: Any = None
        for n, c in numbered(criteria):
            if n != y:
                continue
            is_param = nw.col("PARAMCD") == c.paramcd
            value = nw.when(ineligible_expr(c)).then(text(None)).otherwise(text("N"))
            expr = (nw.when(is_param) if expr is None else expr.when(is_param)).then(value)
        flags.append(expr.otherwise(text(None)).alias(f"CRIT{y}FL"))
    nri = nri.with_columns(*flags)
    for other in [
        n for n in nri.collect_schema().names() if n.startswith("ANL") and n != "ANL01FL"
    ]:
        nri = nri.with_columns(text(None).alias(other))
    kept = marked.with_columns(
        nw.when(nw.col("__nri")).then(text(None)).otherwise(nw.col("ANL01FL")).alias("ANL01FL")
    )
    return give_back(concat([kept, nri]).drop("__nri"), native)


def derive_param_locf(
    dataset: Any, criteria: Sequence[Criterion], new_flag: str = "ANL02FL"
) -> Any:
    """Add LOCF rows and the ``new_flag`` sensitivity set (module docstring). Run before NRI."""
    frame, native = as_narwhals(dataset)
    require(
        frame,
        "BDS",
        ("USUBJID", "PARAMCD", "AVISITN", "ANL01FL", "DTYPE", "AVAL", "BASE", "ADT", "ADY"),
        "to carry values forward",
    )
    anl = (nw.col("ANL01FL") == "Y").fill_null(False)
    observed = anl & nw.col("DTYPE").is_null()
    ordered = frame.with_columns(
        *[nw.when(observed).then(nw.col(c)).alias(f"__c_{c}") for c in ("AVAL", "ADT", "ADY")]
    )
    # Forward fill over the ANL01FL rows only (one per visit), in visit order.
    rows = ordered.filter(anl).with_columns(
        *[
            nw.col(f"__c_{c}").fill_null(strategy="forward").over(*CELL, order_by="AVISITN")
            for c in ("AVAL", "ADT", "ADY")
        ]
    )
    locf = rows.filter((nw.col("DTYPE") == "PHANTOM") & ~nw.col("__c_AVAL").is_null())
    locf = locf.with_columns(
        text("LOCF").alias("DTYPE"),
        nw.col("__c_AVAL").alias("AVAL"),
        nw.col("__c_ADT").alias("ADT"),
        nw.col("__c_ADY").alias("ADY"),
        text(None).alias("ANL01FL"),
        text(None).alias("ABLFL"),
        text("Y").alias(new_flag),
    ).drop("__c_AVAL", "__c_ADT", "__c_ADY")
    others = [
        n
        for n in locf.collect_schema().names()
        if n.startswith("ANL") and n not in ("ANL01FL", new_flag)
    ]
    if others:
        locf = locf.with_columns(*[text(None).alias(n) for n in others])
    locf = derive_var_pchg(derive_var_chg(locf))
    if criteria:
        locf = derive_vars_crit(locf, criteria)
    carried = locf.select(*CELL, "AVISITN").with_columns(nw.lit(True).alias("__carried"))
    base = (
        frame.join(carried, on=[*CELL, "AVISITN"], how="left")
        .with_columns(
            nw.when(anl & ~nw.col("__carried").fill_null(False))
            .then(text("Y"))
            .otherwise(text(None))
            .alias(new_flag)
        )
        .drop("__carried")
    )
    return give_back(concat([base, locf]), native)
