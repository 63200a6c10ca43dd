"""REDCap: a project's CSV export (raw codes) and data dictionary, mapped to atopic's items by a
mapping file (TOML), as the collected tables DM, QS and LB plus a rejects report.

``read_dictionary(path)`` reads the data dictionary, ``read_mapping(path, dictionary, schemas)``
the mapping, ``read_export(path)`` the export; ``import_redcap(export, dictionary, mapping,
schemas, accepts)`` returns a ``RedcapImport``. The instrument declarations come in as data
(``Instrument.schema()`` plus ``qscat``); the CLI passes ``accepts``, the instruments' own check
of an item value. Repeating instruments listed in the mapping's ``study.repeating`` are imported,
each instance as its own dated assessment; repeating events are rejected. See docs/interop.md.
"""

from __future__ import annotations

from atopic.interop.redcap.dictionary import Field, check_raw, parse_choices, read_dictionary
from atopic.interop.redcap.mapping import Mapping, parse_mapping, read_mapping
from atopic.interop.redcap.read import (
    REJECT_COLUMNS,
    Accepts,
    RedcapImport,
    import_redcap,
    read_export,
)

__all__ = [
    "REJECT_COLUMNS",
    "Accepts",
    "Field",
    "Mapping",
    "RedcapImport",
    "check_raw",
    "import_redcap",
    "parse_choices",
    "parse_mapping",
    "read_dictionary",
    "read_export",
    "read_mapping",
]
