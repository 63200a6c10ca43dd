"""SCORAD, objective SCORAD, PO-SCORAD: hand-worked examples (ETFAD 1993 formula), bands, refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from atopic.errors import InvalidInput
from atopic.instruments import compute_objective_scorad, compute_po_scorad, compute_scorad
from atopic.instruments.scorad import REGIONS, SHARES

SIGNS = {
    "erythema": 2,
    "oedema_papulation": 2,
    "oozing_crusts": 1,
    "excoriation": 2,
    "lichenification": 1,
    "dryness": 2,
}  # B = 10
EXTENT = {
    "head_neck": 50,
    "anterior_trunk": 20,
    "back": 10,
    "left_upper_limb": 30,
    "right_upper_limb": 30,
    "left_lower_limb": 10,
    "right_lower_limb": 10,
    "genitals": 0,
}


def scorad(**kw: object) -> object:
    data = {"intensity": SIGNS, "pruritus": 7.3, "sleeplessness": 4.1, **kw}
    return compute_scorad(data)


def test_rule_of_nines_sums_to_100() -> None:
    assert sum(SHARES[r] for r in REGIONS) == 100


def test_worked_example_adult() -> None:
    # A = 4.5 + 3.6 + 1.8 + 2.7 + 2.7 + 1.8 + 1.8 + 0 = 18.9; A/5 = 3.78; 7B/2 = 35; C = 11.4
    result = scorad(age_years=34, extent=EXTENT)
    assert result.extent == Decimal("18.9")
    assert result.intensity == 10
    assert result.subjective == Decimal("11.4")
    assert result.objective == Decimal("38.78")
    assert result.total == Decimal("50.18")
    assert (result.band, result.objective_band) == ("severe", "moderate")


def test_under_2_uses_infant_shares_and_age_2_does_not() -> None:
    # infant: head 50% x 17 = 8.5, legs 10% x 12 x 2 = 2.4: A = 8.5+3.6+1.8+5.4+2.4 = 21.7
    assert scorad(age_years=1.99, extent=EXTENT).extent == Decimal("21.7")
    assert scorad(age_years=2, extent=EXTENT).extent == Decimal("18.9")


def test_extent_given_directly() -> None:
    result = scorad(extent_percent=12.5)
    assert result.extent == Decimal("12.5")
    assert result.total == Decimal("2.5") + 35 + Decimal("11.4")


def test_maxima_are_103_and_83() -> None:
    worst = dict.fromkeys(SIGNS, 3)
    assert (
        compute_scorad(
            {"extent_percent": 100, "intensity": worst, "pruritus": 10, "sleeplessness": 10}
        ).total
        == 103
    )
    assert compute_objective_scorad({"extent_percent": 100, "intensity": worst}).total == 83


B4 = dict(SIGNS, erythema=0, oedema_papulation=0, excoriation=0, dryness=1, lichenification=2)


@pytest.mark.parametrize(
    ("signs", "extent_percent", "pruritus", "sleeplessness", "total", "band"),
    [
        (B4, 0, 7.4, 3.5, "24.9", "mild"),  # 0 + 14 + 10.9
        (B4, 0, 7.5, 3.5, "25", "moderate"),
        (SIGNS, 0, 10, 5, "50", "moderate"),  # 0 + 35 + 15
        (SIGNS, 0.1, 10, 5, "50.02", "severe"),
    ],
)
def test_classic_bands_25_and_50_are_moderate(
    signs: dict[str, int],
    extent_percent: float,
    pruritus: float,
    sleeplessness: float,
    total: str,
    band: str,
) -> None:
    data = {
        "extent_percent": extent_percent,
        "intensity": signs,
        "pruritus": pruritus,
        "sleeplessness": sleeplessness,
    }
    result = compute_scorad(data)
    assert result.total == Decimal(total)
    assert result.band == band


def test_chopra_bands_round_to_one_decimal_first() -> None:
    zero = dict.fromkeys(SIGNS, 0)
    extent = dict.fromkeys(EXTENT, 0)
    # genitals 25 % -> A = 0.25, A/5 = 0.05; + pruritus 9.9 = 9.95 -> 10.0 -> mild
    result = compute_scorad(
        {
            "age_years": 30,
            "extent": dict(extent, genitals=25),
            "intensity": zero,
            "pruritus": 9.9,
            "sleeplessness": 0,
        },
        band_set="chopra2017",
    )
    assert result.total == Decimal("9.95")
    assert result.band == "mild"
    result = compute_scorad(
        {
            "age_years": 30,
            "extent": dict(extent, genitals=20),
            "intensity": zero,
            "pruritus": 9.9,
            "sleeplessness": 0,
        },
        band_set="chopra2017",
    )
    assert result.total == Decimal("9.94")
    assert result.band == "clear"


def test_intensity_half_points_are_refused_but_vas_tenths_are_allowed() -> None:
    with pytest.raises(
        InvalidInput, match=r"^SCORAD intensity.erythema must be one of 0, 1, 2, 3; got 1.5$"
    ):
        scorad(extent_percent=10, intensity=dict(SIGNS, erythema=1.5))
    with pytest.raises(
        InvalidInput, match=r"pruritus must be a number from 0 to 10 in steps of 0.1; got 7.25"
    ):
        scorad(extent_percent=10, pruritus=7.25)
    assert scorad(extent_percent=10, pruritus=0.1 + 0.2).subjective == Decimal("4.4")


def test_extent_rules() -> None:
    with pytest.raises(InvalidInput, match=r"extent.back must be given \(or extent_percent"):
        scorad(age_years=30, extent={k: v for k, v in EXTENT.items() if k != "back"})
    with pytest.raises(InvalidInput, match=r"extent_percent must be left out"):
        scorad(age_years=30, extent=EXTENT, extent_percent=10)
    with pytest.raises(InvalidInput, match=r"age_years must be a number from 0 to 130 when extent"):
        scorad(extent=EXTENT)
    with pytest.raises(
        InvalidInput,
        match=r"extent.head_neck must be a number from 0 to 100 in steps of 0.1; got 101",
    ):
        scorad(age_years=30, extent=dict(EXTENT, head_neck=101))


def test_po_scorad_has_patient_signs_and_no_bands() -> None:
    signs = {
        "dryness": 2,
        "redness": 2,
        "swelling": 1,
        "oozing_scabs": 2,
        "scratch_marks": 1,
        "thickening": 2,
    }
    result = compute_po_scorad(
        {"extent_percent": 20, "intensity": signs, "pruritus": 7.5, "sleeplessness": 4}
    )
    assert result.total == Decimal("50.5")
    assert result.band is None
