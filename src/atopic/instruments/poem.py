"""Patient-Oriented Eczema Measure (POEM).

Sources: Charman CR, Venn AJ, Williams HC, Arch Dermatol 2004;140:1513-1519 (the measure and its
scoring); bands: Charman CR et al., Br J Dermatol 2013 (severity strata from anchor-based methods).
Decisions: ../shared/reference/instruments.md, section Patient-reported measures.

Seven questions on the last week, each answered by the number of days: no days 0, 1-2 days 1,
3-4 days 2, 5-6 days 3, every day 4. ``POEM = sum of the seven answers``, 0-28.

Missing answers (reference page): one unanswered question counts 0; with two or more unanswered
the questionnaire is not scored (an ``InvalidInput`` naming ``items``, never a guess). The result
part ``unanswered`` says how many answers were missing (0 or 1).

Bands (Charman 2013): 0-2 clear or almost clear, 3-7 mild, 8-16 moderate, 17-24 severe,
25-28 very severe.

JSON input: ``{"items": [a1, ..., a7]}``, exactly seven entries in the order of the form, each
0-4 or null when unanswered. Fields are ``items.1`` ... ``items.7`` (numbered as on the form),
sponsor QSTESTCD ``POEM101`` ... ``POEM107``. Decision where the reference is silent: a list of the
wrong length is refused as a whole (an answer is never shifted to another question).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from atopic.instruments import rules
from atopic.instruments.domains import integers
from atopic.instruments.scalar import list_parser, score
from atopic.instruments.spec import Banding, BandSet, Cut, Instrument, Item, Output, Score

QUESTIONS = (
    "Itch",
    "Sleep disturbed",
    "Bleeding",
    "Weeping or oozing",
    "Cracked skin",
    "Flaking skin",
    "Dry or rough skin",
)
"""The seven questions in short form, in the order of the form (Charman 2004)."""
DAYS = integers(0, 4)
DAYS_UNIT = "days in the last week: 0 none, 1 1-2, 2 3-4, 3 5-6, 4 every day"
FIELDS = tuple(f"items.{n}" for n in range(1, len(QUESTIONS) + 1))


def kernel(v: Mapping[str, Any], present: Mapping[str, Any], ops: Any) -> dict[str, Any]:
    """Total (an unanswered item is 0) and the number of unanswered items."""
    return {
        "total": ops.total(v[f] for f in FIELDS),
        "unanswered": ops.total(ops.as_int(ops.where(present[f], False, True)) for f in FIELDS),
    }


CHARMAN_2013 = BandSet(
    "charman2013",
    "Charman CR et al., Br J Dermatol 2013: 0-2, 3-7, 8-16, 17-24, 25-28",
    (
        Cut(Decimal(0), "clear or almost clear"),
        Cut(Decimal(3), "mild"),
        Cut(Decimal(8), "moderate"),
        Cut(Decimal(17), "severe"),
        Cut(Decimal(25), "very severe"),
    ),
)

POEM = Instrument(
    name="POEM",
    qscat="POEM",
    title="Patient-Oriented Eczema Measure",
    version="POEM 2004 (Charman 2004)",
    source="Charman CR et al., Arch Dermatol 2004;140:1513; bands: Charman CR et al., "
    "Br J Dermatol 2013",
    items=tuple(
        Item(field, f"POEM1{n:02d}", question, DAYS, unit=DAYS_UNIT, optional=True)
        for n, (field, question) in enumerate(zip(FIELDS, QUESTIONS, strict=True), start=1)
    ),
    outputs=(
        Output("total", 1, "POEM (0-28)"),
        Output("unanswered", 1, "Unanswered questions (one counts 0)"),
    ),
    kernel=kernel,
    rules=(
        rules.at_most_missing(FIELDS, 1, "items", "two or more unanswered: POEM is not scored"),
    ),
    bandings=(Banding("total", "band", {"charman2013": CHARMAN_2013}),),
    parse=list_parser("POEM", 7, "each 0-4, or null if unanswered"),
    describe_input=(
        '{"items": [2, 3, 0, 1, null, 2, 4]}: exactly 7 answers in the order of the form (itch, '
        "sleep disturbed, bleeding, weeping or oozing, cracked, flaking, dry or rough), each the "
        "number of days in the last week: 0 none, 1 1-2 days, 2 3-4 days, 3 5-6 days, 4 every "
        "day; null when unanswered (one unanswered counts 0, two or more: not scored)"
    ),
)


def compute_poem(data: Mapping[str, object]) -> Score:
    """Score one POEM (0-28; Charman 2004, bands Charman 2013); see the module docstring.

    ``data`` is ``{"items": [...]}`` with 7 answers 0-4 (null: unanswered; one counts 0).

    >>> compute_poem({"items": [2, 3, 0, 1, None, 2, 4]})
    <POEM 12 moderate>
    """
    return score(POEM, data)
