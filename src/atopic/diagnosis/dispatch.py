"""One entry point for every criteria set, taking one JSON object (used by the CLI and web API).

``data`` is ``{"criteria": ..., "features": {...}}`` plus, where wanted or needed, either
``"age_years"`` or both ``"birth_date"`` and ``"assessment_date"`` (``'YYYY-MM-DD'``).

Decisions: dates give the exact age; the rules then use the completed years (so "under 4" means
before the 4th birthday and "age >= 12" from the 12th birthday on) and the result also carries the
exact age and the age phase. ``age_years`` alone gives no age phase (a count of completed years
cannot place a birthday boundary). Giving both ``age_years`` and dates is refused as ambiguous;
``null`` for an age key means not given. Criteria sets that use no age accept one and record it.
Any other key is refused.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import cast

from atopic.diagnosis.age import ExactAge, Years, exact_age, parse_date, validate_age_years
from atopic.diagnosis.chinese import (
    CHINESE_ADULT,
    CHINESE_CHILDREN,
    diagnose_chinese_adult,
    diagnose_chinese_children,
)
from atopic.diagnosis.hanifin_rajka import HANIFIN_RAJKA, diagnose_hanifin_rajka
from atopic.diagnosis.result import DiagnosisResult
from atopic.diagnosis.rules import CriteriaSet
from atopic.diagnosis.uk_working_party import UK_WORKING_PARTY, diagnose_uk_working_party
from atopic.errors import InvalidInput

__all__ = ["CRITERIA", "DATA_KEYS", "diagnose"]

CRITERIA: Mapping[str, CriteriaSet] = MappingProxyType(
    {
        criteria.name: criteria
        for criteria in (HANIFIN_RAJKA, UK_WORKING_PARTY, CHINESE_ADULT, CHINESE_CHILDREN)
    }
)
"""Every criteria set by name: ``hanifin_rajka``, ``uk_working_party``, ``chinese_adult``,
``chinese_children``. Each value declares the title, source, groups and features."""

DATA_KEYS = ("criteria", "features", "age_years", "birth_date", "assessment_date")
"""The keys ``diagnose`` accepts in ``data``."""

_Diagnose = Callable[[Mapping[str, bool], Years | None], DiagnosisResult]


def _uk(features: Mapping[str, bool], age: Years | None) -> DiagnosisResult:
    return diagnose_uk_working_party(features, _required(UK_WORKING_PARTY, age))


def _chinese_adult(features: Mapping[str, bool], age: Years | None) -> DiagnosisResult:
    return diagnose_chinese_adult(features, _required(CHINESE_ADULT, age))


_FUNCTIONS: Mapping[str, _Diagnose] = {
    "hanifin_rajka": lambda features, _age: diagnose_hanifin_rajka(features),
    "uk_working_party": _uk,
    "chinese_adult": _chinese_adult,
    "chinese_children": lambda features, _age: diagnose_chinese_children(features),
}
_AGE_NEEDED = "a number of years from 0 to 150, or birth_date and assessment_date"


def _required(criteria: CriteriaSet, age: Years | None) -> Years:
    """The age, or ``InvalidInput`` saying how to give one."""
    if age is None:
        raise InvalidInput(criteria.title, "age_years", None, _AGE_NEEDED)
    return age


def _criteria_set(criteria: object) -> CriteriaSet:
    if isinstance(criteria, str) and criteria in CRITERIA:
        return CRITERIA[criteria]
    names = ", ".join(f"'{name}'" for name in CRITERIA)
    raise InvalidInput("Diagnosis", "criteria", criteria, f"one of {names}")


def _check_keys(criteria: CriteriaSet, data: object) -> Mapping[str, object]:
    if not isinstance(data, Mapping):
        raise InvalidInput(
            criteria.title, "data", data, 'a JSON object such as {"features": {...}}'
        )
    for key in data:
        if key not in DATA_KEYS:
            close = difflib.get_close_matches(str(key), DATA_KEYS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise InvalidInput(
                criteria.title, str(key), key, f"one of the keys {', '.join(DATA_KEYS)}{hint}"
            )
    given = data.get("criteria")
    if given is not None and given != criteria.name:
        raise InvalidInput(
            criteria.title, "criteria", given, f"'{criteria.name}' (the criteria requested)"
        )
    if "features" not in data:
        raise InvalidInput(
            criteria.title, "features", None, "a mapping of feature name to True or False"
        )
    return data


def _age(criteria: CriteriaSet, data: Mapping[str, object]) -> tuple[Years | None, ExactAge | None]:
    """The age in years for the rules and, when computed from dates, the exact age."""
    age_years = data.get("age_years")
    birth = data.get("birth_date")
    assessed = data.get("assessment_date")
    if age_years is not None and (birth is not None or assessed is not None):
        raise InvalidInput(
            criteria.title,
            "age_years",
            age_years,
            "left out when birth_date and assessment_date are given (give one or the other)",
        )
    if birth is None and assessed is None:
        if age_years is None:
            return None, None
        return validate_age_years(age_years, criteria.title), None
    for field, value in (("birth_date", birth), ("assessment_date", assessed)):
        if value is None:
            raise InvalidInput(
                criteria.title, field, None, "a date 'YYYY-MM-DD' (both dates are needed)"
            )
    exact = exact_age(
        parse_date(birth, "birth_date", criteria.title),
        parse_date(assessed, "assessment_date", criteria.title),
        subject=criteria.title,
        on_field="assessment_date",
    )
    return exact.years, exact


def diagnose(criteria: str, data: Mapping[str, object]) -> DiagnosisResult:
    """Apply the criteria set named ``criteria`` to one JSON object ``data``.

    ``criteria`` is a key of ``CRITERIA``. ``data`` holds ``"features"`` (code -> True/False)
    and, for ``uk_working_party`` and ``chinese_adult``, an age: ``"age_years"`` (years) or
    ``"birth_date"`` and ``"assessment_date"`` (exact age; the result then includes the exact
    age and the age phase). ``data["criteria"]``, if present, must match ``criteria``. Sources:
    as for each ``diagnose_*`` function. Raises ``InvalidInput`` naming the field.

    >>> result = diagnose("uk_working_party", {
    ...     "criteria": "uk_working_party", "birth_date": "2022-01-01",
    ...     "assessment_date": "2025-03-01",
    ...     "features": {"itchy_skin": True, "flexural_history": True,
    ...                  "relative_atopic_disease": True, "dry_skin": False,
    ...                  "visible_flexural_or_cheek_limb_dermatitis": True}})
    >>> result
    <UK Working Party: AD (mandatory 1/1 >= 1, other 3/4 >= 3; under-4 rules)>
    >>> result.age, result.age_phase.label
    (<Age 3 y 59 d>, 'Childhood')
    """
    criteria_set = _criteria_set(criteria)
    checked = _check_keys(criteria_set, data)
    age_years, exact = _age(criteria_set, checked)
    features = cast("Mapping[str, bool]", checked["features"])  # checked by each criteria set
    result = _FUNCTIONS[criteria_set.name](features, age_years)
    return replace(
        result,
        age_years=age_years,
        age=exact,
        age_phase=None if exact is None else exact.phase,
    )
