"""Input checks, row exclusion and the fixed-effects design matrix of the MMRM.

Design (treatment coding, as R's ``contr.treatment``; columns in the order and with the names R's
``model.matrix`` gives ``y ~ group*visit + cov*visit + strata``):
``(Intercept)``, ``<group><level>`` for each non-reference arm, ``<visit><level>`` for each visit
after the first, each covariate, ``<stratum><level>`` for each non-first (sorted) stratum level,
``<group><level>:<visit><level>``, then ``<visit><level>:<covariate>`` for the covariates in
``visit_interactions``.

Exclusions: a row is used when subject, group, visit, response, every covariate and every stratum
are present (and numeric values finite). Excluded rows are counted by reason: ``"missing
response"`` (the MAR missing visits, when everything else is present) and ``"missing covariate"``
(any of the others absent).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import narwhals as nw
import numpy as np
import polars as pl
from numpy.typing import NDArray

from atopic.errors import InvalidInput
from atopic.trial.analyze.mmrm.likelihood import Pattern

SUBJECT = "MMRM"


def to_polars(data: object) -> pl.DataFrame:
    """A Polars frame from Polars, pandas or any eager frame Narwhals knows."""
    if isinstance(data, pl.DataFrame):
        return data
    try:
        return nw.from_native(data, eager_only=True).to_polars()
    except TypeError as exc:
        raise InvalidInput(
            SUBJECT, "data", data, "a Polars DataFrame (or pandas/any eager frame)"
        ) from exc


def _natural_key(label: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", label)]


@dataclass
class Design:
    """The analysed data: patterns, column names and the factor levels."""

    patterns: list[Pattern]
    columns: list[str]
    groups: list[str]
    visits: list[str]
    strata_levels: dict[str, list[str]]
    covariate_means: dict[str, float]
    n_subjects: int
    n_obs: int
    excluded: dict[str, int]
    x_rows: NDArray[np.float64]
    y: NDArray[np.float64]
    visit_idx: NDArray[np.int64]
    subject_idx: NDArray[np.int64]
    group_of_subject: list[str] = field(default_factory=list)


def build_design(
    data: pl.DataFrame,
    *,
    response: str,
    subject: str,
    visit: str,
    group: str,
    covariates: Sequence[str],
    visit_interactions: Sequence[str],
    strata: Sequence[str],
    visit_order: Sequence[str] | None,
    reference: str | None,
) -> Design:
    """Check the columns, exclude incomplete rows (counted) and build the design by pattern."""
    covariates, strata, inter = list(covariates), list(strata), list(visit_interactions)
    needed = [response, subject, visit, group, *covariates, *strata]
    for col in needed:
        if col not in data.columns:
            raise InvalidInput(SUBJECT, "column", col, f"a column of the data ({data.columns})")
    for col in [response, *covariates]:
        if not data.schema[col].is_numeric():
            raise InvalidInput(SUBJECT, col, str(data.schema[col]), "a numeric column")
    for col in inter:
        if col not in covariates:
            raise InvalidInput(
                SUBJECT, "visit_interactions", col, f"one of covariates {covariates}"
            )
    if len(set(needed)) != len(needed):
        raise InvalidInput(SUBJECT, "columns", needed, "distinct column names")
    frame = data.select(needed).with_columns(
        [pl.col(c).cast(pl.Float64).fill_nan(None) for c in [response, *covariates]]
        + [pl.col(c).cast(pl.String) for c in [subject, visit, group, *strata]]
    )
    others_ok = pl.all_horizontal([pl.col(c).is_not_null() for c in needed if c != response])
    used = frame.filter(others_ok & pl.col(response).is_not_null())
    excluded = {
        "missing response": frame.filter(others_ok & pl.col(response).is_null()).height,
        "missing covariate": frame.filter(~others_ok).height,
    }
    if used.height == 0:
        raise InvalidInput(SUBJECT, "data", f"{frame.height} rows", "rows with every value present")
    dup = used.group_by([subject, visit]).len().filter(pl.col("len") > 1)
    if dup.height:
        raise InvalidInput(
            SUBJECT,
            f"{subject} x {visit}",
            f"{dup.height} repeated subject-visit pairs",
            "one row per subject and visit",
        )
    present_visits = sorted(set(used[visit].to_list()), key=_natural_key)
    if visit_order is None:
        if f"{visit}N" in data.columns:
            order = (
                data.select(visit, f"{visit}N")
                .drop_nulls()
                .group_by(visit)
                .agg(pl.col(f"{visit}N").min())
                .sort(f"{visit}N")
            )
            visits = [v for v in order[visit].cast(pl.String).to_list() if v in present_visits]
        else:
            visits = present_visits
    else:
        visits = [str(v) for v in visit_order]
        missing = [v for v in present_visits if v not in visits]
        if missing:
            raise InvalidInput(SUBJECT, "visit_order", visits, f"a list containing {missing}")
        visits = [v for v in visits if v in present_visits]
    arms = sorted(set(used[group].to_list()))
    if reference is None:
        placebo = [a for a in arms if "placebo" in a.lower()]
        reference = placebo[0] if len(placebo) == 1 else arms[0]
    if reference not in arms:
        raise InvalidInput(SUBJECT, "reference", reference, f"one of {arms}")
    if len(arms) < 2:
        raise InvalidInput(SUBJECT, group, arms, "at least two arms")
    groups = [reference] + [a for a in arms if a != reference]
    strata_levels = {s: sorted(set(used[s].to_list())) for s in strata}

    y = used[response].to_numpy().astype(float)
    vis = np.array([visits.index(v) for v in used[visit].to_list()], dtype=np.int64)
    grp = np.array([groups.index(g) for g in used[group].to_list()], dtype=np.int64)
    covs = {c: used[c].to_numpy().astype(float) for c in covariates}
    means = {c: float(np.mean(v)) for c, v in covs.items()}
    cols: list[str] = ["(Intercept)"]
    parts: list[NDArray[np.float64]] = [np.ones(len(y))]
    for j, g in enumerate(groups[1:], start=1):
        cols.append(f"{group}{g}")
        parts.append((grp == j).astype(float))
    for j, v in enumerate(visits[1:], start=1):
        cols.append(f"{visit}{v}")
        parts.append((vis == j).astype(float))
    for c in covariates:
        cols.append(c)
        parts.append(covs[c])
    for s in strata:
        values = used[s].to_list()
        for lev in strata_levels[s][1:]:
            cols.append(f"{s}{lev}")
            parts.append(np.array([x == lev for x in values], dtype=float))
    for j, v in enumerate(visits[1:], start=1):
        for i, g in enumerate(groups[1:], start=1):
            cols.append(f"{group}{g}:{visit}{v}")
            parts.append(((grp == i) & (vis == j)).astype(float))
    for c in inter:
        for j, v in enumerate(visits[1:], start=1):
            cols.append(f"{visit}{v}:{c}")
            parts.append((vis == j) * covs[c])
    x = np.column_stack(parts)

    subjects, subj_idx = np.unique(np.array(used[subject].to_list()), return_inverse=True)
    order = np.lexsort((vis, subj_idx))
    x, y, vis, subj_idx = x[order], y[order], vis[order], subj_idx[order]
    n_sub, t_all = len(subjects), len(visits)
    mask = np.zeros((n_sub, t_all), dtype=bool)
    mask[subj_idx, vis] = True
    code = mask @ (1 << np.arange(t_all))
    patterns: list[Pattern] = []
    starts = np.searchsorted(subj_idx, np.arange(n_sub))
    for c in np.unique(code):
        members = np.flatnonzero(code == c)
        vis_g = np.flatnonzero(mask[members[0]])
        t = len(vis_g)
        rows = (starts[members][:, None] + np.arange(t)[None, :]).ravel()
        patterns.append(
            Pattern(vis_g, y[rows].reshape(len(members), t), x[rows].reshape(len(members), t, -1))
        )
    return Design(
        patterns=patterns,
        columns=cols,
        groups=groups,
        visits=visits,
        strata_levels=strata_levels,
        covariate_means=means,
        n_subjects=n_sub,
        n_obs=len(y),
        excluded=excluded,
        x_rows=x,
        y=y,
        visit_idx=vis,
        subject_idx=subj_idx,
    )


def lsmean_vector(
    design: Design,
    group_name: str,
    visit_name: str,
    *,
    group: str,
    visit: str,
    covariates: Sequence[str],
    visit_interactions: Sequence[str],
    strata: Sequence[str],
) -> NDArray[np.float64]:
    """The row L of the LS mean of one arm at one visit, as emmeans builds it by default.

    emmeans' reference grid: numeric covariates at their mean over the rows used in the fit
    (``cov.reduce = mean``; one value for all visits, also in covariate x visit terms); strata
    averaged with equal weights over their levels (``weights = "equal"``).
    """
    values: dict[str, float] = {"(Intercept)": 1.0}
    values[f"{group}{group_name}"] = 1.0
    values[f"{visit}{visit_name}"] = 1.0
    for c in covariates:
        values[c] = design.covariate_means[c]
    for s in strata:
        levels = design.strata_levels[s]
        for lev in levels[1:]:
            values[f"{s}{lev}"] = 1.0 / len(levels)
    values[f"{group}{group_name}:{visit}{visit_name}"] = 1.0
    for c in visit_interactions:
        values[f"{visit}{visit_name}:{c}"] = design.covariate_means[c]
    return np.array([values.get(col, 0.0) for col in design.columns])
