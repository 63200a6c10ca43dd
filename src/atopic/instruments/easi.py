"""Eczema Area and Severity Index (EASI).

Source: Hanifin JM et al., Exp Dermatol 2001;10:11-18 (doi:10.1034/j.1600-0625.2001.100102.x);
practical guide: Hanifin JM et al., Dermatitis 2022;33:187-192; bands: Leshem YA et al., Br J
Dermatol 2015;172:1353-1357; alternative bands: Chopra R et al., Br J Dermatol 2017;177:1316-1321.
Decisions: ../shared/reference/instruments.md, section EASI, and docs/instruments.md.

Formula: ``EASI = sum over regions of multiplier x area score x (erythema + induration + excoriation
+ lichenification)``, 0-72. Multipliers (head/neck, upper limbs, trunk, lower limbs): 0.1, 0.2, 0.3,
0.4 from age 8; 0.2, 0.2, 0.3, 0.3 under 8 (age 0-7 years: ``age_years < 8``). Signs in {0, 1, 1.5,
2, 2.5, 3}. The exact total is a multiple of 0.05, computed in integer twentieths.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from atopic.instruments import rules
from atopic.instruments.domains import Continuous, Steps, integers
from atopic.instruments.scalar import score
from atopic.instruments.spec import Banding, BandSet, Cut, Instrument, Item, Output, Score

REGIONS = ("head_neck", "upper_limbs", "trunk", "lower_limbs")
REGION_LABELS = {
    "head_neck": "Head and neck",
    "upper_limbs": "Upper limbs",
    "trunk": "Trunk (incl. genitals, axillae, groin)",
    "lower_limbs": "Lower limbs (incl. buttocks)",
}
SIGNS = ("erythema", "induration", "excoriation", "lichenification")
SIGN_LABELS = {
    "erythema": "Erythema",
    "induration": "Induration / papulation / oedema",
    "excoriation": "Excoriation",
    "lichenification": "Lichenification",
}
# Multipliers in tenths: (age >= 8, age < 8). Hanifin 2001.
MULTIPLIER_TENTHS = {
    "head_neck": (1, 2),
    "upper_limbs": (2, 2),
    "trunk": (3, 3),
    "lower_limbs": (4, 3),
}
CHILD_AGE_LIMIT = 8
"""Below this age in years the child multipliers apply (ages 0-7)."""

SIGN_DOMAIN = Steps(scale=2, lo=0, hi=6, excluded=frozenset({1}))
"""0, 1, 1.5, 2, 2.5, 3 in half points; 0.5 is not allowed (2022 guide)."""
AREA_PERCENT = Continuous(0, 100)
AREA_SCORE = integers(0, 6)
AGE = Continuous(0, 130)


def area_score(percent: Any, ops: Any) -> Any:
    """EASI area score 0-6 from % of the region involved, half-open intervals (Hanifin 2001):
    0 %: 0; >0-<10: 1; 10-<30: 2; 30-<50: 3; 50-<70: 4; 70-<90: 5; 90-100: 6."""
    score = ops.where(percent > 0, 1, 0)
    for lower, value in ((10, 2), (30, 3), (50, 4), (70, 5), (90, 6)):
        score = ops.where(percent >= lower, value, score)
    return score


def _items() -> tuple[Item, ...]:
    items = []
    n = 0
    for region in REGIONS:
        where = REGION_LABELS[region]
        for sign in SIGNS:
            n += 1
            items.append(
                Item(
                    f"{region}.{sign}",
                    f"EASI1{n:02d}",
                    f"{where}: {SIGN_LABELS[sign]}",
                    SIGN_DOMAIN,
                )
            )
        n += 1
        items.append(
            Item(
                f"{region}.area_percent",
                f"EASI1{n:02d}",
                f"{where}: area involved",
                AREA_PERCENT,
                unit="% of region",
                optional=True,
            )
        )
        n += 1
        items.append(
            Item(
                f"{region}.area_score",
                f"EASI1{n:02d}",
                f"{where}: area score",
                AREA_SCORE,
                optional=True,
            )
        )
    items.append(Item("age_years", "AGE", "Age", AGE, unit="years", context=True))
    return tuple(items)


def kernel(v: Mapping[str, Any], present: Mapping[str, Any], ops: Any) -> dict[str, Any]:
    """Region scores and total in twentieths (exact), area scores as integers."""
    child = v["age_years"] < CHILD_AGE_LIMIT
    out: dict[str, Any] = {}
    for region in REGIONS:
        area = ops.where(
            present[f"{region}.area_percent"],
            area_score(v[f"{region}.area_percent"], ops),
            v[f"{region}.area_score"],
        )
        signs = ops.total(v[f"{region}.{sign}"] for sign in SIGNS)
        adult, young = MULTIPLIER_TENTHS[region]
        multiplier = ops.where(child, young, adult)
        out[region] = multiplier * area * signs
        out[f"{region}_area"] = area
    out["total"] = ops.total(out[region] for region in REGIONS)
    return out


LESHEM_2015 = BandSet(
    "leshem2015",
    "Leshem YA et al., Br J Dermatol 2015;172:1353 (after rounding to 1 decimal)",
    (
        Cut(Decimal(0), "clear"),
        Cut(Decimal("0.1"), "almost clear"),
        Cut(Decimal("1.1"), "mild"),
        Cut(Decimal("7.1"), "moderate"),
        Cut(Decimal("21.1"), "severe"),
        Cut(Decimal("50.1"), "very severe"),
    ),
    decimals=1,
)
CHOPRA_2017 = BandSet(
    "chopra2017",
    "Chopra R et al., Br J Dermatol 2017;177:1316 (after rounding to 1 decimal)",
    (
        Cut(Decimal(0), "clear"),
        Cut(Decimal("0.1"), "mild"),
        Cut(Decimal("6.0"), "moderate"),
        Cut(Decimal("23.0"), "severe"),
    ),
    decimals=1,
)

_region_rules = tuple(
    rule
    for region in REGIONS
    for rule in rules.one_of(f"{region}.area_percent", f"{region}.area_score")
)

EASI = Instrument(
    name="EASI",
    qscat="EASI",
    title="Eczema Area and Severity Index",
    version="EASI 2001 (Hanifin 2001; 2022 practical guide)",
    source="Hanifin JM et al., Exp Dermatol 2001;10:11; Hanifin JM et al., Dermatitis 2022;33:187",
    items=_items(),
    outputs=(
        Output("total", 20, "EASI (0-72)"),
        *(Output(region, 20, f"{REGION_LABELS[region]} score") for region in REGIONS),
        *(Output(f"{region}_area", 1, f"{REGION_LABELS[region]} area score") for region in REGIONS),
    ),
    kernel=kernel,
    rules=_region_rules,
    bandings=(Banding("total", "band", {"leshem2015": LESHEM_2015, "chopra2017": CHOPRA_2017}),),
    describe_input=(
        '{"age_years": 34, "head_neck": {"erythema": 2, "induration": 1.5, "excoriation": 1, '
        '"lichenification": 1, "area_percent": 20}, "upper_limbs": {...}, "trunk": {...}, '
        '"lower_limbs": {...}}; each region takes area_percent (0-100) or area_score (0-6)'
    ),
    note=lambda flat: f"age {flat.get('age_years')}",
)


def compute_easi(data: Mapping[str, object], band_set: str | None = None) -> Score:
    """Score one EASI assessment given as the documented JSON object; see the module docstring.

    >>> region = {"erythema": 2, "induration": 2, "excoriation": 1, "lichenification": 1,
    ...           "area_score": 3}
    >>> compute_easi({"age_years": 34, "head_neck": region, "upper_limbs": region,
    ...               "trunk": region, "lower_limbs": region})
    <EASI 18 moderate (age 34)>
    """
    return score(EASI, data, band_set)
