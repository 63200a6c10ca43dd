"""params: instrument totals from QS items (the instruments' own scoring) and labs from LB."""

from __future__ import annotations

import polars as pl

from atopic.instruments import compute_pp_nrs, compute_viga_ad
from atopic.trial.derive import PARAMETERS, derive_param_lb, derive_param_qs
from atopic.trial.derive.params import PARAMETER

AGES = pl.DataFrame({"USUBJID": ["A", "B"], "AGE": [30.0, 40.0]})


def _qs(qscat: str, code: str, values: list[tuple[str, float | None, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "STUDYID": ["S"] * len(values),
            "USUBJID": [v[0] for v in values],
            "QSCAT": [qscat] * len(values),
            "QSTESTCD": [code] * len(values),
            "QSORRES": [None if v[1] is None else str(v[1]) for v in values],
            "QSSTRESN": [v[1] for v in values],
            "VISITNUM": [1.0] * len(values),
            "QSDTC": [v[2] for v in values],
        }
    )


def test_iga_total_is_the_instrument_score() -> None:
    qs = _qs("VIGA-AD", "VIGA101", [("A", 3.0, "2026-01-05"), ("B", 4.0, "2026-01-06")])
    records, rejects = derive_param_qs(qs, PARAMETER["IGA"], AGES)
    got = records.collect().to_native().sort("USUBJID")
    assert got["AVAL"].to_list() == [
        float(compute_viga_ad({"grade": 3}).total),
        float(compute_viga_ad({"grade": 4}).total),
    ]
    assert got["ADTC"].to_list() == ["2026-01-05", "2026-01-06"]
    assert set(got["PARAMCD"]) == {"IGA"}
    assert rejects.height == 0


def test_refused_items_are_rejects_with_the_instrument_message() -> None:
    qs = _qs("PP-NRS", "PPNRS101", [("A", 7.0, "2026-01-05"), ("B", 11.0, "2026-01-05")])
    records, rejects = derive_param_qs(qs, PARAMETER["PPNRS"], AGES)
    assert records.collect().to_native()["AVAL"].to_list() == [
        float(compute_pp_nrs({"score": 7}).total)
    ]
    assert rejects["USUBJID"].to_list() == ["B"]
    assert rejects["SOURCE"].to_list() == ["QS"]
    assert rejects["PARAMCD"].to_list() == ["PPNRS"]
    assert "must be" in rejects["reason"][0]
    assert "11" in rejects["reason"][0]


def test_labs_in_standard_units_only() -> None:
    lb = pl.DataFrame(
        {
            "STUDYID": ["S"] * 4,
            "USUBJID": ["A", "B", "C", "D"],
            "LBTESTCD": ["IGE", "IGE", "IGE", "EOS"],
            "LBSTRESN": [350.0, None, 2.1, 0.4],
            "LBSTRESU": ["IU/mL", "IU/mL", "mg/L", "10^9/L"],
            "LBDTC": ["2026-01-05"] * 4,
        }
    )
    records, rejects = derive_param_lb(lb, PARAMETER["IGE"])
    assert records.collect().to_native()["USUBJID"].to_list() == ["A"]
    assert dict(zip(rejects["USUBJID"], rejects["reason"], strict=True)) == {
        "B": "LB IGE LBSTRESN must be a number; got nothing",
        "C": "LB IGE LBSTRESU must be IU/mL; got 'mg/L'",
    }


def test_parameter_codes_fit_sdtm_and_are_numbered_in_order() -> None:
    assert all(len(p.paramcd) <= 8 for p in PARAMETERS)
    assert [p.paramn for p in PARAMETERS] == list(range(1, len(PARAMETERS) + 1))
