"""Treatments as effect profiles e1..e9 on the model's cytokines (``equations``).

e1 IL-4, e2 IL-13, e3 IL-17, e4 IL-22, e5 IL-31, e6 TSLP, e7 OX40L blockade (0 none, 0.99 an
antibody's blockade); e8 IFN-g added (recombinant IFN-g); e9 the IL-13 blockade factor
eps = max(0.4396, e9), which only matters when e2 > 0.

The nine biologics of Miyano T, Irvine AD, Tanaka RJ, Allergy 2021 (doi 10.1111/all.14870), as
listed in ``shared/reference/simulation.md``: dupilumab e1 = e2 = 0.99; lebrikizumab e2 = 0.99,
e9 = 1; tralokinumab e2 = 0.99, e9 = 0; secukinumab e3 = 0.99; fezakinumab e4 = 0.99;
nemolizumab e5 = 0.99; tezepelumab e6 = 0.99; GBR 830 e7 = 0.99; recombinant IFN-g e8 = 210.

Decision (written down once): e9 defaults to 1, not 0. The reference page gives e9 only for
lebrikizumab (1) and tralokinumab (0); the authors' published code (Tanaka-Group/AD_QSP_model,
MIT) sets e9 = 1 in every profile except tralokinumab, so dupilumab blocks IL-13 with
e2 x eps = 0.99 (with e9 = 0 it would be 0.99 x 0.4396). Only profiles with e2 > 0 are affected.
Effects apply from the start of the treatment phase (week 0) for its whole length.
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass, fields

import numpy as np

from atopic.errors import InvalidInput


@dataclass(frozen=True)
class Effects:
    """Effect profile e1..e9 (module docstring); all zero except e9 = 1 means no drug."""

    e1: float = 0.0
    e2: float = 0.0
    e3: float = 0.0
    e4: float = 0.0
    e5: float = 0.0
    e6: float = 0.0
    e7: float = 0.0
    e8: float = 0.0
    e9: float = 1.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            ok = ok and math.isfinite(float(value))
            if f.name == "e8":
                ok = ok and float(value) >= 0
                allowed = "an added IFN-g level >= 0"
            else:
                ok = ok and 0.0 <= float(value) <= 1.0
                allowed = "a number in [0, 1]"
            if not ok:
                raise InvalidInput("effects", f.name, value, allowed)

    def vector(self) -> np.ndarray:
        """e1..e9 as a float array of length 9."""
        return np.array(astuple(self), dtype=float)

    def combine(self, other: Effects) -> Effects:
        """Two drugs at once: blockades combine as 1 - (1-a)(1-b), IFN-g adds, e9 the larger."""
        a, b = self.vector(), other.vector()
        out = 1.0 - (1.0 - a) * (1.0 - b)
        out[7] = a[7] + b[7]
        out[8] = max(a[8], b[8])
        return Effects(*(float(x) for x in out))


NONE = Effects()
"""No drug (placebo: background care only)."""

BIOLOGICS: dict[str, Effects] = {
    "dupilumab": Effects(e1=0.99, e2=0.99),
    "lebrikizumab": Effects(e2=0.99, e9=1.0),
    "tralokinumab": Effects(e2=0.99, e9=0.0),
    "secukinumab": Effects(e3=0.99),
    "fezakinumab": Effects(e4=0.99),
    "nemolizumab": Effects(e5=0.99),
    "tezepelumab": Effects(e6=0.99),
    "gbr830": Effects(e7=0.99),
    "rifng": Effects(e8=210.0),
}
"""The paper's nine biologics (targets: IL-4Ra, IL-13, IL-13, IL-17A, IL-22, IL-31RA, TSLP,
OX40, added IFN-g)."""

_ALIASES = {"gbr 830": "gbr830", "recombinant ifn-g": "rifng", "ifn-g": "rifng", "rifn-g": "rifng"}


def biologic(name: str) -> Effects:
    """The effect profile of a biologic by name (case-insensitive; 'GBR 830', 'recombinant IFN-g')."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in BIOLOGICS:
        raise InvalidInput("treatment", "biologic", name, "one of " + ", ".join(BIOLOGICS))
    return BIOLOGICS[key]
