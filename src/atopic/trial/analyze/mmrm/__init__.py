"""Mixed model for repeated measures (MMRM) in NumPy/SciPy, validated against R (validation/mmrm/).

``MMRM(cov="us", df="kenward-roger", method="reml").fit(data, ...)``; see ``model.MMRM``.
Modules: ``structures`` (covariance structures and their derivatives), ``design`` (input checks,
exclusions, design matrix), ``likelihood`` (REML/ML by missingness pattern), ``inference``
(Satterthwaite, Kenward-Roger), ``model`` (the estimator).
"""

from atopic.trial.analyze.mmrm.model import FALLBACK, MMRM, Attempt
from atopic.trial.analyze.mmrm.structures import NAMES as STRUCTURES

__all__ = ["FALLBACK", "MMRM", "STRUCTURES", "Attempt"]
