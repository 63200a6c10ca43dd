"""Investigator's Global Assessment: vIGA-AD (5 grades) and the older 6-point IGA.

Sources: vIGA-AD: Simpson E et al., J Am Acad Dermatol 2020 ("The Validated Investigator Global
Assessment for Atopic Dermatitis (vIGA-AD)"). 6-point IGA: the grade names are kept in
``atopic.instruments.unverified.IGA6_LABELS`` (not checked against a primary source).
Decisions: ../shared/reference/instruments.md, section IGA.

One clinician-rated grade. vIGA-AD: integer 0-4, the band is the grade's name: clear, almost
clear, mild, moderate, severe. IGA6: integer 0-5, clear ... very severe.

Decisions where the reference is silent:

- The vIGA-AD grade descriptors (the morphological text of each grade) are not reproduced: the
  reference page says the form shows them but does not give them, so atopic shows the grade
  names only.
- IGA success (0/1 with at least 2 grades below baseline, or the plain 0/1 variant) compares a
  visit with the baseline: it is an analysis-level derivation (CRITy in the BDS dataset), not
  part of scoring one assessment.

JSON input: ``{"grade": 3}``. Sponsor QSTESTCD: ``VIGA101`` (QSCAT ``VIGA-AD``) and ``IGA6101``
(QSCAT ``IGA6``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from atopic.instruments.domains import integers
from atopic.instruments.scalar import score
from atopic.instruments.spec import Banding, BandSet, Cut, Instrument, Item, Output, Score
from atopic.instruments.unverified import IGA6_LABELS

VIGA_AD_LABELS: tuple[str, ...] = ("clear", "almost clear", "mild", "moderate", "severe")
"""vIGA-AD grade names 0-4 (Simpson 2020, as listed on the reference page)."""


def _grade_bands(name: str, source: str, labels: tuple[str, ...]) -> BandSet:
    return BandSet(name, source, tuple(Cut(Decimal(g), label) for g, label in enumerate(labels)))


def kernel(v: Mapping[str, Any], present: Mapping[str, Any], ops: Any) -> dict[str, Any]:
    """The total is the grade itself."""
    return {"total": v["grade"]}


VIGA_AD = Instrument(
    name="vIGA-AD",
    qscat="VIGA-AD",
    title="Validated Investigator Global Assessment for Atopic Dermatitis",
    version="vIGA-AD (Simpson 2020)",
    source="Simpson E et al., J Am Acad Dermatol 2020",
    items=(
        Item(
            "grade",
            "VIGA101",
            "Investigator's global assessment: 0 clear, 1 almost clear, 2 mild, 3 moderate, "
            "4 severe",
            integers(0, len(VIGA_AD_LABELS) - 1),
        ),
    ),
    outputs=(Output("total", 1, "vIGA-AD grade (0-4)"),),
    kernel=kernel,
    bandings=(
        Banding(
            "total",
            "band",
            {"simpson2020": _grade_bands("simpson2020", "Simpson 2020", VIGA_AD_LABELS)},
        ),
    ),
    describe_input='{"grade": 3}: the grade, a whole number 0-4 (0 clear ... 4 severe)',
)

IGA6 = Instrument(
    name="IGA6",
    qscat="IGA6",
    title="Investigator's Global Assessment, 6-point scale",
    version="6-point IGA (0-5)",
    source="grade names: atopic.instruments.unverified.IGA6_LABELS (not checked against a "
    "primary source)",
    items=(
        Item(
            "grade",
            "IGA6101",
            "Investigator's global assessment: "
            + ", ".join(f"{g} {label}" for g, label in enumerate(IGA6_LABELS)),
            integers(0, len(IGA6_LABELS) - 1),
        ),
    ),
    outputs=(Output("total", 1, "IGA grade (0-5)"),),
    kernel=kernel,
    bandings=(
        Banding(
            "total",
            "band",
            {"grades": _grade_bands("grades", "unverified.IGA6_LABELS", IGA6_LABELS)},
        ),
    ),
    describe_input='{"grade": 4}: the grade, a whole number 0-5 (0 clear ... 5 very severe)',
)


def compute_viga_ad(data: Mapping[str, object]) -> Score:
    """Score one vIGA-AD (grade 0-4; Simpson 2020): total = grade, band = the grade's name.

    >>> compute_viga_ad({"grade": 1})
    <vIGA-AD 1 almost clear>
    """
    return score(VIGA_AD, data)


def compute_iga6(data: Mapping[str, object]) -> Score:
    """Score one 6-point IGA (grade 0-5): total = grade, band = the grade's name (unverified).

    >>> compute_iga6({"grade": 5})
    <IGA6 5 very severe>
    """
    return score(IGA6, data)
