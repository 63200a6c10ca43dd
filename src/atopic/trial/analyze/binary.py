"""Responder (binary) endpoints: rates per arm and differences to control, unstratified and
stratified by the randomisation strata.

Decisions (taken once, here)
    * Per arm: n/N and rate with the Wilson score interval (Wilson 1927), the interval of R
      ``prop.test(correct = FALSE)``, computed with statsmodels ``proportion_confint``.
    * Unstratified difference (arm - control): Newcombe hybrid score interval (Newcombe 1998, method
      10; statsmodels ``confint_proportions_2indep(method="newcomb")``) and Miettinen-Nurminen score
      interval (Miettinen & Nurminen 1985). The MN interval is our own root finding
      (``stratified_mn_interval`` with one stratum): statsmodels' ``method="score"`` brackets its
      roots from the Wald interval and fails on ordinary tables (12/40 vs 5/38) and on every table
      with an all-or-none arm.
    * Exact unstratified test: Fisher's two-sided test (scipy ``fisher_exact``, as R ``fisher.test``).
    * Stratified: the Cochran-Mantel-Haenszel test without continuity correction (statsmodels
      ``StratifiedTable.test_null_odds``; R ``mantelhaen.test(correct = FALSE)``); the
      Mantel-Haenszel (CMH-weighted) risk difference ``sum w_k d_k / sum w_k`` with
      ``w_k = n1k n0k / N_k``; its **default interval is the stratified Miettinen-Nurminen score
      interval with CMH weights** (CMH-MN: Miettinen & Nurminen 1985, stratified score statistic;
      weights as Mehrotra & Railkar 2000; score-type intervals around the MH estimate are the ones
      with near-nominal coverage in Klingenberg 2014, Stat Med 33:2968). The Sato (1989) variance is
      reported as ``se`` (it is what multiple imputation pools). The stratified Newcombe interval is
      not offered: the published descriptions (Yan & Su 2010; SAS; R tern) differ in how the
      stratified Wilson limits are combined, and we do not pick one silently.
    * A stratum in which one of the two compared arms has no subject carries no information on the
      difference (``w_k = 0``) and cannot enter the CMH variance (R refuses ``N_k < 2``): it is
      dropped from that comparison and named in ``CmhResult.dropped`` and in the ARD
      (``STAT = "strata_dropped"``, the names in VALUEC). Strata in which all or no subjects respond
      stay in (they contribute to the weights; their CMH variance term is 0).
    * Missing responses: refused by default (``missing="error"``); ``missing="nri"`` counts them
      as non-responders (non-responder imputation) and reports how many (``n_imputed``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl
from scipy import optimize, stats
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from atopic.errors import Described, InvalidInput
from atopic.trial.analyze._frames import (
    check_conf_level,
    check_control,
    no_nulls,
    ordered_groups,
    require_columns,
    stratum_labels,
    to_polars,
)
from atopic.trial.ard import ArdRow, rows

SUBJECT = "responder analysis"
_YES = ("Y", True)
_NO = ("N", False)


def _z(conf_level: float) -> float:
    return float(stats.norm.ppf(1 - (1 - conf_level) / 2))


def wilson_interval(n: int, big_n: int, conf_level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``n / big_n`` (0-1 scale).

    ``(p + z^2/2N +/- z sqrt(p(1-p)/N + z^2/4N^2)) / (1 + z^2/N)``; Wilson (1927) JASA 22:209;
    R ``prop.test(n, N, correct = FALSE)$conf.int``; statsmodels ``proportion_confint``.
    """
    lo, hi = proportion_confint(n, big_n, alpha=1 - conf_level, method="wilson")
    return float(lo), float(hi)


def newcombe_interval(
    x1: int, n1: int, x0: int, n0: int, conf_level: float = 0.95
) -> tuple[float, float]:
    """Newcombe hybrid score interval for ``x1/n1 - x0/n0`` from the two Wilson intervals.

    ``d - sqrt((p1 - l1)^2 + (u0 - p0)^2)``, ``d + sqrt((u1 - p1)^2 + (p0 - l0)^2)``; Newcombe
    (1998) Stat Med 17:873, method 10; statsmodels ``confint_proportions_2indep(method="newcomb")``.
    """
    lo, hi = confint_proportions_2indep(
        x1, n1, x0, n0, method="newcomb", compare="diff", alpha=1 - conf_level
    )
    return float(lo), float(hi)


def fisher_exact_p(x1: int, n1: int, x0: int, n0: int) -> float:
    """Two-sided p-value of Fisher's exact test of the 2x2 table (scipy; as R ``fisher.test``)."""
    table = [[x1, n1 - x1], [x0, n0 - x0]]
    return float(stats.fisher_exact(table, alternative="two-sided").pvalue)


def _restricted_mle(
    x1: np.ndarray, n1: np.ndarray, x0: np.ndarray, n0: np.ndarray, delta: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per-stratum ML estimates of (p1, p0) under ``p1 - p0 = delta`` (closed-form cubic root).

    Miettinen & Nurminen (1985) Stat Med 4:213, appendix; Farrington & Manning (1990) Stat Med
    9:1447, eq. (12).
    """
    p1, p0 = x1 / n1, x0 / n0
    theta = n0 / n1
    a = 1 + theta
    b = -(1 + theta + p1 + theta * p0 + delta * (theta + 2))
    c = delta**2 + delta * (2 * p1 + theta + 1) + p1 + theta * p0
    d = -p1 * delta * (1 + delta)
    v = b**3 / (3 * a) ** 3 - b * c / (6 * a**2) + d / (2 * a)
    u = np.where(v >= 0, 1.0, -1.0) * np.sqrt(np.maximum(b**2 / (3 * a) ** 2 - c / (3 * a), 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(u == 0, 0.0, v / u**3)
    w = (math.pi + np.arccos(np.clip(ratio, -1.0, 1.0))) / 3
    t1 = np.clip(2 * u * np.cos(w) - b / (3 * a), 0.0, 1.0)
    t0 = np.clip(t1 - delta, 0.0, 1.0)
    return t1, t0


def _score_statistic(
    delta: float,
    x1: np.ndarray,
    n1: np.ndarray,
    x0: np.ndarray,
    n0: np.ndarray,
    weights: np.ndarray,
) -> float:
    diff = x1 / n1 - x0 / n0
    num = float(np.sum(weights * (diff - delta)))
    if num == 0.0:
        return 0.0
    t1, t0 = _restricted_mle(x1, n1, x0, n0, delta)
    big_n = n1 + n0
    var_k = (t1 * (1 - t1) / n1 + t0 * (1 - t0) / n0) * big_n / (big_n - 1)
    var = float(np.sum(weights**2 * var_k))
    if var <= 0.0:
        return math.copysign(1e12, num)
    return num / math.sqrt(var)


def stratified_mn_interval(
    x1: Sequence[int],
    n1: Sequence[int],
    x0: Sequence[int],
    n0: Sequence[int],
    conf_level: float = 0.95,
    weights: Sequence[float] | None = None,
) -> tuple[float, float]:
    """Stratified Miettinen-Nurminen score interval for the common difference ``p1 - p0``.

    The set of ``delta`` with ``|T(delta)| <= z``, where
    ``T(delta) = sum w_k (d_k - delta) / sqrt(sum w_k^2 V_k(delta))``,
    ``V_k = [p1k~(1-p1k~)/n1k + p0k~(1-p0k~)/n0k] N_k/(N_k - 1)`` at the restricted ML estimates
    ``p~`` under ``p1k - p0k = delta`` and normalised weights ``w_k`` (default CMH,
    ``n1k n0k / N_k``). One stratum gives the unstratified MN interval. Miettinen & Nurminen (1985)
    Stat Med 4:213; CMH weights: Mehrotra & Railkar (2000) Stat Med 19:811. Roots by Brent's method
    to 1e-14.
    """
    a1, m1, a0, m0 = (np.asarray(v, dtype=float) for v in (x1, n1, x0, n0))
    w = m1 * m0 / (m1 + m0) if weights is None else np.asarray(weights, dtype=float)
    w = w / w.sum()
    z = _z(conf_level)
    est = float(np.sum(w * (a1 / m1 - a0 / m0)))
    eps = 1e-10

    def g(delta: float, target: float) -> float:
        return _score_statistic(delta, a1, m1, a0, m0, w) - target

    if est <= -1 + eps or g(-1 + eps, z) <= 0:
        lower = -1.0
    else:
        lower = optimize.brentq(g, -1 + eps, est, args=(z,), xtol=1e-14)
    if est >= 1 - eps or g(1 - eps, -z) >= 0:
        upper = 1.0
    else:
        upper = optimize.brentq(g, est, 1 - eps, args=(-z,), xtol=1e-14)
    return float(lower), float(upper)


def mn_interval(
    x1: int, n1: int, x0: int, n0: int, conf_level: float = 0.95
) -> tuple[float, float]:
    """Miettinen-Nurminen score interval for ``x1/n1 - x0/n0`` (one-stratum ``stratified_mn_interval``).

    Miettinen & Nurminen (1985) Stat Med 4:213 (variance with the N/(N-1) factor).
    """
    return stratified_mn_interval([x1], [n1], [x0], [n0], conf_level)


@dataclass(frozen=True)
class CmhResult:
    """CMH test and Mantel-Haenszel risk difference of one arm against the control.

    ``statistic`` is the CMH chi-square (1 df, no continuity correction); ``estimate`` the
    CMH-weighted risk difference, ``se`` its Sato (1989) standard error, ``ci_lower``/``ci_upper``
    the stratified MN interval; ``or_mh`` the Mantel-Haenszel common odds ratio with its
    Robins-Breslow-Greenland interval. ``used``/``dropped`` name the strata (crossed levels).
    """

    statistic: float
    p_value: float
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    or_mh: float
    or_ci_lower: float
    or_ci_upper: float
    used: tuple[str, ...]
    dropped: tuple[str, ...]


def cmh_test(
    x1: Sequence[int], n1: Sequence[int], x0: Sequence[int], n0: Sequence[int]
) -> tuple[float, float]:
    """CMH chi-square (1 df, no continuity correction) and its p-value over 2x2 strata tables.

    ``(sum (x1k - E x1k))^2 / sum n1k n0k m1k m0k / (N_k^2 (N_k - 1))``; Mantel & Haenszel (1959);
    statsmodels ``StratifiedTable.test_null_odds``; R ``mantelhaen.test(correct = FALSE)``. Returns
    NaN when no stratum has variance (every subject responds, or none does).
    """
    tables = _tables(x1, n1, x0, n0)
    margins = (tables[0, 0] + tables[0, 1]) * (tables[1, 0] + tables[1, 1])
    margins = margins * (tables[0, 0] + tables[1, 0]) * (tables[0, 1] + tables[1, 1])
    if not np.any(margins > 0):
        return math.nan, math.nan
    result = StratifiedTable(tables).test_null_odds(correction=False)
    return float(result.statistic), float(result.pvalue)


def _tables(
    x1: Sequence[int], n1: Sequence[int], x0: Sequence[int], n0: Sequence[int]
) -> np.ndarray:
    a1, m1, a0, m0 = (np.asarray(v, dtype=float) for v in (x1, n1, x0, n0))
    return np.stack([np.stack([a1, m1 - a1]), np.stack([a0, m0 - a0])])


def sato_variance(
    x1: Sequence[int], n1: Sequence[int], x0: Sequence[int], n0: Sequence[int]
) -> tuple[float, float]:
    """Mantel-Haenszel risk difference and its Sato variance.

    ``d = sum w_k d_k / sum w_k``, ``w_k = n1k n0k / N_k``;
    ``Var = (d sum P_k + sum Q_k) / (sum w_k)^2`` with
    ``P_k = (n1k^2 x0k - n0k^2 x1k + n1k n0k (n0k - n1k)/2) / N_k^2`` and
    ``Q_k = (x1k (n0k - x0k) + x0k (n1k - x1k)) / (2 N_k)``. Sato (1989) Biometrics 45:1323; as SAS
    PROC FREQ COMMONRISKDIFF. With one stratum it equals the Wald variance.
    """
    a1, m1, a0, m0 = (np.asarray(v, dtype=float) for v in (x1, n1, x0, n0))
    big_n = m1 + m0
    w = m1 * m0 / big_n
    d = float(np.sum(w * (a1 / m1 - a0 / m0)) / w.sum())
    p = (m1**2 * a0 - m0**2 * a1 + m1 * m0 * (m0 - m1) / 2) / big_n**2
    q = (a1 * (m0 - a0) + a0 * (m1 - a1)) / (2 * big_n)
    return d, float((d * p.sum() + q.sum()) / w.sum() ** 2)


def cmh_risk_difference(
    x1: Sequence[int],
    n1: Sequence[int],
    x0: Sequence[int],
    n0: Sequence[int],
    labels: Sequence[str] | None = None,
    conf_level: float = 0.95,
) -> CmhResult:
    """CMH test, MH risk difference (Sato SE, stratified MN CI) and MH odds ratio over strata.

    Strata where ``n1k`` or ``n0k`` is 0 are dropped and named in ``dropped`` (module docstring).
    """
    names = [str(i) for i in range(len(x1))] if labels is None else list(labels)
    keep = [i for i in range(len(x1)) if n1[i] > 0 and n0[i] > 0]
    dropped = tuple(names[i] for i in range(len(x1)) if i not in keep)
    if not keep:
        raise InvalidInput(
            SUBJECT, "strata", Described("no stratum with both arms"), "at least one such stratum"
        )
    k1, kn1, k0, kn0 = ([int(v[i]) for i in keep] for v in (x1, n1, x0, n0))
    statistic, p_value = cmh_test(k1, kn1, k0, kn0)
    estimate, var = sato_variance(k1, kn1, k0, kn0)
    lo, hi = stratified_mn_interval(k1, kn1, k0, kn0, conf_level)
    table = StratifiedTable(_tables(k1, kn1, k0, kn0))
    with np.errstate(divide="ignore", invalid="ignore"):
        or_mh = float(table.oddsratio_pooled)
        try:
            or_lo, or_hi = (float(v) for v in table.oddsratio_pooled_confint(alpha=1 - conf_level))
        except (ZeroDivisionError, FloatingPointError):
            or_lo = or_hi = math.nan
    return CmhResult(
        statistic=statistic,
        p_value=p_value,
        estimate=estimate,
        se=math.sqrt(var) if var >= 0 else math.nan,
        ci_lower=lo,
        ci_upper=hi,
        or_mh=or_mh,
        or_ci_lower=or_lo,
        or_ci_upper=or_hi,
        used=tuple(names[i] for i in keep),
        dropped=dropped,
    )


@dataclass(frozen=True)
class ArmRate:
    """Responders ``n`` of ``big_n`` analysed in one arm, the rate and its Wilson interval."""

    group: str
    n: int
    big_n: int
    rate: float
    ci_lower: float
    ci_upper: float
    n_imputed: int


@dataclass(frozen=True)
class Comparison:
    """One arm against the control: unstratified intervals, Fisher's test and the CMH analysis."""

    group: str
    comparator: str
    estimate: float
    newcombe: tuple[float, float]
    mn: tuple[float, float]
    fisher_p: float
    cmh: CmhResult


@dataclass(frozen=True)
class ResponderResult:
    """Responder analysis of one criterion at one visit; ``.ard(...)`` writes its ARD rows."""

    arms: tuple[ArmRate, ...]
    comparisons: tuple[Comparison, ...]
    strata: tuple[str, ...]
    conf_level: float
    notes: tuple[str, ...] = field(default=())

    def ard(self, paramcd: str, avisit: str | None = None) -> list[ArdRow]:
        """ARD rows. ANALYSIS ids: ``BIN-RATE`` (per arm), ``BIN-RD-NEWCOMBE``, ``BIN-RD-MN``,
        ``BIN-FISHER`` (unstratified, arm vs control), ``BIN-CMH`` (test), ``BIN-CMH-RD``
        (MH risk difference, Sato se, stratified MN CI), ``BIN-CMH-OR`` (MH odds ratio)."""
        out: list[ArdRow] = []
        keys: dict[str, Any] = {"paramcd": paramcd, "avisit": avisit}
        level = self.conf_level
        for arm in self.arms:
            stats_ = {
                "n": arm.n,
                "N": arm.big_n,
                "rate": arm.rate,
                "ci_lower": arm.ci_lower,
                "ci_upper": arm.ci_upper,
                "conf_level": level,
                "n_imputed": arm.n_imputed,
            }
            out += rows("BIN-RATE", stats_, group=arm.group, **keys)
        for c in self.comparisons:
            pair = {"group": c.group, "comparator": c.comparator, **keys}
            for analysis, (lo, hi) in (("BIN-RD-NEWCOMBE", c.newcombe), ("BIN-RD-MN", c.mn)):
                ci = {"estimate": c.estimate, "ci_lower": lo, "ci_upper": hi, "conf_level": level}
                out += rows(analysis, ci, **pair)
            out += rows("BIN-FISHER", {"p_value": c.fisher_p}, **pair)
            reason = "no variance: all or no subjects respond in every stratum"
            test = {"statistic": c.cmh.statistic, "df": 1, "p_value": c.cmh.p_value}
            out += rows("BIN-CMH", test, reason=reason, **pair)
            rd = {
                "estimate": c.cmh.estimate,
                "se": c.cmh.se,
                "ci_lower": c.cmh.ci_lower,
                "ci_upper": c.cmh.ci_upper,
                "conf_level": level,
                "n_strata": len(c.cmh.used),
            }
            out += rows("BIN-CMH-RD", rd, **pair)
            out.append(
                ArdRow(
                    ANALYSIS="BIN-CMH-RD",
                    PARAMCD=paramcd,
                    AVISIT=avisit,
                    GROUP=c.group,
                    COMPARATOR=c.comparator,
                    STAT="strata_dropped",
                    VALUE=float(len(c.cmh.dropped)),
                    VALUEC="; ".join(c.cmh.dropped) or None,
                )
            )
            odds = {
                "estimate": c.cmh.or_mh,
                "ci_lower": c.cmh.or_ci_lower,
                "ci_upper": c.cmh.or_ci_upper,
                "conf_level": level,
            }
            out += rows("BIN-CMH-OR", odds, reason="zero cells: odds ratio not estimable", **pair)
        return out


def _responses(frame: pl.DataFrame, column: str, missing: str) -> tuple[np.ndarray, np.ndarray]:
    """(responder 0/1, imputed flag) from a "Y"/"N"/null (or boolean) column."""
    values = frame.get_column(column).to_list()
    resp = np.zeros(len(values), dtype=np.int64)
    imputed = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        if v is None:
            if missing != "nri":
                raise InvalidInput(
                    SUBJECT,
                    f"{column} (row {i})",
                    None,
                    '"Y" or "N" (or pass missing="nri" to count missing as non-responders)',
                )
            imputed[i] = True
        elif any(v == y and type(v) is type(y) for y in _YES):
            resp[i] = 1
        elif not any(v == n and type(v) is type(n) for n in _NO):
            raise InvalidInput(SUBJECT, f"{column} (row {i})", v, '"Y", "N" or null')
    return resp, imputed


def responder_analysis(
    data: Any,
    *,
    control: str,
    response: str = "CRIT1FL",
    group: str = "TRT01P",
    strata: Sequence[str] = (),
    missing: Literal["error", "nri"] = "error",
    conf_level: float = 0.95,
    order: Sequence[str] | None = None,
) -> ResponderResult:
    """Responder analysis of one criterion at one visit (one row per subject).

    ``data``: a Polars (or pandas) frame with ``group`` (arm), ``response`` ("Y"/"N"/null or
    boolean) and the ``strata`` columns (crossed into one stratum per combination, as
    ``mantelhaen.test`` on the interaction). Every arm is compared with ``control``. See the module
    docstring for the methods and the handling of missing responses and one-arm strata.

    Example: ``responder_analysis(adeff_w12_easi75, control="PBO", strata=["REGION", "IGABL"])``.
    """
    level = check_conf_level(conf_level, SUBJECT)
    if missing not in ("error", "nri"):
        raise InvalidInput(SUBJECT, "missing", missing, '"error" or "nri"')
    frame = to_polars(data, SUBJECT)
    require_columns(frame, SUBJECT, [group, response, *strata])
    no_nulls(frame, SUBJECT, [group, *strata])
    if frame.height == 0:
        raise InvalidInput(SUBJECT, "data", Described("no rows"), "at least one subject per arm")
    resp, imputed = _responses(frame, response, missing)
    arms = frame.get_column(group).cast(pl.String).to_list()
    present = sorted(set(arms))
    check_control(present, control, SUBJECT, group)
    groups = ordered_groups(present, control, order)
    labels = stratum_labels(frame, strata)
    levels = sorted(set(labels))
    arm_idx = np.array([groups.index(a) for a in arms])
    lab_idx = np.array([levels.index(s) for s in labels])
    x = np.zeros((len(groups), len(levels)), dtype=np.int64)
    n = np.zeros((len(groups), len(levels)), dtype=np.int64)
    np.add.at(x, (arm_idx, lab_idx), resp)
    np.add.at(n, (arm_idx, lab_idx), 1)

    rates = []
    for g, name in enumerate(groups):
        xs, ns = int(x[g].sum()), int(n[g].sum())
        lo, hi = wilson_interval(xs, ns, level)
        rates.append(ArmRate(name, xs, ns, xs / ns, lo, hi, int(imputed[arm_idx == g].sum())))

    comparisons = []
    notes = []
    x0, n0 = x[0], n[0]
    for g, name in enumerate(groups[1:], start=1):
        a1, m1, a0, m0 = int(x[g].sum()), int(n[g].sum()), int(x0.sum()), int(n0.sum())
        cmh = cmh_risk_difference(x[g], n[g], x0, n0, levels, level)
        if cmh.dropped:
            notes.append(
                f"{name} vs {control}: strata without both arms dropped from the CMH analysis: "
                + ", ".join(cmh.dropped)
            )
        comparisons.append(
            Comparison(
                group=name,
                comparator=control,
                estimate=a1 / m1 - a0 / m0,
                newcombe=newcombe_interval(a1, m1, a0, m0, level),
                mn=mn_interval(a1, m1, a0, m0, level),
                fisher_p=fisher_exact_p(a1, m1, a0, m0),
                cmh=cmh,
            )
        )
    n_imp = int(imputed.sum())
    if n_imp:
        notes.append(f"{n_imp} missing responses counted as non-responders (NRI)")
    return ResponderResult(tuple(rates), tuple(comparisons), tuple(strata), level, tuple(notes))
