"""Exact age and age phases (reference "Age phases"; decisions in atopic.diagnosis.age)."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atopic.diagnosis import (
    AgePhase,
    ExactAge,
    age_in_years,
    age_phase,
    age_phase_from_years,
    exact_age,
)
from atopic.diagnosis.age import anniversary, parse_date
from atopic.errors import InvalidInput

INFANCY = AgePhase.INFANCY
CHILDHOOD = AgePhase.CHILDHOOD
ADULT = AgePhase.ADOLESCENCE_ADULTHOOD
OLD = AgePhase.OLD_AGE

births = st.dates(min_value=date(1900, 1, 1), max_value=date(2090, 12, 31))


def test_exact_age_counts_completed_years_and_days_since_birthday() -> None:
    assert exact_age(date(2022, 1, 1), date(2025, 3, 1)) == ExactAge(years=3, days=59)


def test_exact_age_on_day_of_birth_is_zero() -> None:
    assert exact_age("2024-05-05", "2024-05-05") == ExactAge(0, 0)


def test_age_in_years_increments_on_the_birthday_not_before() -> None:
    assert age_in_years("2000-06-15", "2010-06-14") == 9
    assert age_in_years("2000-06-15", "2010-06-15") == 10


def test_feb_29_birth_turns_one_on_feb_28_in_non_leap_year() -> None:
    assert age_in_years("2020-02-29", "2021-02-27") == 0
    assert exact_age("2020-02-29", "2021-02-28") == ExactAge(1, 0)
    assert exact_age("2020-02-29", "2021-03-01") == ExactAge(1, 1)


def test_feb_29_birth_has_birthday_on_feb_29_in_leap_year() -> None:
    assert exact_age("2020-02-29", "2024-02-28") == ExactAge(3, 365)
    assert exact_age("2020-02-29", "2024-02-29") == ExactAge(4, 0)


def test_feb_29_birth_leaves_infancy_the_day_after_feb_28() -> None:
    assert age_phase("2020-02-29", "2022-02-28") is INFANCY
    assert age_phase("2020-02-29", "2022-03-01") is CHILDHOOD


def test_anniversary_of_feb_29_in_non_leap_year_is_feb_28() -> None:
    assert anniversary(date(2020, 2, 29), 1) == date(2021, 2, 28)
    assert anniversary(date(2020, 2, 29), 4) == date(2024, 2, 29)


@pytest.mark.parametrize(
    ("birthday", "on_birthday", "day_after"),
    [(2, INFANCY, CHILDHOOD), (12, CHILDHOOD, ADULT), (60, ADULT, OLD)],
)
def test_age_phase_boundary_birthday_belongs_to_earlier_phase(
    birthday: int, on_birthday: AgePhase, day_after: AgePhase
) -> None:
    birth = date(1950, 7, 20)
    on = anniversary(birth, birthday)
    assert age_phase(birth, on - timedelta(days=1)) is on_birthday
    assert age_phase(birth, on) is on_birthday
    assert age_phase(birth, on + timedelta(days=1)) is day_after


def test_age_phase_on_day_of_birth_is_infancy() -> None:
    assert age_phase("2024-01-01", "2024-01-01") is INFANCY


@pytest.mark.parametrize(
    ("years", "phase"),
    [
        (0, INFANCY),
        (2, INFANCY),
        (2.0, INFANCY),
        (2.0001, CHILDHOOD),
        (Decimal("2.0000000000000000000001"), CHILDHOOD),
        (Fraction(25, 12), CHILDHOOD),
        (12, CHILDHOOD),
        (12.5, ADULT),
        (60, ADULT),
        (60.5, OLD),
        (150, OLD),
    ],
)
def test_age_phase_from_years_reads_the_number_as_exact_age(years: float, phase: AgePhase) -> None:
    assert age_phase_from_years(years) is phase


@pytest.mark.parametrize(
    "bad",
    [True, False, -1, -0.001, math.nan, math.inf, -math.inf, Decimal("NaN"), 151, "3", None, [2]],
)
def test_age_phase_from_years_refuses_non_ages_naming_age_years(bad: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        age_phase_from_years(bad)  # type: ignore[arg-type]
    assert caught.value.field == "age_years"
    assert "from 0 to 150" in str(caught.value)


def test_assessment_before_birth_is_refused_naming_on_date() -> None:
    with pytest.raises(InvalidInput) as caught:
        exact_age("2020-01-01", "2019-12-31")
    assert caught.value.field == "on_date"
    assert str(caught.value) == (
        "Age on_date must be on or after birth_date (2020-01-01); got '2019-12-31'"
    )


def test_age_over_150_years_is_refused_naming_birth_date() -> None:
    with pytest.raises(InvalidInput) as caught:
        age_in_years("1800-01-01", "2025-01-01")
    assert caught.value.field == "birth_date"


@pytest.mark.parametrize(
    "bad",
    [
        2020,
        None,
        True,
        20200229.0,
        datetime(2020, 2, 29, 12, 0),
        "2020/02/29",
        "20200229",
        "2020-2-29",
        "2021-02-29",
        "2020-13-01",
        "",
        " 2020-01-01",
        "2020-01-01T00:00",
    ],
)
@pytest.mark.parametrize("field", ["birth_date", "on_date"])
def test_non_dates_are_refused_naming_the_field(bad: object, field: str) -> None:
    dates: dict[str, object] = {"birth_date": "2000-01-01", "on_date": "2020-01-01", field: bad}
    with pytest.raises(InvalidInput) as caught:
        exact_age(**dates)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert "YYYY-MM-DD" in str(caught.value)


def test_impossible_calendar_date_message_says_it_must_exist() -> None:
    with pytest.raises(InvalidInput, match="exists in the calendar; got '2021-02-29'"):
        parse_date("2021-02-29", "birth_date")


def test_iso_strings_and_dates_give_the_same_age() -> None:
    assert exact_age("2020-02-29", "2025-03-01") == exact_age(date(2020, 2, 29), date(2025, 3, 1))


def test_age_phase_values_labels_and_presentation_follow_the_reference() -> None:
    assert [phase.value for phase in AgePhase] == [
        "infancy",
        "childhood",
        "adolescence_adulthood",
        "old_age",
    ]
    assert ADULT == "adolescence_adulthood"
    assert ADULT.label == "Adolescence and adulthood"
    assert INFANCY.presentation == "acute facial eczema, erythema, papules, exudation"
    assert "erythroderma" in OLD.presentation
    assert CHILDHOOD.age_range == "over 2 to 12 years inclusive"


# at most 54,000 days (about 148 years): ages above MAX_AGE_YEARS (150) are refused by design
@given(birth=births, offset=st.integers(0, 35_000), later=st.integers(0, 19_000))
def test_age_phase_is_monotone_in_the_assessment_date(birth: date, offset: int, later: int) -> None:
    order = list(AgePhase)
    first = age_phase(birth, birth + timedelta(days=offset))
    second = age_phase(birth, birth + timedelta(days=offset + later))
    assert order.index(first) <= order.index(second)


@given(birth=births, offset=st.integers(0, 50_000))
def test_exact_age_adds_back_to_the_assessment_date(birth: date, offset: int) -> None:
    on = birth + timedelta(days=offset)
    age = exact_age(birth, on)
    assert anniversary(birth, age.years) + timedelta(days=age.days) == on
    assert anniversary(birth, age.years + 1) > on
    assert 0 <= age.days <= 365


@given(birth=births, offset=st.integers(0, 50_000))
def test_phase_from_dates_matches_phase_from_fractional_years(birth: date, offset: int) -> None:
    age = exact_age(birth, birth + timedelta(days=offset))
    assert age.phase is age_phase_from_years(Fraction(age.years) + Fraction(age.days, 366))
