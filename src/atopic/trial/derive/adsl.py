"""ADSL, one row per subject of DM: populations, treatment, dates, age, strata, baseline severity.

Rules
    * ITTFL (randomized) = "Y" when DM ARMCD names an arm (not empty, NOTASSGN or SCRNFAIL).
      An ARMCD that is neither an arm of the design nor one of these is an error (InvalidInput):
      the design and the data disagree and no analysis can proceed.
    * TRT01P / TRT01PN: the planned arm's label and its position in the design (1, 2, ...);
      "Not Assigned" and null when not randomized.
    * TRTSDT / TRTEDT: first and last EXSTDTC (complete dates only; partial ones are rejects).
      SAFFL (dosed) = "Y" when TRTSDT is known.
    * TRT01A / TRT01AN (actual): the arm whose product (EXTRT), dose (EXDOSE) and unit (EXDOSU,
      when present) match *every* EX record of the subject; null (and a reject) when the records
      match no arm or several arms (a blinded export matches none).
    * AGE: DM AGE (years) when given, otherwise completed years from BRTHDTC to TRTSDT.
      AGEGR1 is the age phase of AD (``AGE_PHASE_UPPER``; the same cut as
      ``atopic.diagnosis.age_phase_from_years``, a test keeps them equal), AGEGR1N its position.
    * STRATwR: each design stratum derived from its source (baseline value of a parameter, a DM
      column, the age phase) through its map or cuts; a value in no level leaves it null and is
      a reject. These are the strata *as derived from the data*; when the collected tables carry
      the strata as randomized (IRT), read those instead.
    * BLIGA / BLEASI: baseline (ABLFL) vIGA-AD grade and EASI.
    * PPROTFL = "Y" when ITTFL and SAFFL are "Y", the actual arm is the planned arm, every
      scheduled administration of the arm is in EX, and for every primary endpoint the subject
      has a baseline and an observed value in the endpoint's analysis window; otherwise "N".
      Protocol deviations are not considered (atopic has no DV table yet).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import narwhals as nw

from atopic.errors import Described, InvalidInput
from atopic.tables.analysis import AGE_PHASES
from atopic.trial.derive._frames import (
    as_narwhals,
    give_back,
    has,
    require,
    text,
    to_date,
)
from atopic.trial.design import Arm, Design, Stratum

NOT_RANDOMIZED: tuple[str, ...] = ("NOTASSGN", "SCRNFAIL")
"""DM ARMCD values (CDISC) of subjects who were not randomized."""
NOT_ASSIGNED = "Not Assigned"
AGE_PHASE_UPPER: tuple[float, ...] = (2, 12, 60)
"""Upper age (years, inclusive) of infancy, childhood and adolescence/adulthood; older is old
age (atopic.diagnosis AgePhase.upper_years)."""

ADSL_ORDER: tuple[str, ...] = (
    "STUDYID",
    "USUBJID",
    "SITEID",
    "TRT01P",
    "TRT01PN",
    "TRT01A",
    "TRT01AN",
    "TRTSDT",
    "TRTEDT",
    "ITTFL",
    "FASFL",
    "SAFFL",
    "PPROTFL",
    "AGE",
    "AGEGR1",
    "AGEGR1N",
    "SEX",
)


def compute_age_phase(age: float | None) -> str | None:
    """The age phase (AGEGR1 term) of an age in years: infancy (<= 2), childhood (> 2 to 12),
    adolescence_adulthood (> 12 to 60), old_age (> 60); None for None."""
    if age is None:
        return None
    for upper, phase in zip(AGE_PHASE_UPPER, AGE_PHASES, strict=False):
        if age <= upper:
            return phase
    return AGE_PHASES[-1]


def age_phase_expr(age: str = "AGE") -> nw.Expr:
    """``compute_age_phase`` as an expression."""
    x = nw.col(age)
    expr: Any = nw.when(x <= AGE_PHASE_UPPER[0]).then(text(AGE_PHASES[0]))
    for upper, phase in zip(AGE_PHASE_UPPER[1:], AGE_PHASES[1:], strict=False):
        expr = expr.when(x <= upper).then(text(phase))
    return expr.when(~x.is_null()).then(text(AGE_PHASES[-1])).otherwise(text(None))


def derive_var_ittfl(dataset: Any, armcd: str = "ARMCD", new_var: str = "ITTFL") -> Any:
    """ITTFL = "Y" when ``armcd`` names an arm (not null, blank, NOTASSGN or SCRNFAIL)."""
    frame, native = as_narwhals(dataset)
    _require_arm(frame)
    code = nw.col(armcd)
    randomized = ~(code.is_null() | (code.str.strip_chars() == "") | code.is_in(NOT_RANDOMIZED))
    out = frame.with_columns(
        nw.when(randomized.fill_null(False)).then(text("Y")).otherwise(text("N")).alias(new_var)
    )
    return give_back(out, native)


def _require_arm(frame: Any) -> None:
    if not has(frame, "ARMCD"):
        raise InvalidInput(
            "DM",
            "ARMCD",
            Described("no such column"),
            "a column of the table (a blinded export has none: derive needs an unblinded one)",
        )


def derive_vars_trtp(dataset: Any, arms: Sequence[Arm]) -> Any:
    """TRT01P (arm label; "Not Assigned" when not randomized) and TRT01PN (arm position) from
    ARMCD. Raises InvalidInput for an ARMCD that is not an arm code."""
    frame, native = as_narwhals(dataset)
    _require_arm(frame)
    codes = frame.select("ARMCD").unique()
    codes = codes.collect() if isinstance(codes, nw.LazyFrame) else codes
    known = {a.code for a in arms}
    for value in codes["ARMCD"].to_list():
        blank = value is None or not str(value).strip()
        if not blank and value not in known and value not in NOT_RANDOMIZED:
            raise InvalidInput(
                "DM",
                "ARMCD",
                value,
                "an arm code of the design (" + ", ".join(sorted(known)) + ") or NOTASSGN",
            )
    label: Any = None
    number: Any = None
    for arm in arms:
        hit = nw.col("ARMCD") == arm.code
        label = (nw.when(hit) if label is None else label.when(hit)).then(text(arm.label))
        number = (nw.when(hit) if number is None else number.when(hit)).then(
            nw.lit(arm.number, dtype=nw.Int64())
        )
    out = frame.with_columns(
        label.otherwise(text(NOT_ASSIGNED)).alias("TRT01P"),
        number.otherwise(nw.lit(None, dtype=nw.Int64())).alias("TRT01PN"),
    )
    return give_back(out, native)


def derive_vars_trtdt(dataset: Any, ex: Any) -> Any:
    """TRTSDT and TRTEDT: first and last complete EXSTDTC date per subject (null: not dosed)."""
    frame, native = as_narwhals(dataset)
    require(frame, "ADSL", ("USUBJID",), "to add treatment dates")
    exf, _ = as_narwhals(ex)
    require(exf, "EX", ("USUBJID", "EXSTDTC"), "to find the treatment dates")
    if isinstance(frame, nw.LazyFrame):
        exf = exf.lazy()
    dates = (
        exf.with_columns(to_date("EXSTDTC").alias("__d"))
        .filter(~nw.col("__d").is_null())
        .group_by("USUBJID")
        .agg(nw.col("__d").min().alias("TRTSDT"), nw.col("__d").max().alias("TRTEDT"))
    )
    return give_back(frame.join(dates, on="USUBJID", how="left"), native)


def derive_var_saffl(dataset: Any, new_var: str = "SAFFL") -> Any:
    """SAFFL = "Y" when the subject was dosed (TRTSDT known), else "N"."""
    frame, native = as_narwhals(dataset)
    require(frame, "ADSL", ("TRTSDT",), f"to derive {new_var}")
    out = frame.with_columns(
        nw.when(nw.col("TRTSDT").is_null()).then(text("N")).otherwise(text("Y")).alias(new_var)
    )
    return give_back(out, native)


def derive_var_fasfl(dataset: Any, new_var: str = "FASFL") -> Any:
    """FASFL = "Y" for randomized subjects who received study treatment (ITTFL and SAFFL "Y"),
    else "N": the full analysis set of ICH E9 section 5.2.1, which may leave out randomized
    subjects never treated when the reason cannot depend on the treatment (blinded trials)."""
    frame, native = as_narwhals(dataset)
    require(frame, "ADSL", ("ITTFL", "SAFFL"), f"to derive {new_var}")
    both = (nw.col("ITTFL") == "Y") & (nw.col("SAFFL") == "Y")
    out = frame.with_columns(
        nw.when(both.fill_null(False)).then(text("Y")).otherwise(text("N")).alias(new_var)
    )
    return give_back(out, native)


def _arm_of_ex(arms: Sequence[Arm], with_unit: bool) -> nw.Expr:
    expr: Any = None
    for arm in arms:
        tolerance = 1e-9 * max(1.0, abs(arm.dose))
        hit = (nw.col("EXTRT") == arm.product) & (
            (nw.col("EXDOSE").cast(nw.Float64) - arm.dose).abs() <= tolerance
        )
        if with_unit:
            hit = hit & (nw.col("EXDOSU") == arm.dose_unit)
        number = nw.lit(arm.number, dtype=nw.Int64())
        expr = (
            nw.when(hit.fill_null(False)).then(number)
            if expr is None
            else expr.when(hit.fill_null(False)).then(number)
        )
    return expr.otherwise(nw.lit(None, dtype=nw.Int64()))


def check_arms_distinguishable(arms: Sequence[Arm]) -> None:
    """Raise InvalidInput when two arms share product, dose and unit (EX could not tell them
    apart, so TRT01A could not be derived)."""
    seen: dict[tuple[str, float, str], int] = {}
    for i, arm in enumerate(arms):
        key = (arm.product, arm.dose, arm.dose_unit)
        if key in seen:
            raise InvalidInput(
                "design",
                f"arms[{i}].dose",
                arm.dose,
                f"a product, dose or unit other than arms[{seen[key]}]'s (TRT01A is read from EX by them)",
            )
        seen[key] = i


def derive_vars_trta(dataset: Any, ex: Any, arms: Sequence[Arm]) -> Any:
    """TRT01A / TRT01AN: the one arm whose product, dose and unit match every EX record of the
    subject; null when none or several do, or when the subject has no EX record."""
    frame, native = as_narwhals(dataset)
    require(frame, "ADSL", ("USUBJID",), "to add the actual treatment")
    exf, _ = as_narwhals(ex)
    require(exf, "EX", ("USUBJID", "EXTRT", "EXDOSE"), "to find the actual treatment")
    check_arms_distinguishable(arms)
    if isinstance(frame, nw.LazyFrame):
        exf = exf.lazy()
    per = (
        exf.with_columns(_arm_of_ex(arms, has(exf, "EXDOSU")).alias("__arm"))
        .group_by("USUBJID")
        .agg(
            nw.len().alias("__n"),
            nw.col("__arm").count().alias("__matched"),
            nw.col("__arm").min().alias("__lo"),
            nw.col("__arm").max().alias("__hi"),
        )
    )
    one = (nw.col("__n") == nw.col("__matched")) & (nw.col("__lo") == nw.col("__hi"))
    number = nw.when(one.fill_null(False)).then(nw.col("__lo"))
    label: Any = None
    for arm in arms:
        hit = number == arm.number
        label = (nw.when(hit) if label is None else label.when(hit)).then(text(arm.label))
    out = (
        frame.join(per, on="USUBJID", how="left")
        .with_columns(
            label.otherwise(text(None)).alias("TRT01A"),
            number.cast(nw.Int64).alias("TRT01AN"),
        )
        .drop("__n", "__matched", "__lo", "__hi")
    )
    return give_back(out, native)


def derive_var_age(dataset: Any, reference: str = "TRTSDT", new_var: str = "AGE") -> Any:
    """AGE in years: DM AGE where given, else completed years from BRTHDTC to ``reference``."""
    frame, native = as_narwhals(dataset)
    names = frame.collect_schema().names()
    if "AGE" not in names and "BRTHDTC" not in names:
        raise InvalidInput(
            "DM", "AGE or BRTHDTC", Described("none of them"), "a column of the table"
        )
    given = nw.col("AGE").cast(nw.Float64) if "AGE" in names else nw.lit(None, dtype=nw.Float64())
    if "BRTHDTC" in names and reference in names:
        born = to_date("BRTHDTC")
        on = nw.col(reference)
        before_birthday = (on.dt.month() < born.dt.month()) | (
            (on.dt.month() == born.dt.month()) & (on.dt.day() < born.dt.day())
        )
        years = (
            on.dt.year().cast(nw.Int64)
            - born.dt.year().cast(nw.Int64)
            - nw.when(before_birthday).then(1).otherwise(0)
        ).cast(nw.Float64)
        age = nw.when(given.is_null()).then(years).otherwise(given)
    else:
        age = given
    return give_back(frame.with_columns(age.alias(new_var)), native)


def derive_var_agegr1(dataset: Any, age: str = "AGE") -> Any:
    """AGEGR1 (age phase, ``compute_age_phase``) and AGEGR1N (its position, 1-4)."""
    frame, native = as_narwhals(dataset)
    require(frame, "ADSL", (age,), "to derive AGEGR1")
    phase = age_phase_expr(age)
    number: Any = None
    for n, term in enumerate(AGE_PHASES, start=1):
        hit = nw.col("AGEGR1") == term
        number = (nw.when(hit) if number is None else number.when(hit)).then(
            nw.lit(n, dtype=nw.Int64())
        )
    out = frame.with_columns(phase.alias("AGEGR1")).with_columns(
        number.otherwise(nw.lit(None, dtype=nw.Int64())).alias("AGEGR1N")
    )
    return give_back(out, native)


def stratum_value(stratum: Stratum) -> str:
    """The column a stratum's level is read from, once ``derive_vars_strata`` has joined it."""
    if stratum.source == "baseline":
        return f"__base_{stratum.paramcd}"
    if stratum.source == "dm":
        return str(stratum.column)
    return "AGEGR1"


def level_expr(stratum: Stratum) -> nw.Expr:
    """The stratum level of the value column (``stratum_value``); null when none holds it."""
    x = nw.col(stratum_value(stratum))
    expr: Any = None
    if stratum.level_map is not None:
        for level, values in stratum.level_map.items():
            hit = x.is_in(list(values))
            expr = (nw.when(hit) if expr is None else expr.when(hit)).then(text(level))
    elif stratum.cuts is not None:
        for level, cut in zip(stratum.levels, stratum.cuts, strict=False):
            hit = x < cut
            expr = (nw.when(hit) if expr is None else expr.when(hit)).then(text(level))
        expr = expr.when(~x.is_null()).then(text(stratum.levels[-1]))
    else:
        as_text = x.cast(nw.String)
        return nw.when(as_text.is_in(list(stratum.levels))).then(as_text).otherwise(text(None))
    return expr.otherwise(text(None))


def derive_vars_strata(dataset: Any, baseline: Any, strata: Sequence[Stratum]) -> Any:
    """STRATwR for every design stratum (``level_expr``). ``baseline`` has USUBJID, PARAMCD and
    BASE, one row per subject and parameter (the ABLFL records)."""
    frame, native = as_narwhals(dataset)
    base, _ = as_narwhals(baseline)
    if isinstance(frame, nw.LazyFrame):
        base = base.lazy()
    out = frame
    joined = []
    for stratum in strata:
        if stratum.source == "baseline" and stratum.paramcd not in joined:
            mine = base.filter(nw.col("PARAMCD") == stratum.paramcd).select(
                "USUBJID", nw.col("BASE").alias(f"__base_{stratum.paramcd}")
            )
            out = out.join(mine, on="USUBJID", how="left")
            joined.append(stratum.paramcd)
        else:
            require(out, "ADSL", (stratum_value(stratum),), f"to derive {stratum.variable}")
    out = out.with_columns(*[level_expr(s).alias(s.variable) for s in strata])
    return give_back(out, native)


def derive_vars_blsev(dataset: Any, baseline: Any) -> Any:
    """BLIGA and BLEASI: the baseline vIGA-AD grade and EASI (null when there is none)."""
    frame, native = as_narwhals(dataset)
    base, _ = as_narwhals(baseline)
    if isinstance(frame, nw.LazyFrame):
        base = base.lazy()
    out = frame
    for paramcd, name in (("IGA", "BLIGA"), ("EASI", "BLEASI")):
        mine = base.filter(nw.col("PARAMCD") == paramcd).select(
            "USUBJID", nw.col("BASE").cast(nw.Float64).alias(name)
        )
        out = out.join(mine, on="USUBJID", how="left")
    return give_back(out, native)


def derive_var_pprotfl(dataset: Any, records: Any, ex: Any, design: Design) -> Any:
    """PPROTFL by the module's rule. ``records`` are the windowed observed BDS records with
    ABLFL (USUBJID, PARAMCD, AVISIT, AVAL, ABLFL)."""
    frame, native = as_narwhals(dataset)
    require(frame, "ADSL", ("USUBJID", "ITTFL", "SAFFL", "TRT01PN", "TRT01AN"), "to derive PPROTFL")
    recs, _ = as_narwhals(records)
    exf, _ = as_narwhals(ex)
    if isinstance(frame, nw.LazyFrame):
        recs, exf = recs.lazy(), exf.lazy()
    require(recs, "BDS", ("USUBJID", "PARAMCD", "AVISIT", "AVAL", "ABLFL"), "to derive PPROTFL")
    doses = (
        exf.with_columns(to_date("EXSTDTC").alias("__d"))
        .filter(~nw.col("__d").is_null())
        .group_by("USUBJID")
        .agg(nw.len().alias("__doses"))
    )
    planned: Any = None
    for arm in design.arms:
        hit = nw.col("TRT01PN") == arm.number
        planned = (nw.when(hit) if planned is None else planned.when(hit)).then(
            nw.lit(arm.schedule.administrations)
        )
    needs = sorted({(e.paramcd, e.avisit) for e in design.primary if e.avisit is not None})
    checks = []
    for i, (paramcd, avisit) in enumerate(needs):
        param = nw.col("PARAMCD") == paramcd
        checks.append((param & (nw.col("ABLFL") == "Y")).fill_null(False).max().alias(f"__b{i}"))
        visit = param & (nw.col("AVISIT") == avisit) & ~nw.col("AVAL").is_null()
        checks.append(visit.fill_null(False).max().alias(f"__v{i}"))
    out = frame.join(doses, on="USUBJID", how="left")
    ok = (
        (nw.col("ITTFL") == "Y")
        & (nw.col("SAFFL") == "Y")
        & (nw.col("TRT01AN") == nw.col("TRT01PN"))
        & (nw.col("__doses").fill_null(0) >= planned.otherwise(nw.lit(10**9)))
    )
    temp = ["__doses"]
    if checks:
        per = recs.group_by("USUBJID").agg(*checks)
        out = out.join(per, on="USUBJID", how="left")
        for i in range(len(needs)):
            ok = ok & nw.col(f"__b{i}").fill_null(False) & nw.col(f"__v{i}").fill_null(False)
            temp += [f"__b{i}", f"__v{i}"]
    out = out.with_columns(
        nw.when(ok.fill_null(False)).then(text("Y")).otherwise(text("N")).alias("PPROTFL")
    ).drop(*temp)
    return give_back(out, native)
