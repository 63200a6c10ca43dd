"""Hanifin and Rajka (1980): >= 3 of 4 major and >= 3 of 23 minor features."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from atopic.diagnosis import HANIFIN_RAJKA, diagnose_hanifin_rajka

MAJOR = tuple(f.code for f in HANIFIN_RAJKA.features if f.group == "major")
MINOR = tuple(f.code for f in HANIFIN_RAJKA.features if f.group == "minor")


def answers(*true: str) -> dict[str, bool]:
    """Every declared feature answered, the named ones True."""
    return {code: code in true for code in HANIFIN_RAJKA.codes}


def test_hanifin_rajka_declares_4_major_and_23_minor_features() -> None:
    assert len(MAJOR) == 4
    assert len(MINOR) == 23
    assert len(set(HANIFIN_RAJKA.codes)) == 27


def test_hanifin_rajka_exactly_3_of_4_major_and_3_minor_is_ad() -> None:
    result = diagnose_hanifin_rajka(answers(*MAJOR[:3], *MINOR[:3]))
    assert result.diagnosed
    assert repr(result) == "<Hanifin-Rajka: AD (major 3/4 >= 3, minor 3/23 >= 3)>"


def test_hanifin_rajka_2_of_4_major_is_not_ad_even_with_every_minor() -> None:
    result = diagnose_hanifin_rajka(answers(*MAJOR[:2], *MINOR))
    assert not result.diagnosed
    assert repr(result) == "<Hanifin-Rajka: not AD (major 2/4 < 3, minor 23/23 >= 3)>"


def test_hanifin_rajka_2_of_23_minor_is_not_ad_even_with_every_major() -> None:
    result = diagnose_hanifin_rajka(answers(*MAJOR, *MINOR[:2]))
    assert not result.diagnosed
    assert [g.describe() for g in result.groups] == ["major 4/4 >= 3", "minor 2/23 < 3"]


def test_hanifin_rajka_repr_matches_the_documented_example() -> None:
    result = diagnose_hanifin_rajka(answers(*MAJOR, *MINOR[:5]))
    assert repr(result) == "<Hanifin-Rajka: AD (major 4/4 >= 3, minor 5/23 >= 3)>"


def test_hanifin_rajka_lists_met_and_missed_in_declaration_order() -> None:
    result = diagnose_hanifin_rajka(answers("white_dermographism", "pruritus", "xerosis"))
    assert result.met_codes == ("pruritus", "xerosis", "white_dermographism")
    assert len(result.missed) == 24
    assert result.missed[0].label == "Typical morphology and distribution"
    assert result.not_applied == ()
    assert result.source == "Hanifin and Rajka (1980)"


def test_hanifin_rajka_to_dict_is_json_ready_with_codes_and_labels() -> None:
    data = diagnose_hanifin_rajka(answers(*MAJOR, "xerosis", "cheilitis", "keratoconus")).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["diagnosed"] is True
    assert data["met"][4] == {"code": "xerosis", "label": "Xerosis", "group": "minor"}
    assert data["groups"][1] == {
        "group": "minor",
        "label": "Minor features",
        "met": 3,
        "of": 23,
        "needed": 3,
        "satisfied": True,
    }


@given(st.lists(st.booleans(), min_size=27, max_size=27))
def test_hanifin_rajka_is_ad_iff_3_major_and_3_minor(values: list[bool]) -> None:
    features = dict(zip(HANIFIN_RAJKA.codes, values, strict=True))
    result = diagnose_hanifin_rajka(features)
    major = sum(features[c] for c in MAJOR)
    minor = sum(features[c] for c in MINOR)
    assert result.diagnosed == (major >= 3 and minor >= 3)
    assert (result.groups[0].met, result.groups[1].met) == (major, minor)
    assert len(result.met) + len(result.missed) == 27
