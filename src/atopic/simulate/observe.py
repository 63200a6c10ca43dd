"""Observation model: what a trial would record about QSP virtual patients at each visit.

The QSP model (``atopic.simulate.model``) gives each virtual patient a mechanistic EASI and the
immune states at any week. A trial records item-level scores and labs. This module turns one into
the other, reusing the item drawing of ``atopic.simulate.items`` (every value snapped onto its
instrument's allowed values, so every QS row is valid by construction).

Chain for one patient at visit j (week t_j = (study day - 1) / 7)
    1. mechanistic EASI_j from the model's states (36 p + 36 (1 - s)).
    2. latent EASI_j = EASI_j x exp(u_j - sd^2/2), ``u`` the Ornstein-Uhlenbeck day-to-day
       fluctuation of ``model.Variability`` (``model.fluctuation``, at the design's target weeks).
    3. rated EASI_j = latent EASI_j x rater factor (``model.rated_easi``: intra-rater ICC 0.8).
    4. latent severity s_j = g^-1(rated EASI_j) in [0, 1], where g(s) is the expected EASI total of
       the items that ``items.draw_items`` draws at severity s (computed once by Monte Carlo,
       ``expected_easi``; monotone, g(0) = 0), so the scored EASI of the drawn items is centred on
       the rated EASI. Items add their own (sign and area) noise on top.
    5. rescue, missed visits, dropout and itch around s (``course.finish_course``, as ``synth``),
       then the QS items (EASI, SCORAD, vIGA-AD, POEM, PP-NRS, sleep NRS; ``items.draw_items``).

Enrolment (``screen``): virtual patients are sampled from the population and brought to their
untreated steady state; each is screened at baseline with the rated EASI (step 3 at week 0) and a
baseline vIGA-AD drawn from s_0 as the items do later (``5 s_0 - 0.5 + N(0, 0.3)``, rounded to
0-4). Eligible: rated EASI >= ``Inclusion.easi_min`` (16) and vIGA-AD in ``Inclusion.iga`` (3-4)
and in the design's IGA strata. Screening continues in batches until ``n`` are eligible. The
baseline visit's items are drawn around the same s_0, so a few enrolled patients score just below
16 on their items (as at a real baseline visit after screening).

Labs (``LB``; sponsor-defined exploratory codes in ``tables.collected.EXPLORATORY_LAB_UNITS``)
    * IgE (IU/mL): baseline log-normal as ``synth`` (median 1200 exp(1.5 (s_0 - 0.75)), log-SD
      1.2), then ``x (A_j / A_0)^ige_power`` with Th2 activity A (effective IL-4 + IL-13), visit
      noise log-SD 0.15. Eosinophils (10^9/L): median 0.35 exp(s_0 - 0.75), log-SD 0.5, then
      ``x (A_j / A_0)^eos_power``, visit noise log-SD 0.2. Powers 1 and 0.5 are assumptions
      (IgE and eosinophils are type-2 driven; not fitted), not estimates.
    * IFNGIL4R (IFN-g / IL-4, ratio), TH2ACT (AU), TSLP (AU), BARRIER (100 s, %): the model's
      ``biomarkers`` at the visit times an assay error (log-SD ``assay_sd`` 0.1; barrier: additive
      SD 1 %, clipped to 0-100).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from atopic.errors import InvalidInput
from atopic.instruments.easi import MULTIPLIER_TENTHS, REGIONS
from atopic.simulate import columns as col
from atopic.simulate.items import draw_items
from atopic.simulate.model import (
    BIOLOGICS,
    Baseline,
    CellMechanism,
    CellRegimen,
    Population,
    Treatment,
    Variability,
    biologic,
    biomarkers,
    fluctuation,
    rated_easi,
    steady_state,
    treat,
)
from atopic.tables.collected import EXPLORATORY_LAB_UNITS, LAB_UNITS
from atopic.trial.design import Arm, Design

GRID = np.linspace(0.0, 1.0, 201)
"""Latent severities at which the expected item EASI is tabulated."""
GRID_REPLICATES = 400
LAB_CODES: tuple[str, ...] = ("IGE", "EOS", "IFNGIL4R", "TH2ACT", "TSLP", "BARRIER")
LAB_UNIT: dict[str, str] = {**{k: LAB_UNITS[k] for k in ("IGE", "EOS")}, **EXPLORATORY_LAB_UNITS}


@dataclass(frozen=True)
class Inclusion:
    """Entry criteria checked at screening: rated EASI >= ``easi_min`` and vIGA-AD in ``iga``."""

    easi_min: float = 16.0
    iga: tuple[int, ...] = (3, 4)

    def __post_init__(self) -> None:
        if not (isinstance(self.easi_min, int | float) and 0 <= self.easi_min <= 72):
            raise InvalidInput("inclusion", "easi_min", self.easi_min, "an EASI from 0 to 72")
        if not self.iga or any(g not in range(5) for g in self.iga):
            raise InvalidInput("inclusion", "iga", self.iga, "one or more grades 0-4")


@dataclass(frozen=True)
class Observation:
    """Parameters of the observation model (module docstring)."""

    variability: Variability = field(default_factory=Variability)
    ige_power: float = 1.0
    eos_power: float = 0.5
    assay_sd: float = 0.1


# --- EASI <-> latent severity -------------------------------------------------------------------


def _easi_total(values: np.ndarray) -> np.ndarray:
    """EASI total (adult multipliers) of the EASI block of ``draw_items`` (values in tenths)."""
    v = values.astype(float) / 10.0
    total = np.zeros(v.shape[:-1])
    for r, region in enumerate(REGIONS):
        signs = v[..., 5 * r : 5 * r + 4].sum(axis=-1)
        total += MULTIPLIER_TENTHS[region][0] / 10.0 * v[..., 5 * r + 4] * signs
    return total


@functools.cache
def expected_easi() -> np.ndarray:
    """g(s): mean EASI total of the items drawn at each severity of ``GRID`` (seeded Monte Carlo,
    ``GRID_REPLICATES`` draws per point, made non-decreasing), adult multipliers."""
    rng = np.random.default_rng(20210621)
    s = np.repeat(GRID, GRID_REPLICATES)[:, None]
    block = draw_items(rng, s, s, np.zeros(s.shape[0], dtype=np.int64))[0]
    g = _easi_total(block.values).reshape(GRID.size, GRID_REPLICATES).mean(axis=1)
    g[0] = 0.0
    return np.maximum.accumulate(g)


def severity_of(easi: np.ndarray) -> np.ndarray:
    """Latent severity s in [0, 1] whose items score ``easi`` on average (g^-1; 1 above g(1))."""
    g = expected_easi()
    return np.interp(np.asarray(easi, dtype=float), g, GRID, left=0.0, right=1.0)


def iga_of(s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """vIGA-AD grade drawn at severity ``s`` as ``items.draw_items`` does after baseline."""
    return np.clip(np.rint(5 * s - 0.5 + rng.normal(0, 0.3, size=np.shape(s))), 0, 4).astype(
        np.int64
    )


# --- screening ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Screened:
    """Enrolled virtual patients (arrays over patients): ``params`` (n, 51), ``baseline``
    (steady states), ``u`` fluctuation (n, visits) and ``rater`` factors (n, visits) at the
    design's target weeks, ``s0``, ``iga0``, ``easi0`` (rated baseline EASI); ``screened``: how
    many patients were screened to enrol them."""

    params: np.ndarray
    baseline: Baseline
    u: np.ndarray
    rater: np.ndarray
    s0: np.ndarray
    iga0: np.ndarray
    easi0: np.ndarray
    screened: int


def target_weeks(design: Design) -> np.ndarray:
    """Week of each scheduled visit's target day ((day - 1) / 7, at least 0)."""
    return np.maximum(np.asarray([v.target for v in design.visits], dtype=float) - 1, 0) / 7.0


def screen(
    pop: Population,
    n: int,
    weeks: np.ndarray,
    rng: np.random.Generator,
    *,
    inclusion: Inclusion,
    admissible: np.ndarray,
    variability: Variability,
    max_batches: int = 200,
) -> Screened:
    """Sample, settle and screen virtual patients in batches until ``n`` are eligible.

    ``admissible``: (5,) bool, the grades the design's strata admit (``cohort.admissible_grades``).
    Raises ``InvalidInput`` when fewer than 1 in 1000 patients qualify.
    """
    allowed = np.zeros(5, dtype=bool)
    allowed[list(inclusion.iga)] = True
    allowed &= np.asarray(admissible, dtype=bool)
    if not allowed.any():
        raise InvalidInput("qsp", "inclusion.iga", inclusion.iga, "grades the design's strata hold")
    parts: list[tuple[np.ndarray, ...]] = []
    got = seen = 0
    sd = variability.fluctuation_sd
    for _ in range(max_batches):
        if got >= n:
            break
        rate = max(got / seen, 0.05) if seen else 0.5
        m = int(min(50_000, max(64, math.ceil(1.3 * (n - got) / rate))))
        params = pop.sample(m, rng)
        base = steady_state(params)
        u = fluctuation(m, weeks, variability, rng)
        rater = rated_easi(np.ones((m, weeks.size)), variability, rng)
        latent0 = np.minimum(base.easi * np.exp(u[:, 0] - 0.5 * sd * sd), 72.0)
        easi0 = np.minimum(latent0 * rater[:, 0], 72.0)
        s0 = severity_of(easi0)
        iga0 = iga_of(s0, rng)
        ok = (easi0 >= inclusion.easi_min) & allowed[iga0] & base.settled
        ok &= np.all(np.isfinite(base.states), axis=1)
        idx = np.flatnonzero(ok)[: n - got]
        parts.append(
            tuple(
                x[idx]
                for x in (params, base.states, base.residual, base.weeks, u, rater, s0, iga0, easi0)
            )
        )
        got += idx.size
        seen += int(idx[-1]) + 1 if got >= n else m
        if seen >= 1000 and got == 0:
            break
    if got < n:
        raise InvalidInput(
            "qsp", "inclusion", f"{got} eligible of {seen} screened", f"{n} eligible patients"
        )
    cat = [np.concatenate([p[i] for p in parts]) for i in range(9)]
    baseline = Baseline(
        cat[1], cat[2], np.ones(n, dtype=bool), cat[3], float(max(cat[3].max(), 0)), 1e-9
    )
    return Screened(cat[0], baseline, cat[4], cat[5], cat[6], cat[7], cat[8], seen)


# --- arms -> treatments -------------------------------------------------------------------------


def _cell_unit(arm: Arm) -> str:
    unit = arm.dose_unit.lower()
    if "cell" not in unit:
        raise InvalidInput(
            "qsp",
            f"arms[{arm.code}].dose_unit",
            arm.dose_unit,
            "a cell dose (cells, 10^6 cells, cells/kg, 10^6 cells/kg) or a biologic product",
        )
    per_kg = "/kg" in unit.replace(" ", "")
    million = "10^6" in unit or "10e6" in unit or "million" in unit
    return ("10^6 cells" if million else "cells") + ("/kg" if per_kg else "")


def arm_weeks(arm: Arm) -> tuple[float, ...]:
    """Administration times in weeks from the first dose (day schedules: (day - 1) / 7)."""
    if arm.schedule.unit == "week":
        return tuple(float(w) for w in arm.schedule.at)
    return tuple(max(float(d) - 1.0, 0.0) / 7.0 for d in arm.schedule.at)


def arm_treatment(
    arm: Arm, mechanism: CellMechanism, body_weight_kg: np.ndarray | None = None
) -> Treatment:
    """The model treatment of a design arm: a biologic named by the product (``BIOLOGICS``), cell
    therapy (``CellRegimen`` from dose, unit, route and schedule), or background care only
    (placebo, control arms, dose 0)."""
    product = arm.product.strip().lower().replace(" ", "")
    if product in BIOLOGICS:
        return Treatment(biologic(product), label=arm.code)
    if arm.control or arm.dose <= 0 or product == "placebo":
        return Treatment(label=arm.code)
    unit = _cell_unit(arm)
    regimen = CellRegimen(
        arm.dose,
        unit,
        arm.route,
        arm_weeks(arm),
        body_weight_kg=body_weight_kg if unit.endswith("/kg") else None,
    )
    return Treatment(cell=regimen, mechanism=mechanism, label=arm.code)


# --- the course of each patient -----------------------------------------------------------------


@dataclass(frozen=True)
class Observed:
    """Per patient and scheduled visit (n, visits): mechanistic, latent and rated EASI, latent
    severity before rescue, and the biomarkers (``model.biomarkers`` names)."""

    mech: np.ndarray
    latent: np.ndarray
    rated: np.ndarray
    severity: np.ndarray
    markers: dict[str, np.ndarray]


def run_arms(
    design: Design,
    screened: Screened,
    arm: np.ndarray,
    day: np.ndarray,
    treatments: list[Treatment],
    *,
    care: float,
    variability: Variability,
) -> Observed:
    """Simulate every arm's patients at their own visit days and observe them (steps 1-4)."""
    n, v = day.shape
    weeks = np.maximum(day - 1, 0) / 7.0
    states = np.empty((n, v, 14))
    markers = {k: np.empty((n, v)) for k in ("ifng_il4_ratio", "th2_activity", "tslp", "barrier")}
    for a, treatment in enumerate(treatments):
        idx = np.flatnonzero(arm == a)
        if not idx.size:
            continue
        grid = np.unique(weeks[idx])
        treatment_a = treatment
        if treatment.cell is not None and np.size(treatment.cell.body_weight_kg) > 1:
            cell = treatment.cell
            bw = np.asarray(cell.body_weight_kg)[idx]
            treatment_a = Treatment(
                cell=CellRegimen(cell.dose, cell.unit, cell.route, cell.weeks, bw),
                mechanism=treatment.mechanism,
                label=treatment.label,
            )
        course = treat(
            screened.params[idx], screened.baseline.states[idx], grid, treatment_a, care=care
        )
        pos = np.searchsorted(grid, weeks[idx])
        rows = np.arange(idx.size)[:, None]
        states[idx] = course.states[rows, pos]
        for k, values in biomarkers(course).items():
            markers[k][idx] = values[rows, pos]
    mech = 36.0 * states[:, :, 1] + 36.0 * (1.0 - states[:, :, 0])
    return Observed(mech, *rate(mech, screened, variability), markers)


def rate(
    mech: np.ndarray, screened: Screened, variability: Variability
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latent EASI, rated EASI and latent severity (n, visits) of a mechanistic EASI path whose
    first column is the baseline (steps 2-4; visit 0 is the screening value itself)."""
    sd = variability.fluctuation_sd
    latent = np.minimum(mech * np.exp(screened.u - 0.5 * sd * sd), 72.0)
    latent[:, 0] = np.minimum(screened.baseline.easi * np.exp(screened.u[:, 0] - 0.5 * sd * sd), 72)
    rated = np.minimum(latent * screened.rater, 72.0)
    rated[:, 0] = screened.easi0
    severity = severity_of(rated)
    severity[:, 0] = screened.s0
    return latent, rated, severity


def lab_values(
    observed: Observed, s0: np.ndarray, rng: np.random.Generator, observation: Observation
) -> dict[str, np.ndarray]:
    """LB values per patient and visit (module docstring), rounded, keyed by ``LAB_CODES``."""
    n, v = observed.severity.shape
    m = observed.markers
    th2 = np.maximum(m["th2_activity"], 1e-12)
    rel = th2 / th2[:, :1]
    ige0 = np.exp(np.log(1200.0) + 1.5 * (s0 - 0.75) + rng.normal(0, 1.2, size=n))
    eos0 = np.exp(np.log(0.35) + (s0 - 0.75) + rng.normal(0, 0.5, size=n))
    ige = ige0[:, None] * rel**observation.ige_power * np.exp(rng.normal(0, 0.15, size=(n, v)))
    eos = eos0[:, None] * rel**observation.eos_power * np.exp(rng.normal(0, 0.2, size=(n, v)))
    sd = observation.assay_sd

    def assay(x: np.ndarray) -> np.ndarray:
        return x * np.exp(rng.normal(0, sd, size=(n, v)) - 0.5 * sd * sd)

    barrier = np.clip(100 * m["barrier"] + rng.normal(0, 1.0, size=(n, v)), 0, 100)
    return {
        "IGE": np.maximum(np.round(ige, 1), 0.1),
        "EOS": np.maximum(np.round(eos, 2), 0.01),
        "IFNGIL4R": np.maximum(np.round(assay(m["ifng_il4_ratio"]), 4), 0.0001),
        "TH2ACT": np.maximum(np.round(assay(th2), 1), 0.1),
        "TSLP": np.maximum(np.round(assay(m["tslp"]), 2), 0.01),
        "BARRIER": np.round(barrier, 1),
    }


def lb_builder(values: dict[str, np.ndarray]) -> Callable[[Any], pl.DataFrame]:
    """A ``synth.chunk_tables`` builder of LB from ``lab_values`` at every visit that took place."""

    def build(c: Any) -> pl.DataFrame:
        course = c.course
        subject_v, visit_v = np.nonzero(course.observed)
        k = len(LAB_CODES)
        stacked = np.stack([values[code][subject_v, visit_v] for code in LAB_CODES], axis=1)
        subject = np.repeat(subject_v, k)
        visit = np.repeat(visit_v, k)
        test = np.tile(np.arange(k), len(subject_v))
        n = subject.size
        days = c.calendar(subject, course.day[subject, visit])
        frame = pl.DataFrame(
            [
                *c.ids(subject),
                c.domain("LB", n),
                pl.Series("LBSEQ", col.sequence(subject, len(course.s0)), dtype=pl.Int64),
                col.categorical("LBTESTCD", test, LAB_CODES),
                pl.Series("LBSTRESN", stacked.reshape(-1), dtype=pl.Float64),
                col.categorical("LBSTRESU", test, [LAB_UNIT[t] for t in LAB_CODES]),
                pl.Series("VISITNUM", visit + 1.0, dtype=pl.Float64),
                col.dates("LBDTC", days),
            ]
        )
        return frame

    return build


__all__ = [
    "Inclusion",
    "Observation",
    "Observed",
    "Screened",
    "arm_treatment",
    "expected_easi",
    "iga_of",
    "lab_values",
    "lb_builder",
    "rate",
    "run_arms",
    "screen",
    "severity_of",
    "target_weeks",
]
