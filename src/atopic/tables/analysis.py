"""The analysis tables (ADaM-like): ADSL, BDS (one table shape for every efficacy parameter) and
ADAE.

Variables follow ADaMIG v1.3 and the ADaM OCCDS v1.1 structure, with their CDISC labels.
Numbered families are declared once: ``CRITy`` / ``CRITyFL`` (analysis criteria 1-99),
``ANLzzFL`` (analysis flags 01-99) and ``STRATwR`` (randomisation strata 1-9).

Flags: population flags (ITTFL, SAFFL, PPROTFL) and CRITyFL are "Y"/"N" (CRITyFL may be null
when the criterion cannot be evaluated); record-level flags (ABLFL, ANLzzFL, TRTEMFL, AOCC*FL) are
"Y" or null, as ADaMIG prescribes. Dates are real dates (``nw.Date()``); relative days count from
TRTSDT with no day 0 (ADaMIG).

Sponsor-defined variables (no ADaMIG name exists): BLIGA and BLEASI (baseline severity in ADSL,
used as covariates and strata); ICE and ICEFL in BDS (intercurrent events).
"""

from __future__ import annotations

from atopic.tables.collected import ACN, AESEV, SEX, TOXGR
from atopic.tables.schema import YES, YES_NO, Table, date, integer, number, text

AGE_PHASES: tuple[str, ...] = ("infancy", "childhood", "adolescence_adulthood", "old_age")
"""AGEGR1 terms: the codes of ``atopic.diagnosis.AgePhase`` (tables may not import diagnosis; a
test keeps the two equal)."""
DTYPES: tuple[str, ...] = ("PHANTOM", "LOCF", "WOCF", "BOCF", "NRI", "MI", "AVERAGE", "ENDPOINT")
"""DTYPE terms: CDISC DTYPE (C81223) terms used in AD trials, extended (as the codelist allows)
with NRI (non-responder imputation) and MI (multiple imputation). PHANTOM marks an absent visit
made explicit before imputation (reference/trials.md)."""

ICE_TERMS: tuple[str, ...] = ("RESCUE", "DISCONTINUATION")
"""ICE terms (sponsor-defined): the intercurrent events of AD trials that trial.derive handles."""

_STUDYID = text("STUDYID", "Study Identifier", required=True)
_USUBJID = text("USUBJID", "Unique Subject Identifier", required=True)

ADSL = Table(
    "ADSL",
    "Subject-Level Analysis Dataset",
    (
        _STUDYID,
        _USUBJID,
        text("SITEID", "Study Site Identifier", required=True),
        text("TRT01P", "Planned Treatment for Period 01", required=True),
        integer("TRT01PN", "Planned Treatment for Period 01 (N)"),
        text("TRT01A", "Actual Treatment for Period 01"),
        integer("TRT01AN", "Actual Treatment for Period 01 (N)"),
        date("TRTSDT", "Date of First Exposure to Treatment"),
        date("TRTEDT", "Date of Last Exposure to Treatment"),
        text("ITTFL", "Intent-To-Treat Population Flag", required=True, allowed=YES_NO),
        text("FASFL", "Full Analysis Set Population Flag", allowed=YES_NO),
        text("SAFFL", "Safety Population Flag", required=True, allowed=YES_NO),
        text("PPROTFL", "Per-Protocol Population Flag", allowed=YES_NO),
        number("AGE", "Age", required=True),
        text("AGEGR1", "Pooled Age Group 1", allowed=AGE_PHASES),
        integer("AGEGR1N", "Pooled Age Group 1 (N)"),
        text("SEX", "Sex", required=True, allowed=SEX),
        text("REGION1", "Geographic Region 1"),
        text("STRATwR", "Strat Factor w Value Used for Rand", family=r"STRAT[1-9]R"),
        number("BLIGA", "Baseline IGA"),
        number("BLEASI", "Baseline EASI"),
    ),
    keys=("STUDYID", "USUBJID"),
)
"""One row per subject. AGE in years; AGEGR1 is the age phase of AD (``AGE_PHASES``), AGEGR1N its
position (1 infancy ... 4 old age). TRT01P/TRT01A and their (N) are treatment allocation, visible
only to unblinded roles. STRATwR hold the randomisation strata (region, baseline IGA 3 vs 4, age
group); BLIGA and BLEASI the baseline severity."""

BDS = Table(
    "BDS",
    "Basic Data Structure Analysis Dataset",
    (
        _STUDYID,
        _USUBJID,
        text("TRTP", "Planned Treatment"),
        integer("TRTPN", "Planned Treatment (N)"),
        text("TRTA", "Actual Treatment"),
        integer("TRTAN", "Actual Treatment (N)"),
        text("PARAM", "Parameter", required=True),
        text("PARAMCD", "Parameter Code", required=True, max_length=8),
        integer("PARAMN", "Parameter (N)"),
        text("AVISIT", "Analysis Visit", required=True),
        number("AVISITN", "Analysis Visit (N)", required=True),
        date("ADT", "Analysis Date"),
        integer("ADY", "Analysis Relative Day"),
        integer("AWLO", "Analysis Window Beginning Timepoint"),
        integer("AWHI", "Analysis Window Ending Timepoint"),
        integer("AWTARGET", "Analysis Window Target"),
        number("AVAL", "Analysis Value"),
        number("BASE", "Baseline Value"),
        text("ABLFL", "Baseline Record Flag", allowed=YES),
        number("CHG", "Change from Baseline"),
        number("PCHG", "Percent Change from Baseline"),
        text("CRITy", "Analysis Criterion y", family=r"CRIT[1-9][0-9]?"),
        text(
            "CRITyFL",
            "Criterion y Evaluation Result Flag",
            family=r"CRIT[1-9][0-9]?FL",
            allowed=YES_NO,
        ),
        text("DTYPE", "Derivation Type", allowed=DTYPES),
        text("ANLzzFL", "Analysis Flag zz", family=r"ANL[0-9]{2}FL", allowed=YES),
        text("ICE", "Intercurrent Event", allowed=ICE_TERMS),
        text("ICEFL", "Record After Intercurrent Event Flag", allowed=YES),
    ),
    keys=("STUDYID", "USUBJID", "PARAMCD", "AVISITN", "ADT", "DTYPE"),
)
"""One row per subject x parameter x analysis visit (x record before ANL01FL selects one).
PARAMCD: EASI, SCORAD, OSCORAD, IGA, POEM, PPNRS, SLNRS, IGE, EOS ... (at most 8 characters).
CHG = AVAL - BASE; PCHG = 100 (AVAL - BASE) / |BASE|, null when BASE = 0. CRITy is constant within
a parameter (``"EASI-75"``: PCHG <= -75). AWLO/AWHI/AWTARGET in study days. DTYPE is null on
observed records. ICE and ICEFL (sponsor variables) name the subject's first intercurrent event
handled by the composite strategy and flag the records after it (trial.derive states the rule)."""

ADAE = Table(
    "ADAE",
    "Adverse Events Analysis Dataset",
    (
        _STUDYID,
        _USUBJID,
        integer("AESEQ", "Sequence Number"),
        text("TRTA", "Actual Treatment"),
        integer("TRTAN", "Actual Treatment (N)"),
        text("SAFFL", "Safety Population Flag", allowed=YES_NO),
        date("TRTSDT", "Date of First Exposure to Treatment"),
        date("TRTEDT", "Date of Last Exposure to Treatment"),
        text("AETERM", "Reported Term for the Adverse Event", required=True),
        text("AEDECOD", "Dictionary-Derived Term", required=True),
        text("AEBODSYS", "Body System or Organ Class"),
        text("AESEV", "Severity/Intensity", allowed=AESEV),
        text("AETOXGR", "Standard Toxicity Grade", allowed=TOXGR),
        text("AESER", "Serious Event", allowed=YES_NO),
        text("AEREL", "Causality"),
        text("AEACN", "Action Taken with Study Treatment", allowed=ACN),
        date("ASTDT", "Analysis Start Date"),
        date("AENDT", "Analysis End Date"),
        integer("ASTDY", "Analysis Start Relative Day"),
        integer("AENDY", "Analysis End Relative Day"),
        text("TRTEMFL", "Treatment Emergent Analysis Flag", allowed=YES),
        text("AOCCFL", "1st Occurrence within Subject Flag", allowed=YES),
        text("AOCCSFL", "1st Occurrence of SOC Flag", allowed=YES),
        text("AOCCPFL", "1st Occurrence of Preferred Term Flag", allowed=YES),
    ),
    keys=("STUDYID", "USUBJID", "AEDECOD", "ASTDT"),
)
"""One row per adverse event (OCCDS). TRTEMFL: started on or after TRTSDT (and, for a trial's
follow-up window, not later than the window after TRTEDT: trial.derive states the window).
AOCCFL, AOCCSFL, AOCCPFL flag the first event per subject, per subject and SOC, per subject and
preferred term, for incidence tables. TRTA/TRTAN are treatment allocation (unblinded roles only)."""

ANALYSIS: dict[str, Table] = {t.name: t for t in (ADSL, BDS, ADAE)}
"""The analysis tables by name."""
