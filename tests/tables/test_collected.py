"""The collected (SDTM-like) tables: DESIGN.md's columns, CDISC labels and terminology, and the
instruments' QS codes."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from atopic.instruments import INSTRUMENTS
from atopic.tables import AE, DM, EX, LB, QS, TABLES, Table, qstest
from atopic.tables.collected import LAB_STANDARD_UNITS, LAB_TESTS, LAB_UNITS

DESIGN_COLUMNS = {
    "DM": "STUDYID USUBJID SITEID BRTHDTC AGE SEX ARMCD ARM ACTARMCD RFSTDTC",
    "EX": "USUBJID EXTRT EXDOSE EXDOSU EXROUTE EXLOT EXSTDTC",
    "QS": "USUBJID QSCAT QSTESTCD QSORRES QSSTRESN QSEVAL VISITNUM VISIT QSDTC QSTEST QSSTRESC",
    "LB": "USUBJID LBTESTCD LBSTRESN LBSTRESU VISITNUM LBDTC",
    "AE": "USUBJID AETERM AEDECOD AEBODSYS AESEV AETOXGR AESER AEREL AESTDTC AEENDTC",
}
"""The columns DESIGN.md ("Collected tables") and the brief list for each table."""
EXTENSIONS: dict[str, set[str]] = {"AE": {"AEACN"}}
"""Columns added beyond DESIGN.md, each for a stated need: AEACN (action taken) is what "AEs
leading to withdrawal" (issue 5, safety) is counted from."""


@pytest.mark.parametrize("name", DESIGN_COLUMNS)
def test_collected_table_declares_every_column_design_lists(name: str) -> None:
    table = TABLES[name]
    assert set(DESIGN_COLUMNS[name].split()) <= set(table.names)


@pytest.mark.parametrize("table", [DM, EX, QS, LB, AE], ids=lambda t: t.name)
def test_collected_table_declares_only_design_columns_and_standard_identifiers(
    table: Table,
) -> None:
    extra = set(table.names) - set(DESIGN_COLUMNS[table.name].split())
    assert extra <= {"STUDYID", "DOMAIN", f"{table.name}SEQ"} | EXTENSIONS.get(table.name, set())


@pytest.mark.parametrize("table", [DM, EX, QS, LB, AE], ids=lambda t: t.name)
def test_domain_column_allows_only_the_table_name(table: Table) -> None:
    assert table["DOMAIN"].allowed == (table.name,)


def test_collected_tables_carry_cdisc_labels() -> None:
    assert DM["USUBJID"].label == "Unique Subject Identifier"
    assert QS["QSTESTCD"].label == "Question Short Name"
    assert QS["QSSTRESN"].label == "Numeric Finding in Standard Units"
    assert AE["AEDECOD"].label == "Dictionary-Derived Term"


def test_sex_uses_cdisc_terminology() -> None:
    assert DM["SEX"].allowed == ("M", "F", "U", "UNDIFFERENTIATED")


def test_cell_therapy_dose_unit_is_allowed() -> None:
    assert "10^6 Therapeutic Cells" in (EX["EXDOSU"].allowed or ())
    assert {"SUBCUTANEOUS", "INTRAVENOUS"} <= set(EX["EXROUTE"].allowed or ())


def test_ad_biomarkers_and_their_units_are_allowed() -> None:
    assert {"IGE", "EOS", "CCL17"} <= set(LAB_TESTS)
    assert LAB_UNITS["IGE"] == "IU/mL"
    assert LAB_UNITS["EOS"] == "10^9/L"
    assert set(LAB_UNITS.values()) <= set(LAB_STANDARD_UNITS)
    assert LB["LBTESTCD"].allowed == LAB_TESTS


def test_adverse_event_terminology() -> None:
    assert AE["AESEV"].allowed == ("MILD", "MODERATE", "SEVERE")
    assert AE["AESER"].allowed == ("Y", "N")
    assert AE["AETOXGR"].allowed == ("1", "2", "3", "4", "5")


def test_qs_limits_test_code_to_8_and_test_name_to_40_characters() -> None:
    assert QS["QSTESTCD"].max_length == 8
    assert QS["QSTEST"].max_length == 40


def test_dtc_columns_are_iso8601_text() -> None:
    dtcs = [c for t in (DM, EX, QS, LB, AE) for c in t.columns if c.name.endswith("DTC")]
    assert dtcs
    assert all(c.iso8601 and c.max_length is None for c in dtcs)


def _qs_items() -> list[tuple[str, str, object]]:
    return [
        (instrument.qscat, item.code, item)
        for instrument in INSTRUMENTS.values()
        for item in instrument.items
        if not item.context
    ]


def test_every_instrument_item_code_is_a_valid_qstestcd() -> None:
    # SDTM --TESTCD: at most 8 characters, a letter first, then letters, digits or underscores.
    for qscat, code, _ in _qs_items():
        assert re.fullmatch(r"[A-Z][A-Z0-9_]{0,7}", code), (qscat, code)


def test_qscat_and_item_code_identify_one_item_across_all_instruments() -> None:
    # Instruments may share a QSCAT (SCORAD and oSCORAD); a shared code must then be the same item.
    seen: dict[tuple[str, str], object] = {}
    for qscat, code, item in _qs_items():
        earlier = seen.setdefault((qscat, code), item)
        assert (earlier.label, earlier.domain) == (item.label, item.domain), (qscat, code)  # type: ignore[attr-defined]


def test_qstest_is_unique_within_every_qscat_and_fits_in_40_characters() -> None:
    names: dict[str, dict[str, str]] = defaultdict(dict)
    for qscat, code, item in _qs_items():
        name = qstest(item)  # type: ignore[arg-type]
        assert 0 < len(name) <= 40
        names[qscat][code] = name
    for qscat, by_code in names.items():
        assert len(set(by_code.values())) == len(by_code), qscat
