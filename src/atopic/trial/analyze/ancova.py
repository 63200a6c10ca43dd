"""ANCOVA of a continuous endpoint at one visit (CHG or PCHG): arm + baseline + strata.

Model (ordinary least squares, statsmodels ``OLS``):
    y = b0 + arm (treatment coding, control as reference) + covariates (continuous, e.g. BASE)
          + strata (factors, first level alphabetically as reference) + e,  e ~ N(0, s^2)

LS means follow emmeans' defaults (R ``emmeans(lm(...), "arm")``): the reference grid crosses every
arm with every level of every stratum factor, continuous covariates sit at their mean over the
analysed rows, and grid cells are weighted equally. The LS mean of arm g is ``c_g' b`` with
``c_g`` the grid average of the design rows, SE ``sqrt(c_g' V c_g)``, ``V = s^2 (X'X)^-1``, t with
the residual df. Differences to control are ``(c_g - c_0)' b`` (= the arm coefficient) with
unadjusted t tests and CIs, as ``contrast(emm, "trt.vs.ctrl", adjust = "none")`` (multiplicity is
the testing strategy's job, not this function's). Searle, Speed & Milliken (1980) Am Stat 34:216;
Lenth, emmeans.

Rows with a missing response or covariate are excluded and counted (``n_excluded``); a missing arm
or stratum is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import statsmodels.api as sm
from scipy import stats

from atopic.errors import Described, InvalidInput
from atopic.trial.analyze._frames import (
    check_conf_level,
    check_control,
    no_nulls,
    ordered_groups,
    require_columns,
    to_polars,
)
from atopic.trial.ard import ArdRow, rows

SUBJECT = "ANCOVA"


@dataclass(frozen=True)
class LsMean:
    """LS mean of one arm with SE, df and t confidence interval; ``n`` subjects analysed."""

    group: str
    estimate: float
    se: float
    df: float
    ci_lower: float
    ci_upper: float
    n: int


@dataclass(frozen=True)
class Contrast:
    """Difference of LS means ``group - comparator`` with SE, df, CI, t statistic and p-value."""

    group: str
    comparator: str
    estimate: float
    se: float
    df: float
    ci_lower: float
    ci_upper: float
    statistic: float
    p_value: float


@dataclass(frozen=True)
class AncovaResult:
    """Fitted ANCOVA: LS means per arm, differences to control, residual SD and df."""

    lsmeans: tuple[LsMean, ...]
    contrasts: tuple[Contrast, ...]
    sigma: float
    df_resid: float
    n_used: int
    n_excluded: int
    conf_level: float
    params: dict[str, float]

    def ard(
        self, paramcd: str, avisit: str | None = None, analysis: str = "ANCOVA"
    ) -> list[ArdRow]:
        """ARD rows: per arm ``lsmean``, se, df, CI, N; per comparison ``estimate``, se, df, CI,
        ``statistic`` (t), ``p_value``; whole model ``N`` used, ``n_excluded`` and residual ``sd``."""
        keys: dict[str, Any] = {"paramcd": paramcd, "avisit": avisit}
        level = self.conf_level
        out: list[ArdRow] = []
        for m in self.lsmeans:
            values = {
                "lsmean": m.estimate,
                "se": m.se,
                "df": m.df,
                "ci_lower": m.ci_lower,
                "ci_upper": m.ci_upper,
                "conf_level": level,
                "N": m.n,
            }
            out += rows(analysis, values, group=m.group, **keys)
        for c in self.contrasts:
            values = {
                "estimate": c.estimate,
                "se": c.se,
                "df": c.df,
                "ci_lower": c.ci_lower,
                "ci_upper": c.ci_upper,
                "conf_level": level,
                "statistic": c.statistic,
                "p_value": c.p_value,
            }
            out += rows(analysis, values, group=c.group, comparator=c.comparator, **keys)
        model = {"N": self.n_used, "n_excluded": self.n_excluded, "sd": self.sigma}
        return out + rows(analysis, model, **keys)


def fit_ancova(
    y: np.ndarray,
    arms: Sequence[str],
    groups: Sequence[str],
    covariates: np.ndarray,
    covariate_names: Sequence[str],
    factors: Sequence[Sequence[str]],
    factor_names: Sequence[str],
    conf_level: float = 0.95,
    n_excluded: int = 0,
) -> AncovaResult:
    """Fit the ANCOVA on complete arrays (see the module docstring); ``groups[0]`` is control.

    ``covariates`` is ``(n, p)``; ``factors`` holds one sequence of level labels per stratum factor.
    """
    n = len(y)
    cols: list[np.ndarray] = [np.ones(n)]
    names = ["Intercept"]
    arm_arr = np.asarray(arms)
    for g in groups[1:]:
        cols.append((arm_arr == g).astype(float))
        names.append(f"arm[{g}]")
    cov = np.asarray(covariates, dtype=float).reshape(n, -1)
    for j, name in enumerate(covariate_names):
        cols.append(cov[:, j])
        names.append(name)
    grid_means: list[float] = []
    for labels, fname in zip(factors, factor_names, strict=True):
        arr = np.asarray(labels)
        levels = sorted(set(arr.tolist()))
        for lv in levels[1:]:
            cols.append((arr == lv).astype(float))
            names.append(f"{fname}[{lv}]")
            grid_means.append(1.0 / len(levels))
    x = np.column_stack(cols)
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise InvalidInput(
            SUBJECT,
            "design",
            Described(f"{x.shape[1]} columns of rank {np.linalg.matrix_rank(x)}"),
            "a full-rank design (every arm and stratum level needs subjects; covariates not collinear)",
        )
    if n <= x.shape[1]:
        raise InvalidInput(
            SUBJECT,
            "data",
            Described(f"{n} complete rows"),
            f"more than {x.shape[1]} complete rows",
        )
    fit = sm.OLS(np.asarray(y, dtype=float), x).fit()
    beta, vcov, df = fit.params, fit.cov_params(), float(fit.df_resid)
    tq = float(stats.t.ppf(1 - (1 - conf_level) / 2, df))
    base_row = np.concatenate([[1.0], np.zeros(len(groups) - 1), cov.mean(axis=0), grid_means])

    def grid_row(index: int) -> np.ndarray:
        row = base_row.copy()
        if index > 0:
            row[index] = 1.0
        return row

    lsmeans = []
    for i, g in enumerate(groups):
        c = grid_row(i)
        est, se = float(c @ beta), float(np.sqrt(c @ vcov @ c))
        count = int((arm_arr == g).sum())
        lsmeans.append(LsMean(g, est, se, df, est - tq * se, est + tq * se, count))
    contrasts = []
    for i, g in enumerate(groups[1:], start=1):
        c = grid_row(i) - grid_row(0)
        est, se = float(c @ beta), float(np.sqrt(c @ vcov @ c))
        t = est / se
        p = float(2 * stats.t.sf(abs(t), df))
        contrasts.append(Contrast(g, groups[0], est, se, df, est - tq * se, est + tq * se, t, p))
    return AncovaResult(
        lsmeans=tuple(lsmeans),
        contrasts=tuple(contrasts),
        sigma=float(np.sqrt(fit.scale)),
        df_resid=df,
        n_used=n,
        n_excluded=n_excluded,
        conf_level=conf_level,
        params=dict(zip(names, (float(b) for b in beta), strict=True)),
    )


def ancova(
    data: Any,
    *,
    control: str,
    response: str = "CHG",
    group: str = "TRT01P",
    covariates: Sequence[str] = ("BASE",),
    strata: Sequence[str] = (),
    conf_level: float = 0.95,
    order: Sequence[str] | None = None,
) -> AncovaResult:
    """ANCOVA of ``response`` on arm + ``covariates`` + ``strata`` at one visit (one row a subject).

    Filter the BDS frame to one PARAMCD and AVISIT first. Units are those of ``response``.
    Same model and LS means as R ``emmeans(lm(CHG ~ TRT01P + BASE + strata), "TRT01P")``.

    Example: ``ancova(easi_w12, control="PBO", strata=["REGION", "IGABL"]).ard("EASI", "WEEK 12")``.
    """
    level = check_conf_level(conf_level, SUBJECT)
    frame = to_polars(data, SUBJECT)
    require_columns(frame, SUBJECT, [group, response, *covariates, *strata])
    no_nulls(frame, SUBJECT, [group, *strata])
    for column in (response, *covariates):
        if not frame.schema[column].is_numeric():
            raise InvalidInput(SUBJECT, column, Described(str(frame.schema[column])), "numeric")
    complete = frame.drop_nulls([response, *covariates]).filter(
        pl.all_horizontal(pl.col(c).is_finite() for c in (response, *covariates))
    )
    arms = complete.get_column(group).cast(pl.String).to_list()
    present = sorted(set(arms))
    empty = sorted(set(frame.get_column(group).cast(pl.String).to_list()) - set(present))
    if empty:
        raise InvalidInput(
            SUBJECT,
            f"{response} ({group} {empty[0]})",
            Described("no complete row"),
            "complete rows in every arm",
        )
    check_control(present, control, SUBJECT, group)
    groups = ordered_groups(present, control, order)
    return fit_ancova(
        y=complete.get_column(response).to_numpy().astype(float),
        arms=arms,
        groups=groups,
        covariates=complete.select(covariates).to_numpy().astype(float),
        covariate_names=list(covariates),
        factors=[complete.get_column(s).cast(pl.String).to_list() for s in strata],
        factor_names=list(strata),
        conf_level=level,
        n_excluded=frame.height - complete.height,
    )
