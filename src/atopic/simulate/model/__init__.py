"""The mechanistic model of atopic dermatitis behind the virtual trials.

The Miyano-Irvine-Tanaka quantitative systems pharmacology model: Miyano T, Irvine AD, Tanaka RJ.
"A mathematical model to identify optimal combinations of drug targets for dupilumab poor
responders in atopic dermatitis." Allergy 2021, doi 10.1111/all.14870 (parameters published by
the authors under the MIT licence), implemented from its equations as written in the project's
reference page ``shared/reference/simulation.md``; plus a dosed MSC cell therapy and visit-level
variability (our additions, documented in ``cell_therapy`` and ``observation``).

    pop = population("miyano2021")                       # the published table, unmodified
    params = pop.sample(1000, np.random.default_rng(1))  # (1000, 51) virtual patients
    base = steady_state(params)                          # untreated baseline, residuals
    course = treat(params, base, [0, 4, 8, 12, 16], Treatment(biologic("dupilumab")))
    course.easi                                          # (1000, 5) mechanistic EASI

Modules: ``parameters`` (the 51-parameter table), ``population`` (sampling, save/load),
``equations`` (the 14 ODEs), ``solver`` (fixed-step ETDRK4 for thousands of patients at once),
``therapies`` (e1..e9 and the nine biologics), ``cell_therapy`` (dose -> exposure -> Emax
effects), ``simulation`` (baseline, treatment phase), ``observation`` (fluctuation, rater noise).
"""

from __future__ import annotations

from atopic.simulate.model.cell_therapy import CellMechanism, CellRegimen, exposure
from atopic.simulate.model.equations import START, STATES, derivative, easi
from atopic.simulate.model.observation import Variability, fluctuation, latent_easi, rated_easi
from atopic.simulate.model.parameters import NAMES, PARAMETERS
from atopic.simulate.model.population import Population, miyano2021, population
from atopic.simulate.model.simulation import (
    PLACEBO,
    Baseline,
    Course,
    Treatment,
    biomarkers,
    residual,
    simulate,
    steady_state,
    treat,
)
from atopic.simulate.model.therapies import BIOLOGICS, NONE, Effects, biologic

__all__ = [
    "BIOLOGICS",
    "NAMES",
    "NONE",
    "PARAMETERS",
    "PLACEBO",
    "START",
    "STATES",
    "Baseline",
    "CellMechanism",
    "CellRegimen",
    "Course",
    "Effects",
    "Population",
    "Treatment",
    "Variability",
    "biologic",
    "biomarkers",
    "derivative",
    "easi",
    "exposure",
    "fluctuation",
    "latent_easi",
    "miyano2021",
    "population",
    "rated_easi",
    "residual",
    "simulate",
    "steady_state",
    "treat",
]
