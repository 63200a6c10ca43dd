"""Calibration of the QSP model to published trials (``targets``), and a small fit.

``calibrate(model, n=..., seed=...)`` enrols one pool of ``n`` virtual patients (``observe.screen``:
untreated steady state, rated EASI >= 16, vIGA-AD 3-4), gives every regimen of ``targets.REGIMENS``
to the same patients (each target is simulated in its study's own arm: dose, route, schedule,
week; common random numbers across regimens), observes them (fluctuation and rater noise,
``observe.rate``) and computes each target's metric (``targets`` docstring). Dropout is not
simulated here (observed cases).

Monte Carlo 95 % intervals: a rate's Wilson score interval on the ``n`` simulated patients
(Wilson EB, JASA 1927); a mean's normal interval; a difference of rates between two regimens on
the same patients, the normal interval of the paired differences; a ratio of means (SCORAD,
pruritus), the delta-method interval. The published value's own 95 % interval is the Wilson
interval on the trial arm's size where it is known: it says how far a small open-label arm may
be from its true rate.

Fit (``fit``): five parameters, on transformed scales, by Nelder-Mead (``scipy.optimize.minimize``)
on a fixed pool (common random numbers: the same patients, fluctuation and rater draws at every
evaluation, so the objective changes only through the parameters):
    ``care`` (background-care multiplier of k3; log), the common EC50 of the four MSC effects
    (``*_ec50``, log), ``tcell_emax`` (logit), ``barrier_emax`` (log), ``half_life_weeks`` (log).
Objective: sum of weight x ((simulated - published) / 10 percentage points)^2 over the targets
with weight > 0, a range counting only its distance outside the range. Responder rates enter
smoothed (logistic in the % change with a 2-point scale; IGA 0/1 as its probability under the
items' vIGA-AD noise) so that the objective is continuous in the parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import polars as pl
from scipy.optimize import minimize
from scipy.special import expit, ndtr

from atopic.errors import InvalidInput
from atopic.instruments.scorad import compute_scorad
from atopic.simulate.items import draw_items
from atopic.simulate.model import (
    CellMechanism,
    CellRegimen,
    Treatment,
    Variability,
    treat,
)
from atopic.simulate.observe import Inclusion, Screened, rate, screen
from atopic.simulate.qsp import Model
from atopic.simulate.targets import BODY_WEIGHT_KG, REGIMENS, TARGETS, VISIT_WEEKS, Regimen, Target

Z = 1.959963984540054
SMOOTH_POINTS = 2.0
"""Scale (percentage points of EASI change) of the logistic that smooths responder rates."""
FIT_PARAMETERS: tuple[str, ...] = (
    "care",
    "ec50",
    "tcell_emax",
    "barrier_emax",
    "half_life_weeks",
)


@dataclass(frozen=True)
class Pool:
    """Fixed virtual patients for calibration: the enrolled ``screened`` patients and the normal
    draws behind their later vIGA-AD grades, itch and SCORAD items (common random numbers)."""

    screened: Screened
    iga_z: np.ndarray
    itch_offset: np.ndarray
    itch_noise: np.ndarray
    seed: int
    variability: Variability

    @property
    def n(self) -> int:
        """Number of patients."""
        return int(self.screened.s0.size)


def virtual_pool(
    model: Model,
    n: int,
    seed: int,
    *,
    inclusion: Inclusion | None = None,
    variability: Variability | None = None,
) -> Pool:
    """Enrol ``n`` virtual patients of ``model``'s population (``observe.screen``), seeded."""
    if isinstance(n, bool) or not isinstance(n, int) or not 10 <= n <= 1_000_000:
        raise InvalidInput("calibrate", "n", n, "a whole number from 10 to 1,000,000")
    var = variability or Variability()
    rng = np.random.default_rng(np.random.SeedSequence([seed, 6]))
    weeks = np.asarray(VISIT_WEEKS)
    scr = screen(
        model.population,
        n,
        weeks,
        rng,
        inclusion=inclusion or Inclusion(),
        admissible=np.ones(5, dtype=bool),
        variability=var,
    )
    v = weeks.size
    return Pool(
        scr,
        rng.standard_normal((n, v)),
        rng.normal(0.0, 0.08, size=n),
        rng.normal(0.0, 0.05, size=(n, v)),
        seed,
        var,
    )


def treatment_of(regimen: Regimen, mechanism: CellMechanism) -> Treatment:
    """The model treatment of a target regimen (dose 0: background care only)."""
    if regimen.dose <= 0:
        return Treatment(label=regimen.label)
    cell = CellRegimen(
        regimen.dose,
        regimen.unit,
        regimen.route,
        regimen.weeks,
        body_weight_kg=BODY_WEIGHT_KG if regimen.unit.endswith("/kg") else None,
    )
    return Treatment(cell=cell, mechanism=mechanism, label=regimen.label)


@dataclass(frozen=True)
class Arm:
    """One regimen on the pool: rated EASI and latent severity (n, len(VISIT_WEEKS))."""

    rated: np.ndarray
    severity: np.ndarray


def run_regimens(pool: Pool, model: Model, names: Sequence[str]) -> dict[str, Arm]:
    """Every named regimen of ``targets.REGIMENS`` on the pool's patients."""
    scr = pool.screened
    out: dict[str, Arm] = {}
    for name in names:
        course = treat(
            scr.params,
            scr.baseline,
            VISIT_WEEKS[1:],
            treatment_of(REGIMENS[name], model.mechanism),
            care=model.care,
        )
        mech = np.concatenate([scr.baseline.easi[:, None], course.easi], axis=1)
        _, rated, severity = rate(mech, scr, pool.variability)
        out[name] = Arm(rated, severity)
    return out


# --- metrics ------------------------------------------------------------------------------------


def _wilson(p: float, n: int) -> tuple[float, float]:
    if n <= 0:
        return (math.nan, math.nan)
    denom = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / denom
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / denom
    return (centre - half, centre + half)


def _column(week: float) -> int:
    return VISIT_WEEKS.index(float(week))


def _pct(arm: Arm, week: float) -> np.ndarray:
    j = _column(week)
    return 100.0 * (arm.rated[:, j] / arm.rated[:, 0] - 1.0)


def _responders(arm: Arm, week: float, cut: float, smooth: bool) -> np.ndarray:
    pct = _pct(arm, week)
    return expit((-cut - pct) / SMOOTH_POINTS) if smooth else (pct <= -cut).astype(float)


def _iga01(pool: Pool, arm: Arm, week: float, smooth: bool) -> np.ndarray:
    s = arm.severity[:, _column(week)]
    if smooth:  # P(5 s - 0.5 + 0.3 z < 1.5): grade <= 1, which is >= 2 below a baseline of 3-4
        return ndtr((2.0 - 5.0 * s) / 0.3)
    grade = np.clip(np.rint(5 * s - 0.5 + 0.3 * pool.iga_z[:, _column(week)]), 0, 4)
    return ((grade <= 1) & (pool.screened.iga0 - grade >= 2)).astype(float)


def _scorad(pool: Pool, arm: Arm, week: float) -> tuple[np.ndarray, np.ndarray]:
    """SCORAD totals and pruritus VAS at baseline and ``week`` (n, 2) each, from drawn items."""
    cols = [0, _column(week)]
    s = arm.severity[:, cols]
    itch = np.clip(s + pool.itch_offset[:, None] + pool.itch_noise[:, cols], 0.0, 1.0)
    rng = np.random.default_rng(np.random.SeedSequence([pool.seed, 7]))
    block = draw_items(rng, s, itch, pool.screened.iga0)[1]
    fields = [item.field for item in block.items]
    values = block.values.astype(float) / 10.0
    total = np.empty(s.shape)
    for i in range(s.shape[0]):
        for j in range(2):
            data = dict(zip(fields, values[i, j].tolist(), strict=True))
            data["age_years"] = 35
            total[i, j] = float(compute_scorad(data).total)
    pruritus = values[:, :, fields.index("pruritus")]
    return total, pruritus


def _ratio_change(y: np.ndarray) -> tuple[float, float, float]:
    """100 (mean(y1)/mean(y0) - 1) with its delta-method 95 % interval."""
    x0, x1 = y[:, 0], y[:, 1]
    r = x1.mean() / x0.mean()
    se = np.std(x1 - r * x0, ddof=1) / (math.sqrt(len(x0)) * x0.mean())
    return 100 * (r - 1), 100 * (r - Z * se - 1), 100 * (r + Z * se - 1)


def _mean_ci(x: np.ndarray) -> tuple[float, float, float]:
    m, se = float(x.mean()), float(np.std(x, ddof=1) / math.sqrt(len(x)))
    return m, m - Z * se, m + Z * se


def evaluate(
    pool: Pool,
    arms: dict[str, Arm],
    target: Target,
    *,
    smooth: bool = False,
) -> tuple[float, float, float]:
    """Simulated value of ``target`` and its Monte Carlo 95 % interval (module docstring)."""
    arm, week, m = arms[target.regimen], target.week, target.metric
    if m.startswith("easi") and m[4:].isdigit():
        r = _responders(arm, week, float(m[4:]), smooth)
        p = float(r.mean())
        lo, hi = _wilson(p, r.size)
        return 100 * p, 100 * lo, 100 * hi
    if m == "iga01":
        r = _iga01(pool, arm, week, smooth)
        p = float(r.mean())
        lo, hi = _wilson(p, r.size)
        return 100 * p, 100 * lo, 100 * hi
    if m == "pct_easi":
        return _mean_ci(_pct(arm, week))
    if m == "diff_easi50":
        d = 100 * (
            _responders(arm, week, 50, smooth) - _responders(arms["placebo"], week, 50, smooth)
        )
        return _mean_ci(d)
    if m in ("scorad_pct", "pruritus_pct"):
        total, pruritus = _scorad(pool, arm, week)
        return _ratio_change(total if m == "scorad_pct" else pruritus)
    raise InvalidInput("calibrate", f"targets[{target.id}].metric", m, "a known metric")


def _needed(targets: Sequence[Target]) -> list[str]:
    names = {t.regimen for t in targets} | {"placebo" for t in targets if t.metric == "diff_easi50"}
    return [r for r in REGIMENS if r in names]


def _published_ci(t: Target) -> tuple[float | None, float | None]:
    if t.n is None or t.metric not in ("easi50", "easi75", "easi90", "iga01"):
        return (t.low, t.high)
    lo, hi = _wilson(t.value / 100, t.n)
    return (round(100 * lo, 1), round(100 * hi, 1))


def _power(p1: float, p0: float, n1: int, n0: int) -> float:
    """Power of the two-sided two-proportion z-test at alpha 0.05 (normal approximation)."""
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    if se == 0:
        return 0.0
    z = abs(p1 - p0) / se
    return float(ndtr(z - Z) + ndtr(-z - Z))


TABLE_SCHEMA = {
    "target": pl.String(),
    "source": pl.String(),
    "regimen": pl.String(),
    "metric": pl.String(),
    "week": pl.Float64(),
    "published": pl.Float64(),
    "published_low": pl.Float64(),
    "published_high": pl.Float64(),
    "simulated": pl.Float64(),
    "mc_low": pl.Float64(),
    "mc_high": pl.Float64(),
    "weight": pl.Float64(),
    "note": pl.String(),
}


def calibration_table(
    pool: Pool, model: Model, targets: Sequence[Target] = TARGETS
) -> pl.DataFrame:
    """One row per target: published value (and its interval), simulated value, MC interval."""
    arms = run_regimens(pool, model, _needed(targets))
    rows = []
    for t in targets:
        value, lo, hi = evaluate(pool, arms, t)
        plo, phi = _published_ci(t)
        note = t.note
        if t.id == "furestem3-diff-w4":
            p1 = float(_responders(arms["sc50"], 4, 50, False).mean())
            p0 = float(_responders(arms["placebo"], 4, 50, False).mean())
            note = f"{note}; simulated power at n=98/99: {100 * _power(p1, p0, 98, 99):.0f} %"
        rows.append(
            {
                "target": t.id,
                "source": t.source,
                "regimen": REGIMENS[t.regimen].label,
                "metric": t.metric,
                "week": float(t.week),
                "published": t.value,
                "published_low": plo,
                "published_high": phi,
                "simulated": round(value, 1),
                "mc_low": round(lo, 1),
                "mc_high": round(hi, 1),
                "weight": t.weight,
                "note": note,
            }
        )
    return pl.DataFrame(rows, schema=TABLE_SCHEMA)


# --- fit ----------------------------------------------------------------------------------------


def _deviation(t: Target, value: float) -> float:
    if t.low is not None or t.high is not None:
        lo = -math.inf if t.low is None else t.low
        hi = math.inf if t.high is None else t.high
        return max(0.0, lo - value, value - hi)
    return value - t.value


def objective(pool: Pool, model: Model, targets: Sequence[Target] = TARGETS) -> float:
    """Weighted squared error of the fitted targets (weight > 0), smoothed rates (docstring)."""
    fitted = [t for t in targets if t.weight > 0]
    arms = run_regimens(pool, model, _needed(fitted))
    total = 0.0
    for t in fitted:
        value = evaluate(pool, arms, t, smooth=True)[0]
        total += t.weight * (_deviation(t, value) / 10.0) ** 2
    return total


BOUNDS: tuple[tuple[float, float], ...] = (
    (math.log(1e-3), math.log(10.0)),
    (math.log(1e-2), math.log(1e5)),
    (-12.0, 12.0),
    (math.log(1e-4), math.log(100.0)),
    (math.log(0.1), math.log(104.0)),
)
"""Bounds of ``theta``: care 0.001-10, EC50 0.01-10^5 x10^6 cells, T-cell Emax logit +-12,
barrier Emax 10^-4-100, half-life 0.1-104 weeks."""


def with_parameters(model: Model, theta: Sequence[float]) -> Model:
    """The model with the fitted parameters set from ``theta`` (transformed scales, docstring)."""
    care, ec50, tcell, barrier, half = (
        float(np.clip(x, lo, hi)) for x, (lo, hi) in zip(theta, BOUNDS, strict=True)
    )
    e = math.exp(ec50)
    mech = model.mechanism.replace(
        tcell_ec50=e,
        barrier_ec50=e,
        tslp_ec50=e,
        th2_ec50=e,
        tcell_emax=float(np.clip(expit(tcell), 0.0, 1.0)),
        barrier_emax=float(np.clip(math.exp(barrier), 0.0, 100.0)),
        half_life_weeks=float(np.clip(math.exp(half), 0.05, 520.0)),
    )
    return replace(model, care=float(np.clip(math.exp(care), 0.0, 10.0)), mechanism=mech)


def parameters_of(model: Model) -> np.ndarray:
    """``theta`` of a model (inverse of ``with_parameters``; the EC50 is the T-cell one)."""
    m = model.mechanism
    emax = min(max(m.tcell_emax, 1e-6), 1 - 1e-6)
    return np.array(
        [
            math.log(max(model.care, 1e-6)),
            math.log(m.tcell_ec50),
            math.log(emax / (1 - emax)),
            math.log(max(m.barrier_emax, 1e-6)),
            math.log(m.half_life_weeks),
        ]
    )


@dataclass(frozen=True)
class Fit:
    """A fit: the fitted model, the objective before and after, evaluations, and the values of
    ``FIT_PARAMETERS`` (natural scale)."""

    model: Model
    start: float
    end: float
    evaluations: int
    values: dict[str, float]


def fit(
    pool: Pool,
    model: Model,
    targets: Sequence[Target] = TARGETS,
    *,
    max_evaluations: int = 120,
    progress: Callable[[int, float], None] | None = None,
) -> Fit:
    """Fit ``FIT_PARAMETERS`` by Nelder-Mead on the fixed pool (module docstring)."""
    theta0 = parameters_of(model)
    calls = [0]

    def f(theta: np.ndarray) -> float:
        value = objective(pool, with_parameters(model, theta), targets)
        calls[0] += 1
        if progress is not None:
            progress(calls[0], value)
        return value

    start = f(theta0)
    result = minimize(
        f,
        theta0,
        method="Nelder-Mead",
        bounds=BOUNDS,
        options={"maxfev": max_evaluations, "xatol": 1e-3, "fatol": 1e-4},
    )
    best = with_parameters(model, result.x)
    end = float(result.fun)
    if end > start:  # never worse than the start
        best, end = model, start
    m = best.mechanism
    values = {
        "care": best.care,
        "ec50": m.tcell_ec50,
        "tcell_emax": m.tcell_emax,
        "barrier_emax": m.barrier_emax,
        "half_life_weeks": m.half_life_weeks,
    }
    return Fit(best, start, end, calls[0], values)


CANNOT_REPRODUCE = (
    "One parameter set cannot reproduce both FURESTEM-AD trials. The phase IIa high-dose arm "
    "(open label, no placebo, n=11: EASI-50 55 %) and the phase 3 MSC arm (double blind, n=98: "
    "31.8 %) received the same regimen (one SC dose of 5.0x10^7 cells) and were read at the same "
    "week, so the model gives them the same simulated value, whatever its parameters; a fit "
    "lands between them or, weighted by the larger trial, near the phase 3. The gap is what the "
    "model does not contain: the open-label phase IIa's expectation bias and regression to the "
    "mean on entry, and its small size (the Wilson 95 % interval of 6/11 is 28-79 %). A model "
    "that fits the phase 3 under-predicts the phase IIa unless the open-label arm is given a "
    "stronger background/placebo response (a larger `care` in that study only), which would be "
    "an assumption about bias, not a property of the product."
)
"""The plain statement printed with the calibration table and in docs/simulate.md."""
