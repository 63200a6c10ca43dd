"""Dose-response models of MCP-Mod: equations, gradients, standardized shapes, bounds, target dose.

Definitions follow R's DoseFinding (Bornkamp, Pinheiro, Bretz; ``?drmodels``, ``?Mods``,
``?defBnds``, ``?TD``), so that a candidate set written here means what it means there:

    linear       f(d) = e0 + delta * d
    quadratic    f(d) = e0 + b1 * d + b2 * d^2              (guesstimate delta = b2 / b1 < 0)
    emax         f(d) = e0 + eMax * d / (ed50 + d)           (guesstimate ed50 > 0)
    sigEmax      f(d) = e0 + eMax * d^h / (ed50^h + d^h)     (guesstimates ed50 > 0, h > 0)
    exponential  f(d) = e0 + e1 * (exp(d / delta) - 1)       (guesstimate delta > 0)

Doses are in the trial's dose unit (for the cell product: 10^6 cells); responses in the unit of the
endpoint. Sources: Bretz, Pinheiro & Branson (2005) Biometrics 61:738-748; Pinheiro, Bornkamp,
Glimm & Bretz (2014) Stat Med 33:1646-1661; DoseFinding 1.0-3.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from atopic.errors import Described, InvalidInput

SUBJECT = "MCP-Mod"

MODELS: tuple[str, ...] = ("linear", "quadratic", "emax", "sigEmax", "exponential")
"""The supported dose-response models (DoseFinding's names)."""

PARAMETERS: dict[str, tuple[str, ...]] = {
    "linear": ("e0", "delta"),
    "quadratic": ("e0", "b1", "b2"),
    "emax": ("e0", "eMax", "ed50"),
    "sigEmax": ("e0", "eMax", "ed50", "h"),
    "exponential": ("e0", "e1", "delta"),
}
"""Dose-response parameters of each model, in DoseFinding's order."""

NONLINEAR: dict[str, int] = {"linear": 0, "quadratic": 0, "emax": 1, "sigEmax": 2, "exponential": 1}
"""Number of nonlinear parameters (fitted by bounded search; the rest is linear least squares)."""

DIRECTIONS: tuple[str, ...] = ("increasing", "decreasing")

Vector = NDArray[np.float64]


def _sig(dose: Vector, ed50: float, h: float) -> Vector:
    """d^h / (ed50^h + d^h) = 1 / (1 + (ed50/d)^h), written so that d = 0 gives 0 without warnings."""
    dh = np.power(dose, h)
    return dh / (ed50**h + dh)


def standardized(model: str, dose: ArrayLike, nonlinear: Sequence[float]) -> Vector:
    """The standardized shape f0 (e0 = 0, eMax or e1 = 1) of a nonlinear model at ``dose``.

    DoseFinding's ``getStandDR``: emax d/(ed50+d); sigEmax d^h/(ed50^h+d^h); exponential
    exp(d/delta) - 1. The full model is e0 + eMax * f0.
    """
    d = np.asarray(dose, dtype=float)
    if model == "emax":
        return d / (nonlinear[0] + d)
    if model == "sigEmax":
        return _sig(d, nonlinear[0], nonlinear[1])
    if model == "exponential":
        return np.expm1(d / nonlinear[0])
    raise ValueError(f"{model} has no nonlinear parameters")


def response(model: str, dose: ArrayLike, theta: Sequence[float]) -> Vector:
    """f(d, theta) of ``model`` with parameters ``theta`` in the order of ``PARAMETERS[model]``."""
    d = np.asarray(dose, dtype=float)
    t = [float(x) for x in theta]
    if model == "linear":
        return t[0] + t[1] * d
    if model == "quadratic":
        return t[0] + t[1] * d + t[2] * d**2
    if model in ("emax", "exponential"):
        return t[0] + t[1] * standardized(model, d, t[2:])
    if model == "sigEmax":
        return t[0] + t[1] * standardized(model, d, t[2:])
    raise ValueError(f"unknown model {model}")


def gradient(model: str, dose: ArrayLike, theta: Sequence[float]) -> NDArray[np.float64]:
    """d f / d theta at each dose: an (n doses x n parameters) matrix (DoseFinding ``*Grad``)."""
    d = np.atleast_1d(np.asarray(dose, dtype=float))
    one = np.ones_like(d)
    t = [float(x) for x in theta]
    if model == "linear":
        return np.column_stack([one, d])
    if model == "quadratic":
        return np.column_stack([one, d, d**2])
    if model == "emax":
        e_max, ed50 = t[1], t[2]
        return np.column_stack([one, d / (ed50 + d), -e_max * d / (d + ed50) ** 2])
    if model == "sigEmax":
        e_max, ed50, h = t[1], t[2], t[3]
        g1 = _sig(d, ed50, h)
        a = 1.0 - g1
        log_ratio = np.zeros_like(d)
        pos = d > 0
        log_ratio[pos] = np.log(d[pos] / ed50)
        return np.column_stack([one, g1, -(h * e_max / ed50) * g1 * a, e_max * log_ratio * g1 * a])
    if model == "exponential":
        e1, delta = t[1], t[2]
        return np.column_stack([one, np.expm1(d / delta), -np.exp(d / delta) * d * e1 / delta**2])
    raise ValueError(f"unknown model {model}")


def default_bounds(max_dose: float) -> dict[str, tuple[tuple[float, float], ...]]:
    """Bounds of the nonlinear parameters for fitting (DoseFinding ``defBnds(mD)``).

    emax ed50 in [0.001, 1.5] * mD; exponential delta in [0.1, 2] * mD; sigEmax ed50 in
    [0.001, 1.5] * mD and h in [0.5, 10].
    """
    m = float(max_dose)
    return {
        "emax": ((0.001 * m, 1.5 * m),),
        "exponential": ((0.1 * m, 2.0 * m),),
        "sigEmax": ((0.001 * m, 1.5 * m), (0.5, 10.0)),
    }


def standardized_parameters(
    model: str, guess: Sequence[float], max_dose: float, max_effect: float
) -> tuple[float, ...]:
    """Full parameters of a candidate with placebo effect 0 and effect ``max_effect`` at the
    largest dose (DoseFinding ``Mods`` via ``getLinPars`` with placEff = 0, maxEff = +-1).

    linear delta = maxEff / dmax; quadratic with dMax = -1 / (2 delta): b1 = maxEff / (dMax +
    delta dMax^2), b2 = delta b1; emax eMax = maxEff (ed50 + dmax) / dmax; sigEmax
    eMax = maxEff (ed50^h + dmax^h) / dmax^h; exponential e1 = maxEff / (exp(dmax / delta) - 1).
    """
    dmax = float(max_dose)
    if model == "linear":
        return (0.0, max_effect / dmax)
    if model == "quadratic":
        g = guess[0]
        d_top = -1.0 / (2.0 * g)
        b1 = max_effect / (d_top + g * d_top**2)
        return (0.0, b1, g * b1)
    if model == "emax":
        ed50 = guess[0]
        return (0.0, max_effect * (ed50 + dmax) / dmax, ed50)
    if model == "sigEmax":
        ed50, h = guess
        return (0.0, max_effect * (ed50**h + dmax**h) / dmax**h, ed50, h)
    if model == "exponential":
        delta = guess[0]
        return (0.0, max_effect / math.expm1(dmax / delta), delta)
    raise ValueError(f"unknown model {model}")


def target_dose(model: str, theta: Sequence[float], delta: float, direction: str) -> float:
    """Target dose TD: the smallest dose with an effect over placebo of ``delta`` (> 0) in the
    beneficial ``direction``; NaN when the fitted curve never reaches it.

    DoseFinding ``TD(..., TDtype = "continuous")``: for "decreasing" the sign of the effect
    parameters is flipped first (eMax, e1, delta of linear, b1 and b2 of quadratic). Then
    linear Delta/delta; emax Delta ed50 / (eMax - Delta); sigEmax (Delta ed50^h / (eMax -
    Delta))^(1/h); exponential delta log(Delta/e1 + 1); quadratic the smallest positive root of
    b1 d + b2 d^2 = Delta.
    """
    t = [float(x) for x in theta]
    if direction == "decreasing":
        t[1] = -t[1]
        if model == "quadratic":
            t[2] = -t[2]
    if model == "linear":
        td = delta / t[1] if t[1] != 0 else math.nan
        return td if td > 0 else math.nan
    if model == "quadratic":
        disc = 4.0 * t[2] * delta + t[1] ** 2
        if disc < 0:
            return math.nan
        if t[2] == 0:
            td = delta / t[1] if t[1] != 0 else math.nan
            return td if td > 0 else math.nan
        roots = [-(math.sqrt(disc) + t[1]) / (2 * t[2]), (math.sqrt(disc) - t[1]) / (2 * t[2])]
        positive = [r for r in roots if r > 0]
        return min(positive) if positive else math.nan
    if model == "emax":
        return math.nan if delta > t[1] else delta * t[2] / (t[1] - delta)
    if model == "sigEmax":
        return math.nan if delta > t[1] else (delta * t[2] ** t[3] / (t[1] - delta)) ** (1 / t[3])
    if model == "exponential":
        return math.nan if delta / t[1] < 0 else t[2] * math.log(delta / t[1] + 1)
    raise ValueError(f"unknown model {model}")


@dataclass(frozen=True)
class Candidate:
    """One candidate shape: ``name`` as DoseFinding labels it (``emax1``, ``emax2`` when a model
    has several guesstimates, else the model name), the model, its guesstimates and its full
    standardized parameters (placebo 0, effect +-1 at the largest dose)."""

    name: str
    model: str
    guess: tuple[float, ...]
    theta: tuple[float, ...]

    def response(self, dose: ArrayLike) -> Vector:
        """The standardized candidate curve at ``dose``."""
        return response(self.model, dose, self.theta)


@dataclass(frozen=True)
class Candidates:
    """The candidate set of MCP-Mod (DoseFinding ``Mods``) for the trial's doses."""

    doses: tuple[float, ...]
    direction: str
    models: tuple[Candidate, ...]

    @property
    def names(self) -> list[str]:
        """Candidate labels in order."""
        return [c.name for c in self.models]

    def mu(self, doses: ArrayLike | None = None) -> NDArray[np.float64]:
        """Candidate means at ``doses`` (default: the trial's doses): (n doses x n candidates)."""
        d = np.asarray(self.doses if doses is None else doses, dtype=float)
        return np.column_stack([c.response(d) for c in self.models])


def check_doses(doses: ArrayLike, field: str = "doses") -> tuple[float, ...]:
    """Distinct sorted doses; placebo (0) plus at least 3 active doses, all finite and >= 0."""
    arr = np.asarray(doses, dtype=float).ravel()
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise InvalidInput(SUBJECT, field, Described(str(arr.tolist())), "finite and >= 0")
    unique = tuple(float(x) for x in np.unique(arr))
    if unique[0] != 0.0 or len(unique) < 4:
        raise InvalidInput(
            SUBJECT,
            field,
            Described(f"dose levels {list(unique)}"),
            "placebo (dose 0) plus at least 3 active doses",
        )
    return unique


def _guesses(model: str, value: object) -> list[tuple[float, ...]]:
    """The guesstimates given for one model as a list of tuples (one per candidate)."""
    field = f"models.{model}"
    if model == "linear":
        if value is not None and value is not True:
            raise InvalidInput(SUBJECT, field, value, "None (the linear model has no guesstimate)")
        return [()]
    width = max(NONLINEAR[model], 1)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        items: list[object] = [value]
    elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) > 0:
        items = list(value)
    else:
        raise InvalidInput(SUBJECT, field, value, "a guesstimate or a list of guesstimates")
    if width == 2:
        if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in items):
            items = [tuple(items)]  # one (ed50, h) pair written flat
        groups = [tuple(x) if isinstance(x, Sequence) else (x,) for x in items]
    else:
        groups = [(x,) for x in items]
    out: list[tuple[float, ...]] = []
    for g in groups:
        ok = len(g) == width and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in g
        )
        if not ok:
            allowed = "(ed50, h) pairs of numbers" if width == 2 else "finite numbers"
            raise InvalidInput(SUBJECT, field, Described(str(value)), allowed)
        vals = tuple(float(x) for x in g)
        if model == "quadratic" and vals[0] >= 0:
            raise InvalidInput(
                SUBJECT, field, vals[0], "negative (delta = b2/b1 < 0; the peak is at -1/(2 delta))"
            )
        if model != "quadratic" and any(x <= 0 for x in vals):
            raise InvalidInput(SUBJECT, field, Described(str(vals)), "positive guesstimates")
        out.append(vals)
    return out


def candidate_models(
    models: Mapping[str, object], doses: ArrayLike, direction: str = "increasing"
) -> Candidates:
    """The candidate set (DoseFinding ``Mods``) from guesstimates per model.

    ``models`` maps a model name of ``MODELS`` to its guesstimates, e.g.
    ``{"linear": None, "emax": [5, 25], "sigEmax": (30, 3), "exponential": 80,
    "quadratic": -0.006}`` (emax ed50, sigEmax (ed50, h) or a list of pairs, exponential delta,
    quadratic delta = b2/b1, all in dose units). ``direction`` is "increasing" (benefit = larger
    response) or "decreasing" (benefit = smaller, e.g. change of EASI); the standardized
    shapes then have effect +1 or -1 at the largest dose, as Mods(maxEff = +-1).
    """
    if direction not in DIRECTIONS:
        raise InvalidInput(SUBJECT, "direction", direction, "one of increasing, decreasing")
    if not isinstance(models, Mapping) or len(models) == 0:
        raise InvalidInput(
            SUBJECT, "models", models, f"a mapping with keys from {', '.join(MODELS)}"
        )
    levels = check_doses(doses)
    max_effect = 1.0 if direction == "increasing" else -1.0
    out: list[Candidate] = []
    for model, value in models.items():
        if model not in MODELS:
            raise InvalidInput(SUBJECT, "models", model, f"one of {', '.join(MODELS)}")
        guesses = _guesses(model, value)
        for i, g in enumerate(guesses, start=1):
            name = model if len(guesses) == 1 else f"{model}{i}"
            theta = standardized_parameters(model, g, levels[-1], max_effect)
            out.append(Candidate(name=name, model=model, guess=g, theta=theta))
    return Candidates(doses=levels, direction=direction, models=tuple(out))
