"""Virtual populations: a named set of (mu, sigma) for the 51 parameters, sampled per patient.

``population("miyano2021")`` is the published table unmodified (``parameters.PARAMETERS``).
A calibrated set is stored as a file (``Population.save``: JSON or TOML by suffix) and read back
with ``population(path)`` or ``Population.load(path)``. A file may list every parameter, or name a
``base`` population and only the parameters it changes::

    name = "furestem_fit"
    base = "miyano2021"
    description = "k3 lowered for monotherapy placebo"
    [parameters]
    k3 = { mu = 1.9, sigma = 1.42 }

Sampling (Miyano et al., Allergy 2021, doi 10.1111/all.14870, and the authors' code):
``k = exp(mu + sigma * z)`` with ``z`` standard normal from a NumPy ``Generator``, one row per
patient in the column order of ``parameters.NAMES``.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from atopic.errors import InvalidInput
from atopic.simulate.model.parameters import INDEX, NAMES, PARAMETERS

BUILTIN = "miyano2021"
"""The name of the published population."""


def _number(where: str, name: str, value: object, *, nonnegative: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    ok = ok and math.isfinite(float(value))  # type: ignore[arg-type]
    if ok and nonnegative:
        ok = float(value) >= 0  # type: ignore[arg-type]
    if not ok:
        allowed = "a finite number >= 0" if nonnegative else "a finite number"
        raise InvalidInput("population", f"{where}.{name}", value, allowed)
    return float(value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Population:
    """A virtual population: ``ln k ~ N(mu, sigma)`` for each of the 51 parameters.

    ``mu`` and ``sigma`` are arrays of length 51 in the order of ``parameters.NAMES``.
    """

    name: str
    mu: np.ndarray
    sigma: np.ndarray
    description: str = ""
    extra: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        mu = np.asarray(self.mu, dtype=float)
        sigma = np.asarray(self.sigma, dtype=float)
        for label, arr in (("mu", mu), ("sigma", sigma)):
            if arr.shape != (len(NAMES),):
                raise InvalidInput(
                    "population", label, f"shape {arr.shape}", f"shape ({len(NAMES)},)"
                )
        for i, name in enumerate(NAMES):
            _number("mu", name, float(mu[i]))
            _number("sigma", name, float(sigma[i]), nonnegative=True)
        mu.flags.writeable = False
        sigma.flags.writeable = False
        object.__setattr__(self, "mu", mu)
        object.__setattr__(self, "sigma", sigma)

    def __repr__(self) -> str:
        changed = [n for n in NAMES if n in _changed(self)]
        note = f", changed from {BUILTIN}: {', '.join(changed)}" if changed else ""
        return f"<Population {self.name!r}: {len(NAMES)} log-normal parameters{note}>"

    def sample(self, n: int, rng: np.random.Generator | int) -> np.ndarray:
        """Parameters of ``n`` virtual patients, shape (n, 51): ``exp(mu + sigma z)``.

        ``rng`` is a NumPy ``Generator`` or an integer seed; draws ``z`` as one (n, 51) block.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise InvalidInput("population", "n", n, "a whole number >= 0")
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        z = gen.standard_normal((n, len(NAMES)))
        return np.exp(self.mu + self.sigma * z)

    def median(self) -> np.ndarray:
        """The typical patient: every parameter at its median ``exp(mu)``, shape (1, 51)."""
        return np.exp(self.mu)[None, :]

    def replace(
        self,
        name: str | None = None,
        *,
        mu: Mapping[str, float] | None = None,
        sigma: Mapping[str, float] | None = None,
        description: str | None = None,
    ) -> Population:
        """A copy with some parameters' ``mu``/``sigma`` changed (by parameter name)."""
        new_mu, new_sigma = self.mu.copy(), self.sigma.copy()
        for label, changes, arr in (("mu", mu, new_mu), ("sigma", sigma, new_sigma)):
            for key, value in (changes or {}).items():
                if key not in INDEX:
                    raise InvalidInput(
                        "population", f"{label}.{key}", key, "one of " + ", ".join(NAMES)
                    )
                arr[INDEX[key]] = _number(label, key, value, nonnegative=label == "sigma")
        return Population(
            name or self.name,
            new_mu,
            new_sigma,
            self.description if description is None else description,
            dict(self.extra),
        )

    def to_dict(self) -> dict[str, object]:
        """Plain data: name, description, extra, and ``parameters`` {name: {mu, sigma}}."""
        return {
            "name": self.name,
            "description": self.description,
            **({"extra": dict(self.extra)} if self.extra else {}),
            "parameters": {
                n: {"mu": float(self.mu[i]), "sigma": float(self.sigma[i])}
                for i, n in enumerate(NAMES)
            },
        }

    def save(self, path: str | Path) -> Path:
        """Write every parameter to ``path`` (``.json`` or ``.toml``); returns the path."""
        path = Path(path)
        if path.suffix == ".json":
            path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
        elif path.suffix == ".toml":
            path.write_text(_to_toml(self), encoding="utf-8")
        else:
            raise InvalidInput(
                "population", "path", str(path), "a file name ending in .json or .toml"
            )
        return path

    @classmethod
    def load(cls, path: str | Path) -> Population:
        """Read a population file written by ``save`` (or by hand, with ``base``)."""
        path = Path(path)
        if not path.is_file():
            raise InvalidInput("population", "path", str(path), "an existing .json or .toml file")
        text = path.read_text(encoding="utf-8")
        try:
            data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
            raise InvalidInput(
                "population", "file", str(path), f"valid JSON or TOML ({error})"
            ) from None
        return from_dict(data, default_name=path.stem)


def _changed(pop: Population) -> set[str]:
    return {
        p.name for i, p in enumerate(PARAMETERS) if pop.mu[i] != p.mu or pop.sigma[i] != p.sigma
    }


def _to_toml(pop: Population) -> str:
    lines = [f"name = {json.dumps(pop.name)}", f"description = {json.dumps(pop.description)}"]
    for key, value in pop.extra.items():
        lines.append(f"extra.{key} = {json.dumps(value)}")
    lines += ["", "[parameters]"]
    for i, n in enumerate(NAMES):
        lines.append(f"{n} = {{ mu = {float(pop.mu[i])!r}, sigma = {float(pop.sigma[i])!r} }}")
    return "\n".join(lines) + "\n"


def from_dict(data: Mapping[str, object], *, default_name: str = "population") -> Population:
    """Build a population from ``to_dict``-shaped data; ``base`` fills unlisted parameters."""
    base_name = data.get("base", None)
    params = data.get("parameters", {})
    if not isinstance(params, Mapping):
        raise InvalidInput("population", "parameters", params, "a table {name: {mu, sigma}}")
    missing = [n for n in NAMES if n not in params]
    if base_name is None and missing:
        raise InvalidInput(
            "population",
            "parameters",
            f"{len(params)} parameters (missing {', '.join(missing)})",
            f"all {len(NAMES)} parameters, or a 'base' population to fill the rest",
        )
    base = population(str(base_name)) if base_name is not None else miyano2021()
    mu: dict[str, float] = {}
    sigma: dict[str, float] = {}
    for key, entry in params.items():
        if not isinstance(entry, Mapping) or set(entry) - {"mu", "sigma"} or not entry:
            raise InvalidInput(
                "population", f"parameters.{key}", entry, "a table with mu and/or sigma"
            )
        if "mu" in entry:
            mu[key] = entry["mu"]  # type: ignore[assignment]
        if "sigma" in entry:
            sigma[key] = entry["sigma"]  # type: ignore[assignment]
    extra = data.get("extra", {})
    new = base.replace(str(data.get("name", default_name)), mu=mu, sigma=sigma)
    return Population(
        new.name,
        new.mu,
        new.sigma,
        str(data.get("description", "")),
        dict(extra) if isinstance(extra, Mapping) else {},
    )


def miyano2021() -> Population:
    """The published population (Miyano, Irvine, Tanaka, Allergy 2021), unmodified."""
    return Population(
        BUILTIN,
        np.array([p.mu for p in PARAMETERS]),
        np.array([p.sigma for p in PARAMETERS]),
        "Miyano T, Irvine AD, Tanaka RJ. Allergy 2021, doi 10.1111/all.14870: published table",
    )


def population(name: str | Path) -> Population:
    """A population by name (``"miyano2021"``) or by the path of a saved file."""
    if str(name) == BUILTIN:
        return miyano2021()
    path = Path(name)
    if path.suffix in (".json", ".toml") and path.is_file():
        return Population.load(path)
    raise InvalidInput(
        "population",
        "name",
        str(name),
        f"{BUILTIN!r} or the path of a saved .json/.toml population",
    )
