"""Outcome measures for atopic dermatitis: exact scoring for one assessment and for a table.

Each instrument is declared as data (``atopic.instruments.spec.Instrument``): its items with their
allowed values and SDTM QS codes, its cross-item rules, its formula (one kernel shared by the scalar
and the batch path), its outputs and severity bands. ``INSTRUMENTS`` maps the command-line name of
each instrument to its declaration.
"""

from __future__ import annotations

from atopic.instruments.adct import ADCT, compute_adct
from atopic.instruments.batch import ScoredTable, score_table
from atopic.instruments.dlqi import CDLQI, DLQI, IDQOL, compute_cdlqi, compute_dlqi, compute_idqol
from atopic.instruments.easi import EASI, compute_easi
from atopic.instruments.iga import IGA6, VIGA_AD, compute_iga6, compute_viga_ad
from atopic.instruments.nrs import PP_NRS, SLEEP_NRS, compute_pp_nrs, compute_sleep_nrs
from atopic.instruments.poem import POEM, compute_poem
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
    "viga-ad": VIGA_AD,
    "iga6": IGA6,
    "poem": POEM,
    "pp-nrs": PP_NRS,
    "sleep-nrs": SLEEP_NRS,
    "dlqi": DLQI,
    "cdlqi": CDLQI,
    "idqol": IDQOL,
    "adct": ADCT,
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
    "ADCT",
    "CDLQI",
    "DLQI",
    "EASI",
    "IDQOL",
    "IGA6",
    "INSTRUMENTS",
    "OSCORAD",
    "POEM",
    "PO_SCORAD",
    "PP_NRS",
    "SCORAD",
    "SLEEP_NRS",
    "VIGA_AD",
    "Instrument",
    "Item",
    "Score",
    "ScoredTable",
    "compute_adct",
    "compute_cdlqi",
    "compute_dlqi",
    "compute_easi",
    "compute_idqol",
    "compute_iga6",
    "compute_objective_scorad",
    "compute_po_scorad",
    "compute_poem",
    "compute_pp_nrs",
    "compute_scorad",
    "compute_sleep_nrs",
    "compute_viga_ad",
    "get_instrument",
    "score",
    "score_table",
]
