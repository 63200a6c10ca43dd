"""Exact age and the four age phases of atopic dermatitis.

Source: docs reference "Age phases (clinical presentation)" (/work/shared/reference/instruments.md).

Decisions:

- Age is exact: whole years completed since birth plus days since the last birthday, from the date
  of birth and the assessment date. No rounding, no "age at last visit".
- A birthday on 29 February falls on 28 February in non-leap years, so a child born on
  2020-02-29 turns 1 on 2021-02-28 and 4 on 2024-02-29.
- Phases, each boundary birthday belonging to the earlier phase:
  infancy = from birth up to and including the 2nd birthday;
  childhood = after the 2nd birthday up to and including the 12th birthday;
  adolescence and adulthood = after the 12th birthday up to and including the 60th birthday;
  old age = after the 60th birthday.
- When only a number of years is known, it is read as an exact age:
  ``2`` -> infancy, ``2.0001`` -> childhood, ``12`` -> childhood, ``60`` -> adolescence and
  adulthood, ``60.5`` -> old age. A count of completed years (a child of 2 years 5 months reported
  as ``2``) is therefore placed in the earlier phase; pass dates when the boundary matters.
- Ages are 0 to 150 years (an entry-error guard; the reference gives no upper limit).
- Dates are ``datetime.date`` or ISO strings ``"YYYY-MM-DD"``; a ``datetime`` (date and time) is
  refused rather than truncated.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from atopic.errors import InvalidInput

__all__ = [
    "MAX_AGE_YEARS",
    "AgePhase",
    "ExactAge",
    "Years",
    "age_in_years",
    "age_phase",
    "age_phase_from_years",
    "anniversary",
    "exact_age",
    "parse_date",
    "validate_age_years",
]

MAX_AGE_YEARS = 150
"""Largest accepted age in years: a guard against entry errors, not a clinical rule."""

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_ALLOWED = "a date (datetime.date or an ISO string 'YYYY-MM-DD')"
_AGE_ALLOWED = f"a number of years from 0 to {MAX_AGE_YEARS}"

Years = int | float | Decimal | Fraction
"""An age in years: any real number type that compares exactly (``bool`` is refused)."""


class AgePhase(StrEnum):
    """The four age phases of atopic dermatitis, with a label and the clinical presentation.

    The value is the code stored in tables (``"childhood"``); ``label`` is for people and
    ``presentation`` is the typical clinical picture given by the reference.
    """

    INFANCY = "infancy"
    CHILDHOOD = "childhood"
    ADOLESCENCE_ADULTHOOD = "adolescence_adulthood"
    OLD_AGE = "old_age"

    @property
    def label(self) -> str:
        """Human label, e.g. ``"Adolescence and adulthood"``."""
        return _LABELS[self]

    @property
    def age_range(self) -> str:
        """The ages the phase covers, in words, e.g. ``"over 2 to 12 years inclusive"``."""
        return _RANGES[self]

    @property
    def presentation(self) -> str:
        """Typical clinical presentation in this phase (reference, "Age phases")."""
        return _PRESENTATIONS[self]

    @property
    def upper_years(self) -> int | None:
        """Birthday that closes the phase (included in it), or ``None`` for old age."""
        return _UPPER_YEARS[self]


_LABELS = {
    AgePhase.INFANCY: "Infancy",
    AgePhase.CHILDHOOD: "Childhood",
    AgePhase.ADOLESCENCE_ADULTHOOD: "Adolescence and adulthood",
    AgePhase.OLD_AGE: "Old age",
}
_RANGES = {
    AgePhase.INFANCY: "birth to 2 years inclusive",
    AgePhase.CHILDHOOD: "over 2 to 12 years inclusive",
    AgePhase.ADOLESCENCE_ADULTHOOD: "over 12 to 60 years inclusive",
    AgePhase.OLD_AGE: "over 60 years",
}
_PRESENTATIONS = {
    AgePhase.INFANCY: "acute facial eczema, erythema, papules, exudation",
    AgePhase.CHILDHOOD: "dry, thickened, lichenified lesions of elbow and knee folds, neck, face",
    AgePhase.ADOLESCENCE_ADULTHOOD: (
        "as childhood, more widespread: trunk, face, hands; some prurigo"
    ),
    AgePhase.OLD_AGE: "often severe and widespread; may progress to erythroderma; more men",
}
_UPPER_YEARS: dict[AgePhase, int | None] = {
    AgePhase.INFANCY: 2,
    AgePhase.CHILDHOOD: 12,
    AgePhase.ADOLESCENCE_ADULTHOOD: 60,
    AgePhase.OLD_AGE: None,
}


@dataclass(frozen=True)
class ExactAge:
    """An exact age: whole years completed and days since the last birthday.

    >>> exact_age("2020-02-29", "2021-03-01")
    <Age 1 y 1 d>
    """

    years: int
    days: int

    @property
    def phase(self) -> AgePhase:
        """The age phase; a boundary birthday (``days == 0``) belongs to the earlier phase."""
        for phase in AgePhase:
            upper = phase.upper_years
            if upper is None or self.years < upper or (self.years == upper and self.days == 0):
                return phase
        raise AssertionError("unreachable: old age has no upper limit")  # pragma: no cover

    def to_dict(self) -> dict[str, int]:
        """JSON shape: ``{"years": 3, "days_since_birthday": 59}``."""
        return {"years": self.years, "days_since_birthday": self.days}

    def __repr__(self) -> str:
        return f"<Age {self.years} y {self.days} d>"


def parse_date(value: object, field: str, subject: str = "Age") -> date:
    """Return ``value`` as a ``datetime.date``; accept a date or a strict ``'YYYY-MM-DD'`` string.

    Raises ``InvalidInput`` naming ``subject`` and ``field`` for anything else (a ``datetime``,
    a number, a malformed string or an impossible calendar date such as ``'2021-02-29'``).

    >>> parse_date("2020-02-29", "birth_date")
    datetime.date(2020, 2, 29)
    """
    if isinstance(value, datetime):
        raise InvalidInput(subject, field, value, f"{_DATE_ALLOWED}, without a time of day")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        if _ISO_DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise InvalidInput(subject, field, value, f"{_DATE_ALLOWED} that exists in the calendar")
    raise InvalidInput(subject, field, value, _DATE_ALLOWED)


def anniversary(birth_date: date, years: int) -> date:
    """The date on which someone born on ``birth_date`` turns ``years`` old.

    A birthday on 29 February falls on 28 February in non-leap years (decision, see module doc).

    >>> anniversary(date(2020, 2, 29), 1)
    datetime.date(2021, 2, 28)
    """
    year = birth_date.year + years
    try:
        return birth_date.replace(year=year)
    except ValueError:  # 29 February in a non-leap year
        return date(year, 2, 28)


def exact_age(
    birth_date: date | str,
    on_date: date | str,
    *,
    subject: str = "Age",
    birth_field: str = "birth_date",
    on_field: str = "on_date",
) -> ExactAge:
    """Exact age on ``on_date``: whole years completed and days since the last birthday.

    Dates are ``datetime.date`` or ``'YYYY-MM-DD'``. Raises ``InvalidInput`` if either is not a
    date, if ``on_date`` is before ``birth_date`` or if the age exceeds ``MAX_AGE_YEARS``.
    ``subject``, ``birth_field`` and ``on_field`` name the fields in messages (the diagnosis
    dispatcher uses ``on_field="assessment_date"``).

    >>> exact_age(date(2022, 1, 1), date(2025, 3, 1))
    <Age 3 y 59 d>
    """
    birth = parse_date(birth_date, birth_field, subject)
    on = parse_date(on_date, on_field, subject)
    if on < birth:
        raise InvalidInput(
            subject, on_field, on.isoformat(), f"on or after {birth_field} ({birth.isoformat()})"
        )
    years = on.year - birth.year
    if anniversary(birth, years) > on:
        years -= 1
    if years > MAX_AGE_YEARS:
        raise InvalidInput(
            subject,
            birth_field,
            birth.isoformat(),
            f"at most {MAX_AGE_YEARS} years before {on_field} ({on.isoformat()})",
        )
    return ExactAge(years=years, days=(on - anniversary(birth, years)).days)


def age_in_years(birth_date: date | str, on_date: date | str) -> int:
    """Whole years completed on ``on_date`` (the age as people say it).

    >>> age_in_years("2020-02-29", "2021-02-27"), age_in_years("2020-02-29", "2021-02-28")
    (0, 1)
    """
    return exact_age(birth_date, on_date).years


def age_phase(birth_date: date | str, on_date: date | str) -> AgePhase:
    """Age phase on ``on_date`` from the exact age; boundary birthdays belong to the earlier phase.

    >>> age_phase("2010-06-15", "2022-06-15"), age_phase("2010-06-15", "2022-06-16")
    (<AgePhase.CHILDHOOD: 'childhood'>, <AgePhase.ADOLESCENCE_ADULTHOOD: 'adolescence_adulthood'>)
    """
    return exact_age(birth_date, on_date).phase


def validate_age_years(value: object, subject: str = "Age", field: str = "age_years") -> Years:
    """Return ``value`` unchanged if it is an age in years from 0 to ``MAX_AGE_YEARS``.

    Accepts ``int``, ``float``, ``Decimal`` and ``Fraction`` (compared exactly, never rounded);
    raises ``InvalidInput`` naming ``subject`` and ``field`` for booleans, strings, NaN,
    infinities, negative ages and ages over the limit.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | Fraction):
        raise InvalidInput(subject, field, value, _AGE_ALLOWED)
    if isinstance(value, Decimal) and value.is_nan():
        raise InvalidInput(subject, field, value, _AGE_ALLOWED)
    if isinstance(value, float) and math.isnan(value):
        raise InvalidInput(subject, field, value, _AGE_ALLOWED)
    if not 0 <= value <= MAX_AGE_YEARS:
        raise InvalidInput(subject, field, value, _AGE_ALLOWED)
    return value


def age_phase_from_years(age_years: Years) -> AgePhase:
    """Age phase from an age in years (units: years, 0-150), read as an exact age.

    ``2`` -> infancy, ``2.0001`` -> childhood, ``12`` -> childhood, ``60`` -> adolescence and
    adulthood, ``60.5`` -> old age. Prefer ``age_phase`` with dates: a count of completed years
    puts a child of 2 years 5 months (``2``) in infancy.

    >>> age_phase_from_years(2), age_phase_from_years(2.0001)
    (<AgePhase.INFANCY: 'infancy'>, <AgePhase.CHILDHOOD: 'childhood'>)
    """
    years = validate_age_years(age_years)
    for phase in AgePhase:
        upper = phase.upper_years
        if upper is None or years <= upper:
            return phase
    raise AssertionError("unreachable: old age has no upper limit")  # pragma: no cover
