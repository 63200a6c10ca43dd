"""Responder criteria CRITy / CRITyFL from the design's ``[[criteria]]``.

Rules
    * A parameter's criteria are numbered in design order: CRIT1, CRIT2 ... CRITy holds the
      criterion text (``"EASI-75: PCHG <= -75"``) on every row of that parameter, null on rows
      of other parameters (constant within a parameter, as ADaMIG asks).
    * CRITyFL is "Y" when every responder condition holds, "N" when one fails, and null when a
      variable a condition needs is null (missing value or baseline, PCHG with BASE = 0) or when
      the subject is known to be ineligible (an ``eligible`` condition fails, e.g. baseline
      PP-NRS below 4 for a 4-point improvement).
    * Comparisons allow 1e-9 (relative to the cut, at least 1e-9 absolute) of floating-point
      error, so a 75 % improvement computed as 74.99999999999999 % counts as 75 %.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import narwhals as nw

from atopic.trial.derive._frames import as_narwhals, give_back, require, text
from atopic.trial.design import Condition, Criterion

TOLERANCE = 1e-9
"""Relative tolerance of the criterion comparisons (see the module docstring)."""


def condition_expr(condition: Condition) -> nw.Expr:
    """The condition as a Boolean expression (null when its variable is null)."""
    x = nw.col(condition.variable)
    v = condition.value
    eps = TOLERANCE * max(1.0, abs(v))
    return {
        "<=": x <= v + eps,
        "<": x < v - eps,
        ">=": x >= v - eps,
        ">": x > v + eps,
        "==": (x - v).abs() <= eps,
    }[condition.op]


def _all(exprs: Sequence[nw.Expr]) -> nw.Expr:
    out = nw.lit(True)
    for e in exprs:
        out = out & e
    return out


def ineligible_expr(criterion: Criterion) -> nw.Expr:
    """True when every variable of the eligibility conditions is known and one fails."""
    if not criterion.eligible:
        return nw.lit(False)
    known = _all([~nw.col(c.variable).is_null() for c in criterion.eligible])
    holds = _all([condition_expr(c) for c in criterion.eligible])
    return (known & ~holds).fill_null(False)


def flag_expr(criterion: Criterion) -> nw.Expr:
    """CRITyFL of one criterion: "Y", "N" or null (module docstring)."""
    needed = {c.variable for c in criterion.responder} | {c.variable for c in criterion.eligible}
    evaluable = _all([~nw.col(v).is_null() for v in sorted(needed)])
    responder = _all([condition_expr(c) for c in criterion.responder])
    return (
        nw.when(ineligible_expr(criterion))
        .then(text(None))
        .when(evaluable.fill_null(False))
        .then(nw.when(responder).then(text("Y")).otherwise(text("N")))
        .otherwise(text(None))
    )


def crit_count(criteria: Sequence[Criterion]) -> int:
    """How many CRITy columns the criteria need: the most any one parameter has."""
    per: dict[str, int] = {}
    for c in criteria:
        per[c.paramcd] = per.get(c.paramcd, 0) + 1
    return max(per.values(), default=0)


def numbered(criteria: Sequence[Criterion]) -> list[tuple[int, Criterion]]:
    """Each criterion with its y (1-based within its parameter)."""
    seen: dict[str, int] = {}
    out = []
    for c in criteria:
        seen[c.paramcd] = seen.get(c.paramcd, 0) + 1
        out.append((seen[c.paramcd], c))
    return out


def derive_vars_crit(dataset: Any, criteria: Sequence[Criterion]) -> Any:
    """Add (or recompute) CRITy and CRITyFL, y = 1 .. ``crit_count(criteria)``."""
    frame, native = as_narwhals(dataset)
    variables = {c.variable for k in criteria for c in (*k.responder, *k.eligible)}
    require(frame, "BDS", ("PARAMCD", *sorted(variables)), "to evaluate the responder criteria")
    columns = []
    for y in range(1, crit_count(criteria) + 1):
        mine = [c for n, c in numbered(criteria) if n == y]
        label: Any = None
        flag: Any = None
        for c in mine:
            is_param = nw.col("PARAMCD") == c.paramcd
            label = (nw.when(is_param) if label is None else label.when(is_param)).then(
                text(c.text)
            )
            flag = (nw.when(is_param) if flag is None else flag.when(is_param)).then(flag_expr(c))
        columns.append(label.otherwise(text(None)).alias(f"CRIT{y}"))
        columns.append(flag.otherwise(text(None)).alias(f"CRIT{y}FL"))
    return give_back(frame.with_columns(*columns) if columns else frame, native)
