"""The parameters of the synthetic-trial generator, with documented defaults.

These are *illustrative* defaults for a dose-ranging trial of moderate-to-severe atopic dermatitis
(AD) in adults, chosen so that a 16-week trial looks like published ones (with the defaults and
``examples/trial/dose_ranging.toml``, composite estimand at week 16 on 2,000 subjects: EASI-75
5 % on placebo and 15, 26, 32, 39 % at 12.5, 25, 50, 100 x10^6 cells; EASI-50 25 % to 63 %;
vIGA-AD 0/1 12 % to 51 %; about 15-20 % discontinuations, more on placebo; rescue in 15 % of
placebo and 4-11 % of treated subjects). They are not estimates of any product's effect; the
mechanistic disease model is ``atopic.simulate``'s other job (issue 6).

The latent-severity model (``atopic.simulate.course``)
    Every subject has a latent severity ``s`` in [0, 1] at each visit; every item is drawn around
    it (``atopic.simulate.items``). Baseline ``s0`` is drawn inside the band of the subject's
    baseline vIGA-AD grade ``g`` (``g/5 <= s0 < (g+1)/5``, so the grade drawn at baseline is
    exactly the stratum). At week ``t`` after the first dose::

        s(t) = s0 * (1 - R_i * (1 - exp(-t / onset_weeks))) * (1 - rescue effect after rescue) + e
        R_i  = 1 - (1 - P_i) * (1 - D_i),   P_i ~ N(placebo, placebo_sd) clipped to [-0.2, 0.8]
        D_i  = min(0.95, Emax(dose) * M_i),  M_i ~ Gamma(mean 1, CV response_cv)
        Emax(dose) = emax * dose^hill / (ed50^hill + dose^hill)       (dose in the arm's unit)
        e ~ N(0, noise_sd) independently per visit, s clipped to [0, 1].

    The Emax dose-response is the standard sigmoid Emax model (Holford NHG, Sheiner LB, Clin
    Pharmacokinet 1981;6:429-453; the ``sigEmax`` candidate of R DoseFinding).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from atopic.errors import InvalidInput


def _check(owner: str, name: str, value: object, lo: float, hi: float, *, open_lo: bool) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    ok = ok and math.isfinite(float(value))  # type: ignore[arg-type]
    if ok:
        x = float(value)  # type: ignore[arg-type]
        ok = (x > lo if open_lo else x >= lo) and x <= hi
    if not ok:
        left = "(" if open_lo else "["
        raise InvalidInput(owner, name, value, f"a number in {left}{lo:g}, {hi:g}]")


@dataclass(frozen=True)
class Effects:
    """Treatment and placebo response of the latent severity (module docstring for the model).

    ``emax``: largest fractional reduction of latent severity by the product (0.6: at the top of
    the curve severity falls by 60 %, EASI, which grows roughly with the square of severity, by
    about 85 %). ``ed50``: dose giving half of ``emax``, in the arms' dose unit (25: 2.5x10^7
    cells in ``10^6 Therapeutic Cells``). ``hill``: steepness. ``placebo`` / ``placebo_sd``: mean
    and between-subject SD of the fractional placebo response. ``response_cv``: between-subject
    coefficient of variation of the product's effect. ``onset_weeks``: time constant of the
    approach to the plateau. ``noise_sd``: visit-to-visit noise of latent severity.
    ``ige_effect``: IgE falls by ``ige_effect x D_i`` of its baseline at full effect (mild).
    """

    emax: float = 0.6
    ed50: float = 25.0
    hill: float = 1.0
    placebo: float = 0.22
    placebo_sd: float = 0.2
    response_cv: float = 0.8
    onset_weeks: float = 3.0
    noise_sd: float = 0.06
    ige_effect: float = 0.5

    def __post_init__(self) -> None:
        limits = {
            "emax": (0.0, 0.95, False),
            "ed50": (0.0, 1e12, True),
            "hill": (0.0, 20.0, True),
            "placebo": (-0.2, 0.8, False),
            "placebo_sd": (0.0, 1.0, False),
            "response_cv": (0.0, 3.0, False),
            "onset_weeks": (0.0, 520.0, True),
            "noise_sd": (0.0, 0.5, False),
            "ige_effect": (0.0, 1.0, False),
        }
        for f in fields(self):
            lo, hi, open_lo = limits[f.name]
            _check("effects", f.name, getattr(self, f.name), lo, hi, open_lo=open_lo)

    def drug(self, dose: float) -> float:
        """Mean fractional reduction of latent severity by ``dose`` (Emax model, 0 at dose 0)."""
        if dose <= 0:
            return 0.0
        d = dose**self.hill
        return self.emax * d / (self.ed50**self.hill + d)


@dataclass(frozen=True)
class Dropout:
    """Discontinuation (DS) and missed visits.

    Between two consecutive scheduled visits a subject discontinues with probability
    ``per_visit x (1 + (not_improved_factor - 1) x u)``, where ``u = clip(1 - r / improved, 0, 1)``
    is the shortfall of the relative improvement ``r = 1 - s/s0`` at the last visit (``u = 1``:
    no improvement, ``u = 0``: improved by ``improved`` or more). The reason is ADVERSE EVENT with
    probability ``adverse_event``, otherwise LACK OF EFFICACY with probability
    ``lack_of_efficacy x u``, otherwise WITHDRAWAL BY SUBJECT. After discontinuing there are no
    more visits. Independently, a post-baseline visit is missed with probability ``missed_visit``.
    Defaults: 2 % per interval for improvers, 3 times more for non-improvers (about 10-20 % by
    week 16, more on placebo), as in 16-week AD trials.
    """

    per_visit: float = 0.015
    not_improved_factor: float = 4.0
    improved: float = 0.5
    adverse_event: float = 0.2
    lack_of_efficacy: float = 0.6
    missed_visit: float = 0.02

    def __post_init__(self) -> None:
        _check("dropout", "per_visit", self.per_visit, 0.0, 1.0, open_lo=False)
        _check("dropout", "not_improved_factor", self.not_improved_factor, 1.0, 50.0, open_lo=False)
        _check("dropout", "improved", self.improved, 0.0, 1.0, open_lo=True)
        _check("dropout", "adverse_event", self.adverse_event, 0.0, 1.0, open_lo=False)
        _check("dropout", "lack_of_efficacy", self.lack_of_efficacy, 0.0, 1.0, open_lo=False)
        _check("dropout", "missed_visit", self.missed_visit, 0.0, 0.5, open_lo=False)
        if self.per_visit * self.not_improved_factor > 1:
            raise InvalidInput(
                "dropout",
                "not_improved_factor",
                self.not_improved_factor,
                f"at most {1 / self.per_visit:g} (per_visit x not_improved_factor <= 1)"
                if self.per_visit
                else "any",
            )


@dataclass(frozen=True)
class Rescue:
    """Rescue therapy (CM, CMCAT RESCUE), an intercurrent event.

    At each post-baseline visit from week ``from_week`` on, a subject whose relative improvement
    ``1 - s/s0`` is below ``below`` receives rescue with probability ``per_visit`` (at most once;
    CMSTDTC is the visit date, the visit's own assessments precede it). Rescue lowers latent
    severity at later visits by the fraction ``effect``, so the treatment-policy and composite
    estimands differ.
    """

    per_visit: float = 0.1
    below: float = 0.25
    from_week: float = 4.0
    effect: float = 0.3

    def __post_init__(self) -> None:
        _check("rescue", "per_visit", self.per_visit, 0.0, 1.0, open_lo=False)
        _check("rescue", "below", self.below, -1.0, 1.0, open_lo=False)
        _check("rescue", "from_week", self.from_week, 0.0, 520.0, open_lo=False)
        _check("rescue", "effect", self.effect, 0.0, 0.95, open_lo=False)
