"""Chinese criteria for atopic dermatitis: adolescents and adults, and children.

Adolescents and adults (Liu, Zhang et al., Chin Med J 2016), age >= 12: symmetrical eczema for
more than 6 months, plus at least one of: personal or family history of atopic disease; raised
total IgE; eosinophilia; positive specific IgE.

Children (Cheng, Yao et al., JEADV 2020): pruritus, plus typical morphology and distribution or
atypical morphology with xerosis, plus a chronic or relapsing course.

Decisions: "age >= 12" includes the 12th birthday (a completed-years age of 12), although the
age phase on that day is still childhood. A younger age is refused, never silently switched to
the children's criteria. The reference gives no age limit for the children's criteria, so none is
applied and they take no age. "Atypical morphology with xerosis" is one feature, as worded.
"""

from __future__ import annotations

from collections.abc import Mapping

from atopic.diagnosis.age import Years, validate_age_years
from atopic.diagnosis.result import DiagnosisResult, Feature
from atopic.diagnosis.rules import CriteriaSet, Group, evaluate
from atopic.errors import InvalidInput

__all__ = [
    "CHINESE_ADULT",
    "CHINESE_ADULT_MIN_AGE_YEARS",
    "CHINESE_CHILDREN",
    "diagnose_chinese_adult",
    "diagnose_chinese_children",
]

CHINESE_ADULT_MIN_AGE_YEARS = 12
"""Youngest age (years, inclusive) for the adolescent and adult criteria."""

CHINESE_ADULT = CriteriaSet(
    name="chinese_adult",
    title="Chinese criteria (adolescents and adults)",
    source="Liu, Zhang et al., Chin Med J 2016",
    groups=(
        Group("mandatory", "Symmetrical eczema for more than 6 months (mandatory)"),
        Group("atopy", "Atopic history or laboratory evidence of atopy", needed=1),
    ),
    features=(
        Feature(
            "symmetrical_eczema_over_6_months",
            "Symmetrical eczema for more than 6 months",
            "mandatory",
        ),
        Feature("atopic_history", "Personal or family history of atopic disease", "atopy"),
        Feature("raised_total_ige", "Raised total IgE", "atopy"),
        Feature("eosinophilia", "Eosinophilia", "atopy"),
        Feature("positive_specific_ige", "Positive specific IgE", "atopy"),
    ),
)
"""The declared Chinese criteria for adolescents and adults (age >= 12)."""

CHINESE_CHILDREN = CriteriaSet(
    name="chinese_children",
    title="Chinese criteria (children)",
    source="Cheng, Yao et al., JEADV 2020",
    groups=(
        Group("mandatory", "Pruritus and a chronic or relapsing course (mandatory)"),
        Group("morphology", "Typical morphology, or atypical morphology with xerosis", needed=1),
    ),
    features=(
        Feature("pruritus", "Pruritus", "mandatory"),
        Feature(
            "typical_morphology_distribution", "Typical morphology and distribution", "morphology"
        ),
        Feature(
            "atypical_morphology_with_xerosis", "Atypical morphology with xerosis", "morphology"
        ),
        Feature("chronic_relapsing_course", "Chronic or relapsing course", "mandatory"),
    ),
)
"""The declared Chinese criteria for children (no age limit given by the reference)."""


def diagnose_chinese_adult(features: Mapping[str, bool], age_years: Years) -> DiagnosisResult:
    """Chinese criteria for adolescents and adults (Liu, Zhang et al., Chin Med J 2016).

    AD if symmetrical eczema for more than 6 months and at least one of: personal or family
    history of atopic disease, raised total IgE, eosinophilia, positive specific IgE.
    ``age_years`` (years) must be at least 12; a younger age raises ``InvalidInput`` that points
    to ``diagnose_chinese_children``.

    >>> diagnose_chinese_adult(
    ...     {"symmetrical_eczema_over_6_months": True, "atopic_history": False,
    ...      "raised_total_ige": True, "eosinophilia": False, "positive_specific_ige": False},
    ...     age_years=30)
    <Chinese criteria (adolescents and adults): AD (mandatory 1/1 >= 1, atopy 1/4 >= 1)>
    """
    age = validate_age_years(age_years, CHINESE_ADULT.title)
    if age < CHINESE_ADULT_MIN_AGE_YEARS:
        raise InvalidInput(
            CHINESE_ADULT.title,
            "age_years",
            age_years,
            f"at least {CHINESE_ADULT_MIN_AGE_YEARS} years; for younger patients use the "
            "children's criteria (chinese_children)",
        )
    return evaluate(CHINESE_ADULT, features, age_years=age_years)


def diagnose_chinese_children(features: Mapping[str, bool]) -> DiagnosisResult:
    """Chinese criteria for children (Cheng, Yao et al., JEADV 2020).

    AD if pruritus, plus typical morphology and distribution or atypical morphology with
    xerosis, plus a chronic or relapsing course. No age is taken: the reference gives no limit.

    >>> diagnose_chinese_children(
    ...     {"pruritus": True, "typical_morphology_distribution": False,
    ...      "atypical_morphology_with_xerosis": True, "chronic_relapsing_course": True})
    <Chinese criteria (children): AD (mandatory 2/2 >= 2, morphology 1/2 >= 1)>
    """
    return evaluate(CHINESE_CHILDREN, features)
