"""MCP-Mod dose finding (Bretz, Pinheiro & Branson 2005; Pinheiro et al. 2014), as R's DoseFinding.

``mcpmod(data, models=..., dose=..., response=..., covariates=..., direction=..., delta=...)`` on
subject data, ``mcpmod_general(doses, estimates, cov, models=...)`` on dose-group estimates with
known covariance; both return an ``MCPModResult`` with ``summary``, ``curve()`` and ``ard()``.
Validated against DoseFinding in ``validation/mcpmod/``.
"""

from atopic.trial.analyze.mcpmod.contrasts import (
    MultipleContrastTest,
    multiple_contrast_test,
    optimal_contrasts,
)
from atopic.trial.analyze.mcpmod.fit import DoseResponseFit, FitData, fit_model
from atopic.trial.analyze.mcpmod.models import (
    MODELS,
    Candidate,
    Candidates,
    candidate_models,
    default_bounds,
    target_dose,
)
from atopic.trial.analyze.mcpmod.procedure import (
    ANALYSIS,
    MCPModResult,
    curve_from_ard,
    format_dose,
    mcpmod,
    mcpmod_general,
)

__all__ = [
    "ANALYSIS",
    "MODELS",
    "Candidate",
    "Candidates",
    "DoseResponseFit",
    "FitData",
    "MCPModResult",
    "MultipleContrastTest",
    "candidate_models",
    "curve_from_ard",
    "default_bounds",
    "fit_model",
    "format_dose",
    "mcpmod",
    "mcpmod_general",
    "multiple_contrast_test",
    "optimal_contrasts",
    "target_dose",
]
