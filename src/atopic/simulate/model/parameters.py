"""The 51 log-normal parameters of the Miyano-Irvine-Tanaka model, as data.

Each parameter ``k`` of a virtual patient is log-normal: ``ln k ~ N(mu, sigma)``. The table is the
one of ``shared/reference/simulation.md`` (Miyano T, Irvine AD, Tanaka RJ, Allergy 2021,
doi 10.1111/all.14870; parameters published by the authors under the MIT licence), in the order of
the authors' parameter vector (k1 ... d17). ``k4`` is not a free parameter: ``k4 = d8``. Rates are
per week; states are in the model's arbitrary units.

``ROLES`` says what each parameter does in the equations (``atopic.simulate.model.equations``);
it is read off the equations, not a claim about biology beyond them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    """One model parameter: ``ln k ~ N(mu, sigma)`` across virtual patients."""

    name: str
    mu: float
    sigma: float
    role: str


_TABLE: tuple[tuple[str, float, float, str], ...] = (
    ("k1", 0.537, 0.793, "barrier recovery, basal"),
    ("k2", -1.5, 0.39, "barrier recovery driven by IL-22"),
    ("k3", 2.95, 1.42, "barrier recovery by background care (k3eff)"),
    ("b1", -8.69, 0.575, "inhibition of barrier recovery by IL-4"),
    ("b2", -3.54, 1.58, "inhibition of barrier recovery by IL-13"),
    ("b3", -3.92, 0.349, "inhibition of barrier recovery by IL-17"),
    ("b4", -0.595, 0.798, "inhibition of barrier recovery by IL-22"),
    ("b5", -2.09, 0.903, "inhibition of barrier recovery by IL-31"),
    ("d1", -1.599, 1.53, "barrier damage, basal"),
    ("d2", -2.64, 0.567, "barrier damage by IL-31 (itch, scratching)"),
    ("d3", 1.25, 2.28, "barrier damage amplified by pathogens"),
    ("b6", 0.395, 0.444, "barrier blocks pathogen infiltration"),
    ("d4", -1.0, 0.474, "pathogen elimination proportional to pathogen load"),
    ("d5", -5.1, 0.445, "pathogen elimination enhanced by IL-17"),
    ("d6", -5.01, 0.389, "pathogen elimination enhanced by IL-22"),
    ("d7", -8.7, 0.62, "pathogen elimination enhanced by IFN-g"),
    ("b7", -7.99, 0.092, "IL-4 inhibits pathogen elimination"),
    ("b8", -3.5, 0.048, "IL-13 inhibits pathogen elimination"),
    ("d8", -1.599, 0.0357, "pathogen elimination, basal; also the infiltration rate k4 = d8"),
    ("k5", 2.95, 0.0379, "Th1 differentiation by pathogens"),
    ("k9", -3.32, 0.994, "IFN-g promotes Th1 differentiation"),
    ("d9", -0.5482, 0.0883, "T-cell death"),
    ("b9", -2.66, 0.3, "OX40L prolongs T-cell survival"),
    ("k6", 3.89, 0.00306, "Th2 differentiation by pathogens"),
    ("k10", -5.82, 0.0675, "IL-4 promotes Th2 differentiation"),
    ("k7", 2.6, 0.0697, "Th17 differentiation by pathogens"),
    ("k8", 4.83, 0.475, "Th22 differentiation by pathogens"),
    ("k11", 5.5, 0.163, "IL-4 secretion by Th2"),
    ("k12", 9.25, 0.506, "IL-4 production, basal"),
    ("d10", 5.908, 0.219, "IL-4 decay"),
    ("k13", 6.65, 0.37, "IL-13 secretion by Th2"),
    ("k14", 8.84, 0.454, "IL-13 production, basal"),
    ("d11", 5.908, 0.111, "IL-13 decay"),
    ("k15", 4.01, 0.268, "IL-17 secretion by Th17"),
    ("k16", 2.64, 0.85, "IL-17 production, basal"),
    ("d12", 3.332, 0.571, "IL-17 decay"),
    ("k17", 1.19, 0.206, "IL-22 secretion by Th22"),
    ("k18", 1.46, 0.0277, "IL-22 production, basal"),
    ("d13", 3.332, 0.561, "IL-22 decay"),
    ("k19", 1.54, 0.187, "IL-31 secretion by Th2"),
    ("k20", 1.99, 0.576, "IL-31 production, basal"),
    ("d14", 3.332, 0.1, "IL-31 decay"),
    ("k21", 0.459, 1.0, "IFN-g secretion by Th1"),
    ("k22", 2.62, 0.353, "IFN-g production, basal"),
    ("d15", 2.681, 0.146, "IFN-g decay"),
    ("k23", 4.0, 0.522, "TSLP production by pathogens"),
    ("k24", 4.43, 0.649, "TSLP production, basal"),
    ("d16", 3.332, 0.204, "TSLP decay"),
    ("k25", 0.421, 0.481, "OX40L production driven by TSLP"),
    ("k26", 1.68, 0.78, "OX40L production, basal"),
    ("d17", 0.4824, 0.236, "OX40L decay"),
)

PARAMETERS: tuple[Parameter, ...] = tuple(Parameter(*row) for row in _TABLE)
"""The published table (``miyano2021``), in the authors' order."""

NAMES: tuple[str, ...] = tuple(p.name for p in PARAMETERS)
"""Parameter names in column order of a parameter matrix."""

INDEX: dict[str, int] = {name: i for i, name in enumerate(NAMES)}
"""Column of each parameter in a parameter matrix."""

N_PARAMETERS = len(PARAMETERS)
"""51, as in the paper."""
