"""diagnose(criteria, data): one JSON object in, one result out (for the CLI and web API)."""

from __future__ import annotations

import json

import pytest

from atopic.diagnosis import CRITERIA, AgePhase, ExactAge, diagnose
from atopic.errors import InvalidInput

UK_UNDER_4 = {
    "itchy_skin": True,
    "flexural_history": True,
    "relative_atopic_disease": True,
    "dry_skin": False,
    "visible_flexural_or_cheek_limb_dermatitis": True,
}
UK_FROM_4 = {
    "itchy_skin": True,
    "flexural_history": True,
    "personal_asthma_hay_fever": False,
    "dry_skin": True,
    "visible_flexural_dermatitis": False,
    "onset_before_2": True,
}
ADULT = {
    "symmetrical_eczema_over_6_months": True,
    "atopic_history": True,
    "raised_total_ige": False,
    "eosinophilia": False,
    "positive_specific_ige": False,
}


def test_criteria_registry_lists_the_four_criteria_sets() -> None:
    assert list(CRITERIA) == [
        "hanifin_rajka",
        "uk_working_party",
        "chinese_adult",
        "chinese_children",
    ]
    assert all(name == criteria.name for name, criteria in CRITERIA.items())


def test_diagnose_with_age_years_gives_no_age_phase() -> None:
    result = diagnose(
        "uk_working_party",
        {"criteria": "uk_working_party", "age_years": 3, "features": UK_UNDER_4},
    )
    assert result.diagnosed
    assert result.rules == ("under-4 rules",)
    assert result.age_years == 3
    assert result.age_phase is None
    assert "age_phase" not in result.to_dict()


def test_diagnose_with_dates_computes_exact_age_and_phase() -> None:
    result = diagnose(
        "uk_working_party",
        {"birth_date": "2022-01-01", "assessment_date": "2025-03-01", "features": UK_UNDER_4},
    )
    assert result.age == ExactAge(3, 59)
    assert result.age_years == 3
    assert result.age_phase is AgePhase.CHILDHOOD
    data = result.to_dict()
    assert data["age_phase"]["code"] == "childhood"  # type: ignore[index]
    assert json.loads(json.dumps(data)) == data


def test_diagnose_uk_working_party_switches_rules_on_the_4th_birthday() -> None:
    before = {"birth_date": "2021-03-01", "assessment_date": "2025-02-28"}
    on = {"birth_date": "2021-03-01", "assessment_date": "2025-03-01"}
    assert diagnose("uk_working_party", {**before, "features": UK_UNDER_4}).rules == (
        "under-4 rules",
    )
    assert diagnose("uk_working_party", {**on, "features": UK_FROM_4}).rules == (
        "age 4 and over rules",
    )


def test_diagnose_chinese_adult_applies_from_the_12th_birthday_by_dates() -> None:
    result = diagnose(
        "chinese_adult",
        {"birth_date": "2013-05-10", "assessment_date": "2025-05-10", "features": ADULT},
    )
    assert result.diagnosed
    assert result.age_phase is AgePhase.CHILDHOOD  # the 12th birthday is still childhood
    with pytest.raises(InvalidInput) as caught:
        diagnose(
            "chinese_adult",
            {"birth_date": "2013-05-10", "assessment_date": "2025-05-09", "features": ADULT},
        )
    assert caught.value.field == "age_years"
    assert "chinese_children" in str(caught.value)


def test_diagnose_records_an_age_given_to_criteria_that_use_none() -> None:
    features = dict.fromkeys(CRITERIA["chinese_children"].codes, True)
    result = diagnose(
        "chinese_children",
        {"birth_date": "2020-02-29", "assessment_date": "2022-02-28", "features": features},
    )
    assert result.age_phase is AgePhase.INFANCY
    assert result.age_years == 2


@pytest.mark.parametrize("bad", ["uk", "UK_WORKING_PARTY", None, 1])
def test_diagnose_refuses_an_unknown_criteria_listing_the_names(bad: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        diagnose(bad, {"features": {}})  # type: ignore[arg-type]
    assert caught.value.subject == "Diagnosis"
    assert caught.value.field == "criteria"
    assert "'hanifin_rajka', 'uk_working_party', 'chinese_adult', 'chinese_children'" in str(
        caught.value
    )


def test_diagnose_refuses_data_naming_other_criteria() -> None:
    with pytest.raises(InvalidInput) as caught:
        diagnose("chinese_adult", {"criteria": "hanifin_rajka", "age_years": 30, "features": ADULT})
    assert caught.value.field == "criteria"


def test_diagnose_refuses_an_unknown_key_with_a_suggestion() -> None:
    with pytest.raises(InvalidInput, match="did you mean 'age_years'") as caught:
        diagnose("chinese_adult", {"age_yeras": 30, "features": ADULT})
    assert caught.value.field == "age_yeras"


def test_diagnose_refuses_data_that_is_not_an_object() -> None:
    with pytest.raises(InvalidInput) as caught:
        diagnose("hanifin_rajka", [])  # type: ignore[arg-type]
    assert caught.value.field == "data"


def test_diagnose_refuses_missing_features() -> None:
    with pytest.raises(InvalidInput) as caught:
        diagnose("chinese_adult", {"age_years": 30})
    assert caught.value.field == "features"


@pytest.mark.parametrize("criteria", ["uk_working_party", "chinese_adult"])
def test_diagnose_refuses_a_missing_age_where_the_rules_need_one(criteria: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        diagnose(criteria, {"features": ADULT, "age_years": None})
    assert caught.value.field == "age_years"
    assert "birth_date and assessment_date" in str(caught.value)


def test_diagnose_refuses_age_years_together_with_dates() -> None:
    with pytest.raises(InvalidInput) as caught:
        diagnose(
            "chinese_adult",
            {
                "age_years": 30,
                "birth_date": "1990-01-01",
                "assessment_date": "2020-01-01",
                "features": ADULT,
            },
        )
    assert caught.value.field == "age_years"


@pytest.mark.parametrize("missing", ["birth_date", "assessment_date"])
def test_diagnose_refuses_one_date_without_the_other(missing: str) -> None:
    data: dict[str, object] = {
        "birth_date": "1990-01-01",
        "assessment_date": "2020-01-01",
        "features": ADULT,
    }
    del data[missing]
    with pytest.raises(InvalidInput) as caught:
        diagnose("chinese_adult", data)
    assert caught.value.field == missing


def test_diagnose_refuses_assessment_before_birth_naming_assessment_date() -> None:
    with pytest.raises(InvalidInput) as caught:
        diagnose(
            "chinese_adult",
            {"birth_date": "1990-01-01", "assessment_date": "1989-12-31", "features": ADULT},
        )
    assert caught.value.subject == "Chinese criteria (adolescents and adults)"
    assert str(caught.value) == (
        "Chinese criteria (adolescents and adults) assessment_date must be on or after "
        "birth_date (1990-01-01); got '1989-12-31'"
    )


@pytest.mark.parametrize("bad", ["1990-02-30", "01/01/1990", 1990])
def test_diagnose_refuses_a_bad_birth_date_naming_it(bad: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        diagnose(
            "chinese_adult", {"birth_date": bad, "assessment_date": "2020-01-01", "features": ADULT}
        )
    assert caught.value.field == "birth_date"


def test_diagnose_refuses_a_bad_age_for_criteria_that_use_none() -> None:
    with pytest.raises(InvalidInput) as caught:
        diagnose("hanifin_rajka", {"age_years": -3, "features": {}})
    assert caught.value.field == "age_years"
    assert caught.value.subject == "Hanifin-Rajka"
