"""The course of each virtual subject: visit days, latent severity and itch, rescue, dropout.

The model and its parameters are documented in ``atopic.simulate.params``. Arrays are subjects x
scheduled visits (the design's ``[[visits.schedule]]``, baseline first); no Python loop over
subjects or visits.

Decisions
    * Visit days: baseline on its target day (the first-dose day, day 1, in the example designs);
      a later visit on its target day plus a rounded normal jitter with SD max(1, window width / 8),
      clipped into its analysis window, so every visit lands in its window.
    * Time on treatment ``t`` is (study day - 1) / 7 weeks.
    * Rescue is decided on the path without rescue (exact before the first rescue), at visits
      that are not missed; a rescue at or after the subject's discontinuation never happened.
    * The discontinuation day is uniform between the day after the last visit before it and
      the day before the next scheduled visit.
    * Itch is latent severity plus a subject offset (SD 0.08) and visit noise (SD 0.05), so that
      itch scores track but do not copy the signs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from atopic.simulate.cohort import Cohort
from atopic.simulate.params import Dropout, Effects, Rescue
from atopic.trial.design import Design

COMPLETED, ADVERSE_EVENT, LACK_OF_EFFICACY, WITHDRAWAL = 0, 1, 2, 3
REASONS: tuple[str, ...] = (
    "COMPLETED",
    "ADVERSE EVENT",
    "LACK OF EFFICACY",
    "WITHDRAWAL BY SUBJECT",
)
"""DSDECOD of each reason code."""


@dataclass(frozen=True)
class Course:
    """What happens to each subject (arrays over subjects, or subjects x visits).

    ``day``: study day of each scheduled visit; ``severity`` and ``itch``: latent values in
    [0, 1]; ``observed``: the visit took place; ``s0``: baseline severity; ``drug``: the product's
    fractional effect D_i(t) at each visit; ``rescue``: visit index of rescue (-1: none);
    ``reason``: index into ``REASONS``; ``end_day``: study day of the disposition event.
    """

    day: np.ndarray
    severity: np.ndarray
    itch: np.ndarray
    observed: np.ndarray
    s0: np.ndarray
    drug: np.ndarray
    rescue: np.ndarray
    reason: np.ndarray
    end_day: np.ndarray


def _first(mask: np.ndarray) -> np.ndarray:
    """Index of the first True along the last axis, -1 when none."""
    first = np.argmax(mask, axis=1)
    return np.where(mask.any(axis=1), first, -1)


def visit_days(design: Design, rng: np.random.Generator, n: int) -> np.ndarray:
    """Study day of every scheduled visit, jittered inside its window (module docstring)."""
    target = np.asarray([v.target for v in design.visits], dtype=float)
    low = np.asarray([v.low for v in design.visits], dtype=float)
    high = np.asarray([v.high for v in design.visits], dtype=float)
    sd = np.maximum(1.0, (high - low) / 8)
    sd[0] = 0.0
    day = np.rint(target + rng.normal(size=(n, len(target))) * sd)
    return np.clip(day, low, high).astype(np.int64)


def simulate_course(
    design: Design,
    cohort: Cohort,
    rng: np.random.Generator,
    effects: Effects,
    dropout: Dropout,
    rescue: Rescue,
) -> Course:
    """Draw every subject's course (module docstrings of this module and of ``params``)."""
    n, v = len(cohort.arm), len(design.visits)
    day = visit_days(design, rng, n)
    weeks = np.maximum(day - 1, 0) / 7.0
    onset = 1.0 - np.exp(-weeks / effects.onset_weeks)

    lo = cohort.iga0 / 5.0
    s0 = lo + rng.random(n) * np.where(cohort.iga0 == 4, 0.17, 0.2)
    doses = np.asarray([effects.drug(a.dose) for a in design.arms])
    cv = effects.response_cv
    m = rng.gamma(1 / cv**2, cv**2, size=n) if cv > 0 else np.ones(n)
    d_max = np.minimum(0.95, doses[cohort.arm] * m)
    p = np.clip(rng.normal(effects.placebo, effects.placebo_sd, size=n), -0.2, 0.8)
    reduction = 1.0 - (1.0 - p) * (1.0 - d_max)
    noise = rng.normal(0.0, effects.noise_sd, size=(n, v))
    noise[:, 0] = 0.0
    raw = s0[:, None] * (1.0 - reduction[:, None] * onset) + noise
    return finish_course(design, rng, day, raw, s0, d_max[:, None] * onset, dropout, rescue)


def finish_course(
    design: Design,
    rng: np.random.Generator,
    day: np.ndarray,
    raw: np.ndarray,
    s0: np.ndarray,
    drug: np.ndarray,
    dropout: Dropout,
    rescue: Rescue,
) -> Course:
    """Missed visits, rescue, dropout and itch around a latent severity path drawn elsewhere.

    ``day``: study day of each scheduled visit; ``raw``: latent severity before rescue (subjects
    x visits, clipped to [0, 1] here); ``s0``: baseline severity; ``drug``: the product's
    fractional effect at each visit (kept in ``Course.drug``). ``simulate_course`` draws ``raw``
    from the latent-severity model; the QSP generator (``atopic.simulate.qsp``) from the
    mechanistic model.
    """
    n, v = raw.shape
    missed = rng.random((n, v)) < dropout.missed_visit
    missed[:, 0] = False
    target_weeks = (np.asarray([x.target for x in design.visits]) - 1) / 7.0
    improvement = 1.0 - np.clip(raw, 0, 1) / s0[:, None]
    may_rescue = (target_weeks >= rescue.from_week)[None, :] & ~missed
    may_rescue[:, 0] = False
    rescued_at = _first(
        may_rescue & (improvement < rescue.below) & (rng.random((n, v)) < rescue.per_visit)
    )
    after = (np.arange(v)[None, :] > rescued_at[:, None]) & (rescued_at[:, None] >= 0)
    severity = np.clip(raw * np.where(after, 1.0 - rescue.effect, 1.0), 0.0, 1.0)

    shortfall = np.clip(1.0 - (1.0 - severity / s0[:, None]) / dropout.improved, 0.0, 1.0)
    risk = dropout.per_visit * (1.0 + (dropout.not_improved_factor - 1.0) * shortfall[:, :-1])
    stop = _first(rng.random((n, v - 1)) < risk) + 1  # 0: none, k: before visit k
    stopped = stop > 0
    observed = ~missed & ((np.arange(v)[None, :] < stop[:, None]) | ~stopped[:, None])
    rescued_at = np.where(stopped & (rescued_at >= stop), -1, rescued_at)

    k = np.maximum(stop, 1)
    rows = np.arange(n)
    before, at = day[rows, k - 1], day[rows, k]
    gap = np.maximum(at - before - 1, 1)
    stop_day = before + 1 + np.floor(rng.random(n) * gap).astype(np.int64)
    u = shortfall[rows, k - 1]
    draw = rng.random(n)
    reason = np.where(
        draw < dropout.adverse_event,
        ADVERSE_EVENT,
        np.where(
            draw
            < dropout.adverse_event + (1 - dropout.adverse_event) * dropout.lack_of_efficacy * u,
            LACK_OF_EFFICACY,
            WITHDRAWAL,
        ),
    )
    reason = np.where(stopped, reason, COMPLETED)
    end_day = np.where(stopped, stop_day, day[:, -1])

    offset = rng.normal(0.0, 0.08, size=n)
    itch = np.clip(severity + offset[:, None] + rng.normal(0.0, 0.05, size=(n, v)), 0.0, 1.0)
    return Course(
        day=day,
        severity=severity,
        itch=itch,
        observed=observed,
        s0=s0,
        drug=drug,
        rescue=rescued_at,
        reason=reason,
        end_day=end_day,
    )
