"""UK Working Party (Williams 1994), with the under-4 rules of the reference."""

from __future__ import annotations

import inspect
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atopic.diagnosis import UK_WORKING_PARTY, diagnose_uk_working_party, uk_working_party_features
from atopic.diagnosis.uk_working_party import FEATURES_FROM_4, FEATURES_UNDER_4
from atopic.errors import InvalidInput

FROM_4 = tuple(f.code for f in FEATURES_FROM_4)
UNDER_4 = tuple(f.code for f in FEATURES_UNDER_4)


def from_4(*true: str) -> dict[str, bool]:
    return {code: code in true for code in FROM_4}


def under_4(*true: str) -> dict[str, bool]:
    return {code: code in true for code in UNDER_4}


def test_uk_working_party_from_4_itchy_skin_and_3_of_5_is_ad() -> None:
    result = diagnose_uk_working_party(
        from_4("itchy_skin", "flexural_history", "dry_skin", "onset_before_2"), age_years=30
    )
    assert result.diagnosed
    assert repr(result) == (
        "<UK Working Party: AD (mandatory 1/1 >= 1, other 3/5 >= 3; age 4 and over rules)>"
    )
    assert result.missed_codes == ("personal_asthma_hay_fever", "visible_flexural_dermatitis")


def test_uk_working_party_from_4_itchy_skin_and_2_of_5_is_not_ad() -> None:
    result = diagnose_uk_working_party(from_4("itchy_skin", "dry_skin", "onset_before_2"), 10)
    assert not result.diagnosed
    assert result.groups[1].describe() == "other 2/5 < 3"


@pytest.mark.parametrize("age", [2, 40])
def test_uk_working_party_itchy_skin_is_mandatory(age: int) -> None:
    codes = FROM_4 if age >= 4 else UNDER_4
    features = {code: code != "itchy_skin" for code in codes}
    result = diagnose_uk_working_party(features, age)
    assert not result.diagnosed
    assert result.missed_codes == ("itchy_skin",)
    assert result.groups[0].describe() == "mandatory 0/1 < 1"


def test_uk_working_party_under_4_ignores_onset_before_2() -> None:
    base = under_4("itchy_skin", "flexural_history", "dry_skin")
    without = diagnose_uk_working_party(base, age_years=3)
    with_true = diagnose_uk_working_party({**base, "onset_before_2": True}, age_years=3)
    assert not without.diagnosed
    assert not with_true.diagnosed
    assert with_true.groups == without.groups
    assert "onset_before_2" in {f.code for f in with_true.not_applied}
    assert "onset_before_2" not in with_true.met_codes + with_true.missed_codes


def test_uk_working_party_under_4_needs_3_of_4_others() -> None:
    result = diagnose_uk_working_party(
        under_4("itchy_skin", "flexural_history", "dry_skin", "relative_atopic_disease"), 3
    )
    assert result.diagnosed
    assert repr(result) == (
        "<UK Working Party: AD (mandatory 1/1 >= 1, other 3/4 >= 3; under-4 rules)>"
    )


def test_uk_working_party_under_4_uses_relative_atopic_disease_not_personal_asthma() -> None:
    features = under_4("itchy_skin", "flexural_history", "dry_skin")
    assert not diagnose_uk_working_party(
        {**features, "personal_asthma_hay_fever": True}, 2
    ).diagnosed
    assert diagnose_uk_working_party({**features, "relative_atopic_disease": True}, 2).diagnosed


def test_uk_working_party_from_4_uses_personal_asthma_not_relative_atopic_disease() -> None:
    features = from_4("itchy_skin", "flexural_history", "dry_skin")
    assert not diagnose_uk_working_party({**features, "relative_atopic_disease": True}, 4).diagnosed
    assert diagnose_uk_working_party({**features, "personal_asthma_hay_fever": True}, 4).diagnosed


def test_uk_working_party_under_4_counts_cheek_forehead_outer_limb_dermatitis() -> None:
    result = diagnose_uk_working_party(
        under_4("itchy_skin", "dry_skin", "visible_flexural_or_cheek_limb_dermatitis"), 1
    )
    assert result.groups[1].met == 2
    feature = UK_WORKING_PARTY.feature("visible_flexural_or_cheek_limb_dermatitis")
    assert "cheeks/forehead and outer limbs" in feature.label
    assert "flexural" in feature.label


@pytest.mark.parametrize(
    ("age", "codes"),
    [(0, UNDER_4), (3.99, UNDER_4), (Fraction(47, 12), UNDER_4), (4, FROM_4), (4.0, FROM_4)],
)
def test_uk_working_party_under_4_rules_apply_below_4_years_only(
    age: float, codes: tuple[str, ...]
) -> None:
    assert tuple(f.code for f in uk_working_party_features(age)) == codes


def test_uk_working_party_at_age_4_requires_onset_before_2() -> None:
    features = from_4("itchy_skin")
    del features["onset_before_2"]
    with pytest.raises(InvalidInput) as caught:
        diagnose_uk_working_party(features, 4)
    assert caught.value.field == "features.onset_before_2"


def test_uk_working_party_result_records_the_age_and_rules() -> None:
    result = diagnose_uk_working_party(under_4("itchy_skin"), 3.5)
    assert result.age_years == 3.5
    assert result.rules == ("under-4 rules",)
    assert result.to_dict()["not_applied"] == [
        f.to_dict() for f in UK_WORKING_PARTY.features if f not in FEATURES_UNDER_4
    ]


@pytest.mark.parametrize("bad", [None, -1, True, "3", float("nan"), 200])
def test_uk_working_party_refuses_a_bad_age_naming_age_years(bad: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        diagnose_uk_working_party(from_4("itchy_skin"), bad)  # type: ignore[arg-type]
    assert caught.value.subject == "UK Working Party"
    assert caught.value.field == "age_years"


def test_uk_working_party_age_is_a_required_argument() -> None:
    parameter = inspect.signature(diagnose_uk_working_party).parameters["age_years"]
    assert parameter.default is inspect.Parameter.empty


@given(
    age=st.one_of(st.integers(0, 150), st.floats(0, 150)),
    values=st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_uk_working_party_is_ad_iff_itchy_skin_and_3_others(age: float, values: list[bool]) -> None:
    codes = UNDER_4 if age < 4 else FROM_4
    features = dict(zip(codes, values, strict=False))
    result = diagnose_uk_working_party(features, age)
    others = sum(features[c] for c in codes if c != "itchy_skin")
    assert result.diagnosed == (features["itchy_skin"] and others >= 3)
    assert result.groups[1].of == len(codes) - 1
