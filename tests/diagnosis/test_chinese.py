"""Chinese criteria: adolescents and adults (Liu 2016, age >= 12) and children (Cheng 2020)."""

from __future__ import annotations

import inspect

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atopic.diagnosis import (
    CHINESE_ADULT,
    CHINESE_CHILDREN,
    diagnose_chinese_adult,
    diagnose_chinese_children,
)
from atopic.errors import InvalidInput

ATOPY = ("atopic_history", "raised_total_ige", "eosinophilia", "positive_specific_ige")


def adult(*true: str) -> dict[str, bool]:
    return {code: code in true for code in CHINESE_ADULT.codes}


def child(*true: str) -> dict[str, bool]:
    return {code: code in true for code in CHINESE_CHILDREN.codes}


@pytest.mark.parametrize("atopy", ATOPY)
def test_chinese_adult_symmetrical_eczema_and_any_one_atopy_feature_is_ad(atopy: str) -> None:
    result = diagnose_chinese_adult(adult("symmetrical_eczema_over_6_months", atopy), 25)
    assert result.diagnosed
    assert result.met_codes == ("symmetrical_eczema_over_6_months", atopy)


def test_chinese_adult_symmetrical_eczema_without_atopy_is_not_ad() -> None:
    result = diagnose_chinese_adult(adult("symmetrical_eczema_over_6_months"), 25)
    assert not result.diagnosed
    assert result.missed_codes == ATOPY
    assert repr(result) == (
        "<Chinese criteria (adolescents and adults): not AD (mandatory 1/1 >= 1, atopy 0/4 < 1)>"
    )


def test_chinese_adult_all_atopy_without_symmetrical_eczema_is_not_ad() -> None:
    assert not diagnose_chinese_adult(adult(*ATOPY), 40).diagnosed


@pytest.mark.parametrize("age", [12, 12.0, 80])
def test_chinese_adult_applies_from_age_12(age: float) -> None:
    assert diagnose_chinese_adult(adult(*CHINESE_ADULT.codes), age).diagnosed


@pytest.mark.parametrize("age", [11, 11.99, 0])
def test_chinese_adult_refuses_under_12_pointing_to_the_children_criteria(age: float) -> None:
    with pytest.raises(InvalidInput) as caught:
        diagnose_chinese_adult(adult(*CHINESE_ADULT.codes), age)
    assert caught.value.field == "age_years"
    assert caught.value.subject == "Chinese criteria (adolescents and adults)"
    assert "at least 12 years" in str(caught.value)
    assert "chinese_children" in str(caught.value)


def test_chinese_adult_refuses_a_non_number_age() -> None:
    with pytest.raises(InvalidInput, match="age_years must be a number of years"):
        diagnose_chinese_adult(adult(), "30")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "morphology", ["typical_morphology_distribution", "atypical_morphology_with_xerosis"]
)
def test_chinese_children_pruritus_morphology_and_chronic_course_is_ad(morphology: str) -> None:
    result = diagnose_chinese_children(child("pruritus", morphology, "chronic_relapsing_course"))
    assert result.diagnosed


@pytest.mark.parametrize("mandatory", ["pruritus", "chronic_relapsing_course"])
def test_chinese_children_pruritus_and_chronic_course_are_both_mandatory(mandatory: str) -> None:
    features = {code: code != mandatory for code in CHINESE_CHILDREN.codes}
    result = diagnose_chinese_children(features)
    assert not result.diagnosed
    assert result.missed_codes == (mandatory,)


def test_chinese_children_without_either_morphology_is_not_ad() -> None:
    result = diagnose_chinese_children(child("pruritus", "chronic_relapsing_course"))
    assert not result.diagnosed
    assert repr(result) == (
        "<Chinese criteria (children): not AD (mandatory 2/2 >= 2, morphology 0/2 < 1)>"
    )


def test_chinese_children_take_no_age_because_the_reference_gives_no_limit() -> None:
    assert list(inspect.signature(diagnose_chinese_children).parameters) == ["features"]
    assert diagnose_chinese_children(child()).age_years is None


def test_chinese_sources_are_cited_as_in_the_reference() -> None:
    assert CHINESE_ADULT.source == "Liu, Zhang et al., Chin Med J 2016"
    assert CHINESE_CHILDREN.source == "Cheng, Yao et al., JEADV 2020"


@given(st.lists(st.booleans(), min_size=4, max_size=4))
def test_chinese_children_is_ad_iff_mandatory_and_one_morphology(values: list[bool]) -> None:
    f = dict(zip(CHINESE_CHILDREN.codes, values, strict=True))
    expected = (
        f["pruritus"]
        and f["chronic_relapsing_course"]
        and (f["typical_morphology_distribution"] or f["atypical_morphology_with_xerosis"])
    )
    assert diagnose_chinese_children(f).diagnosed == expected


@given(st.lists(st.booleans(), min_size=5, max_size=5), st.floats(12, 150))
def test_chinese_adult_is_ad_iff_eczema_and_one_atopy(values: list[bool], age: float) -> None:
    f = dict(zip(CHINESE_ADULT.codes, values, strict=True))
    expected = f["symmetrical_eczema_over_6_months"] and any(f[c] for c in ATOPY)
    assert diagnose_chinese_adult(f, age).diagnosed == expected
