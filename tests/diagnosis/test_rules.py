"""Every declared feature is refused by name when missing, non-bool or unknown.

Cases are generated from the declarations: each criteria set (the UK Working Party once per age
rule) x each feature it applies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import pytest

from atopic.diagnosis import (
    CHINESE_ADULT,
    CHINESE_CHILDREN,
    CRITERIA,
    HANIFIN_RAJKA,
    UK_WORKING_PARTY,
    CriteriaSet,
    DiagnosisResult,
    Feature,
    diagnose_chinese_adult,
    diagnose_chinese_children,
    diagnose_hanifin_rajka,
    diagnose_uk_working_party,
)
from atopic.diagnosis.uk_working_party import FEATURES_FROM_4, FEATURES_UNDER_4
from atopic.errors import InvalidInput

Diagnose = Callable[[Mapping[str, object]], DiagnosisResult]

RULE_SETS: dict[str, tuple[CriteriaSet, Diagnose, tuple[Feature, ...]]] = {
    "hanifin_rajka": (HANIFIN_RAJKA, diagnose_hanifin_rajka, HANIFIN_RAJKA.features),  # type: ignore[dict-item]
    "uk_working_party_from_4": (
        UK_WORKING_PARTY,
        lambda f: diagnose_uk_working_party(f, 10),  # type: ignore[arg-type]
        FEATURES_FROM_4,
    ),
    "uk_working_party_under_4": (
        UK_WORKING_PARTY,
        lambda f: diagnose_uk_working_party(f, 2),  # type: ignore[arg-type]
        FEATURES_UNDER_4,
    ),
    "chinese_adult": (
        CHINESE_ADULT,
        lambda f: diagnose_chinese_adult(f, 30),  # type: ignore[arg-type]
        CHINESE_ADULT.features,
    ),
    "chinese_children": (CHINESE_CHILDREN, diagnose_chinese_children, CHINESE_CHILDREN.features),  # type: ignore[dict-item]
}
CASES = [
    pytest.param(name, feature, id=f"{name}.{feature.code}")
    for name, (_, _, applied) in RULE_SETS.items()
    for feature in applied
]
NOT_BOOL = [1, 0, 1.0, "yes", "true", "True", None, [True]]


def complete(name: str) -> dict[str, object]:
    """Every applied feature answered False."""
    return dict.fromkeys((f.code for f in RULE_SETS[name][2]), False)


def test_rule_sets_cover_every_registered_criteria_set() -> None:
    assert {criteria.name for criteria, _, _ in RULE_SETS.values()} == set(CRITERIA)


def test_every_declared_feature_has_a_unique_code_label_and_known_group() -> None:
    for criteria in CRITERIA.values():
        assert len(set(criteria.codes)) == len(criteria.codes)
        groups = {group.code for group in criteria.groups}
        for feature in criteria.features:
            assert feature.code.isidentifier()
            assert feature.label
            assert feature.group in groups


@pytest.mark.parametrize(("name", "feature"), CASES)
def test_missing_feature_is_refused_naming_the_field(name: str, feature: Feature) -> None:
    criteria, diagnose, _ = RULE_SETS[name]
    features = complete(name)
    del features[feature.code]
    with pytest.raises(InvalidInput) as caught:
        diagnose(features)
    assert caught.value.subject == criteria.title
    assert caught.value.field == f"features.{feature.code}"
    assert str(caught.value) == (
        f"{criteria.title} features.{feature.code} must be answered True or False "
        f"({feature.label}; every feature must be answered); got nothing"
    )


@pytest.mark.parametrize("bad", NOT_BOOL, ids=repr)
@pytest.mark.parametrize(("name", "feature"), CASES)
def test_non_bool_feature_is_refused_naming_the_field(
    name: str, feature: Feature, bad: object
) -> None:
    criteria, diagnose, _ = RULE_SETS[name]
    features = {**complete(name), feature.code: bad}
    with pytest.raises(InvalidInput) as caught:
        diagnose(features)
    assert caught.value.subject == criteria.title
    assert caught.value.field == f"features.{feature.code}"
    assert caught.value.value == bad
    assert "must be answered True or False" in str(caught.value)


@pytest.mark.parametrize("name", list(RULE_SETS))
def test_unknown_feature_is_refused_naming_it_and_listing_declared(name: str) -> None:
    criteria, diagnose, _ = RULE_SETS[name]
    with pytest.raises(InvalidInput) as caught:
        diagnose({**complete(name), "itchiness": True})
    assert caught.value.subject == criteria.title
    assert caught.value.field == "features.itchiness"
    assert caught.value.value == "itchiness"
    assert all(code in caught.value.allowed for code in criteria.codes)


def test_unknown_feature_close_to_a_declared_one_gets_a_suggestion() -> None:
    with pytest.raises(InvalidInput, match="did you mean 'xerosis'"):
        diagnose_hanifin_rajka({**complete("hanifin_rajka"), "xerosys": True})  # type: ignore[dict-item]


def test_non_string_feature_name_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        diagnose_hanifin_rajka({**complete("hanifin_rajka"), 1: True})  # type: ignore[dict-item]
    assert caught.value.field == "features.1"


@pytest.mark.parametrize("name", list(RULE_SETS))
@pytest.mark.parametrize("bad", [None, [], "pruritus", [("pruritus", True)]], ids=repr)
def test_features_that_are_not_a_mapping_are_refused(name: str, bad: object) -> None:
    _, diagnose, _ = RULE_SETS[name]
    with pytest.raises(InvalidInput) as caught:
        diagnose(bad)  # type: ignore[arg-type]
    assert caught.value.field == "features"


@pytest.mark.parametrize(
    ("age", "feature"),
    [(2, f) for f in FEATURES_FROM_4 if f not in FEATURES_UNDER_4]
    + [(10, f) for f in FEATURES_UNDER_4 if f not in FEATURES_FROM_4],
    ids=lambda value: getattr(value, "code", str(value)),
)
def test_not_applied_feature_given_must_still_be_bool(age: int, feature: Feature) -> None:
    name = "uk_working_party_under_4" if age < 4 else "uk_working_party_from_4"
    with pytest.raises(InvalidInput) as caught:
        diagnose_uk_working_party({**complete(name), feature.code: "yes"}, age)  # type: ignore[dict-item]
    assert caught.value.field == f"features.{feature.code}"


def test_diagnosis_result_is_frozen() -> None:
    result = diagnose_chinese_children(complete("chinese_children"))  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.diagnosed = True  # type: ignore[misc]
