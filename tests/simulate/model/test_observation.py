"""Fluctuation (OU/AR(1) on the log scale) and rater noise (ICC) around the mechanistic EASI."""

from __future__ import annotations

import numpy as np
import pytest

from atopic.errors import InvalidInput
from atopic.simulate.model import (
    PLACEBO,
    Baseline,
    Variability,
    fluctuation,
    latent_easi,
    population,
    rated_easi,
    steady_state,
    treat,
)


def test_without_fluctuation_latent_is_mechanistic(
    patients: np.ndarray, baseline: Baseline
) -> None:
    c = treat(patients, baseline, [0, 4], PLACEBO)
    got = latent_easi(c, Variability(fluctuation_sd=0.0), 1)
    assert np.array_equal(got, np.minimum(c.easi, 72.0))


def test_fluctuation_is_stationary_with_the_ou_correlation() -> None:
    var = Variability(fluctuation_sd=0.2, fluctuation_weeks=3.0)
    weeks = np.array([0.0, 1.0, 4.0])
    u = fluctuation(200_000, weeks, var, np.random.default_rng(9))
    assert u.std(axis=0) == pytest.approx([0.2] * 3, rel=0.01)
    r01 = np.corrcoef(u[:, 0], u[:, 1])[0, 1]
    r12 = np.corrcoef(u[:, 1], u[:, 2])[0, 1]
    assert r01 == pytest.approx(np.exp(-1 / 3), abs=0.01)
    assert r12 == pytest.approx(np.exp(-3 / 3), abs=0.01)


def test_the_factor_has_mean_one() -> None:
    mech = np.full((200_000, 1), 30.0)
    got = latent_easi(mech, Variability(fluctuation_sd=0.3), 4, weeks=np.array([0.0]))
    assert got.mean() == pytest.approx(30.0, rel=0.005)


def test_two_ratings_of_the_same_latent_have_the_declared_icc() -> None:
    var = Variability(icc=0.75, between_sd=0.32)
    rng = np.random.default_rng(11)
    latent = np.exp(rng.normal(np.log(25), 0.32, size=200_000))
    a, b = np.log(rated_easi(latent, var, rng)), np.log(rated_easi(latent, var, rng))
    # Intra-class correlation of two ratings = correlation of their logs (equal variances).
    assert np.corrcoef(a, b)[0, 1] == pytest.approx(0.75, abs=0.01)


def test_same_seed_same_values(patients: np.ndarray, baseline: Baseline) -> None:
    c = treat(patients, baseline, [0, 2, 4], PLACEBO)
    assert np.array_equal(latent_easi(c, Variability(), 5), latent_easi(c, Variability(), 5))
    assert not np.array_equal(latent_easi(c, Variability(), 5), latent_easi(c, Variability(), 6))


def test_values_stay_in_the_easi_range(patients: np.ndarray, baseline: Baseline) -> None:
    c = treat(patients, baseline, [0, 2, 4], PLACEBO)
    var = Variability(fluctuation_sd=1.0, icc=0.3)
    rated = rated_easi(latent_easi(c, var, 1), var, 2)
    assert np.all((rated >= 0) & (rated <= 72))


def test_default_between_sd_is_the_populations_log_easi_sd_above_16() -> None:
    # observation docstring: SD of log baseline EASI among miyano2021 patients with EASI >= 16.
    base = steady_state(population("miyano2021").sample(3000, np.random.default_rng(2026)))
    e = base.easi[base.easi >= 16]
    assert np.log(e).std(ddof=1) == pytest.approx(Variability().between_sd, abs=0.02)


def test_bad_variability_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput) as error:
        Variability(icc=0.0)
    assert error.value.field == "icc"
