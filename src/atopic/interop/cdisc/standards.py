"""What define.xml says about each declared table beyond its columns: observation class,
structure, purpose and whether it repeats per subject.

Classes are the SDTM v2.0 general observation classes and the ADaM v2.1 dataset classes
(Define-XML 2.1 ``def:Class``); structures follow the SDTMIG v3.4 / ADaMIG v1.3 wording for what a
record is, adapted to atopic's keys (QS keeps one record per evaluator).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatasetStandard:
    """``klass`` (def:Class Name), ``sub_class`` (def:SubClass Name or None), ``structure``
    (def:Structure), ``purpose`` ("Tabulation" for SDTM, "Analysis" for ADaM), ``repeating``
    (more than one record per subject) and ``model`` ("SDTM" or "ADaM")."""

    klass: str
    structure: str
    purpose: str
    repeating: bool
    model: str
    sub_class: str | None = None


STANDARDS: dict[str, DatasetStandard] = {
    "DM": DatasetStandard("SPECIAL PURPOSE", "One record per subject", "Tabulation", False, "SDTM"),
    "EX": DatasetStandard(
        "INTERVENTIONS", "One record per administration per subject", "Tabulation", True, "SDTM"
    ),
    "CM": DatasetStandard(
        "INTERVENTIONS", "One record per medication per subject", "Tabulation", True, "SDTM"
    ),
    "QS": DatasetStandard(
        "FINDINGS",
        "One record per questionnaire item per visit per evaluator per subject",
        "Tabulation",
        True,
        "SDTM",
    ),
    "LB": DatasetStandard(
        "FINDINGS",
        "One record per lab test per time point per subject",
        "Tabulation",
        True,
        "SDTM",
    ),
    "AE": DatasetStandard(
        "EVENTS", "One record per adverse event per subject", "Tabulation", True, "SDTM"
    ),
    "DS": DatasetStandard(
        "EVENTS", "One record per disposition event per subject", "Tabulation", True, "SDTM"
    ),
    "ADSL": DatasetStandard(
        "SUBJECT LEVEL ANALYSIS DATASET", "One record per subject", "Analysis", False, "ADaM"
    ),
    "BDS": DatasetStandard(
        "BASIC DATA STRUCTURE",
        "One record per subject per parameter per analysis visit per derivation type",
        "Analysis",
        True,
        "ADaM",
    ),
    "ADAE": DatasetStandard(
        "OCCURRENCE DATA STRUCTURE",
        "One record per adverse event per subject",
        "Analysis",
        True,
        "ADaM",
        sub_class="ADVERSE EVENT",
    ),
}
"""The define.xml description of every declared table."""

SDTM_NAMES: tuple[str, ...] = ("DM", "EX", "QS", "LB", "AE", "CM", "DS")
"""The collected tables, in the order they are written."""
ADAM_NAMES: tuple[str, ...] = ("ADSL", "BDS", "ADAE")
"""The analysis tables, in the order they are written."""

IG_VERSION = {"SDTM": ("SDTMIG", "3.4"), "ADaM": ("ADaMIG", "1.3")}
"""The implementation guide and version each model's datasets follow."""
CT_VERSION = "2025-03-25"
"""The CDISC controlled terminology package the declarations take their terms from."""

QS_COMMENT = (
    "atopic keeps the items of every instrument in QS, clinician-rated scales (EASI, SCORAD, "
    "vIGA-AD) together with patient-reported ones (POEM, NRS, DLQI); a strict SDTM would put the "
    "clinician-rated scales in RS. QSEVAL tells who scored each item."
)
"""The define.xml comment on QS (reference/trials.md)."""
