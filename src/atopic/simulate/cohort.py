"""Virtual subjects before treatment: age, sex, site, enrolment, baseline vIGA-AD, strata, arm.

Everything is a NumPy array over the subjects of one chunk (no Python loop over subjects).

Decisions
    * Age: whole years, adults 18-75 by default (``ages``), drawn from a normal distribution
      (mean 38, SD 14: adult AD trial populations) restricted to the allowed ages. A design
      stratified by age phase restricts the ages to the phases its levels hold.
    * Sex: 50 % female (F/M). Sites: about one per 25 subjects (``S001`` ...), with unequal
      recruitment (gamma(2) weights, fixed for the whole run so every chunk shares them).
    * Enrolment (first dose, study day 1): uniform over ``enrolment_days`` from ``start``.
    * Baseline vIGA-AD: 3 (moderate) or 4 (severe) with weights 0.6 and 0.4 (grades 0-2 weigh
      0.02, 0.03, 0.15 where a design's strata admit them); only grades that fall in a level of
      every IGA stratum are drawn, so each subject's stratum is derivable from the data.
    * Strata supported: ``baseline`` IGA (map, cuts, or the level text), ``dm`` SEX, and
      ``age_phase``; any other is refused (``InvalidInput``) since the simulator could not make
      the data agree with it.
    * Randomization: stratified permuted blocks (ICH E9 2.3.2; Rosenberger & Lachin 2016,
      chapters 3 and 7), block sizes drawn uniformly from the design's, one list per combination
      of levels, subjects taking the next slot in enrolment order. The registry's list
      (``atopic.registry.randomization``) is the reference implementation; this one is a fast
      NumPy equivalent in spirit, not slot-for-slot identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from atopic.errors import InvalidInput
from atopic.tables.analysis import AGE_PHASES
from atopic.trial.derive.adsl import AGE_PHASE_UPPER
from atopic.trial.design import Design, Stratum

AGE_MEAN, AGE_SD = 38.0, 14.0
IGA_WEIGHTS: dict[int, float] = {0: 0.02, 1: 0.03, 2: 0.15, 3: 0.6, 4: 0.4}
SUBJECTS_PER_SITE = 25


@dataclass(frozen=True)
class Cohort:
    """One chunk of subjects (arrays of length n): ``age`` (years), ``female`` (bool), ``site``
    (index into the run's site list), ``day0`` (first-dose date, days since 1970-01-01),
    ``iga0`` (baseline vIGA-AD grade), ``arm`` (index into ``design.arms``)."""

    age: np.ndarray
    female: np.ndarray
    site: np.ndarray
    day0: np.ndarray
    iga0: np.ndarray
    arm: np.ndarray


def phase_of(age: np.ndarray) -> np.ndarray:
    """Index into ``AGE_PHASES`` of each age in years (as ``compute_age_phase``)."""
    return np.searchsorted(np.asarray(AGE_PHASE_UPPER, dtype=float), age, side="left")


def check_strata(design: Design) -> None:
    """Refuse strata the simulator cannot make the data agree with."""
    for i, s in enumerate(design.randomization.strata):
        path = f"randomization.strata[{i}]"
        if s.source == "baseline" and s.paramcd != "IGA":
            raise InvalidInput("synth", f"{path}.paramcd", s.paramcd, "IGA (baseline vIGA-AD)")
        if s.source == "dm" and s.column != "SEX":
            raise InvalidInput("synth", f"{path}.column", s.column, "SEX")


def _level_of(stratum: Stratum, values: np.ndarray, texts: np.ndarray) -> np.ndarray:
    """Level index of each value (-1: none), following ``trial.derive.adsl.level_expr``:
    ``map`` (level -> values), ``cuts`` (level i holds cuts[i-1] <= value < cuts[i]) or the
    value's text (``texts``, as the engine casts it: ``"3.0"`` for a grade) equal to a level."""
    if stratum.level_map is not None:
        out = np.full(values.shape, -1, dtype=np.int64)
        for j, level in enumerate(stratum.levels):
            hit = np.isin(values, np.asarray(stratum.level_map[level], dtype=values.dtype))
            out = np.where((out < 0) & hit, j, out)
        return out
    if stratum.cuts is not None:
        return np.searchsorted(np.asarray(stratum.cuts, dtype=float), values, side="right")
    lookup = {text: j for j, text in enumerate(stratum.levels)}
    unique, inverse = np.unique(texts, return_inverse=True)
    codes = np.asarray([lookup.get(str(t), -1) for t in unique], dtype=np.int64)
    return codes[inverse.reshape(values.shape)]


def _texts(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        return np.char.add(values.astype(np.int64).astype(str), ".0")
    return values.astype(str)


def _candidates(design: Design, kind: str, values: np.ndarray) -> np.ndarray:
    keep = np.ones(values.shape, dtype=bool)
    for s in design.randomization.strata:
        if s.source == kind:
            keep &= _level_of(s, values, _texts(values)) >= 0
    return keep


def admissible_grades(design: Design) -> np.ndarray:
    """Which baseline vIGA-AD grades 0-4 fall in a level of every IGA stratum, (5,) bool."""
    return _candidates(design, "baseline", np.arange(5, dtype=float))


def draw_cohort(
    design: Design,
    rng: np.random.Generator,
    n: int,
    *,
    site_weights: np.ndarray,
    ages: tuple[int, int],
    start_day: int,
    enrolment_days: int,
    iga0: np.ndarray | None = None,
) -> Cohort:
    """Draw ``n`` subjects and randomize them (module docstring for the rules).

    ``iga0``: baseline vIGA-AD grades decided elsewhere (e.g. by the QSP generator's screening;
    each must be in ``admissible_grades``); None draws them with ``IGA_WEIGHTS``.
    """
    age_values = np.arange(ages[0], ages[1] + 1)
    phases = phase_of(age_values.astype(float))
    age_ok = np.ones(age_values.shape, dtype=bool)
    for s in design.randomization.strata:
        if s.source == "age_phase":
            names = np.asarray(AGE_PHASES)[phases]
            age_ok &= _level_of(s, names, names) >= 0
    if not age_ok.any():
        raise InvalidInput(
            "synth", "ages", list(ages), "a range holding ages of the design's age-phase levels"
        )
    age_values = age_values[age_ok]
    w = np.exp(-0.5 * ((age_values - AGE_MEAN) / AGE_SD) ** 2)
    age = rng.choice(age_values, size=n, p=w / w.sum()).astype(float)

    sexes = np.asarray(["F", "M"])
    sex_ok = _candidates(design, "dm", sexes)
    if not sex_ok.any():
        raise InvalidInput("synth", "randomization.strata", "SEX", "levels holding F or M")
    female_p = 0.5 if sex_ok.all() else (1.0 if sex_ok[0] else 0.0)
    female = rng.random(n) < female_p

    grade_ok = admissible_grades(design)
    if not grade_ok.any():
        raise InvalidInput(
            "synth", "randomization.strata", "IGA", "levels holding a vIGA-AD grade 0-4"
        )
    if iga0 is None:
        gw = np.asarray([IGA_WEIGHTS[g] for g in range(5)]) * grade_ok
        iga0 = rng.choice(5, size=n, p=gw / gw.sum())
    else:
        iga0 = np.asarray(iga0, dtype=np.int64)
        if iga0.shape != (n,) or np.any((iga0 < 0) | (iga0 > 4)) or not grade_ok[iga0].all():
            raise InvalidInput(
                "synth", "iga0", "grades outside the strata", "grades 0-4 in the design's strata"
            )

    site = rng.choice(len(site_weights), size=n, p=site_weights)
    day0 = np.sort(start_day + rng.integers(0, max(1, enrolment_days), size=n))
    arm = randomize(design, rng, _strata_cells(design, age, female, iga0))
    return Cohort(age=age, female=female, site=site, day0=day0, iga0=iga0, arm=arm)


def _strata_cells(
    design: Design, age: np.ndarray, female: np.ndarray, iga0: np.ndarray
) -> np.ndarray:
    cell = np.zeros(age.shape, dtype=np.int64)
    for s in design.randomization.strata:
        if s.source == "baseline":
            values = iga0.astype(float)
        elif s.source == "dm":
            values = np.where(female, "F", "M")
        else:
            values = np.asarray(AGE_PHASES)[phase_of(age)]
        level = _level_of(s, values, _texts(values))
        cell = cell * (len(s.levels) + 1) + (level + 1)
    return cell


def randomize(design: Design, rng: np.random.Generator, cell: np.ndarray) -> np.ndarray:
    """Arm index of each subject (in order) by stratified permuted blocks within ``cell``."""
    base = np.repeat(np.arange(len(design.arms)), [a.ratio for a in design.arms])
    total = len(base)
    sizes = np.asarray(design.randomization.block_sizes)
    arm = np.empty(cell.shape, dtype=np.int64)
    for c in np.unique(cell):  # one list per stratum cell, not per subject
        members = np.flatnonzero(cell == c)
        m = len(members)
        n_blocks = m // int(sizes.min()) + 1
        block = rng.choice(sizes, size=n_blocks)
        slots = np.tile(base, int(block.sum()) // total)
        block_id = np.repeat(np.arange(n_blocks), block)
        order = np.lexsort((rng.random(len(slots)), block_id))
        arm[members] = slots[order][:m]
    return arm


def site_weights(rng: np.random.Generator, n_subjects: int) -> np.ndarray:
    """Recruitment weights of the run's sites (about ``SUBJECTS_PER_SITE`` subjects each)."""
    n_sites = int(min(99_999, max(1, -(-n_subjects // SUBJECTS_PER_SITE))))
    w = rng.gamma(2.0, size=n_sites)
    return w / w.sum()
