"""Atopic Dermatitis Control Tool (ADCT), age 12 and over.

Source: Pariser DM et al., Curr Med Res Opin 2019 (doi:10.1080/03007995.2019.1699516): design,
validation and scoring. Decisions: ../shared/reference/instruments.md, section Patient-reported
measures. The six topics (item labels) follow the ADCT's own description of its domains
(adcontroltool.com) and Simpson E et al., BMC Dermatol 2019.

Six questions on the last week, each 0-4; ``ADCT = sum``, 0-24. All six are required, as the
reference page says: an unanswered item is refused, never imputed. Band (Pariser 2019): a total
of 7 or more is "not in control", below 7 "in control".

Decision where the reference is silent: the meaningful within-person change (5 points or more)
compares two assessments, so it is an analysis-level derivation, not part of scoring one here.

JSON input: ``{"items": [a1, ..., a6]}``, exactly six whole numbers 0-4 in the order of the form.
Fields ``items.1`` ... ``items.6``; sponsor QSTESTCD ``ADCT101`` ... ``ADCT106`` (QSCAT ``ADCT``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from atopic.instruments.domains import integers
from atopic.instruments.scalar import list_parser, score
from atopic.instruments.spec import Banding, BandSet, Cut, Instrument, Item, Output, Score

QUESTIONS = (
    "Overall severity of eczema symptoms",
    "Days with intense episodes of itching",
    "How bothered by eczema",
    "Nights with sleep affected",
    "Impact on daily activities",
    "Impact on mood or emotions",
)
"""The six questions in short form, in the order of the form (all on the last week)."""
FIELDS = tuple(f"items.{n}" for n in range(1, len(QUESTIONS) + 1))
CONTROL_THRESHOLD = 7
"""A total at or above this is "not in control" (Pariser 2019)."""


def kernel(v: Mapping[str, Any], present: Mapping[str, Any], ops: Any) -> dict[str, Any]:
    """The total is the sum of the six answers."""
    return {"total": ops.total(v[f] for f in FIELDS)}


PARISER_2019 = BandSet(
    "pariser2019",
    "Pariser DM et al., Curr Med Res Opin 2019: total >= 7 not in control",
    (Cut(Decimal(0), "in control"), Cut(Decimal(CONTROL_THRESHOLD), "not in control")),
)

ADCT = Instrument(
    name="ADCT",
    qscat="ADCT",
    title="Atopic Dermatitis Control Tool",
    version="ADCT (Pariser 2019)",
    source="Pariser DM et al., Curr Med Res Opin 2019; doi:10.1080/03007995.2019.1699516",
    items=tuple(
        Item(field, f"ADCT1{n:02d}", question, integers(0, 4))
        for n, (field, question) in enumerate(zip(FIELDS, QUESTIONS, strict=True), start=1)
    ),
    outputs=(Output("total", 1, "ADCT (0-24)"),),
    kernel=kernel,
    bandings=(Banding("total", "band", {"pariser2019": PARISER_2019}),),
    parse=list_parser("ADCT", len(QUESTIONS), "each a whole number 0-4; all required"),
    describe_input=(
        '{"items": [2, 1, 2, 1, 0, 1]}: exactly 6 answers in the order of the form (overall '
        "severity, intense itching, bother, sleep, daily activities, mood or emotions), each a "
        "whole number 0-4; all are required"
    ),
)


def compute_adct(data: Mapping[str, object]) -> Score:
    """Score one ADCT (0-24; Pariser 2019): band "not in control" from 7, else "in control".

    ``data`` is ``{"items": [...]}`` with 6 answers, each 0-4, all required.

    >>> compute_adct({"items": [2, 1, 2, 1, 0, 1]})
    <ADCT 7 not in control>
    """
    return score(ADCT, data)
