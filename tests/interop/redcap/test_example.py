"""The synthetic example (examples/redcap/): every value accounted for, tables valid and scored."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from atopic.cli_import import item_accepts
from atopic.instruments import EASI, POEM, PP_NRS, VIGA_AD, score_table
from atopic.interop.redcap import RedcapImport, import_redcap, read_export, read_mapping
from atopic.tables import DM, LB, QS, qs_to_wide, validate_table
from atopic.trial.derive import derive_all
from atopic.trial.design import load_design

from .conftest import EXAMPLE

DESIGN = EXAMPLE.parent / "trial" / "design.toml"


@pytest.fixture(scope="module")
def result(example_dictionary: Any, schemas: Any) -> RedcapImport:
    mapping = read_mapping(EXAMPLE / "mapping.toml", example_dictionary, schemas)
    export = read_export(EXAMPLE / "export.csv")
    return import_redcap(export, example_dictionary, mapping, schemas, accepts=item_accepts)


def _non_blank_values(path: Any) -> int:
    """Count the export's values independently: non-blank cells outside the id columns, a
    checkbox group (viga___0 ... viga___4) counted once when a box is ticked."""
    raw = pl.read_csv(path, infer_schema=False)
    plain = [c for c in raw.columns if c not in ("record_id", "redcap_event_name")]
    plain = [c for c in plain if not c.startswith("redcap_repeat_")]
    boxes = [c for c in plain if c.startswith("viga___")]
    n = 0
    for row in raw.iter_rows(named=True):
        n += sum(1 for c in plain if c not in boxes and (row[c] or "").strip())
        n += any(row[c] == "1" for c in boxes)
    return n


def test_nothing_is_dropped(result: RedcapImport) -> None:
    n = _non_blank_values(EXAMPLE / "export.csv")
    assert result.values_in == n
    assert sum(result.counts.values()) == n
    assert result.counts["QS"] == result.qs.height
    assert result.counts["LB"] == result.lb.height
    assert result.counts["rejects"] == result.rejects.height
    assert result.counts["ignored"] == result.ignored.height


def test_planted_faults_are_rejected_with_reasons(result: RedcapImport) -> None:
    rejects = {(r["record_id"], r["field"]): r for r in result.rejects.iter_rows(named=True)}
    assert set(rejects) == {
        ("2", "easi_tr_area"),
        ("3", "ige"),
        ("4", "nurse_note"),
        ("4", "ppnrs"),
        ("2", "poem_1"),
    }
    assert "must be a number from 0 to 100; got '130'" in rejects[("2", "easi_tr_area")]["reason"]
    assert "got 'high'" in rejects[("3", "ige")]["reason"]
    assert "study.ignore" in rejects[("4", "nurse_note")]["reason"]
    assert rejects[("4", "ppnrs")]["event"] == "week_12_arm_1"
    assert "redcap_event_name must be one of" in rejects[("4", "ppnrs")]["reason"]
    poem = rejects[("2", "poem_1")]
    assert poem["instance"] == "poem#2"
    assert "redcap_repeat_instrument must be one of the forms listed in" in poem["reason"]
    assert poem["reason"].endswith("study.repeating: nrs; got 'poem'")
    assert result.rejects.columns == ["record_id", "event", "instance", "field", "value", "reason"]


def test_repeated_itch_score_is_a_second_dated_assessment(result: RedcapImport) -> None:
    itch = result.qs.filter((pl.col("QSTESTCD") == "PPNRS101") & (pl.col("USUBJID") == "RC-DEMO-1"))
    assert itch.sort("QSDTC").select("VISITNUM", "QSDTC").rows() == [
        (1.0, "2024-03-04"),
        (2.0, "2024-04-01"),
        (2.0, "2024-04-04"),
    ]
    assert result.qs.filter(pl.col("QSTESTCD") == "PPNRS101").height == 9


def test_tables_validate(result: RedcapImport) -> None:
    for frame, table in ((result.dm, DM), (result.qs, QS), (result.lb, LB)):
        assert validate_table(frame, table) == []
    assert result.dm["SEX"].to_list()
    assert set(result.dm["SEX"]) <= {"M", "F"}
    assert set(result.dm["SITEID"]) <= {"01", "02"}


def test_choice_labels_and_codes_are_translated(result: RedcapImport) -> None:
    raw = pl.read_csv(EXAMPLE / "export.csv", infer_schema=False)
    first = raw.row(0, named=True)
    qs = result.qs.filter((pl.col("USUBJID") == "RC-DEMO-1") & (pl.col("VISITNUM") == 1))
    by_code = dict(zip(qs["QSTESTCD"], qs["QSORRES"], strict=True))
    labels = {"0": "0", "1": "1", "15": "1.5", "2": "2", "25": "2.5", "3": "3"}
    assert by_code["EASI101"] == labels[first["easi_hn_erythema"]]
    assert by_code["POEM101"] == first["poem_1"]
    ticked = [c.split("___")[1] for c in raw.columns if c.startswith("viga___") and first[c] == "1"]
    assert by_code["VIGA101"] == ticked[0]


@pytest.mark.parametrize("instrument", [EASI, POEM, VIGA_AD, PP_NRS])
def test_every_assessment_scores(result: RedcapImport, instrument: Any) -> None:
    wide = qs_to_wide(result.qs, instrument, result.dm)
    assert wide.rejects.height == 0
    scored = score_table(instrument, wide.wide)
    if instrument is EASI:  # record 2 week 4 lost its trunk area to the rejects: not scorable
        assert scored.rejects.select("USUBJID", "VISITNUM").rows() == [("RC-DEMO-2", 2.0)]
        assert "trunk" in scored.rejects["reason"][0]
    else:
        assert scored.rejects.height == 0
    expected = (
        result.qs.filter(pl.col("QSCAT") == instrument.qscat)
        .select("USUBJID", "VISITNUM", "QSDTC")
        .unique()
        .height
    )
    assert scored.scored.height + scored.rejects.height == expected
    assert scored.scored["total"].null_count() == 0


def test_imported_tables_go_through_derive_all(result: RedcapImport) -> None:
    """With an arm and a first dose added (REDCap holds neither), derive_all rejects only the
    EASI that lost an item at import and record 4's stratum, and flags the week 4 itch score
    closest to day 29 (the re-scoring on day 32 stays, unflagged)."""
    design = load_design(DESIGN)
    arm = design.arms[0]
    dm = result.dm.with_columns(pl.lit(arm.code).alias("ARMCD"), pl.lit(arm.label).alias("ARM"))
    ex = pl.DataFrame(
        {
            "STUDYID": "RC-DEMO",
            "DOMAIN": "EX",
            "USUBJID": dm["USUBJID"],
            "EXSEQ": 1,
            "EXTRT": arm.product,
            "EXDOSE": float(arm.dose),
            "EXDOSU": arm.dose_unit,
            "EXROUTE": arm.route,
            "EXSTDTC": "2024-03-04",
        }
    )
    out = derive_all({"DM": dm, "EX": ex, "QS": result.qs, "LB": result.lb}, design)
    rejects = out["REJECTS"].sort("SOURCE", descending=True)
    assert rejects.select("SOURCE", "USUBJID", "PARAMCD", "DTC").rows() == [
        ("QS", "RC-DEMO-2", "EASI", "2024-04-01"),
        ("ADSL", "RC-DEMO-4", None, None),
    ]
    assert "trunk.area_percent must be given" in rejects["reason"][0]
    # the demo design stratifies by baseline vIGA-AD 3 or 4; the synthetic record 4 has 2
    assert "STRAT1R (stratum IGA, from baseline IGA) must be one of 3, 4" in rejects["reason"][1]
    itch = out["BDS"].filter(
        (pl.col("USUBJID") == "RC-DEMO-1")
        & (pl.col("PARAMCD") == "PPNRS")
        & pl.col("DTYPE").is_null()
    )
    assert sorted(itch.select("ADY", "AVISIT", "ANL01FL").rows(), key=lambda r: r[0]) == [
        (1, "WEEK 0", "Y"),
        (29, "WEEK 4", "Y"),
        (32, "WEEK 4", None),
    ]
