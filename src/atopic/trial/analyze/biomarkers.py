"""Biomarkers (IgE, eosinophils): geometric mean ratio to baseline by arm and between arms.

Per arm (one row a subject, one visit, one PARAMCD): ``l_i = log(AVAL_i / BASE_i)``,
``GMR = exp(mean l)`` with the t interval ``exp(mean l +/- t(1 - a/2, n - 1) sd(l) / sqrt(n))``
(R ``exp(t.test(log(AVAL / BASE))$conf.int)``).

Between arms: ANCOVA of ``log(AVAL / BASE)`` on arm + ``log(BASE)`` (+ strata), as
``atopic.trial.analyze.ancova`` (emmeans LS means); ``exp(LS mean)`` is the adjusted GMR of an
arm and ``exp(difference)`` the ratio of GMRs arm / control with its exponentiated t CI (R
``lm(log(AVAL / BASE) ~ arm + log(BASE) + ...)`` + emmeans). Because ``log BASE`` is a covariate,
the arm contrasts equal those of ``log(AVAL) ~ arm + log(BASE)``. Bland & Altman (1996) BMJ
312:1079 (log-transformed data).

Rows with a missing AVAL or BASE are excluded and counted. Zero or negative values have no
logarithm: refused (``nonpositive="error"``, the default) or set aside in ``rejects`` with the
reason and counted in the ARD (``nonpositive="reject"``); never dropped silently.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

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
    to_polars,
)
from atopic.trial.analyze.ancova import AncovaResult, fit_ancova
from atopic.trial.ard import ArdRow, rows

SUBJECT = "geometric mean ratio"


@dataclass(frozen=True)
class ArmGmr:
    """Unadjusted GMR to baseline of one arm: ``n``, mean and SD of log ratios, GMR and t CI."""

    group: str
    n: int
    mean_log: float
    sd_log: float
    gmr: float
    ci_lower: float
    ci_upper: float


@dataclass(frozen=True)
class GmrResult:
    """GMRs by arm, the log-scale ANCOVA between arms, and the rejected rows."""

    arms: tuple[ArmGmr, ...]
    model: AncovaResult
    rejects: pl.DataFrame
    n_missing: int
    conf_level: float

    def ard(self, paramcd: str, avisit: str | None = None) -> list[ArdRow]:
        """ARD rows: ``GMR`` (per arm: N, gmr, ci, sd of logs), ``GMR-ANCOVA`` (per arm adjusted
        gmr with CI; per comparison ratio of GMRs as ``estimate`` with CI, t ``statistic``, df,
        ``p_value``; model N, ``n_excluded`` (missing), ``n_rejected`` (non-positive))."""
        keys: dict[str, Any] = {"paramcd": paramcd, "avisit": avisit}
        level = self.conf_level
        out: list[ArdRow] = []
        for a in self.arms:
            values = {
                "N": a.n,
                "gmr": a.gmr,
                "ci_lower": a.ci_lower,
                "ci_upper": a.ci_upper,
                "conf_level": level,
                "sd_log": a.sd_log,
            }
            out += rows("GMR", values, group=a.group, reason="fewer than 2 subjects", **keys)
        for m in self.model.lsmeans:
            values = {
                "gmr": math.exp(m.estimate),
                "ci_lower": math.exp(m.ci_lower),
                "ci_upper": math.exp(m.ci_upper),
                "conf_level": level,
                "N": m.n,
            }
            out += rows("GMR-ANCOVA", values, group=m.group, **keys)
        for c in self.model.contrasts:
            values = {
                "estimate": math.exp(c.estimate),
                "ci_lower": math.exp(c.ci_lower),
                "ci_upper": math.exp(c.ci_upper),
                "conf_level": level,
                "statistic": c.statistic,
                "df": c.df,
                "p_value": c.p_value,
            }
            out += rows("GMR-ANCOVA", values, group=c.group, comparator=c.comparator, **keys)
        model = {
            "N": self.model.n_used,
            "n_excluded": self.n_missing,
            "n_rejected": self.rejects.height,
        }
        return out + rows("GMR-ANCOVA", model, **keys)


def _arm_gmr(group: str, logs: np.ndarray, conf_level: float) -> ArmGmr:
    n = len(logs)
    mean = float(np.mean(logs)) if n else math.nan
    if n < 2:
        return ArmGmr(
            group, n, mean, math.nan, math.exp(mean) if n else math.nan, math.nan, math.nan
        )
    sd = float(np.std(logs, ddof=1))
    half = float(stats.t.ppf(1 - (1 - conf_level) / 2, n - 1)) * sd / math.sqrt(n)
    return ArmGmr(group, n, mean, sd, math.exp(mean), math.exp(mean - half), math.exp(mean + half))


def geometric_mean_ratio(
    data: Any,
    *,
    control: str,
    group: str = "TRT01P",
    aval: str = "AVAL",
    base: str = "BASE",
    strata: Sequence[str] = (),
    conf_level: float = 0.95,
    nonpositive: Literal["error", "reject"] = "error",
    order: Sequence[str] | None = None,
) -> GmrResult:
    """GMR of ``aval`` to ``base`` per arm and ratio of GMRs arm / ``control`` (module docstring).

    ``data``: one row per subject for one PARAMCD (IGE in IU/mL, EOS in 10^9/L; the ratio has no
    unit) and one AVISIT.

    Example: ``geometric_mean_ratio(ige_w12, control="PBO").ard("IGE", "WEEK 12")``.
    """
    level = check_conf_level(conf_level, SUBJECT)
    if nonpositive not in ("error", "reject"):
        raise InvalidInput(SUBJECT, "nonpositive", nonpositive, '"error" or "reject"')
    frame = to_polars(data, SUBJECT).with_row_index("_row")
    require_columns(frame, SUBJECT, [group, aval, base, *strata])
    no_nulls(frame, SUBJECT, [group, *strata])
    complete = frame.drop_nulls([aval, base])
    n_missing = frame.height - complete.height
    bad = complete.filter((pl.col(aval) <= 0) | (pl.col(base) <= 0))
    if bad.height and nonpositive == "error":
        row = bad.row(0, named=True)
        column = aval if row[aval] <= 0 else base
        raise InvalidInput(
            SUBJECT,
            f"{column} (row {row['_row']})",
            row[column],
            'positive (a logarithm is taken); pass nonpositive="reject" to set such rows aside',
        )
    rejects = bad.with_columns(
        reason=pl.format("{} or {} not positive: no logarithm", pl.lit(aval), pl.lit(base))
    ).drop("_row")
    used = complete.filter((pl.col(aval) > 0) & (pl.col(base) > 0))
    arms = used.get_column(group).cast(pl.String).to_list()
    present = sorted(set(arms))
    check_control(present, control, SUBJECT, group)
    groups = ordered_groups(present, control, order)
    a, b = (used.get_column(c).to_numpy().astype(float) for c in (aval, base))
    logs = np.log(a / b)
    arm_arr = np.asarray(arms)
    per_arm = tuple(_arm_gmr(g, logs[arm_arr == g], level) for g in groups)
    if used.height == 0:
        raise InvalidInput(SUBJECT, "data", Described("no usable rows"), "positive AVAL and BASE")
    model = fit_ancova(
        y=logs,
        arms=arms,
        groups=groups,
        covariates=np.log(b).reshape(-1, 1),
        covariate_names=[f"log({base})"],
        factors=[used.get_column(s).cast(pl.String).to_list() for s in strata],
        factor_names=list(strata),
        conf_level=level,
        n_excluded=n_missing + rejects.height,
    )
    return GmrResult(per_arm, model, rejects, n_missing, level)
