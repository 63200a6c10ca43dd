"""SCORAD, objective SCORAD and PO-SCORAD.

Sources: European Task Force on Atopic Dermatitis, Dermatology 1993;186:23-31
(doi:10.1159/000247298); Kunz B et al., Dermatology 1997;195:10-19; Oranje AP et al., Br J
Dermatol 2007;157:645-648; PO-SCORAD: Stalder JF et al., Allergy 2011;66:1114-1121; alternative
bands: Chopra R et al., Br J Dermatol 2017;177:1316-1321. Decisions: docs/instruments.md and
../shared/reference/instruments.md, section SCORAD.

``SCORAD = A/5 + 7B/2 + C`` (0-103); ``objective SCORAD = A/5 + 7B/2`` (0-83).
A: % body surface involved, by the rule of nines from each region's involvement (% of that region)
or given directly; B: six intensity signs 0-3 summed (0-18); C: pruritus + sleeplessness visual
analogue scales, 0-10 in steps of 0.1 (0-20).

Exact arithmetic: involvement in tenths of a percent and region shares in whole percent give A in
thousandths of a percent; SCORAD is carried in units of 1/10000 (``2 x A_milli + 35000 B + 1000
C_tenths``), so every part is an exact decimal.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import reduce
from typing import Any

from atopic.instruments.domains import Continuous, Steps, integers
from atopic.instruments.scalar import score
from atopic.instruments.spec import (
    Banding,
    BandSet,
    Cut,
    Instrument,
    Item,
    Output,
    Rule,
    Score,
)
from atopic.instruments.unverified import SCORAD_INFANT_SHARES

REGIONS = (
    "head_neck",
    "anterior_trunk",
    "back",
    "left_upper_limb",
    "right_upper_limb",
    "left_lower_limb",
    "right_lower_limb",
    "genitals",
)
REGION_LABELS = {
    "head_neck": "Head and neck",
    "anterior_trunk": "Anterior trunk",
    "back": "Back",
    "left_upper_limb": "Left upper limb",
    "right_upper_limb": "Right upper limb",
    "left_lower_limb": "Left lower limb",
    "right_lower_limb": "Right lower limb",
    "genitals": "Genitals",
}
SHARES = {
    "head_neck": 9,
    "anterior_trunk": 18,
    "back": 18,
    "left_upper_limb": 9,
    "right_upper_limb": 9,
    "left_lower_limb": 18,
    "right_lower_limb": 18,
    "genitals": 1,
}
"""Rule of nines, % of body surface per region, age >= 2 years (sum 100; ETFAD 1993)."""
INFANT_AGE_LIMIT = 2
"""Below this age in years the infant shares apply (``SCORAD_INFANT_SHARES``)."""

CLINICIAN_SIGNS = {
    "erythema": "Erythema",
    "oedema_papulation": "Oedema / papulation",
    "oozing_crusts": "Oozing / crusts",
    "excoriation": "Excoriation",
    "lichenification": "Lichenification",
    "dryness": "Dryness (on uninvolved skin)",
}
PATIENT_SIGNS = {
    "dryness": "Dryness",
    "redness": "Redness",
    "swelling": "Swelling",
    "oozing_scabs": "Oozing / scabs",
    "scratch_marks": "Scratch marks",
    "thickening": "Thickening of the skin",
}
INVOLVEMENT = Steps(scale=10, lo=0, hi=1000)
"""Involvement in % (of a region, or of the body for A), 0-100 in steps of 0.1."""
SIGN = integers(0, 3)
VAS = Steps(scale=10, lo=0, hi=100)
"""Visual analogue scale 0-10 in steps of 0.1."""
AGE = Continuous(0, 130)


def _items(prefix: str, signs: Mapping[str, str], subjective: bool) -> tuple[Item, ...]:
    items: list[Item] = []

    def add(field: str, label: str, domain: Any, **kw: Any) -> None:
        items.append(Item(field, f"{prefix}1{len(items) + 1:02d}", label, domain, **kw))

    for region in REGIONS:
        add(
            f"extent.{region}",
            f"Extent: {REGION_LABELS[region]} involved",
            INVOLVEMENT,
            unit="% of region",
            optional=True,
        )
    add(
        "extent_percent",
        "Extent A: body surface involved",
        INVOLVEMENT,
        unit="% BSA",
        optional=True,
    )
    for sign, label in signs.items():
        add(f"intensity.{sign}", f"Intensity: {label}", SIGN)
    if subjective:
        add("pruritus", "Pruritus (VAS, mean of last 3 days and nights)", VAS)
        add("sleeplessness", "Sleeplessness (VAS, mean of last 3 nights)", VAS)
    items.append(Item("age_years", "AGE", "Age", AGE, unit="years", optional=True, context=True))
    return tuple(items)


def _extent_rules() -> tuple[Rule, ...]:
    region_fields = [f"extent.{r}" for r in REGIONS]
    each_region = tuple(
        Rule(
            field=f,
            allowed="given (or extent_percent for the whole body instead)",
            check=lambda v, p, ops, f=f: p[f] | p["extent_percent"],
            got=lambda raw: None,
        )
        for f in region_fields
    )
    not_both = Rule(
        field="extent_percent",
        allowed="left out when extent is given per region (give one of the two)",
        check=lambda v, p, ops: ops.where(
            p["extent_percent"] & reduce(operator.or_, (p[f] for f in region_fields)), False, True
        ),
        got=lambda raw: raw.get("extent_percent"),
    )
    age_needed = Rule(
        field="age_years",
        allowed="a number from 0 to 130 when extent is given per region "
        "(under 2 years the infant shares apply)",
        check=lambda v, p, ops: p["age_years"] | p["extent_percent"],
        got=lambda raw: raw.get("age_years"),
    )
    return (*each_region, not_both, age_needed)


def _kernel(signs: tuple[str, ...], subjective: bool) -> Callable[..., dict[str, Any]]:
    def kernel(v: Mapping[str, Any], present: Mapping[str, Any], ops: Any) -> dict[str, Any]:
        infant = v["age_years"] < INFANT_AGE_LIMIT
        by_region = ops.total(
            ops.where(infant, SCORAD_INFANT_SHARES.get(r, SHARES[r]), SHARES[r]) * v[f"extent.{r}"]
            for r in REGIONS
        )
        a_milli = ops.where(present["extent_percent"], v["extent_percent"] * 100, by_region)
        b = ops.total(v[f"intensity.{s}"] for s in signs)
        objective = a_milli * 2 + b * 35000
        out = {"extent": a_milli, "intensity": b, "objective": objective}
        if subjective:
            c_tenths = v["pruritus"] + v["sleeplessness"]
            out["subjective"] = c_tenths
            out["total"] = objective + c_tenths * 1000
        else:
            out["total"] = objective
        return out

    return kernel


def _band(
    name: str, source: str, cuts: tuple[tuple[str, str, bool], ...], dec: int | None
) -> BandSet:
    return BandSet(name, source, tuple(Cut(Decimal(x), label, inc) for x, label, inc in cuts), dec)


CLASSIC = "European Task Force / Kunz 1997 (classic): mild < 25, moderate 25-50, severe > 50"
SCORAD_BANDS = {
    "classic": _band(
        "classic",
        CLASSIC,
        (("0", "mild", True), ("25", "moderate", True), ("50", "severe", False)),
        None,
    ),
    "chopra2017": _band(
        "chopra2017",
        "Chopra R et al., Br J Dermatol 2017;177:1316 (after rounding to 1 decimal)",
        (
            ("0", "clear", True),
            ("10", "mild", True),
            ("29", "moderate", True),
            ("49", "severe", True),
        ),
        1,
    ),
}
OSCORAD_BANDS = {
    "classic": _band(
        "classic",
        "Kunz 1997 (classic): mild < 15, moderate 15-40, severe > 40",
        (("0", "mild", True), ("15", "moderate", True), ("40", "severe", False)),
        None,
    ),
    "chopra2017": _band(
        "chopra2017",
        "Chopra R et al., Br J Dermatol 2017;177:1316 (after rounding to 1 decimal)",
        (
            ("0", "clear", True),
            ("8", "mild", True),
            ("24", "moderate", True),
            ("38", "severe", True),
        ),
        1,
    ),
}

_SCORAD_INPUT = (
    '{"age_years": 34, "extent": {"head_neck": 50, "anterior_trunk": 20, "back": 10, '
    '"left_upper_limb": 30, "right_upper_limb": 30, "left_lower_limb": 10, '
    '"right_lower_limb": 10, "genitals": 0}, "intensity": {"erythema": 2, '
    '"oedema_papulation": 2, "oozing_crusts": 1, "excoriation": 2, "lichenification": 1, '
    '"dryness": 2}, "pruritus": 7.5, "sleeplessness": 4}; extent per region in % of that region, '
    'or "extent_percent" (A, % body surface) instead'
)


def _outputs(subjective: bool, total_label: str) -> tuple[Output, ...]:
    outputs = [
        Output("total", 10000, total_label),
        Output("extent", 1000, "A: extent, % body surface"),
        Output("intensity", 1, "B: intensity, sum of six signs (0-18)"),
    ]
    if subjective:
        outputs.append(Output("subjective", 10, "C: pruritus + sleeplessness (0-20)"))
        outputs.append(Output("objective", 10000, "Objective SCORAD (0-83)"))
    return tuple(outputs)


SCORAD = Instrument(
    name="SCORAD",
    qscat="SCORAD",
    title="SCORing Atopic Dermatitis",
    version="SCORAD 1993 (ETFAD 1993; Kunz 1997)",
    source="European Task Force on Atopic Dermatitis, Dermatology 1993;186:23; Kunz 1997",
    items=_items("SCRD", CLINICIAN_SIGNS, subjective=True),
    outputs=_outputs(True, "SCORAD (0-103)"),
    kernel=_kernel(tuple(CLINICIAN_SIGNS), subjective=True),
    rules=_extent_rules(),
    bandings=(
        Banding("total", "band", SCORAD_BANDS),
        Banding("objective", "objective_band", OSCORAD_BANDS),
    ),
    describe_input=_SCORAD_INPUT,
)

OSCORAD = Instrument(
    name="oSCORAD",
    qscat="SCORAD",
    title="Objective SCORAD",
    version="objective SCORAD (Kunz 1997)",
    source="Kunz B et al., Dermatology 1997;195:10",
    items=_items("SCRD", CLINICIAN_SIGNS, subjective=False),
    outputs=_outputs(False, "Objective SCORAD (0-83)"),
    kernel=_kernel(tuple(CLINICIAN_SIGNS), subjective=False),
    rules=_extent_rules(),
    bandings=(Banding("total", "band", OSCORAD_BANDS),),
    describe_input="as SCORAD, without pruritus and sleeplessness",
)

PO_SCORAD = Instrument(
    name="PO-SCORAD",
    qscat="PO-SCORAD",
    title="Patient-Oriented SCORAD",
    version="PO-SCORAD (Stalder 2011)",
    source="Stalder JF et al., Allergy 2011;66:1114",
    items=_items("POSCD", PATIENT_SIGNS, subjective=True),
    outputs=_outputs(True, "PO-SCORAD (0-103)"),
    kernel=_kernel(tuple(PATIENT_SIGNS), subjective=True),
    rules=_extent_rules(),
    describe_input="as SCORAD; intensity signs: " + ", ".join(PATIENT_SIGNS),
)


def compute_scorad(data: Mapping[str, object], band_set: str | None = None) -> Score:
    """Score one SCORAD assessment (JSON shape: ``atopic score scorad --schema``).

    Returns total (0-103) with parts ``extent`` (A, % BSA), ``intensity`` (B), ``subjective`` (C),
    ``objective`` (oSCORAD) and ``band``/``objective_band``. Formula and sources: module docstring.

    >>> compute_scorad({"extent_percent": 20, "intensity": {"erythema": 2, "oedema_papulation": 2,
    ...     "oozing_crusts": 1, "excoriation": 2, "lichenification": 1, "dryness": 2},
    ...     "pruritus": 7.5, "sleeplessness": 4})
    <SCORAD 50.5 severe>
    """
    return score(SCORAD, data, band_set)


def compute_objective_scorad(data: Mapping[str, object], band_set: str | None = None) -> Score:
    """Score objective SCORAD (``A/5 + 7B/2``, 0-83; Kunz 1997) from extent and intensity."""
    return score(OSCORAD, data, band_set)


def compute_po_scorad(data: Mapping[str, object]) -> Score:
    """Score PO-SCORAD (Stalder 2011): SCORAD's formula on the patient's own ratings.

    No severity bands: the reference gives none for PO-SCORAD (see docs/instruments.md).
    """
    return score(PO_SCORAD, data)
