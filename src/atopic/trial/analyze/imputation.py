"""Multiple imputation under MAR by arm, analysis of each completed data set, Rubin's rules.

Imputation (``impute_mar``): for the post-baseline visits in their order, the missing AVAL of a
visit are drawn from a Bayesian linear regression of that visit on ``1 + BASE + the earlier
visits (already completed) + strata factors``, fitted separately in each level of ``by`` (the arm
by default; pass ``by=["TRT01P", "REGION"]`` to impute by arm and stratum). The draw is *proper*
(van Buuren 2018, Flexible Imputation of Missing Data, 2nd ed., Algorithm 3.1; mice ``norm``;
Rubin 1987): with ``b^`` the OLS fit on the subjects observed at the visit, ``df = n_obs - p``,
``s*^2 = RSS / g`` with ``g ~ chi^2(df)``, ``b* = b^ + s* L z`` with ``L L' = (X'X)^-1``, and
``y* = X_mis b* + s* e``; ``z, e ~ N(0, I)`` from a seeded ``numpy.random.Generator``. Unlike
mice we add no ridge penalty (a rank-deficient model is refused instead). For a monotone
(dropout) pattern this is the exact sequential regression method (Rubin 1987; SAS PROC MI
MONOTONE REG); intermittent gaps are filled in the same one pass, their imputed values then
serving as predictors for later visits (as one sweep of mice with a monotone visit sequence).

Analysis: ``mi_ancova`` fits ``atopic.trial.analyze.ancova`` on each completed data set at one
visit; ``mi_responder`` derives the responder flag from the completed values and computes the
CMH-weighted risk difference with its Sato variance (``binary.sato_variance``). Both pool with
``rubin_pool``: ``Q = mean q_i``, ``U = mean u_i``, ``B = var(q_i)``, ``T = U + (1 + 1/m) B``;
df by Barnard & Rubin (1999) Biometrika 86:948 with the complete-data df (the ANCOVA residual df;
infinite for the large-sample risk difference), exactly as R ``mice::pool`` (3.15), including
mice's floor of 1e-4 on ``lambda = (1 + 1/m) B / T``.

LOCF is a derivation (``atopic.trial.derive.impute``), not repeated here.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

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
from atopic.trial.analyze.ancova import ancova
from atopic.trial.analyze.binary import sato_variance
from atopic.trial.ard import ArdRow, rows

SUBJECT = "multiple imputation"


@dataclass(frozen=True)
class PooledEstimate:
    """One estimate pooled over m imputations by Rubin's rules (R ``mice::pool`` names)."""

    estimate: float
    ubar: float
    b: float
    t: float
    se: float
    df: float
    riv: float
    lambda_: float
    fmi: float
    ci_lower: float
    ci_upper: float
    statistic: float
    p_value: float
    m: int
    dfcom: float

    def stats(self, conf_level: float) -> dict[str, float]:
        """The ARD statistics of this estimate."""
        return {
            "estimate": self.estimate,
            "se": self.se,
            "df": self.df,
            "ci_lower": self.ci_lower,
            "ci_upper": self.ci_upper,
            "conf_level": conf_level,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "fmi": self.fmi,
            "m": self.m,
        }


def rubin_pool(
    estimates: Sequence[float],
    variances: Sequence[float],
    dfcom: float = math.inf,
    conf_level: float = 0.95,
) -> PooledEstimate:
    """Pool m complete-data estimates and variances by Rubin's rules (Rubin 1987, ch. 3).

    ``T = U + (1 + 1/m) B``; Barnard-Rubin df ``nu = nu_old nu_obs / (nu_old + nu_obs)`` with
    ``nu_old = (m - 1) / lambda^2``, ``nu_obs = (dfcom + 1)/(dfcom + 3) dfcom (1 - lambda)``
    (``nu_old`` alone when ``dfcom`` is infinite); ``riv = (1 + 1/m) B / U``;
    ``fmi = (riv + 2/(nu + 3)) / (riv + 1)``; t CI and two-sided p-value with ``nu`` df. As
    R ``mice::pool`` / ``pool.scalar`` 3.15. Means and B are computed exactly and rounded once.
    """
    level = check_conf_level(conf_level, SUBJECT)
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    m = len(q)
    if m < 2 or len(u) != m:
        raise InvalidInput(
            SUBJECT,
            "estimates",
            Described(f"{m} estimates and {len(u)} variances"),
            "at least 2 of each, as many variances as estimates",
        )
    if not (np.isfinite(q).all() and np.isfinite(u).all()) or (u < 0).any():
        raise InvalidInput(
            SUBJECT, "variances", Described("non-finite or negative values"), "finite, >= 0"
        )
    if not (dfcom > 0):
        raise InvalidInput(
            SUBJECT, "dfcom", dfcom, "positive (math.inf for large-sample statistics)"
        )
    # Exact arithmetic, rounded once (Python's statistics module): m equal estimates pool to
    # that estimate with B = 0 exactly, where a float mean of three equal values can be an ulp off.
    qs = q.tolist()
    qbar, ubar, b = statistics.mean(qs), statistics.mean(u.tolist()), statistics.variance(qs)
    t = ubar + (1 + 1 / m) * b
    lam = max((1 + 1 / m) * b / t, 1e-4) if t > 0 else 1e-4
    df_old = (m - 1) / lam**2
    if math.isinf(dfcom):
        df = df_old
    else:
        df_obs = (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lam)
        df = df_old * df_obs / (df_old + df_obs)
    riv = (1 + 1 / m) * b / ubar if ubar > 0 else math.inf
    fmi = (riv + 2 / (df + 3)) / (riv + 1)
    se = math.sqrt(t)
    tq = float(stats.t.ppf(1 - (1 - level) / 2, df))
    stat = qbar / se if se > 0 else math.nan
    p = float(2 * stats.t.sf(abs(stat), df)) if se > 0 else math.nan
    return PooledEstimate(
        estimate=qbar,
        ubar=ubar,
        b=b,
        t=t,
        se=se,
        df=df,
        riv=riv,
        lambda_=(1 + 1 / m) * b / t if t > 0 else math.nan,
        fmi=fmi,
        ci_lower=qbar - tq * se,
        ci_upper=qbar + tq * se,
        statistic=stat,
        p_value=p,
        m=m,
        dfcom=dfcom,
    )


def draw_normal_regression(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, float]:
    """One posterior draw ``(b*, s*)`` of a normal linear regression (flat prior).

    van Buuren (2018) Algorithm 3.1 (mice ``.norm.draw`` without its ridge):
    ``s*^2 = RSS / chi^2(n - p)``, ``b* = b^ + s* chol((X'X)^-1) z``.
    """
    n, p = x.shape
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ x.T @ y
    rss = float(np.sum((y - x @ beta) ** 2))
    sigma = math.sqrt(rss / rng.chisquare(n - p))
    chol = np.linalg.cholesky(xtx_inv)
    return beta + sigma * (chol @ rng.standard_normal(p)), sigma


def _dummies(labels: Sequence[str]) -> np.ndarray:
    levels = sorted(set(labels))
    arr = np.asarray(labels)
    return np.column_stack(
        [(arr == lv).astype(float) for lv in levels[1:]] or [np.zeros((len(arr), 0))]
    )


def impute_mar(
    data: Any,
    *,
    visits: Sequence[str],
    m: int,
    seed: int,
    group: str = "TRT01P",
    by: Sequence[str] | None = None,
    strata: Sequence[str] = (),
    subject: str = "USUBJID",
    visit: str = "AVISIT",
    aval: str = "AVAL",
    base: str = "BASE",
) -> pl.DataFrame:
    """Complete ``aval`` at the post-baseline ``visits`` m times (module docstring).

    ``data``: BDS rows of one PARAMCD (post-baseline visits; absent visits may be missing rows or
    rows with null AVAL, DTYPE null or "PHANTOM"; rows imputed otherwise, e.g. LOCF or NRI, are
    refused). Subject-level columns (``group``, ``by``, ``strata``, ``base``) must be complete.
    Returns one row per imputation x subject x visit: ``IMPNUM`` (1..m), the subject columns,
    ``visit``, ``aval``, ``CHG``, ``PCHG`` (null when BASE = 0) and ``DTYPE`` ("MI" on imputed rows).
    """
    if isinstance(m, bool) or not isinstance(m, int) or m < 2:
        raise InvalidInput(SUBJECT, "m", m, "an integer >= 2")
    by_cols = [group] if by is None else list(by)
    frame = to_polars(data, SUBJECT)
    keys = list(dict.fromkeys([subject, group, *by_cols, *strata, base]))
    require_columns(frame, SUBJECT, [*keys, visit, aval])
    if "DTYPE" in frame.columns:
        other = frame.filter(pl.col("DTYPE").is_not_null() & (pl.col("DTYPE") != "PHANTOM"))
        if other.height:
            raise InvalidInput(
                SUBJECT, "DTYPE", other.item(0, "DTYPE"), 'null or "PHANTOM" (observed rows only)'
            )
    frame = frame.filter(pl.col(visit).is_in(list(visits)))
    no_nulls(frame, SUBJECT, keys)
    dup = frame.group_by(subject, visit).len().filter(pl.col("len") > 1)
    if dup.height:
        raise InvalidInput(
            SUBJECT,
            f"{subject} x {visit}",
            Described(f"{dup.item(0, subject)} at {dup.item(0, visit)} {dup.item(0, 'len')} times"),
            "one row per subject and visit (select with ANL01FL first)",
        )
    subjects = frame.select(keys).unique(maintain_order=True)
    if subjects.get_column(subject).is_duplicated().any():
        raise InvalidInput(
            SUBJECT, subject, Described("subject-level columns vary"), "constant per subject"
        )
    wide = subjects.join(
        frame.select(subject, visit, aval).pivot(on=visit, index=subject, values=aval),
        on=subject,
        how="left",
    )
    y = np.column_stack(
        [
            wide.get_column(v).cast(pl.Float64).to_numpy()
            if v in wide.columns
            else np.full(wide.height, np.nan)
            for v in visits
        ]
    ).astype(float)
    missing = np.isnan(y)
    baseline = wide.get_column(base).cast(pl.Float64).to_numpy()
    strata_x = np.column_stack(
        [np.ones(wide.height)]
        + [_dummies(wide.get_column(s).cast(pl.String).to_list()) for s in strata]
    )
    cells = stratum_labels(wide, by_cols)
    rng = np.random.default_rng(seed)
    completed = []
    for _ in range(m):
        yi = y.copy()
        for t, vname in enumerate(visits):
            for cell in sorted(set(cells)):
                in_cell = np.array([c == cell for c in cells])
                x = np.column_stack([strata_x, baseline, yi[:, :t]])[in_cell]
                keep = np.ptp(x, axis=0) > 0
                keep[0] = True  # intercept; strata dummies constant within the cell are dropped
                x = x[:, keep]
                obs = ~missing[in_cell, t]
                if obs.all():
                    continue
                if obs.sum() <= x.shape[1] or np.linalg.matrix_rank(x[obs]) < x.shape[1]:
                    raise InvalidInput(
                        SUBJECT,
                        f"{'/'.join(by_cols)} {cell} at {vname}",
                        Described(
                            f"{int(obs.sum())} observed values for {x.shape[1]} coefficients"
                        ),
                        "more observed subjects than regression coefficients (full rank)",
                    )
                beta, sigma = draw_normal_regression(x[obs], yi[in_cell, t][obs], rng)
                rows_mis = np.flatnonzero(in_cell)[~obs]
                yi[rows_mis, t] = x[~obs] @ beta + sigma * rng.standard_normal(len(rows_mis))
        completed.append(yi)
    out = []
    for j, yi in enumerate(completed, start=1):
        for t, vname in enumerate(visits):
            out.append(
                wide.select(keys).with_columns(
                    IMPNUM=pl.lit(j, dtype=pl.Int32),
                    **{visit: pl.lit(vname), aval: pl.Series(yi[:, t])},
                    DTYPE=pl.Series(
                        ["MI" if miss else None for miss in missing[:, t]], dtype=pl.String
                    ),
                )
            )
    result = pl.concat(out)
    return result.with_columns(
        CHG=pl.col(aval) - pl.col(base),
        PCHG=pl.when(pl.col(base) != 0).then(
            100 * (pl.col(aval) - pl.col(base)) / pl.col(base).abs()
        ),
    ).select("IMPNUM", *keys, visit, aval, "CHG", "PCHG", "DTYPE")


@dataclass(frozen=True)
class MiResult:
    """Pooled results: per comparison (arm vs control) and, for ANCOVA, per arm LS means."""

    analysis: str
    contrasts: dict[str, PooledEstimate]
    lsmeans: dict[str, PooledEstimate]
    comparator: str
    conf_level: float
    m: int

    def ard(self, paramcd: str, avisit: str | None = None) -> list[ArdRow]:
        """ARD rows (ANALYSIS ``MI-ANCOVA`` or ``MI-CMH-RD``): pooled estimate, se, df, CI,
        statistic, p_value, fmi and m per comparison; pooled ``lsmean`` per arm for ANCOVA."""
        out: list[ArdRow] = []
        keys: dict[str, Any] = {"paramcd": paramcd, "avisit": avisit}
        for g, p in self.lsmeans.items():
            values = p.stats(self.conf_level)
            values["lsmean"] = values.pop("estimate")
            for k in ("statistic", "p_value"):
                values.pop(k)
            out += rows(self.analysis, values, group=g, **keys)
        for g, p in self.contrasts.items():
            out += rows(
                self.analysis, p.stats(self.conf_level), group=g, comparator=self.comparator, **keys
            )
        return out


def _imputations(completed: pl.DataFrame) -> list[pl.DataFrame]:
    require_columns(completed, SUBJECT, ["IMPNUM"])
    return [
        completed.filter(pl.col("IMPNUM") == j)
        for j in sorted(completed.get_column("IMPNUM").unique())
    ]


def mi_ancova(
    completed: Any,
    *,
    control: str,
    response: str = "CHG",
    group: str = "TRT01P",
    covariates: Sequence[str] = ("BASE",),
    strata: Sequence[str] = (),
    conf_level: float = 0.95,
) -> MiResult:
    """ANCOVA (``ancova``) on each imputation of one visit, pooled by ``rubin_pool`` with the
    residual df as complete-data df. ``completed``: ``impute_mar`` output filtered to the visit."""
    level = check_conf_level(conf_level, SUBJECT)
    fits = [
        ancova(
            d,
            control=control,
            response=response,
            group=group,
            covariates=covariates,
            strata=strata,
            conf_level=level,
        )
        for d in _imputations(to_polars(completed, SUBJECT))
    ]
    contrasts = {
        c.group: rubin_pool(
            [f.contrasts[i].estimate for f in fits],
            [f.contrasts[i].se ** 2 for f in fits],
            c.df,
            level,
        )
        for i, c in enumerate(fits[0].contrasts)
    }
    lsmeans = {
        ls.group: rubin_pool(
            [f.lsmeans[i].estimate for f in fits],
            [f.lsmeans[i].se ** 2 for f in fits],
            ls.df,
            level,
        )
        for i, ls in enumerate(fits[0].lsmeans)
    }
    return MiResult("MI-ANCOVA", contrasts, lsmeans, control, level, len(fits))


def mi_responder(
    completed: Any,
    *,
    control: str,
    criterion: pl.Expr,
    group: str = "TRT01P",
    strata: Sequence[str] = (),
    conf_level: float = 0.95,
) -> MiResult:
    """Responder flag ``criterion`` (a Polars expression, e.g. ``pl.col("PCHG") <= -75``) on each
    imputation of one visit, CMH-weighted risk difference (Sato variance) per arm vs control,
    pooled by ``rubin_pool`` with infinite complete-data df. Strata lacking an arm are dropped
    from that comparison (as in ``binary``)."""
    level = check_conf_level(conf_level, SUBJECT)
    frame = to_polars(completed, SUBJECT)
    require_columns(frame, SUBJECT, [group, *strata])
    groups = ordered_groups(
        sorted(set(frame.get_column(group).cast(pl.String).to_list())), control, None
    )
    check_control(groups, control, SUBJECT, group)
    per_arm: dict[str, tuple[list[float], list[float]]] = {g: ([], []) for g in groups[1:]}
    for d in _imputations(frame):
        flag = d.select(criterion.alias("_r")).get_column("_r")
        if flag.null_count():
            raise InvalidInput(
                SUBJECT,
                "criterion",
                Described(f"{flag.null_count()} null flags"),
                "true or false for every row",
            )
        resp = flag.cast(pl.Int64).to_numpy()
        arms = np.asarray(d.get_column(group).cast(pl.String).to_list())
        labels = np.asarray(stratum_labels(d, strata))
        levels = sorted(set(labels.tolist()))
        count = {
            g: (
                [int(resp[(arms == g) & (labels == s)].sum()) for s in levels],
                [int(((arms == g) & (labels == s)).sum()) for s in levels],
            )
            for g in groups
        }
        for g in groups[1:]:
            keep = [
                k for k in range(len(levels)) if count[g][1][k] > 0 and count[control][1][k] > 0
            ]
            est, var = sato_variance(*([v[k] for k in keep] for v in (*count[g], *count[control])))
            per_arm[g][0].append(est)
            per_arm[g][1].append(var)
    contrasts = {g: rubin_pool(q, u, math.inf, level) for g, (q, u) in per_arm.items()}
    return MiResult("MI-CMH-RD", contrasts, {}, control, level, len(_imputations(frame)))
