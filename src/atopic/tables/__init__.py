"""The tables every stage of atopic exchanges: their declarations, a validator, and the
conversion between item-level QS rows and wide assessment tables.

Collected tables (SDTM-like): ``DM``, ``EX``, ``QS``, ``LB``, ``AE`` (and, for intercurrent
events, ``CM`` and ``DS``). Analysis tables (ADaM-like):
``ADSL``, ``BDS``, ``ADAE``. ``TABLES`` maps each name to its declaration. ``validate_table``
lists a frame's problems against a declaration and ``check_table`` raises the first, on any
engine Narwhals drives. ``qs_to_wide`` / ``wide_to_qs`` move one instrument's items between QS
rows and the wide table that ``atopic.instruments.score_table`` scores. See docs/tables.md.
"""

from __future__ import annotations

from atopic.tables.analysis import ADAE, ADSL, BDS
from atopic.tables.collected import AE, CM, DM, DS, EX, LB, QS
from atopic.tables.schema import Column, Table
from atopic.tables.validate import Problem, check_table, extra_columns, validate_table
from atopic.tables.wide import WideTable, qs_to_wide, qstest, wide_to_qs

TABLES: dict[str, Table] = {t.name: t for t in (DM, EX, QS, LB, AE, CM, DS, ADSL, BDS, ADAE)}
"""Every table declaration by name."""

__all__ = [
    "ADAE",
    "ADSL",
    "AE",
    "BDS",
    "CM",
    "DM",
    "DS",
    "EX",
    "LB",
    "QS",
    "TABLES",
    "Column",
    "Problem",
    "Table",
    "WideTable",
    "check_table",
    "extra_columns",
    "qs_to_wide",
    "qstest",
    "validate_table",
    "wide_to_qs",
]
