"""DiagnosisResult: readable repr, JSON-ready dict, groups against thresholds."""

from __future__ import annotations

import json
from fractions import Fraction

from atopic.diagnosis import AgePhase, DiagnosisResult, ExactAge, Feature, GroupCount


def make(**changes: object) -> DiagnosisResult:
    base: dict[str, object] = {
        "criteria": "example",
        "title": "Example",
        "source": "Somebody 2000",
        "diagnosed": False,
        "met": (Feature("a", "Feature A", "major"),),
        "missed": (Feature("b", "Feature B", "major"),),
        "groups": (GroupCount("major", "Major features", met=1, of=2, needed=2),),
    }
    return DiagnosisResult(**{**base, **changes})  # type: ignore[arg-type]


def test_group_count_is_satisfied_at_exactly_the_threshold() -> None:
    assert GroupCount("minor", "Minor", met=3, of=23, needed=3).satisfied
    assert not GroupCount("minor", "Minor", met=2, of=23, needed=3).satisfied


def test_repr_says_not_ad_and_which_group_fell_short() -> None:
    assert repr(make()) == "<Example: not AD (major 1/2 < 2)>"


def test_repr_names_the_rules_applied() -> None:
    assert (
        repr(make(rules=("under-4 rules",))) == "<Example: not AD (major 1/2 < 2; under-4 rules)>"
    )


def test_to_dict_has_codes_labels_counts_and_no_age_when_none_given() -> None:
    data = make().to_dict()
    assert data["met"] == [{"code": "a", "label": "Feature A", "group": "major"}]
    assert data["missed"] == [{"code": "b", "label": "Feature B", "group": "major"}]
    assert data["groups"][0]["satisfied"] is False  # type: ignore[index]
    assert data["age_years"] is None
    assert "age" not in data
    assert "age_phase" not in data


def test_to_dict_includes_exact_age_and_phase_when_known() -> None:
    data = make(age_years=3, age=ExactAge(3, 59), age_phase=AgePhase.CHILDHOOD).to_dict()
    assert data["age"] == {"years": 3, "days_since_birthday": 59}
    assert data["age_phase"] == {
        "code": "childhood",
        "label": "Childhood",
        "presentation": AgePhase.CHILDHOOD.presentation,
    }
    assert json.loads(json.dumps(data)) == data


def test_to_dict_turns_exact_ages_into_json_numbers() -> None:
    assert make(age_years=Fraction(7, 2)).to_dict()["age_years"] == 3.5
    assert make(age_years=4.0).to_dict()["age_years"] == 4
