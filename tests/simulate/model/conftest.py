"""Shared virtual patients for the model tests (seeded, small)."""

from __future__ import annotations

import numpy as np
import pytest

from atopic.simulate.model import Baseline, population, steady_state


@pytest.fixture(scope="session")
def patients() -> np.ndarray:
    """400 virtual patients of miyano2021, seed 20210601."""
    return population("miyano2021").sample(400, np.random.default_rng(20210601))


@pytest.fixture(scope="session")
def baseline(patients: np.ndarray) -> Baseline:
    """Their untreated steady states."""
    return steady_state(patients)
