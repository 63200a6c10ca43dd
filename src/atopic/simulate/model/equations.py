"""The 14 equations of the Miyano-Irvine-Tanaka model, vectorised over patients.

Source: Miyano T, Irvine AD, Tanaka RJ. "A mathematical model to identify optimal combinations of
drug targets for dupilumab poor responders in atopic dermatitis." Allergy 2021,
doi 10.1111/all.14870; equations as written in ``shared/reference/simulation.md``. Time in weeks.

Effective cytokines under treatment effects ``e1..e9`` (``therapies``)::

    IL4e = (1-e1) IL4;  IL13e = (1 - e2 eps) IL13, eps = max(0.4396, e9);  IL17e = (1-e3) IL17
    IL22e = (1-e4) IL22;  IL31e = (1-e5) IL31;  TSLPe = (1-e6) TSLP;  OX40Le = (1-e7) OX40L
    IFNge = IFNg + e8

    ds/dt    = (1-s)(k1 + k2 IL22e + k3eff) / [(1+b1 IL4e)(1+b2 IL13e)(1+b3 IL17e)(1+b4 IL22e)(1+b5 IL31e)]
               - s [d1 (1 + d3 p) + d2 IL31e]
    dp/dt    = k4/(1 + b6 s) - p {(1+d4 p)(1+d5 IL17e)(1+d6 IL22e)(1+d7 IFNge)/[(1+b7 IL4e)(1+b8 IL13e)] + d8}
    Den = 4 + k9 IFNge + k10 IL4e;  Death = d9/(1 + b9 OX40Le);  k4 = d8
    dTh1/dt  = k5 p (1 + k9 IFNge)/Den - Death Th1      dTh2/dt  = k6 p (1 + k10 IL4e)/Den - Death Th2
    dTh17/dt = k7 p/Den - Death Th17                    dTh22/dt = k8 p/Den - Death Th22
    dIL4/dt  = k11 Th2 + k12 - d10 IL4                  dIL13/dt = k13 Th2 + k14 - d11 IL13
    dIL17/dt = k15 Th17 + k16 - d12 IL17                dIL22/dt = k17 Th22 + k18 - d13 IL22
    dIL31/dt = k19 Th2 + k20 - d14 IL31                 dIFNg/dt = k21 Th1 + k22 - d15 IFNg
    dTSLP/dt = k23 p + k24 - d16 TSLP                   dOX40L/dt = k25 TSLPe + k26 - d17 OX40L
    EASI = 36 p + 36 (1 - s)

``k3eff = care x k3``: ``care = 1`` is the paper's background care (every arm in the treatment
phase, placebo included), ``care = 0`` while finding the baseline; values between are a weaker
background (a monotherapy trial's placebo; a calibration knob, not in the paper).

Every equation has the form ``dy/dt = a(y) - lam(y) y`` with production ``a >= 0`` and loss rate
``lam > 0`` (for s: ``a = A``, ``lam = A + B``, A the recovery and B the damage term above);
``rates`` returns both, which the exponential integrator (``solver``) uses. States are rows:
``y`` has shape (14, n) and parameters ``k`` shape (51, n) inside the solver.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from atopic.simulate.model.parameters import INDEX

STATES: tuple[str, ...] = (
    "s", "p", "th1", "th2", "th17", "th22", "il4", "il13", "il17", "il22", "il31", "ifng", "tslp",
    "ox40l",
)  # fmt: skip
"""The 14 states: barrier integrity s (0-1), infiltrated pathogens p (0-1), T-helper cells and
cytokines (arbitrary units)."""

S, P, TH1, TH2, TH17, TH22, IL4, IL13, IL17, IL22, IL31, IFNG, TSLP, OX40L = range(14)

START = np.array([0.5931, 0.4069, 3.1, 8.7, 2.0, 21.0, 38.0, 40.5, 5.4, 3.0, 2.0, 1.5, 4.4, 9.7])
"""The published start values from which every patient runs to its steady state."""

EPS_IL13 = 0.4396
"""Lower bound of the IL-13 blockade factor eps = max(0.4396, e9) (the paper's value)."""

N_EFFECTS = 9
"""e1..e9."""

_K = INDEX


def easi(s: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Mechanistic EASI (0-72) from barrier integrity ``s`` and pathogens ``p``: 36 p + 36 (1-s)."""
    return 36.0 * p + 36.0 * (1.0 - s)


def effective(
    y: np.ndarray, e: np.ndarray
) -> tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray
]:
    """Effective IL-4, IL-13, IL-17, IL-22, IL-31, TSLP, OX40L and IFN-g under effects ``e`` (9, ...)."""
    eps = np.maximum(EPS_IL13, e[8])
    return (
        (1.0 - e[0]) * y[IL4],
        (1.0 - e[1] * eps) * y[IL13],
        (1.0 - e[2]) * y[IL17],
        (1.0 - e[3]) * y[IL22],
        (1.0 - e[4]) * y[IL31],
        (1.0 - e[5]) * y[TSLP],
        (1.0 - e[6]) * y[OX40L],
        y[IFNG] + e[7],
    )


def rates(
    y: np.ndarray,
    k: np.ndarray,
    e: np.ndarray,
    care: float | np.ndarray = 1.0,
    mod: Mapping[int, np.ndarray] | None = None,
    out: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Production ``a`` and loss rate ``lam`` of every state, so that ``dy/dt = a - lam * y``.

    ``y``: states (14, n); ``k``: parameters (51, n) (``parameters.NAMES`` order); ``e``: effects
    e1..e9, shape (9,) or (9, n); ``care``: multiplier of k3 (1 background care, 0 none);
    ``mod``: optional multipliers of parameters by column index (cell therapy), each (n,) or
    scalar; ``out``: optional preallocated (14, n) arrays for ``a`` and ``lam``.
    """

    def g(name: str) -> np.ndarray:
        i = _K[name]
        if mod is not None and i in mod:
            return k[i] * mod[i]
        return k[i]

    a, lam = out if out is not None else (np.empty_like(y), np.empty_like(y))
    s, p = y[S], y[P]
    il4e, il13e, il17e, il22e, il31e, tslpe, ox40le, ifnge = effective(y, e)

    k3eff = care * g("k3")
    recovery = (g("k1") + g("k2") * il22e + k3eff) / (
        (1.0 + g("b1") * il4e)
        * (1.0 + g("b2") * il13e)
        * (1.0 + g("b3") * il17e)
        * (1.0 + g("b4") * il22e)
        * (1.0 + g("b5") * il31e)
    )
    damage = g("d1") * (1.0 + g("d3") * p) + g("d2") * il31e
    a[S] = recovery
    lam[S] = recovery + damage

    d8 = g("d8")
    a[P] = d8 / (1.0 + g("b6") * s)  # k4 = d8
    lam[P] = (1.0 + g("d4") * p) * (1.0 + g("d5") * il17e) * (1.0 + g("d6") * il22e) * (
        1.0 + g("d7") * ifnge
    ) / ((1.0 + g("b7") * il4e) * (1.0 + g("b8") * il13e)) + d8

    k9i, k10i = g("k9") * ifnge, g("k10") * il4e
    p_den = p / (4.0 + k9i + k10i)
    death = g("d9") / (1.0 + g("b9") * ox40le)
    a[TH1] = g("k5") * p_den * (1.0 + k9i)
    a[TH2] = g("k6") * p_den * (1.0 + k10i)
    a[TH17] = g("k7") * p_den
    a[TH22] = g("k8") * p_den
    lam[TH1 : TH22 + 1] = death

    a[IL4] = g("k11") * y[TH2] + g("k12")
    a[IL13] = g("k13") * y[TH2] + g("k14")
    a[IL17] = g("k15") * y[TH17] + g("k16")
    a[IL22] = g("k17") * y[TH22] + g("k18")
    a[IL31] = g("k19") * y[TH2] + g("k20")
    a[IFNG] = g("k21") * y[TH1] + g("k22")
    a[TSLP] = g("k23") * p + g("k24")
    a[OX40L] = g("k25") * tslpe + g("k26")
    for row, name in ((IL4, "d10"), (IL13, "d11"), (IL17, "d12"), (IL22, "d13"), (IL31, "d14"),
                      (IFNG, "d15"), (TSLP, "d16"), (OX40L, "d17")):  # fmt: skip
        lam[row] = g(name)
    return a, lam


def derivative(
    y: np.ndarray,
    k: np.ndarray,
    e: np.ndarray,
    care: float | np.ndarray = 1.0,
    mod: Mapping[int, np.ndarray] | None = None,
) -> np.ndarray:
    """dy/dt (14, n) of the model equations (module docstring) at states ``y`` (14, n)."""
    a, lam = rates(y, k, e, care, mod)
    return a - lam * y
