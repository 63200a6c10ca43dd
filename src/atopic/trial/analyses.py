"""The catalogue of analyses: every ANALYSIS id the ARD can hold, with what it is.

``atopic.trial.analyze.run`` writes these ids; ``atopic.trial.report`` reads them. One place, so
a statistician can look up any ARD row's method here.
"""

from __future__ import annotations

DISP = "DISP"
DEMOG = "DEMOG"
SUMM_AVAL = "SUMM-AVAL"
SUMM_CHG = "SUMM-CHG"
SUMM_PCHG = "SUMM-PCHG"
SUMM_DOSE = "SUMM-DOSE"
BIN = "BIN"
BIN_EXACT = "BIN-EXACT"
BIN_LOCF = "BIN-LOCF"
BIN_OC = "BIN-OC"
TREND = "TREND-CA"
ANCOVA = "ANCOVA"
ANCOVA_LOCF = "ANCOVA-LOCF"
MI = "MI-ANCOVA"
MMRM = "MMRM"
MCPMOD = "MCPMOD"
GMR = "GMR"
AE_OVERVIEW = "AE-OVERVIEW"
AE_SOCPT = "AE-SOCPT"
SUBGROUP = "SUBGROUP-RD"

ANALYSES: dict[str, str] = {
    DISP: "Analysis populations (ITT, safety, per protocol): n (%) of randomized subjects per arm",
    DEMOG: "Demographics and baseline characteristics: n, mean, SD, median, min, max; n (%)",
    SUMM_AVAL: "Observed value by visit and arm: n, mean, SD, 95 % t CI (observed cases)",
    SUMM_CHG: "Observed change from baseline by visit and arm (observed cases)",
    SUMM_PCHG: "Observed % change from baseline by visit and arm (observed cases)",
    SUMM_DOSE: "Observed primary continuous endpoint by dose (GROUP = dose), for the dose-response figure",
    BIN: (
        "Responder analysis, primary estimand (composite: intercurrent events and missing = "
        "non-responder): n/N and Wilson 95 % CI per arm; CMH-weighted risk difference vs "
        "control with its 95 % CI and the CMH test stratified by the randomization strata"
    ),
    BIN_EXACT: "Responder analysis, unstratified exact test (Fisher) and Newcombe CI vs control",
    BIN_OC: "Responder analysis, observed cases only (sensitivity)",
    BIN_LOCF: "Responder analysis with LOCF (labelled sensitivity analysis only)",
    TREND: "Cochran-Armitage trend test of the responder rate over dose levels (prop.trend.test)",
    ANCOVA: "ANCOVA of CHG/PCHG at the primary visit on arm, baseline and strata; LS means",
    ANCOVA_LOCF: "ANCOVA after LOCF (labelled sensitivity analysis only)",
    MI: "ANCOVA after multiple imputation under MAR by arm, combined by Rubin's rules",
    MMRM: "MMRM of CHG: arm*visit + baseline*visit + strata, REML, LS means by visit",
    MCPMOD: "MCP-Mod: multiple contrast test over candidate dose-response models, fitted curve",
    GMR: "Geometric mean ratio to baseline per arm, and ratio of GMRs vs control (log ANCOVA)",
    AE_OVERVIEW: "TEAE overview per arm: any, serious, related, severe, leading to withdrawal",
    AE_SOCPT: "Subjects with a TEAE by system organ class and preferred term per arm",
    SUBGROUP: "Risk difference vs control of the primary endpoint within subgroups (forest plot)",
}
