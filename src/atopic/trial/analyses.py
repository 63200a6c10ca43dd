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
BIN_RATE = "BIN-RATE"
BIN_RD_NEWCOMBE = "BIN-RD-NEWCOMBE"
BIN_RD_MN = "BIN-RD-MN"
BIN_FISHER = "BIN-FISHER"
BIN_CMH = "BIN-CMH"
BIN_CMH_RD = "BIN-CMH-RD"
BIN_CMH_OR = "BIN-CMH-OR"
TREND = "TREND-CA"
TREND_LBL = "TREND-LBL"
ANCOVA = "ANCOVA"
ANCOVA_LOCF = "ANCOVA-LOCF"
MI = "MI-ANCOVA"
MI_RD = "MI-CMH-RD"
MMRM = "MMRM"
MCPMOD = "MCPMOD"
GMR = "GMR"
GMR_ANCOVA = "GMR-ANCOVA"
AE_OVERVIEW = "AE-OVERVIEW"
AE_SOCPT = "AE-SOCPT"
SUBGROUP = "SUBGROUP-RD"

ANALYSES: dict[str, str] = {
    DISP: "Analysis populations (ITT, safety, per protocol): n (%) of randomized subjects per arm",
    DEMOG: "Demographics and baseline characteristics: n, mean, SD, median, min, max; n (%)",
    SUMM_AVAL: "Observed value by visit and arm: n, mean, SD, 95 % t CI (observed cases)",
    SUMM_CHG: "Observed change from baseline by visit and arm (observed cases)",
    SUMM_PCHG: "Observed % change from baseline by visit and arm (observed cases)",
    BIN_RATE: "Responders n/N and rate with Wilson score 95 % CI per arm",
    BIN_RD_NEWCOMBE: "Risk difference vs control, Newcombe hybrid score CI (unstratified)",
    BIN_RD_MN: "Risk difference vs control, Miettinen-Nurminen score CI (unstratified)",
    BIN_FISHER: "Fisher's exact test vs control (unstratified, two-sided)",
    BIN_CMH: "Cochran-Mantel-Haenszel test vs control stratified by the randomization strata",
    BIN_CMH_RD: "CMH-weighted risk difference vs control: Sato SE, stratified MN score CI",
    BIN_CMH_OR: "Mantel-Haenszel common odds ratio vs control with its CI",
    TREND: "Cochran-Armitage trend test over dose levels, Z^2 = N r^2 (R prop.trend.test)",
    TREND_LBL: "Linear-by-linear association test over dose levels, (N - 1) r^2",
    ANCOVA: "ANCOVA at one visit on arm, baseline and strata; LS means (emmeans defaults)",
    ANCOVA_LOCF: "ANCOVA after LOCF (labelled sensitivity analysis only)",
    MI: "ANCOVA after multiple imputation under MAR by arm, pooled by Rubin's rules",
    MI_RD: "CMH risk difference after multiple imputation under MAR, pooled by Rubin's rules",
    MMRM: "MMRM of change from baseline: arm*visit + baseline*visit + strata, REML, LS means",
    MCPMOD: "MCP-Mod: multiple contrast test over candidate dose-response models, fitted curve",
    GMR: "Geometric mean ratio to baseline per arm with its t 95 % CI",
    GMR_ANCOVA: "Ratio of geometric means vs control: ANCOVA of log(AVAL/BASE) on log baseline",
    AE_OVERVIEW: "TEAE overview per arm: any, serious, related, severe, leading to withdrawal",
    AE_SOCPT: "Subjects with a TEAE by system organ class and preferred term per arm",
    SUBGROUP: "Risk difference vs control (Newcombe) of a primary endpoint within subgroups",
}
