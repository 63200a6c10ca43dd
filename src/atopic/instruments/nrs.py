"""Peak Pruritus Numerical Rating Scale (PP-NRS) and sleep-loss NRS.

Source: ../shared/reference/instruments.md, section Patient-reported measures: Peak Pruritus NRS,
worst itch in the past 24 hours, a whole number 0-10; the sleep NRS is the same scale for sleep
loss. One value per assessment; the score is the value.

Decisions where the reference is silent:

- No severity bands: the reference gives none, so ``band`` is None (none are invented).
- The weekly mean of daily values that trials usually analyse, and the responder rule (a
  reduction of at least 4 points from a baseline of at least 4), combine several assessments:
  they are analysis-level derivations (trial.derive), not part of scoring one value here.

JSON input: ``{"score": 7}``. Sponsor QSTESTCD: ``PPNRS101`` (QSCAT ``PP-NRS``) and ``SLNRS101``
(QSCAT ``SLEEP-NRS``); the BDS parameters are PPNRS and SLNRS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from atopic.instruments.domains import integers
from atopic.instruments.scalar import score
from atopic.instruments.spec import Instrument, Item, Output, Score

SCALE = integers(0, 10)


def kernel(v: Mapping[str, Any], present: Mapping[str, Any], ops: Any) -> dict[str, Any]:
    """The total is the rating itself."""
    return {"total": v["score"]}


PP_NRS = Instrument(
    name="PP-NRS",
    qscat="PP-NRS",
    title="Peak Pruritus Numerical Rating Scale",
    version="PP-NRS (worst itch, past 24 hours, 0-10)",
    source="../shared/reference/instruments.md (Peak Pruritus NRS)",
    items=(
        Item(
            "score",
            "PPNRS101",
            "Worst itch in the past 24 hours (0-10)",
            SCALE,
        ),
    ),
    outputs=(Output("total", 1, "Peak pruritus (0-10)"),),
    kernel=kernel,
    describe_input='{"score": 7}: worst itch in the past 24 hours, a whole number 0-10',
)

SLEEP_NRS = Instrument(
    name="Sleep-NRS",
    qscat="SLEEP-NRS",
    title="Sleep-loss Numerical Rating Scale",
    version="sleep NRS (0-10)",
    source="../shared/reference/instruments.md (sleep NRS: the PP-NRS scale for sleep loss)",
    items=(
        Item(
            "score",
            "SLNRS101",
            "Sleep loss (0-10)",
            SCALE,
        ),
    ),
    outputs=(Output("total", 1, "Sleep loss (0-10)"),),
    kernel=kernel,
    describe_input='{"score": 4}: sleep loss, a whole number 0-10',
)


def compute_pp_nrs(data: Mapping[str, object]) -> Score:
    """Score one Peak Pruritus NRS (whole number 0-10, worst itch in the past 24 hours; no bands).

    >>> compute_pp_nrs({"score": 7})
    <PP-NRS 7>
    """
    return score(PP_NRS, data)


def compute_sleep_nrs(data: Mapping[str, object]) -> Score:
    """Score one sleep-loss NRS (whole number 0-10, the PP-NRS scale for sleep loss; no bands).

    >>> compute_sleep_nrs({"score": 0})
    <Sleep-NRS 0>
    """
    return score(SLEEP_NRS, data)
