"""Calibration targets of the QSP model, as data (``shared/reference/simulation.md``, targets table).

Each target is one outcome of one arm of one study, simulated in that study's own design (arms,
dose, route, schedule, visit week). ``value`` is the published number (percent); a published range
(monotherapy placebo arms) has ``low``/``high`` and ``value`` its midpoint; ``n`` is the arm's size
where the source gives it (for the trial's own binomial interval); ``weight`` is the target's
weight in the fit (0: reported, not fitted); ``setting`` is the study's blinding: ``"blinded"``
(double-blind placebo-controlled trials, and the pooled placebo arms of such trials) or
``"open"`` (open-label single-arm studies: FURESTEM-AD phase I/IIa). Each setting has its own
background care in the calibration (``calibration`` docstring). ``direction`` marks a target whose
source gives only a direction: ``"below"`` (the outcome fell: the simulated value must be below
0) or ``"above"`` (it must be above 0); its ``value`` is then 0, the reference of the direction,
not a published number, and the report says whether the simulated value (and its whole Monte
Carlo interval) lies on that side. A difference of two arms (``diff_easi50``) with a number may
carry the control arm's published rate ``control`` (percent) and size ``n_control``, so that the
likelihood objective can give it the SE of a difference (``likelihood`` docstring).

Metrics (week ``week`` against baseline, on the rated EASI of enrolled virtual patients, no
dropout: observed cases)
    ``easi50``/``easi75``/``easi90``: % of patients with EASI improved by >= 50/75/90 %;
    ``iga01``: % with vIGA-AD 0/1 and >= 2 grades better; ``pct_easi``: mean % change of EASI;
    ``scorad_pct``/``pruritus_pct``: mean % change of SCORAD / its pruritus VAS;
    ``diff_easi50``: EASI-50 of the arm minus EASI-50 of placebo (percentage points);
    ``ige_median_pct``/``eos_median_pct``: median % change of serum IgE / blood eosinophils, from
    the LB values of the QSP observation model (``observe.lab_values``: IgE and eosinophils
    follow Th2 activity, effective IL-4 + IL-13, with visit noise). Median, not mean: IgE is
    log-normal with a log-SD of 1.2 between patients, and a median % change is what small trials
    report for skewed labs.

Sources: Andreasen TH et al., JEADV 2020 (pooled placebo of 24 systemic-therapy trials); SOLO 1/2
(Simpson EL et al., NEJM 2016) and JADE MONO (Simpson EL et al., Lancet 2020) placebo arms; Kim HS
et al., Stem Cells 2017;35:248 (FURESTEM-AD phase I/IIa); NCT03269773 (FURESTEM-AD phase 3);
ADSTEM phase 2 (Stem Cell Res Ther 2025); Seo et al., JACI 2024.

Assumptions (not in the sources as given to us; stated so a user can change them)
    * ADSTEM: the per-infusion dose is not on the reference page; we assume 1 x 10^6 cells/kg IV.
    * Per-kg doses use a body weight of 70 kg.
    * Seo 2024: the outcome week is taken as 12 (EASI-50 higher than placebo, p = 0.038).
    * ADSTEM and Seo 2024 are placebo-controlled and taken as blinded; FURESTEM-AD phase I/IIa is
      open label with no control arm (Kim et al. 2017).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Regimen:
    """An arm: ``dose`` in ``unit`` by ``route`` at ``weeks`` (dose 0: background care only)."""

    label: str
    dose: float = 0.0
    unit: str = "cells"
    route: str = "SC"
    weeks: tuple[float, ...] = (0.0,)


@dataclass(frozen=True)
class Target:
    """One published outcome (module docstring)."""

    id: str
    source: str
    regimen: str
    metric: str
    week: float
    value: float
    low: float | None = None
    high: float | None = None
    n: int | None = None
    weight: float = 1.0
    note: str = ""
    setting: str = "blinded"
    direction: str | None = None
    control: float | None = None
    n_control: int | None = None


DIRECTIONS: tuple[str, ...] = ("below", "above")
"""Directions of a directional target: the simulated value must be below / above 0."""
SETTINGS: tuple[str, ...] = ("blinded", "open")
"""Study settings, each with its own background care in the calibration."""
BODY_WEIGHT_KG = 70.0
VISIT_WEEKS: tuple[float, ...] = (0.0, 4.0, 12.0, 16.0)
"""Weeks simulated for every target (0 = baseline)."""

REGIMENS: dict[str, Regimen] = {
    "placebo": Regimen("placebo (background care)"),
    "sc25": Regimen("hUCB-MSC 2.5x10^7 SC once", 2.5e7, "cells", "SC"),
    "sc50": Regimen("hUCB-MSC 5.0x10^7 SC once", 5.0e7, "cells", "SC"),
    "adstem": Regimen(
        "adipose MSC 1x10^6/kg IV weeks 0, 4 (dose assumed)", 1e6, "cells/kg", "IV", (0.0, 4.0)
    ),
    "seo": Regimen("MSC 5x10^5/kg IV weeks 0, 1, 2", 5e5, "cells/kg", "IV", (0.0, 1.0, 2.0)),
}

TARGETS: tuple[Target, ...] = (
    Target("pooled-pbo-easi50", "Andreasen 2020", "placebo", "easi50", 12, 39.9, weight=0.5),
    Target("pooled-pbo-easi75", "Andreasen 2020", "placebo", "easi75", 12, 20.9, weight=0.5),
    Target("pooled-pbo-easi90", "Andreasen 2020", "placebo", "easi90", 12, 9.0, weight=0.5),
    Target("mono-pbo-iga01", "SOLO 1/2, JADE MONO", "placebo", "iga01", 16, 8.5, 5, 12),
    Target("mono-pbo-easi75", "SOLO 1/2, JADE MONO", "placebo", "easi75", 16, 13.0, 8, 18),
    Target("mono-pbo-easi50", "SOLO 1/2, JADE MONO", "placebo", "easi50", 16, 27.5, 20, 35),
    Target("mono-pbo-pct", "SOLO 1/2, JADE MONO", "placebo", "pct_easi", 16, -32.5, -40, -25),
    Target(
        "furestem2a-low-easi50",
        "Kim 2017 (open label)",
        "sc25",
        "easi50",
        12,
        36.0,
        n=14,
        setting="open",
    ),
    Target(
        "furestem2a-high-easi50",
        "Kim 2017 (open label)",
        "sc50",
        "easi50",
        12,
        55.0,
        n=11,
        setting="open",
    ),
    Target(
        "furestem2a-high-scorad",
        "Kim 2017 (open label)",
        "sc50",
        "scorad_pct",
        12,
        -50.0,
        weight=0.0,
        n=11,
        setting="open",
    ),
    Target(
        "furestem2a-high-pruritus",
        "Kim 2017 (open label)",
        "sc50",
        "pruritus_pct",
        12,
        -58.0,
        weight=0.0,
        n=11,
        setting="open",
    ),
    Target("furestem3-msc-easi50", "NCT03269773", "sc50", "easi50", 12, 31.8, n=98, weight=2.0),
    Target("furestem3-pbo-easi50", "NCT03269773", "placebo", "easi50", 12, 27.2, n=99, weight=2.0),
    Target(
        "furestem3-diff-w4",
        "NCT03269773",
        "sc50",
        "diff_easi50",
        4,
        0.0,
        low=0.0,
        weight=0.0,
        note="significant at week 4: the difference must be > 0",
        direction="above",
    ),
    Target("adstem-msc-easi75", "ADSTEM 2025", "adstem", "easi75", 16, 23.7, n=57),
    Target("adstem-pbo-easi75", "ADSTEM 2025", "placebo", "easi75", 16, 7.3, n=57),
    Target(
        "seo-diff-easi50",
        "Seo 2024",
        "seo",
        "diff_easi50",
        12,
        0.0,
        low=0.0,
        weight=0.0,
        note="EASI-50 higher than placebo (p = 0.038): the difference must be > 0",
        direction="above",
    ),
    Target(
        "furestem2a-high-ige",
        "Kim 2017 (open label)",
        "sc50",
        "ige_median_pct",
        12,
        0.0,
        high=0.0,
        n=11,
        weight=0.0,
        note="IgE fell (direction only, no number in the source): the median % change must be < 0",
        setting="open",
        direction="below",
    ),
    Target(
        "furestem2a-high-eos",
        "Kim 2017 (open label)",
        "sc50",
        "eos_median_pct",
        12,
        0.0,
        high=0.0,
        n=11,
        weight=0.0,
        note=(
            "eosinophils fell (direction only, no number in the source): the median % change "
            "must be < 0"
        ),
        setting="open",
        direction="below",
    ),
)
"""The targets of simulation.md, one row each (ADSTEM arm sizes: 114 randomized 1:1, assumed)."""
