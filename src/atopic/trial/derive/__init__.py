"""Collected tables -> analysis tables (ADSL, BDS, ADAE), in Narwhals, admiral style.

``derive_all(tables, design)`` runs everything and returns ``{"ADSL", "BDS", "ADAE",
"REJECTS"}``. The steps are small ``derive_var_*`` (one column), ``derive_vars_*`` (several) and
``derive_param_*`` (adds rows) functions, dataset first, each checking its required columns; the
rules they follow are written once, in the docstring of their module:

========================  =============================================================
``params``                observed records: instrument totals from QS, labs from LB
``windows``               ADT, ADY (no day 0), analysis windows AVISIT/AVISITN/AW*
``baseline``              ABLFL, same-date records, BASE, CHG, PCHG
``ice``                   intercurrent events (rescue, discontinuation), ICE/ICEFL
``select``                ANLzzFL (one record per visit), PHANTOM rows
``criteria``              CRITy/CRITyFL from the design's criteria
``impute``                NRI rows (primary), LOCF rows (sensitivity, ANL02FL)
``adsl``                  populations, treatment, dates, age phase, strata, PPROTFL
``adae``                  ASTDT/AENDT, TRTEMFL, first-occurrence flags
``pipeline``              the chains, the analysis flags, the rejects table
========================  =============================================================
"""

from __future__ import annotations

from atopic.trial.derive._frames import REJECT_COLUMNS
from atopic.trial.derive.adae import (
    derive_var_aeseq,
    derive_var_aoccfl,
    derive_var_trtemfl,
)
from atopic.trial.derive.adsl import (
    compute_age_phase,
    derive_var_age,
    derive_var_agegr1,
    derive_var_ittfl,
    derive_var_pprotfl,
    derive_var_saffl,
    derive_vars_blsev,
    derive_vars_strata,
    derive_vars_trta,
    derive_vars_trtdt,
    derive_vars_trtp,
)
from atopic.trial.derive.baseline import (
    derive_var_ablfl,
    derive_var_base,
    derive_var_chg,
    derive_var_pchg,
)
from atopic.trial.derive.criteria import derive_vars_crit
from atopic.trial.derive.ice import compute_ice, derive_var_icefl
from atopic.trial.derive.impute import derive_param_locf, derive_param_nri
from atopic.trial.derive.params import (
    PARAMETERS,
    derive_param_lb,
    derive_param_qs,
    derive_params_observed,
)
from atopic.trial.derive.pipeline import (
    ANALYSIS_FLAGS,
    derive_adae,
    derive_adsl,
    derive_all,
    derive_bds,
)
from atopic.trial.derive.select import derive_param_phantom, derive_var_anlfl
from atopic.trial.derive.windows import derive_var_dt, derive_var_dy, derive_vars_avisit

__all__ = [
    "ANALYSIS_FLAGS",
    "PARAMETERS",
    "REJECT_COLUMNS",
    "compute_age_phase",
    "compute_ice",
    "derive_adae",
    "derive_adsl",
    "derive_all",
    "derive_bds",
    "derive_param_lb",
    "derive_param_locf",
    "derive_param_nri",
    "derive_param_phantom",
    "derive_param_qs",
    "derive_params_observed",
    "derive_var_ablfl",
    "derive_var_aeseq",
    "derive_var_age",
    "derive_var_agegr1",
    "derive_var_anlfl",
    "derive_var_aoccfl",
    "derive_var_base",
    "derive_var_chg",
    "derive_var_dt",
    "derive_var_dy",
    "derive_var_icefl",
    "derive_var_ittfl",
    "derive_var_pchg",
    "derive_var_pprotfl",
    "derive_var_saffl",
    "derive_var_trtemfl",
    "derive_vars_avisit",
    "derive_vars_blsev",
    "derive_vars_crit",
    "derive_vars_strata",
    "derive_vars_trta",
    "derive_vars_trtdt",
    "derive_vars_trtp",
]
