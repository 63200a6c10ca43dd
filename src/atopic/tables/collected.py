"""The collected tables (SDTM-like): DM, EX, QS, LB, AE, and the optional CM and DS that carry
intercurrent events (rescue medication, discontinuation) for trial.derive.

Columns are those DESIGN.md lists, plus the standard identifiers STUDYID and DOMAIN and the
sequence number ``--SEQ``; QS adds QSTEST, QSSTRESC and the visit variables. Labels are the SDTMIG
v3.4 labels. Source of controlled terminology: CDISC SDTM CT 2025-03-25 (SEX C66731, NY C66742,
AESEV C66769, ROUTE C66729, UNIT C71620, LBTESTCD C65047, TOXGR C87163); lists marked *subset* hold
the terms an atopic dermatitis trial uses and grow when a trial needs another term.

Decisions:
- STUDYID is required in every table (SDTM Req); DOMAIN and ``--SEQ`` are optional here because
  they are fixed or assigned on export (interop), but when DOMAIN is present it must be the
  table's name.
- ``required`` marks what atopic cannot work without, which is SDTM's Req plus the Exp variables the
  derivations need (QSORRES, VISITNUM, EXSTDTC ...).
- Clinician-rated scales (EASI, SCORAD, IGA) are kept in QS, not RS (see reference/trials.md).
"""

from __future__ import annotations

from atopic.tables.schema import YES_NO, Column, Table, dtc, integer, number, text

SEX: tuple[str, ...] = ("M", "F", "U", "UNDIFFERENTIATED")
"""CDISC SEX (C66731)."""
AESEV: tuple[str, ...] = ("MILD", "MODERATE", "SEVERE")
"""CDISC AESEV (C66769)."""
TOXGR: tuple[str, ...] = ("1", "2", "3", "4", "5")
"""CDISC TOXGR (C87163): CTCAE grades 1-5, as text."""
ACN: tuple[str, ...] = (
    "DOSE INCREASED",
    "DOSE NOT CHANGED",
    "DOSE REDUCED",
    "DRUG INTERRUPTED",
    "DRUG WITHDRAWN",
    "NOT APPLICABLE",
    "UNKNOWN",
)
"""CDISC ACN (C66767): action taken with study treatment (AEACN)."""
ROUTES: tuple[str, ...] = (
    "SUBCUTANEOUS",
    "INTRAVENOUS",
    "INTRADERMAL",
    "INTRAMUSCULAR",
    "ORAL",
    "TOPICAL",
)
"""CDISC ROUTE (C66729), subset: routes of AD treatments (biologics, cell therapy, JAK
inhibitors, topicals)."""
DOSE_UNITS: tuple[str, ...] = (
    "10^6 Therapeutic Cells",
    "10^6 Therapeutic Cells/kg",
    "mg",
    "mg/kg",
    "ug",
    "g",
    "mL",
    "%",
)
"""CDISC UNIT (C71620), subset. ``10^6 Therapeutic Cells`` is the official unit for cell therapy:
2.5 x 10^7 cells is EXDOSE 25. ``10^6 Therapeutic Cells/kg`` (weight-based cell doses) is a
sponsor extension, not checked against the CDISC codelist."""
LAB_UNITS: dict[str, str] = {
    "IGE": "IU/mL",
    "EOS": "10^9/L",
    "CCL17": "pg/mL",
}
"""Standard units (LBSTRESU) of the AD biomarkers: total IgE in IU/mL, blood eosinophils in
10^9/L, CCL17 (TARC) in pg/mL (reference/trials.md)."""
LAB_TESTS: tuple[str, ...] = (
    "IGE",
    "EOS",
    "CCL17",
    "LDH",
    "WBC",
    "NEUT",
    "LYM",
    "MONO",
    "BASO",
    "RBC",
    "HGB",
    "HCT",
    "PLAT",
    "ALT",
    "AST",
    "ALP",
    "GGT",
    "BILI",
    "CREAT",
    "CRP",
    "CK",
    "CHOL",
    "TRIG",
    "IFNGIL4R",
    "TH2ACT",
    "TSLP",
    "BARRIER",
)
"""CDISC LBTESTCD (C65047), subset: AD biomarkers (IgE, eosinophils, CCL17/TARC, LDH) and the
safety panel of AD trials (haematology, liver, kidney, CK and lipids for JAK inhibitors), plus
sponsor-defined exploratory codes of the mechanistic simulator (``EXPLORATORY_LAB_UNITS``)."""
EXPLORATORY_LAB_UNITS: dict[str, str] = {
    "IFNGIL4R": "ratio",
    "TH2ACT": "AU",
    "TSLP": "AU",
    "BARRIER": "%",
}
"""Sponsor-defined LBTESTCDs (at most 8 characters; not CDISC terms) for the exploratory
biomarkers that ``atopic.simulate.qsp`` derives from the model states: IFN-g/IL-4 ratio, Th2
activity (effective IL-4 + IL-13) and TSLP in the model's arbitrary units (AU), skin barrier
integrity in % (100 x s)."""
LAB_STANDARD_UNITS: tuple[str, ...] = (
    "IU/mL",
    "10^9/L",
    "10^12/L",
    "pg/mL",
    "U/L",
    "g/L",
    "g/dL",
    "umol/L",
    "mmol/L",
    "mg/L",
    "mg/dL",
    "%",
    "L/L",
    "ratio",
    "AU",
)
"""CDISC UNIT (C71620), subset: the standard units of ``LAB_TESTS``."""

_STUDYID = text("STUDYID", "Study Identifier", required=True)
_USUBJID = text("USUBJID", "Unique Subject Identifier", required=True)


def _domain(name: str) -> Column:
    return text("DOMAIN", "Domain Abbreviation", allowed=(name,), max_length=2)


def _seq(prefix: str) -> Column:
    return integer(f"{prefix}SEQ", "Sequence Number")


DM = Table(
    "DM",
    "Demographics",
    (
        _STUDYID,
        _domain("DM"),
        _USUBJID,
        text("SITEID", "Study Site Identifier", required=True),
        dtc("BRTHDTC", "Date/Time of Birth"),
        number("AGE", "Age"),
        text("SEX", "Sex", required=True, allowed=SEX),
        text("ARMCD", "Planned Arm Code", max_length=20),
        text("ARM", "Description of Planned Arm"),
        text("ACTARMCD", "Actual Arm Code", max_length=20),
        dtc("RFSTDTC", "Subject Reference Start Date/Time"),
    ),
    keys=("STUDYID", "USUBJID"),
    any_of=(("BRTHDTC", "AGE"),),
)
"""Demographics, one row per subject. AGE is in years (atopic keeps no AGEU: every age is in
years, fractional for infants). RFSTDTC is the first dose (null when never treated).
ARMCD, ARM and ACTARMCD are not required: a blinded export leaves them out altogether (SDTMIG 3.4
lists them as Expected; a submission, made after unblinding, carries them)."""

EX = Table(
    "EX",
    "Exposure",
    (
        _STUDYID,
        _domain("EX"),
        _USUBJID,
        _seq("EX"),
        text("EXTRT", "Name of Treatment", required=True),
        number("EXDOSE", "Dose"),
        text("EXDOSU", "Dose Units", allowed=DOSE_UNITS),
        text("EXROUTE", "Route of Administration", allowed=ROUTES),
        text("EXLOT", "Lot Number"),
        dtc("EXSTDTC", "Start Date/Time of Treatment", required=True),
    ),
    keys=("STUDYID", "USUBJID", "EXTRT", "EXSTDTC"),
)
"""Exposure, one row per administration. Blinded treatment names (EXTRT) are visible only to
unblinded roles; the registry enforces that, not this declaration."""

QS = Table(
    "QS",
    "Questionnaires",
    (
        _STUDYID,
        _domain("QS"),
        _USUBJID,
        _seq("QS"),
        text("QSTESTCD", "Question Short Name", required=True, max_length=8),
        text("QSTEST", "Question Name", required=True, max_length=40),
        text("QSCAT", "Category of Question", required=True),
        text("QSORRES", "Finding in Original Units", required=True),
        text("QSSTRESC", "Character Result/Finding in Std Format"),
        number("QSSTRESN", "Numeric Finding in Standard Units"),
        text("QSEVAL", "Evaluator"),
        number("VISITNUM", "Visit Number", required=True),
        text("VISIT", "Visit Name"),
        dtc("QSDTC", "Date/Time of Finding"),
    ),
    keys=("STUDYID", "USUBJID", "QSCAT", "QSTESTCD", "VISITNUM", "QSDTC", "QSEVAL"),
)
"""Item-level scores of every instrument, one row per item answered. QSCAT is the instrument
(``Instrument.qscat``), QSTESTCD the item code (``Item.code``), QSORRES the answer as entered,
QSSTRESN the number for numeric items. QSEVAL (who scored: INVESTIGATOR, STUDY SUBJECT, CAREGIVER
...) is the extensible EVAL codelist and is not restricted. Keys add QSDTC and QSEVAL to SDTMIG's
so that two raters, or two assessments on one visit, are distinct rows."""

LB = Table(
    "LB",
    "Laboratory Test Results",
    (
        _STUDYID,
        _domain("LB"),
        _USUBJID,
        _seq("LB"),
        text(
            "LBTESTCD",
            "Lab Test or Examination Short Name",
            required=True,
            max_length=8,
            allowed=LAB_TESTS,
        ),
        number("LBSTRESN", "Numeric Result/Finding in Standard Units"),
        text("LBSTRESU", "Standard Units", allowed=LAB_STANDARD_UNITS),
        number("VISITNUM", "Visit Number"),
        dtc("LBDTC", "Date/Time of Specimen Collection"),
    ),
    keys=("STUDYID", "USUBJID", "LBTESTCD", "LBDTC"),
)
"""Laboratory results in standard units (``LAB_UNITS`` for the AD biomarkers). VISITNUM is empty
for an unscheduled sample."""

AE = Table(
    "AE",
    "Adverse Events",
    (
        _STUDYID,
        _domain("AE"),
        _USUBJID,
        _seq("AE"),
        text("AETERM", "Reported Term for the Adverse Event", required=True),
        text("AEDECOD", "Dictionary-Derived Term"),
        text("AEBODSYS", "Body System or Organ Class"),
        text("AESEV", "Severity/Intensity", allowed=AESEV),
        text("AETOXGR", "Standard Toxicity Grade", allowed=TOXGR),
        text("AESER", "Serious Event", allowed=YES_NO),
        text("AEREL", "Causality"),
        text("AEACN", "Action Taken with Study Treatment", allowed=ACN),
        dtc("AESTDTC", "Start Date/Time of Adverse Event"),
        dtc("AEENDTC", "End Date/Time of Adverse Event"),
    ),
    keys=("STUDYID", "USUBJID", "AETERM", "AESTDTC"),
)
"""Adverse events, one row per event. AEDECOD and AEBODSYS are MedDRA preferred term and system
organ class, empty until the event is coded. AEREL (causality) is sponsor-defined terminology and is not restricted."""

CMCAT: tuple[str, ...] = ("RESCUE", "PRIOR", "CONCOMITANT")
"""CMCAT terms atopic uses (sponsor-defined: SDTM has no codelist for CMCAT). ``RESCUE`` marks
rescue therapy, an intercurrent event of AD trials (topical corticosteroids, systemic drugs)."""
DSDECOD: tuple[str, ...] = (
    "COMPLETED",
    "ADVERSE EVENT",
    "LACK OF EFFICACY",
    "WITHDRAWAL BY SUBJECT",
    "LOST TO FOLLOW-UP",
    "PHYSICIAN DECISION",
    "PROTOCOL DEVIATION",
    "PREGNANCY",
    "DEATH",
    "STUDY TERMINATED BY SPONSOR",
    "OTHER",
)
"""CDISC NCOMPLT (C66727), subset: completion and the reasons AD trials record for stopping."""

CM = Table(
    "CM",
    "Concomitant/Prior Medications",
    (
        _STUDYID,
        _domain("CM"),
        _USUBJID,
        _seq("CM"),
        text("CMTRT", "Reported Name of Drug, Med, or Therapy", required=True),
        text("CMCAT", "Category for Medication", allowed=CMCAT),
        dtc("CMSTDTC", "Start Date/Time of Medication"),
        dtc("CMENDTC", "End Date/Time of Medication"),
    ),
    keys=("STUDYID", "USUBJID", "CMTRT", "CMSTDTC"),
)
"""Medications, one row per medication taken (optional: a trial without rescue therapy has none).
CMCAT "RESCUE" marks rescue therapy; its CMSTDTC dates the intercurrent event."""

DS = Table(
    "DS",
    "Disposition",
    (
        _STUDYID,
        _domain("DS"),
        _USUBJID,
        _seq("DS"),
        text("DSTERM", "Reported Term for the Disposition Event"),
        text("DSDECOD", "Standardized Disposition Term", required=True, allowed=DSDECOD),
        dtc("DSSTDTC", "Start Date/Time of Disposition Event"),
    ),
    keys=("STUDYID", "USUBJID", "DSDECOD", "DSSTDTC"),
)
"""Disposition, one row per subject and disposition event (optional). DSDECOD other than
COMPLETED is a discontinuation, dated by DSSTDTC."""

COLLECTED: dict[str, Table] = {t.name: t for t in (DM, EX, QS, LB, AE, CM, DS)}
"""The collected tables by name."""
