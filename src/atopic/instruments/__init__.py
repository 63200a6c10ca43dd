"""Outcome measures for atopic dermatitis: exact scoring for one assessment and for a table.

Each instrument is declared as data (``atopic.instruments.spec.Instrument``): its items with their
allowed values and SDTM QS codes, its cross-item rules, its formula (one kernel shared by the scalar
and the batch path), its outputs and severity bands. ``INSTRUMENTS`` maps the command-line name of
each instrument to its declaration.
"""

from __future__ import annotations

from atopic.instruments.batch import ScoredTable, score_table
from atopic.instruments.easi import EASI, compute_easi
from atopic.instruments.scalar import score
from atopic.instruments.scorad import (
    OSCORAD,
    PO_SCORAD,
    SCORAD,
    compute_objective_scorad,
    compute_po_scorad,
    compute_scorad,
)
from atopic.instruments.spec import Instrument, Item, Score

INSTRUMENTS: dict[str, Instrument] = {
    "easi": EASI,
    "scorad": SCORAD,
    "oscorad": OSCORAD,
    "po-scorad": PO_SCORAD,
}
"""Instruments by their command-line name (``atopic score NAME``)."""


def get_instrument(name: str) -> Instrument:
    """The instrument called ``name`` (case-insensitive), or InvalidInput listing the names."""
    from atopic.errors import InvalidInput

    key = name.lower()
    if key not in INSTRUMENTS:
        raise InvalidInput("atopic score", "instrument", name, "one of " + ", ".join(INSTRUMENTS))
    return INSTRUMENTS[key]


__all__ = [
    "EASI",
    "INSTRUMENTS",
    "OSCORAD",
    "PO_SCORAD",
    "SCORAD",
    "Instrument",
    "Item",
    "Score",
    "ScoredTable",
    "compute_easi",
    "compute_objective_scorad",
    "compute_po_scorad",
    "compute_scorad",
    "get_instrument",
    "score",
    "score_table",
]
