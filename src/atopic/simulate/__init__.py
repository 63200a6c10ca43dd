"""Virtual patients and trials.

``synthesize`` / ``iter_synth`` / ``write_synth`` (``atopic.simulate.synth``) make synthetic
collected tables (DM, EX, QS, LB, AE, CM, DS) for a trial design from a simple latent-severity
model whose parameters (``Effects``, ``Dropout``, ``Rescue``) are documented in
``atopic.simulate.params``.
"""

from __future__ import annotations

from atopic.simulate.params import Dropout, Effects, Rescue
from atopic.simulate.synth import TABLES, iter_synth, synthesize, write_synth

__all__ = ["TABLES", "Dropout", "Effects", "Rescue", "iter_synth", "synthesize", "write_synth"]
