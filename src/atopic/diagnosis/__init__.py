"""Diagnostic criteria for atopic dermatitis and the four age phases.

Criteria sets (reference /work/shared/reference/instruments.md, "Diagnostic criteria"):
Hanifin and Rajka (1980), UK Working Party (Williams 1994), Chinese criteria for adolescents and
adults (Liu, Zhang et al., Chin Med J 2016) and for children (Cheng, Yao et al., JEADV 2020).
Each takes a mapping of feature code -> True/False and returns a ``DiagnosisResult`` naming the
features met and missed. ``diagnose(criteria, data)`` dispatches one JSON object. See
docs/diagnosis.md for usage and every decision taken where the reference is silent.
"""

from atopic.diagnosis.age import (
    MAX_AGE_YEARS,
    AgePhase,
    ExactAge,
    age_in_years,
    age_phase,
    age_phase_from_years,
    exact_age,
)
from atopic.diagnosis.chinese import (
    CHINESE_ADULT,
    CHINESE_CHILDREN,
    diagnose_chinese_adult,
    diagnose_chinese_children,
)
from atopic.diagnosis.dispatch import CRITERIA, diagnose
from atopic.diagnosis.hanifin_rajka import HANIFIN_RAJKA, diagnose_hanifin_rajka
from atopic.diagnosis.result import DiagnosisResult, Feature, GroupCount
from atopic.diagnosis.rules import CriteriaSet, Group
from atopic.diagnosis.uk_working_party import (
    UK_WORKING_PARTY,
    diagnose_uk_working_party,
    uk_working_party_features,
)

__all__ = [
    "CHINESE_ADULT",
    "CHINESE_CHILDREN",
    "CRITERIA",
    "HANIFIN_RAJKA",
    "MAX_AGE_YEARS",
    "UK_WORKING_PARTY",
    "AgePhase",
    "CriteriaSet",
    "DiagnosisResult",
    "ExactAge",
    "Feature",
    "Group",
    "GroupCount",
    "age_in_years",
    "age_phase",
    "age_phase_from_years",
    "diagnose",
    "diagnose_chinese_adult",
    "diagnose_chinese_children",
    "diagnose_hanifin_rajka",
    "diagnose_uk_working_party",
    "exact_age",
    "uk_working_party_features",
]
