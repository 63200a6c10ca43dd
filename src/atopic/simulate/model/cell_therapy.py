"""Mesenchymal stromal cell (MSC) therapy as a dosed therapy added to the Miyano model.

The published model has no cell therapy (``shared/reference/simulation.md``, "What the model
lacks" 1). Here a regimen (dose in cells or cells/kg, route SC or IV, administration weeks) gives
an *exposure* ``A(t)`` (10^6 cell-equivalents of immunomodulatory activity) that decays after each
dose; the exposure drives saturable (Emax) effects on four mechanisms, applied as multipliers of
model parameters. With dose 0 every multiplier is exactly 1, so a zero dose is placebo exactly.

Exposure (one compartment, superposition over doses at weeks tau_j, dose D_j in 10^6 cells)::

    IV (bolus):        A(t) = sum_j F_iv D_j exp(-ke (t - tau_j))
    SC (first-order):  A(t) = sum_j F_sc D_j ka/(ka - ke) [exp(-ke (t - tau_j)) - exp(-ka (t - tau_j))]
                       (ka = ke: F_sc D_j ka (t - tau_j) exp(-ka (t - tau_j)))
    ke = ln 2 / half_life_weeks; only doses with t >= tau_j count (Bateman function; Gibaldi M,
    Perrier D, Pharmacokinetics, 2nd ed. 1982, ch. 1).

Effects (sigmoid Emax; Holford NHG, Sheiner LB, Clin Pharmacokinet 1981;6:429-453)::

    E_m(A) = emax_m A^hill_m / (ec50_m^hill_m + A^hill_m),   m in {tcell, barrier, tslp, th2}
    T-cell expansion:  k6, k7, k8 x (1 - E_tcell);  k5 x (1 - th1_weight E_tcell)
    barrier repair:    k1 x (1 + E_barrier)       (basal barrier recovery rate raised)
    TSLP:              k23, k24 x (1 - E_tslp)
    IgE / Th2 activity: k11, k13, k19 x (1 - E_th2)  (IL-4, IL-13, IL-31 secretion per Th2 cell)

Evidence and rationale (the defaults are *priors for calibration*, not estimates):
    * Shin KO et al., Cells 2020;9:2093 (human MSC exosomes, mouse AD): ceramide synthesis up,
      TEWL down, IL-4, IL-13, IL-17, TSLP and IFN-g down -> barrier, TSLP and broad T-cell
      suppression (IFN-g falling too, so Th1 is suppressed, less: ``th1_weight`` 0.3).
    * Kim HS et al., Stem Cells 2017;35:248-255 (FURESTEM-AD phase I/IIa, single SC hUCB-MSC
      2.5 or 5.0 x 10^7 cells): dose-dependent EASI-50 (36 % vs 55 %), serum IgE and blood
      eosinophils fell -> the IgE/Th2 pathway and a dose-response; the effect persisted to week
      12 after one dose, the phase 3 (NCT03269773) was significant at week 4 only -> an exposure
      that decays over weeks (``half_life_weeks`` 2), not days.
    * The evidence that MSC shift Th1/Th2 toward Th1 or raise regulatory T cells in AD is mixed;
      the model uses broad suppression and keeps every mechanism a parameter a user can change
      (``CellMechanism``, from a TOML file).
    * Route: ``ka`` (SC release from the injection depot, default 1 per week: absorption
      half-life 0.7 week) and the fractions ``sc_fraction``/``iv_fraction`` (IV cells are mostly
      trapped in the lungs; both 1 by default, for calibration against ADSTEM and Seo et al.).
    * EC50s 20 x 10^6 cells put the FURESTEM doses (25 and 50 x 10^6 SC, peak exposures about
      14 and 29 x 10^6) on the rising part of the curve, so the model is dose-dependent there.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

from atopic.errors import InvalidInput
from atopic.simulate.model.parameters import INDEX

UNITS: dict[str, tuple[float, bool]] = {
    "cells": (1e-6, False),
    "10^6 cells": (1.0, False),
    "cells/kg": (1e-6, True),
    "10^6 cells/kg": (1.0, True),
}
"""Dose units: factor to 10^6 cells and whether the dose is per kg of body weight."""

ROUTES: dict[str, str] = {
    "SC": "SC",
    "SUBCUTANEOUS": "SC",
    "IV": "IV",
    "INTRAVENOUS": "IV",
}
"""Routes (CDISC EXROUTE terms accepted) -> SC or IV."""


def _finite(owner: str, name: str, value: object, lo: float, hi: float, *, open_lo: bool) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    ok = ok and math.isfinite(float(value))  # type: ignore[arg-type]
    if ok:
        x = float(value)  # type: ignore[arg-type]
        ok = (x > lo if open_lo else x >= lo) and x <= hi
    if not ok:
        left = "(" if open_lo else "["
        raise InvalidInput(owner, name, value, f"a number in {left}{lo:g}, {hi:g}]")
    return float(value)  # type: ignore[arg-type]


_LIMITS: dict[str, tuple[float, float, bool]] = {
    "half_life_weeks": (0.0, 520.0, True),
    "ka": (0.0, 1e4, True),
    "sc_fraction": (0.0, 1.0, False),
    "iv_fraction": (0.0, 1.0, False),
    "tcell_emax": (0.0, 1.0, False),
    "tcell_ec50": (0.0, 1e9, True),
    "tcell_hill": (0.0, 10.0, True),
    "th1_weight": (0.0, 1.0, False),
    "barrier_emax": (0.0, 100.0, False),
    "barrier_ec50": (0.0, 1e9, True),
    "barrier_hill": (0.0, 10.0, True),
    "tslp_emax": (0.0, 1.0, False),
    "tslp_ec50": (0.0, 1e9, True),
    "tslp_hill": (0.0, 10.0, True),
    "th2_emax": (0.0, 1.0, False),
    "th2_ec50": (0.0, 1e9, True),
    "th2_hill": (0.0, 10.0, True),
}


@dataclass(frozen=True)
class CellMechanism:
    """Exposure and effect parameters of an MSC product (module docstring for the model).

    ``half_life_weeks``: decay of exposure; ``ka``: SC absorption rate (per week);
    ``sc_fraction``/``iv_fraction``: fraction of a dose that becomes exposure. Per mechanism
    ``*_emax`` (largest fractional reduction; for the barrier the largest fractional *increase*
    of k1), ``*_ec50`` (exposure, 10^6 cells, at half of emax), ``*_hill``; ``th1_weight``: how
    much of the T-cell effect reaches Th1 (0 none, 1 as much as Th2/Th17/Th22).
    """

    half_life_weeks: float = 2.0
    ka: float = 1.0
    sc_fraction: float = 1.0
    iv_fraction: float = 1.0
    tcell_emax: float = 0.6
    tcell_ec50: float = 20.0
    tcell_hill: float = 1.0
    th1_weight: float = 0.3
    barrier_emax: float = 1.0
    barrier_ec50: float = 20.0
    barrier_hill: float = 1.0
    tslp_emax: float = 0.5
    tslp_ec50: float = 20.0
    tslp_hill: float = 1.0
    th2_emax: float = 0.5
    th2_ec50: float = 20.0
    th2_hill: float = 1.0

    def __post_init__(self) -> None:
        for f in fields(self):
            lo, hi, open_lo = _LIMITS[f.name]
            _finite("cell_therapy", f.name, getattr(self, f.name), lo, hi, open_lo=open_lo)

    @property
    def ke(self) -> float:
        """Exposure elimination rate per week, ln 2 / half_life_weeks."""
        return math.log(2.0) / self.half_life_weeks

    def to_dict(self) -> dict[str, float]:
        """Every parameter by name."""
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}

    def replace(self, **changes: float) -> CellMechanism:
        """A copy with some parameters changed (names as the fields)."""
        unknown = set(changes) - set(_LIMITS)
        if unknown:
            raise InvalidInput(
                "cell_therapy",
                sorted(unknown)[0],
                sorted(unknown)[0],
                "one of " + ", ".join(_LIMITS),
            )
        return replace(self, **changes)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CellMechanism:
        """From a mapping of parameter names (unlisted ones keep their defaults)."""
        return cls().replace(**data)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: str | Path) -> CellMechanism:
        """From a TOML file: top-level keys or a ``[cell_therapy]`` table."""
        path = Path(path)
        if not path.is_file():
            raise InvalidInput("cell_therapy", "path", str(path), "an existing .toml file")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise InvalidInput("cell_therapy", "file", str(path), f"valid TOML ({error})") from None
        section = data.get("cell_therapy", data)
        return cls.from_dict(section)

    def to_toml(self) -> str:
        """The parameters as a ``[cell_therapy]`` TOML table."""
        body = "\n".join(f"{k} = {v!r}" for k, v in self.to_dict().items())
        return "[cell_therapy]\n" + body + "\n"


@dataclass(frozen=True)
class CellRegimen:
    """A dosing regimen: ``dose`` (scalar or one per patient) in ``unit`` by ``route`` at ``weeks``.

    ``unit``: one of ``UNITS`` (cells, 10^6 cells, cells/kg, 10^6 cells/kg); per-kg doses need
    ``body_weight_kg`` (scalar or one per patient). ``weeks``: administration times from the
    start of the treatment phase (>= 0). ``route``: SC or IV (CDISC terms accepted).
    """

    dose: float | np.ndarray
    unit: str = "cells"
    route: str = "SC"
    weeks: Sequence[float] = (0.0,)
    body_weight_kg: float | np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise InvalidInput("cell_therapy", "unit", self.unit, "one of " + ", ".join(UNITS))
        if str(self.route).upper() not in ROUTES:
            raise InvalidInput("cell_therapy", "route", self.route, "one of " + ", ".join(ROUTES))
        dose = np.atleast_1d(np.asarray(self.dose, dtype=float))
        if dose.ndim != 1 or not np.all(np.isfinite(dose)) or np.any(dose < 0):
            raise InvalidInput(
                "cell_therapy", "dose", self.dose, "a finite dose >= 0 (or one per patient)"
            )
        weeks = tuple(float(w) for w in self.weeks)
        if not weeks or any(not math.isfinite(w) or w < 0 for w in weeks):
            raise InvalidInput(
                "cell_therapy", "weeks", list(self.weeks), "one or more times in weeks >= 0"
            )
        object.__setattr__(self, "weeks", tuple(sorted(weeks)))
        if UNITS[self.unit][1]:
            if self.body_weight_kg is None:
                raise InvalidInput(
                    "cell_therapy",
                    "body_weight_kg",
                    None,
                    f"a body weight in kg for a dose in {self.unit}",
                )
            bw = np.atleast_1d(np.asarray(self.body_weight_kg, dtype=float))
            if not np.all(np.isfinite(bw)) or np.any(bw <= 0) or np.any(bw > 500):
                raise InvalidInput(
                    "cell_therapy", "body_weight_kg", self.body_weight_kg, "a weight in (0, 500] kg"
                )

    @property
    def route_code(self) -> str:
        """SC or IV."""
        return ROUTES[str(self.route).upper()]

    def million_cells(self) -> np.ndarray:
        """The dose of each administration in 10^6 cells, shape (n,) or (1,)."""
        factor, per_kg = UNITS[self.unit]
        dose = np.atleast_1d(np.asarray(self.dose, dtype=float)) * factor
        if per_kg:
            dose = dose * np.atleast_1d(np.asarray(self.body_weight_kg, dtype=float))
        return dose


def exposure(
    regimen: CellRegimen, mechanism: CellMechanism, t: float | np.ndarray, *, left: bool = False
) -> np.ndarray:
    """Exposure A(t) in 10^6 cell-equivalents (module docstring), shape (n, len(t)) or (n,) for scalar t.

    ``left``: at a dose time take the limit from the left (the IV bolus not yet given).
    """
    scalar = np.ndim(t) == 0
    tt = np.atleast_1d(np.asarray(t, dtype=float))[None, :]
    dose = regimen.million_cells()[:, None]
    ke, ka = mechanism.ke, mechanism.ka
    total = np.zeros((dose.shape[0], tt.shape[1]))
    for tau in regimen.weeks:
        delta = tt - tau
        given = delta > 0 if left else delta >= 0
        d = np.where(given, delta, 0.0)
        if regimen.route_code == "IV":
            shape = mechanism.iv_fraction * np.exp(-ke * d)
        elif abs(ka - ke) <= 1e-9 * ka:
            shape = mechanism.sc_fraction * ka * d * np.exp(-ka * d)
        else:
            shape = mechanism.sc_fraction * ka / (ka - ke) * (np.exp(-ke * d) - np.exp(-ka * d))
        total += np.where(given, dose * shape, 0.0)
    return total[:, 0] if scalar else total


def emax(a: np.ndarray, top: float, ec50: float, hill: float) -> np.ndarray:
    """Sigmoid Emax: top A^hill / (ec50^hill + A^hill); exactly 0 at A = 0."""
    ah = np.power(a, hill)
    return top * ah / (ec50**hill + ah)


def multipliers(a: np.ndarray, mechanism: CellMechanism) -> dict[int, np.ndarray]:
    """Parameter multipliers (by column of the parameter matrix) at exposure ``a`` (module docstring)."""
    m = mechanism
    e_t = emax(a, m.tcell_emax, m.tcell_ec50, m.tcell_hill)
    e_b = emax(a, m.barrier_emax, m.barrier_ec50, m.barrier_hill)
    e_s = emax(a, m.tslp_emax, m.tslp_ec50, m.tslp_hill)
    e_2 = emax(a, m.th2_emax, m.th2_ec50, m.th2_hill)
    t_cells = 1.0 - e_t
    tslp = 1.0 - e_s
    th2 = 1.0 - e_2
    return {
        INDEX["k5"]: 1.0 - m.th1_weight * e_t,
        INDEX["k6"]: t_cells,
        INDEX["k7"]: t_cells,
        INDEX["k8"]: t_cells,
        INDEX["k1"]: 1.0 + e_b,
        INDEX["k23"]: tslp,
        INDEX["k24"]: tslp,
        INDEX["k11"]: th2,
        INDEX["k13"]: th2,
        INDEX["k19"]: th2,
    }


def modifiers(
    regimen: CellRegimen, mechanism: CellMechanism
) -> Callable[[float, bool], dict[int, np.ndarray]]:
    """A function of (week, left) giving the parameter multipliers, for ``solver.integrate``."""

    def at(t: float, left: bool = False) -> dict[int, np.ndarray]:
        return multipliers(exposure(regimen, mechanism, t, left=left), mechanism)

    return at
