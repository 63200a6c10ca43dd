"""Hanifin and Rajka (1980) criteria for atopic dermatitis.

At least 3 of 4 major features and at least 3 of 23 minor features. Labels follow the reference
(/work/shared/reference/instruments.md, "Diagnostic criteria"). No age rule: the reference gives
none, so the criteria apply at any age.
"""

from __future__ import annotations

from collections.abc import Mapping

from atopic.diagnosis.result import DiagnosisResult, Feature
from atopic.diagnosis.rules import CriteriaSet, Group, evaluate

__all__ = ["HANIFIN_RAJKA", "diagnose_hanifin_rajka"]

_MAJOR = (
    ("pruritus", "Pruritus"),
    ("typical_morphology_distribution", "Typical morphology and distribution"),
    ("chronic_relapsing_course", "Chronic or chronically relapsing course"),
    ("atopy_history", "Personal or family history of atopy"),
)
_MINOR = (
    ("xerosis", "Xerosis"),
    (
        "ichthyosis_hyperlinearity_keratosis_pilaris",
        "Ichthyosis/palmar hyperlinearity/keratosis pilaris",
    ),
    ("immediate_skin_test_reactivity", "Immediate skin-test reactivity"),
    ("raised_serum_ige", "Raised serum IgE"),
    ("early_onset", "Early onset"),
    ("skin_infections", "Tendency to skin infections"),
    ("hand_foot_dermatitis", "Non-specific hand or foot dermatitis"),
    ("nipple_eczema", "Nipple eczema"),
    ("cheilitis", "Cheilitis"),
    ("recurrent_conjunctivitis", "Recurrent conjunctivitis"),
    ("dennie_morgan_fold", "Dennie-Morgan fold"),
    ("keratoconus", "Keratoconus"),
    ("anterior_subcapsular_cataract", "Anterior subcapsular cataract"),
    ("orbital_darkening", "Orbital darkening"),
    ("facial_pallor_erythema", "Facial pallor/erythema"),
    ("pityriasis_alba", "Pityriasis alba"),
    ("anterior_neck_folds", "Anterior neck folds"),
    ("itch_when_sweating", "Itch when sweating"),
    ("wool_lipid_solvent_intolerance", "Intolerance to wool and lipid solvents"),
    ("perifollicular_accentuation", "Perifollicular accentuation"),
    ("food_intolerance", "Food intolerance"),
    ("environment_emotion_course", "Course influenced by environment/emotion"),
    ("white_dermographism", "White dermographism"),
)

HANIFIN_RAJKA = CriteriaSet(
    name="hanifin_rajka",
    title="Hanifin-Rajka",
    source="Hanifin and Rajka (1980)",
    groups=(
        Group("major", "Major features", needed=3),
        Group("minor", "Minor features", needed=3),
    ),
    features=tuple(Feature(code, label, "major") for code, label in _MAJOR)
    + tuple(Feature(code, label, "minor") for code, label in _MINOR),
)
"""The declared Hanifin-Rajka criteria: 4 major and 23 minor features."""


def diagnose_hanifin_rajka(features: Mapping[str, bool]) -> DiagnosisResult:
    """Hanifin and Rajka (1980): AD if >= 3 of 4 major and >= 3 of 23 minor features are met.

    ``features`` maps every one of the 27 declared codes (``HANIFIN_RAJKA.codes``) to True or
    False; a missing, non-bool or unknown feature raises ``InvalidInput``. No age is needed.

    >>> answers = dict.fromkeys(HANIFIN_RAJKA.codes, False)
    >>> answers.update(pruritus=True, typical_morphology_distribution=True, atopy_history=True)
    >>> answers.update(xerosis=True, early_onset=True, cheilitis=True)
    >>> diagnose_hanifin_rajka(answers)
    <Hanifin-Rajka: AD (major 3/4 >= 3, minor 3/23 >= 3)>
    """
    return evaluate(HANIFIN_RAJKA, features)
