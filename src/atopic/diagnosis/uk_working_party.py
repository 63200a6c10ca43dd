"""UK Working Party criteria for atopic dermatitis (Williams 1994).

An itchy skin condition (mandatory) plus at least 3 of the other criteria that apply at the
patient's age (reference, "Diagnostic criteria"):

- age 4 and over: history of flexural involvement; personal history of asthma or hay fever;
  generally dry skin in the last year; visible flexural dermatitis; onset before age 2
  (3 of 5 needed).
- under age 4 ("under-4 rules"): personal history of asthma or hay fever is replaced by atopic
  disease in a first-degree relative; visible flexural dermatitis or dermatitis of the
  cheeks/forehead and outer limbs counts; onset before age 2 is not used (3 of 4 needed).

Decisions: "under 4" means an age below 4 years (before the 4th birthday when computed from
dates). Under 4 the visible-dermatitis criterion is one question whose label names both sites
(``visible_flexural_or_cheek_limb_dermatitis``), so it counts once however many sites are
involved. Features declared for the other age rule may be given (as True/False) and are then
listed in ``not_applied``; they never count.
"""

from __future__ import annotations

from collections.abc import Mapping

from atopic.diagnosis.age import Years, validate_age_years
from atopic.diagnosis.result import DiagnosisResult, Feature
from atopic.diagnosis.rules import CriteriaSet, Group, evaluate

__all__ = [
    "FEATURES_FROM_4",
    "FEATURES_UNDER_4",
    "FROM_4_RULES",
    "UK_WORKING_PARTY",
    "UNDER_4_AGE_YEARS",
    "UNDER_4_RULES",
    "diagnose_uk_working_party",
    "uk_working_party_features",
]

_ALL = "all ages"
_FROM_4 = "age 4 and over"
_UNDER_4 = "under age 4"

UNDER_4_AGE_YEARS = 4
"""Ages strictly below this use the under-4 rules."""

_ITCHY = Feature(
    "itchy_skin",
    "An itchy skin condition (in a child, parents report scratching or rubbing)",
    "mandatory",
    _ALL,
)
_FLEXURAL_HISTORY = Feature("flexural_history", "History of flexural involvement", "other", _ALL)
_ASTHMA_HAY_FEVER = Feature(
    "personal_asthma_hay_fever", "Personal history of asthma or hay fever", "other", _FROM_4
)
_RELATIVE_ATOPY = Feature(
    "relative_atopic_disease", "Atopic disease in a first-degree relative", "other", _UNDER_4
)
_DRY_SKIN = Feature("dry_skin", "Generally dry skin in the last year", "other", _ALL)
_VISIBLE_FLEXURAL = Feature(
    "visible_flexural_dermatitis", "Visible flexural dermatitis", "other", _FROM_4
)
_VISIBLE_UNDER_4 = Feature(
    "visible_flexural_or_cheek_limb_dermatitis",
    "Visible flexural dermatitis, or dermatitis of the cheeks/forehead and outer limbs",
    "other",
    _UNDER_4,
)
_ONSET_BEFORE_2 = Feature("onset_before_2", "Onset before age 2", "other", _FROM_4)

FEATURES_FROM_4 = (
    _ITCHY,
    _FLEXURAL_HISTORY,
    _ASTHMA_HAY_FEVER,
    _DRY_SKIN,
    _VISIBLE_FLEXURAL,
    _ONSET_BEFORE_2,
)
"""Features applied at age 4 and over."""

FEATURES_UNDER_4 = (_ITCHY, _FLEXURAL_HISTORY, _RELATIVE_ATOPY, _DRY_SKIN, _VISIBLE_UNDER_4)
"""Features applied under age 4."""

UK_WORKING_PARTY = CriteriaSet(
    name="uk_working_party",
    title="UK Working Party",
    source="Williams 1994",
    groups=(
        Group("mandatory", "Itchy skin condition (mandatory)"),
        Group("other", "Other criteria", needed=3),
    ),
    features=(
        _ITCHY,
        _FLEXURAL_HISTORY,
        _ASTHMA_HAY_FEVER,
        _RELATIVE_ATOPY,
        _DRY_SKIN,
        _VISIBLE_FLEXURAL,
        _VISIBLE_UNDER_4,
        _ONSET_BEFORE_2,
    ),
)
"""The declared UK Working Party criteria: every feature of both age rules."""

UNDER_4_RULES = "under-4 rules"
FROM_4_RULES = "age 4 and over rules"


def uk_working_party_features(age_years: Years) -> tuple[Feature, ...]:
    """The features applied at ``age_years`` (years, 0-150): under-4 rules below 4 years."""
    age = validate_age_years(age_years, UK_WORKING_PARTY.title)
    return FEATURES_UNDER_4 if age < UNDER_4_AGE_YEARS else FEATURES_FROM_4


def diagnose_uk_working_party(features: Mapping[str, bool], age_years: Years) -> DiagnosisResult:
    """UK Working Party (Williams 1994): itchy skin condition plus >= 3 of the other criteria.

    ``age_years`` (years, 0-150, required) chooses the rules: under 4 the under-4 rules apply
    (atopic disease in a first-degree relative instead of personal asthma or hay fever; visible
    dermatitis may be flexural or of cheeks/forehead and outer limbs; onset before age 2 unused).
    ``features`` must answer every feature applied at that age (``uk_working_party_features``)
    with True or False; features of the other age rule may be given and are reported as not
    applied.

    >>> diagnose_uk_working_party(
    ...     {"itchy_skin": True, "flexural_history": True, "relative_atopic_disease": False,
    ...      "dry_skin": True, "visible_flexural_or_cheek_limb_dermatitis": True}, age_years=2)
    <UK Working Party: AD (mandatory 1/1 >= 1, other 3/4 >= 3; under-4 rules)>
    """
    applied = uk_working_party_features(age_years)
    rules = (UNDER_4_RULES,) if applied is FEATURES_UNDER_4 else (FROM_4_RULES,)
    return evaluate(UK_WORKING_PARTY, features, applied, rules, age_years=age_years)
