"""Figures atopic uses that could not be checked against their primary source.

../shared/reference/instruments.md marks each of these; they are kept here, in one table, so that a
reviewer with the primary source can check them in one place. Each entry says where it comes from.
"""

from __future__ import annotations

SCORAD_INFANT_SHARES: dict[str, int] = {
    "head_neck": 17,
    "left_lower_limb": 12,
    "right_lower_limb": 12,
}
"""SCORAD rule of nines under 2 years: the bracketed figures printed on the ETFAD form (head and
neck 17, each lower limb 12, the other regions as for age >= 2). They sum to 96, as printed; atopic
does not rescale them. Not yet checked against Kunz B et al., Dermatology 1997;195:10."""

CDLQI_BANDS: tuple[tuple[int, str], ...] = (
    (0, "no effect"),
    (2, "small effect"),
    (7, "moderate effect"),
    (13, "very large effect"),
    (19, "extremely large effect"),
)
"""CDLQI bands 0-1, 2-6, 7-12, 13-18, 19-30 (Waters A et al., Br J Dermatol 2010;163:121), as
given by the reference page; not checked against the primary source. Labels follow the DLQI's
(Hongbo 2005)."""

IGA6_LABELS: tuple[str, ...] = (
    "clear",
    "almost clear",
    "mild",
    "moderate",
    "severe",
    "very severe",
)
"""Grade names of the older 6-point IGA (0-5). The reference page names the scale but not its
grades; these are the names in common use in AD trials, not checked against a primary source."""
