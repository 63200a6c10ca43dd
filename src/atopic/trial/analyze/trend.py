"""Dose-response trend of a responder rate: the Cochran-Armitage test.

With dose groups i (score ``s_i``, ``x_i`` responders of ``n_i``), ``N = sum n_i``,
``p = sum x_i / N`` and ``s_bar = sum n_i s_i / N``:

    Z^2 = [sum x_i (s_i - s_bar)]^2 / [p (1 - p) sum n_i (s_i - s_bar)^2]  =  N r^2

where ``r`` is the Pearson correlation of score and response over subjects (Cochran 1954,
Biometrics 10:417; Armitage 1955, Biometrics 11:375; R ``prop.trend.test``). The
linear-by-linear association statistic is ``M^2 = (N - 1) r^2`` (Agresti 2013, Categorical Data
Analysis, 3rd ed., sec. 3.4.1; the variance under the permutation null). Both refer to chi-square
with 1 df; ``z`` is the signed root (positive when the rate rises with the score).

Scores are the doses by default (the design's doses, placebo 0), as ``prop.trend.test(score=)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl
from scipy import stats

from atopic.errors import Described, InvalidInput
from atopic.trial.analyze._frames import no_nulls, require_columns, to_polars
from atopic.trial.analyze.binary import _responses
from atopic.trial.ard import ArdRow, rows

SUBJECT = "trend test"
Variant = Literal["cochran-armitage", "linear-by-linear"]


@dataclass(frozen=True)
class TrendResult:
    """Trend statistic (chi-square, 1 df), its signed root ``z`` and the two-sided p-value."""

    variant: Variant
    statistic: float
    z: float
    p_value: float
    big_n: int

    def ard(self, paramcd: str, avisit: str | None = None) -> list[ArdRow]:
        """ARD rows, ANALYSIS ``TREND-CA`` or ``TREND-LBL``: statistic, z, df, p_value, N."""
        analysis = "TREND-CA" if self.variant == "cochran-armitage" else "TREND-LBL"
        values = {
            "statistic": self.statistic,
            "z": self.z,
            "df": 1,
            "p_value": self.p_value,
            "N": self.big_n,
        }
        reason = "no variance: every subject responds or none does"
        return rows(analysis, values, paramcd=paramcd, avisit=avisit, reason=reason)


def cochran_armitage(
    x: Sequence[int],
    n: Sequence[int],
    scores: Sequence[float],
    variant: Variant = "cochran-armitage",
) -> TrendResult:
    """Cochran-Armitage trend test from responders ``x``, group sizes ``n`` and group ``scores``.

    See the module docstring for the formula (R ``prop.trend.test(x, n, score = scores)`` for the
    default variant). NaN statistic when every subject responds or none does.
    """
    if variant not in ("cochran-armitage", "linear-by-linear"):
        raise InvalidInput(SUBJECT, "variant", variant, '"cochran-armitage" or "linear-by-linear"')
    if not len(x) == len(n) == len(scores):
        raise InvalidInput(
            SUBJECT, "x, n, scores", Described("lengths differ"), "three sequences of one length"
        )
    xs, ns, ss = (np.asarray(v, dtype=float) for v in (x, n, scores))
    for name, arr in (("x", xs), ("n", ns), ("scores", ss)):
        bad = ~np.isfinite(arr)
        if bad.any():
            raise InvalidInput(SUBJECT, name, float(arr[bad][0]), "finite numbers")
    if (ns <= 0).any():
        raise InvalidInput(SUBJECT, "n", float(ns[ns <= 0][0]), "positive group sizes")
    if ((xs < 0) | (xs > ns)).any():
        bad_x = float(xs[(xs < 0) | (xs > ns)][0])
        raise InvalidInput(SUBJECT, "x", bad_x, "between 0 and the group size n")
    if len(set(ss.tolist())) < 2:
        raise InvalidInput(SUBJECT, "scores", ss.tolist(), "at least two different scores")
    big_n = float(ns.sum())
    p = xs.sum() / big_n
    s_bar = float(np.sum(ns * ss) / big_n)
    num = float(np.sum(xs * (ss - s_bar)))
    den = p * (1 - p) * float(np.sum(ns * (ss - s_bar) ** 2))
    if den <= 0:
        return TrendResult(variant, math.nan, math.nan, math.nan, int(big_n))
    chisq = num**2 / den
    if variant == "linear-by-linear":
        chisq *= (big_n - 1) / big_n
    z = math.copysign(math.sqrt(chisq), num)
    return TrendResult(variant, chisq, z, float(stats.chi2.sf(chisq, 1)), int(big_n))


def trend_test(
    data: Any,
    *,
    scores: Mapping[str, float],
    response: str = "CRIT1FL",
    group: str = "TRT01P",
    missing: Literal["error", "nri"] = "error",
    variant: Variant = "cochran-armitage",
) -> TrendResult:
    """Cochran-Armitage trend of a responder flag over arms scored by ``scores`` (arm -> dose).

    ``data`` has one row per subject with ``group`` and ``response`` ("Y"/"N"/null; nulls refused
    unless ``missing="nri"``). Every arm present must have a score.
    """
    frame = to_polars(data, SUBJECT)
    require_columns(frame, SUBJECT, [group, response])
    no_nulls(frame, SUBJECT, [group])
    if missing not in ("error", "nri"):
        raise InvalidInput(SUBJECT, "missing", missing, '"error" or "nri"')
    resp, _ = _responses(frame, response, missing)
    arms = frame.get_column(group).cast(pl.String).to_list()
    for arm in sorted(set(arms)):
        if arm not in scores:
            raise InvalidInput(SUBJECT, f"scores[{arm!r}]", None, "a score (dose) for every arm")
    levels = [a for a in scores if a in set(arms)]
    x = [int(sum(r for a, r in zip(arms, resp, strict=True) if a == lv)) for lv in levels]
    n = [arms.count(lv) for lv in levels]
    return cochran_armitage(x, n, [float(scores[lv]) for lv in levels], variant)
