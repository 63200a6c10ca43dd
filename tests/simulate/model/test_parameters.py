"""The parameter table and virtual populations: 51 parameters, seeded sampling, save/load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from atopic.errors import InvalidInput
from atopic.simulate.model import NAMES, PARAMETERS, Population, miyano2021, population
from atopic.simulate.model.parameters import INDEX


def test_the_table_has_the_papers_51_parameters_and_no_k4() -> None:
    # The paper and the authors' code: 51 log-normal parameters; k4 = d8 is not one of them.
    assert len(PARAMETERS) == 51
    assert len(set(NAMES)) == 51
    assert "k4" not in NAMES
    expected = {f"k{i}" for i in range(1, 27)} - {"k4"}
    expected |= {f"b{i}" for i in range(1, 10)} | {f"d{i}" for i in range(1, 18)}
    assert set(NAMES) == expected


def test_table_order_is_the_authors_parameter_vector() -> None:
    # Their x[18] is d8, x[19] k5, x[23] k6, x[50] d17 (Tanaka-Group/AD_QSP_model).
    assert (INDEX["d8"], INDEX["k5"], INDEX["k6"], INDEX["d17"]) == (18, 19, 23, 50)


def test_sampling_is_log_normal_with_the_tables_mu_and_sigma() -> None:
    pop = miyano2021()
    k = pop.sample(20_000, np.random.default_rng(3))
    assert k.shape == (20_000, 51)
    logs = np.log(k)
    se_mu = pop.sigma / np.sqrt(20_000)
    assert np.all(np.abs(logs.mean(axis=0) - pop.mu) <= 5 * se_mu + 1e-12)
    assert np.allclose(logs.std(axis=0, ddof=1), pop.sigma, rtol=0.05)


def test_same_seed_same_patients_different_seed_different() -> None:
    pop = miyano2021()
    assert np.array_equal(pop.sample(5, 1), pop.sample(5, np.random.default_rng(1)))
    assert not np.array_equal(pop.sample(5, 1), pop.sample(5, 2))


def test_miyano2021_by_name_is_the_published_table_unmodified() -> None:
    pop = population("miyano2021")
    assert [float(x) for x in pop.mu] == [p.mu for p in PARAMETERS]
    assert [float(x) for x in pop.sigma] == [p.sigma for p in PARAMETERS]
    assert "changed" not in repr(pop)


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_a_changed_population_saves_and_loads_exactly(tmp_path: Path, suffix: str) -> None:
    fitted = miyano2021().replace("fitted", mu={"k3": 1.234567890123}, sigma={"d1": 0.1})
    path = fitted.save(tmp_path / f"fitted{suffix}")
    back = population(path)
    assert back.name == "fitted"
    assert np.array_equal(back.mu, fitted.mu)
    assert np.array_equal(back.sigma, fitted.sigma)
    assert "k3" in repr(back)
    assert "d1" in repr(back)


def test_a_file_may_name_a_base_and_only_the_changes(tmp_path: Path) -> None:
    path = tmp_path / "mono.toml"
    path.write_text('name = "mono"\nbase = "miyano2021"\n[parameters]\nk3 = { mu = 1.5 }\n')
    pop = Population.load(path)
    assert pop.mu[INDEX["k3"]] == 1.5
    assert pop.sigma[INDEX["k3"]] == 1.42
    assert np.array_equal(np.delete(pop.mu, INDEX["k3"]), np.delete(miyano2021().mu, INDEX["k3"]))


def test_a_file_without_base_must_list_every_parameter(tmp_path: Path) -> None:
    path = tmp_path / "partial.json"
    path.write_text('{"name": "x", "parameters": {"k1": {"mu": 0, "sigma": 1}}}')
    with pytest.raises(InvalidInput, match="missing k2"):
        Population.load(path)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mu": {"k99": 1.0}}, "mu.k99"),
        ({"sigma": {"k1": -1.0}}, "sigma.k1"),
        ({"mu": {"k1": float("nan")}}, "mu.k1"),
    ],
)
def test_bad_changes_are_refused_by_name(change: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        miyano2021().replace(**change)
    assert error.value.field == field


def test_unknown_population_name_says_what_is_allowed() -> None:
    with pytest.raises(InvalidInput, match="miyano2021"):
        population("nonesuch")
