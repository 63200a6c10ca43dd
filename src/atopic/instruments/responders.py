"""Responder criteria: EASI-50/75/90, SCORAD-50/75, IGA success, PP-NRS and ADCT improvement.

Sources: ../shared/reference/instruments.md (EASI, IGA, patient-reported measures) and
../shared/reference/trials.md (criteria in BDS). Definitions, decided once here:

- Percent improvement (EASI-x, SCORAD-x): ``100 x (baseline - value) / baseline >= x``, compared
  exactly in integer units (``100 (B - V) >= x B``), so EASI-75 at exactly 75 % is a response.
  Baseline 0 has no responder status: an error on the scalar path, a null flag with a reason on the
  batch path.
- IGA success: value 0 or 1 **and** at least 2 grades below baseline (2 -> 1 is not a success); the
  plain variant is value 0 or 1 only.
- PP-NRS: a reduction of at least 4 points, defined only when the baseline is at least 4. Weekly
  means are accepted to 2 decimals (round a mean of daily scores to 2 decimals first).
- ADCT: a reduction of at least 5 points (Pariser 2019).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import narwhals as nw

from atopic.errors import InvalidInput
from atopic.instruments.domains import Steps, integers
from atopic.instruments.ops import EXPR, SCALAR


@dataclass(frozen=True)
class Responder:
    """A responder criterion on a (baseline, value) pair of one instrument's scores.

    ``met(base_units, value_units, ops)`` holds for a response; ``defined(base_units, ops)`` holds
    when the criterion has a status at all (else ``undefined`` says why).
    """

    name: str
    label: str
    domain: Steps
    met: Callable[[Any, Any, Any], Any]
    defined: Callable[[Any, Any], Any]
    undefined: str


def _percent(threshold: int) -> Callable[[Any, Any, Any], Any]:
    return lambda b, v, ops: (b - v) * 100 >= b * threshold


def _positive(b: Any, ops: Any) -> Any:
    return b > 0


def percent_improvement(name: str, threshold: int, domain: Steps, instrument: str) -> Responder:
    """``{name}``: at least ``threshold`` % improvement from a baseline above 0."""
    return Responder(
        name=name,
        label=f"{instrument} improvement from baseline >= {threshold} %",
        domain=domain,
        met=_percent(threshold),
        defined=_positive,
        undefined="greater than 0 (percent improvement from a baseline of 0 is undefined)",
    )


EASI_TOTAL = Steps(scale=20, lo=0, hi=72 * 20)
SCORAD_TOTAL = Steps(scale=10000, lo=0, hi=103 * 10000)
NRS_MEAN = Steps(scale=100, lo=0, hi=1000)

EASI_50 = percent_improvement("EASI-50", 50, EASI_TOTAL, "EASI")
EASI_75 = percent_improvement("EASI-75", 75, EASI_TOTAL, "EASI")
EASI_90 = percent_improvement("EASI-90", 90, EASI_TOTAL, "EASI")
SCORAD_50 = percent_improvement("SCORAD-50", 50, SCORAD_TOTAL, "SCORAD")
SCORAD_75 = percent_improvement("SCORAD-75", 75, SCORAD_TOTAL, "SCORAD")


def _always(b: Any, ops: Any) -> Any:
    return ops.lit(True)


IGA_SUCCESS = Responder(
    name="IGA success",
    label="vIGA-AD 0 or 1 with at least a 2-grade improvement",
    domain=integers(0, 4),
    met=lambda b, v, ops: (v <= 1) & (b - v >= 2),
    defined=_always,
    undefined="",
)
IGA_01 = Responder(
    name="IGA 0/1",
    label="vIGA-AD 0 or 1",
    domain=integers(0, 4),
    met=lambda b, v, ops: v <= 1,
    defined=_always,
    undefined="",
)
IGA6_SUCCESS = Responder(
    name="IGA6 success",
    label="6-point IGA 0 or 1 with at least a 2-grade improvement",
    domain=integers(0, 5),
    met=lambda b, v, ops: (v <= 1) & (b - v >= 2),
    defined=_always,
    undefined="",
)
IGA6_01 = Responder(
    name="IGA6 0/1",
    label="6-point IGA 0 or 1",
    domain=integers(0, 5),
    met=lambda b, v, ops: v <= 1,
    defined=_always,
    undefined="",
)
PP_NRS_4 = Responder(
    name="PP-NRS4",
    label="Peak Pruritus NRS reduction >= 4 points from a baseline >= 4",
    domain=NRS_MEAN,
    met=lambda b, v, ops: b - v >= 400,
    defined=lambda b, ops: b >= 400,
    undefined="at least 4 (a 4-point reduction is meaningful only from a baseline of 4 or more)",
)
ADCT_5 = Responder(
    name="ADCT5",
    label="ADCT reduction >= 5 points",
    domain=integers(0, 24),
    met=lambda b, v, ops: b - v >= 5,
    defined=_always,
    undefined="",
)

RESPONDERS: dict[str, Responder] = {
    r.name: r
    for r in (
        EASI_50,
        EASI_75,
        EASI_90,
        SCORAD_50,
        SCORAD_75,
        IGA_SUCCESS,
        IGA_01,
        IGA6_SUCCESS,
        IGA6_01,
        PP_NRS_4,
        ADCT_5,
    )
}
"""Responder criteria by name."""


def is_responder(responder: Responder, baseline: object, value: object) -> bool:
    """Whether ``value`` meets ``responder`` against ``baseline`` (scalar path).

    Raises InvalidInput when a score is not a valid value of the instrument, or when the criterion
    is undefined for this baseline (EASI baseline 0; PP-NRS baseline below 4).

    >>> is_responder(EASI_75, 20, 5)
    True
    >>> is_responder(IGA_SUCCESS, 2, 1)
    False
    """
    b = responder.domain.units(baseline)
    if b is None:
        raise InvalidInput(responder.name, "baseline", baseline, responder.domain.describe())
    v = responder.domain.units(value)
    if v is None:
        raise InvalidInput(responder.name, "value", value, responder.domain.describe())
    if not responder.defined(b, SCALAR):
        raise InvalidInput(responder.name, "baseline", baseline, responder.undefined)
    return bool(responder.met(b, v, SCALAR))


def responder_table(
    frame: Any,
    responder: Responder,
    *,
    baseline: str = "BASE",
    value: str = "AVAL",
    new_var: str = "CRIT1FL",
) -> Any:
    """Add the responder flag ``new_var`` (Boolean) and ``{new_var}_REASON`` to a table.

    Rows with an invalid baseline or value, or where the criterion is undefined, get a null flag and
    the scalar path's message as reason; no row is dropped. Takes any Narwhals-supported eager
    frame (analysis tables are subject-level, not big data) and returns the same kind.
    """
    nf = nw.from_native(frame, eager_only=True)
    schema = nf.collect_schema()
    exprs = {}
    for name in (baseline, value):
        if name not in schema:
            raise InvalidInput(responder.name, "column", name, f"a column of {', '.join(schema)}")
        col, dtype = nw.col(name), schema[name]
        ok = responder.domain.valid_expr(col, dtype).fill_null(False)
        units = nw.when(ok).then(responder.domain.units_expr(col, dtype)).otherwise(0)
        exprs[name] = (ok, units.cast(nw.Int64))
    (b_ok, b), (v_ok, v) = exprs[baseline], exprs[value]
    status = b_ok & v_ok & responder.defined(b, EXPR)
    flag = nw.when(status).then(responder.met(b, v, EXPR)).otherwise(nw.lit(None, nw.Boolean))
    marked = nf.with_columns(flag.alias(new_var)).with_row_index("__atopic_row")
    odd = marked.filter(~status).select("__atopic_row", baseline, value)
    reasons: list[str | None] = [None] * len(marked)
    for row in odd.iter_rows(named=True):
        reasons[row["__atopic_row"]] = _reason(responder, row[baseline], row[value])
    reason = nw.new_series(
        f"{new_var}_REASON", reasons, nw.String, backend=nw.get_native_namespace(marked)
    )
    return marked.drop("__atopic_row").with_columns(reason).to_native()


def _reason(responder: Responder, baseline: object, value: object) -> str:
    try:
        is_responder(responder, baseline, value)
    except InvalidInput as error:
        return error.message
    raise RuntimeError(f"{responder.name}: table and scalar checks disagree; please report it")
