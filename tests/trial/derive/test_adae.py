"""adae: treatment-emergence, analysis dates and first-occurrence flags."""

from __future__ import annotations

import datetime as dt

import polars as pl

from atopic.trial.derive import derive_var_aeseq, derive_var_aoccfl, derive_var_trtemfl
from atopic.trial.derive.adae import prepare_adae
from tests.trial.derive.conftest import by_key

START = dt.date(2026, 1, 5)


def test_trtemfl_from_first_dose_to_the_window_after_the_last() -> None:
    data = pl.DataFrame(
        {
            "ID": [1, 2, 3, 4, 5, 6, 7, 8, 9],
            "AESTDTC": [
                "2026-01-04",
                "2026-01-05",
                "2026-02-04",
                "2026-02-05",
                "2025-12",
                "2026-01",
                "2025",
                None,
                "2026-01-06",
            ],
            "TRTSDT": [START] * 8 + [None],
            "TRTEDT": [START] * 8 + [None],
        }
    ).with_columns(pl.col("AESTDTC").str.slice(0, 10).str.to_date(strict=False).alias("ASTDT"))
    out = derive_var_trtemfl(data, window_days=30)
    assert by_key(out, ["ID"], "TRTEMFL") == {
        1: None,  # the day before the first dose
        2: "Y",  # the first-dose day
        3: "Y",  # 30 days after the last dose
        4: None,  # 31 days after
        5: None,  # December 2025 ends before the first dose
        6: "Y",  # January 2026 may be after it
        7: None,
        8: "Y",  # no start date: counted (conservative)
        9: None,  # never dosed
    }


def test_aoccfl_flags_first_teae_per_group() -> None:
    data = pl.DataFrame(
        {
            "USUBJID": ["A", "A", "A", "A", "B"],
            "AESEQ": [1, 2, 3, 4, 1],
            "AEBODSYS": ["Nervous", "Infections", "Nervous", "Nervous", "Nervous"],
            "AEDECOD": ["Headache", "Nasopharyngitis", "Migraine", "Headache", "Headache"],
            "ASTDT": [
                dt.date(2026, 1, 3),
                dt.date(2026, 1, 10),
                dt.date(2026, 1, 8),
                dt.date(2026, 1, 20),
                None,
            ],
            "TRTEMFL": [None, "Y", "Y", "Y", "Y"],
        }
    )
    out = derive_var_aoccfl(data, ["USUBJID"], "AOCCFL")
    out = derive_var_aoccfl(out, ["USUBJID", "AEBODSYS"], "AOCCSFL")
    out = derive_var_aoccfl(out, ["USUBJID", "AEBODSYS", "AEDECOD"], "AOCCPFL")
    key = ["USUBJID", "AESEQ"]
    assert by_key(out, key, "AOCCFL") == {
        ("A", 1): None,
        ("A", 2): None,
        ("A", 3): "Y",
        ("A", 4): None,
        ("B", 1): "Y",
    }
    assert by_key(out, key, "AOCCSFL") == {
        ("A", 1): None,
        ("A", 2): "Y",
        ("A", 3): "Y",
        ("A", 4): None,
        ("B", 1): "Y",
    }
    assert by_key(out, key, "AOCCPFL") == {
        ("A", 1): None,
        ("A", 2): "Y",
        ("A", 3): "Y",
        ("A", 4): "Y",
        ("B", 1): "Y",
    }


def test_aeseq_numbers_events_by_start_date_when_absent() -> None:
    data = pl.DataFrame(
        {
            "USUBJID": ["A", "A", "B"],
            "AESTDTC": ["2026-02-01", "2026-01-01", "2026-01-01"],
            "AETERM": ["x", "y", "z"],
        }
    )
    assert by_key(derive_var_aeseq(data), ["USUBJID", "AETERM"], "AESEQ") == {
        ("A", "x"): 2,
        ("A", "y"): 1,
        ("B", "z"): 1,
    }


def test_prepare_adae_days_and_membership() -> None:
    ae = pl.DataFrame(
        {
            "USUBJID": ["A", "Z"],
            "AETERM": ["Headache", "Rash"],
            "AESTDTC": ["2026-01-04", "2026-01-09"],
            "AEENDTC": ["2026-01-07", None],
        }
    )
    adsl = pl.DataFrame(
        {
            "USUBJID": ["A"],
            "TRT01A": ["Placebo"],
            "TRT01AN": [1],
            "SAFFL": ["Y"],
            "TRTSDT": [START],
            "TRTEDT": [START],
        }
    )
    out = prepare_adae(ae, adsl)
    assert by_key(out, ["USUBJID"], "ASTDY") == {"A": -1, "Z": None}
    assert by_key(out, ["USUBJID"], "AENDY") == {"A": 3, "Z": None}
    assert by_key(out, ["USUBJID"], "__in_adsl") == {"A": True, "Z": False}
    assert by_key(out, ["USUBJID"], "TRTA")["A"] == "Placebo"
