"""Systems, codes and extensions atopic's FHIR resources use, declared once.

LOINC codes (verified against published LOINC terms): total IgE is 19113-0 "IgE [Units/volume]
in Serum or Plasma" (IU/mL, UCUM ``[IU]/mL``); blood eosinophils is 26449-9 "Eosinophils
[#/volume] in Blood" (UCUM ``10*3/uL``, numerically equal to 10^9/L). Every other lab test is
coded only in atopic's local LBTESTCD system; every lab also carries that local code, which is
what an import reads.
"""

from __future__ import annotations

BASE = "https://atopic.dev/fhir"
"""Base of atopic's own canonical URLs (code systems, extensions, questionnaires)."""
USUBJID_SYSTEM = f"{BASE}/sid/usubjid"
VISITNUM_SYSTEM = f"{BASE}/sid/visitnum"
LBTESTCD_SYSTEM = f"{BASE}/CodeSystem/lbtestcd"
SCORE_SYSTEM = f"{BASE}/CodeSystem/instrument-total"
BAND_SYSTEM = f"{BASE}/CodeSystem/severity-band"
QSEVAL_SYSTEM = f"{BASE}/CodeSystem/qseval"
QUESTIONNAIRE_BASE = f"{BASE}/Questionnaire"

EXT_STUDYID = f"{BASE}/StructureDefinition/studyid"
EXT_SITEID = f"{BASE}/StructureDefinition/siteid"
EXT_AGE = f"{BASE}/StructureDefinition/age-at-enrolment"
EXT_ALLOWED = f"{BASE}/StructureDefinition/allowed"
EXT_VISIT = f"{BASE}/StructureDefinition/visit"
EXT_AE_END = f"{BASE}/StructureDefinition/adverse-event-end"
EXT_AE_BODSYS = f"{BASE}/StructureDefinition/adverse-event-body-system"
EXT_AE_TOXGR = f"{BASE}/StructureDefinition/adverse-event-toxicity-grade"
EXT_ROUTE = f"{BASE}/StructureDefinition/route"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
MEDDRA = "http://terminology.hl7.org/CodeSystem/mdr"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
AE_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
AE_CAUSALITY = "http://terminology.hl7.org/CodeSystem/adverse-event-causality-assess"

LAB_LOINC: dict[str, tuple[str, str, str]] = {
    "IGE": ("19113-0", "IgE [Units/volume] in Serum or Plasma", "[IU]/mL"),
    "EOS": ("26449-9", "Eosinophils [#/volume] in Blood", "10*3/uL"),
}
"""LBTESTCD -> (LOINC code, LOINC long name, UCUM code of the atopic standard unit)."""

GENDER: dict[str, str] = {"M": "male", "F": "female", "U": "unknown", "UNDIFFERENTIATED": "other"}
"""DM SEX -> FHIR administrative gender."""
SEX: dict[str, str] = {"male": "M", "female": "F", "unknown": "U", "other": "UNDIFFERENTIATED"}
"""FHIR administrative gender -> DM SEX."""
AESEV: dict[str, str] = {"MILD": "mild", "MODERATE": "moderate", "SEVERE": "severe"}
"""AESEV -> FHIR adverse-event-severity."""
