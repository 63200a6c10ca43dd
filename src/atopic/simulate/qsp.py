"""The QSP generator: collected tables of a trial design from the Miyano model's virtual patients.

``generate(design, n_subjects, seed)`` screens virtual patients of a population (untreated steady
state, entry criteria ``observe.Inclusion``: rated EASI >= 16 and vIGA-AD 3-4 within the design's
strata), randomizes them (``cohort.draw_cohort`` with their baseline grades), runs each arm's
treatment through the model (``observe.arm_treatment``: background care with ``care``; cell
therapy from the arm's dose, unit, route and schedule; a biologic named by the product), observes
them (``observe``: fluctuation, rater noise, item-level QS, labs with the exploratory biomarkers),
and adds rescue, missed visits, dropout (``course.finish_course``), DM, EX, AE, CM and DS as
``synth`` does (``synth.chunk_tables``). Every table passes ``atopic.tables.validate``.

Models by name (``load_model``): ``"miyano2021"`` (the published population, ``care`` 1, default
``CellMechanism``), the path of a population file (JSON/TOML, ``Population.save``), or the name of
a file in ``atopic/simulate/data/populations/`` (e.g. a calibrated set). A file's ``extra`` may
hold ``care`` (background-care multiplier of k3) and ``cell_therapy`` (``CellMechanism`` fields).

Reproducibility: subjects are made in chunks of ``chunk``; chunk ``i`` draws from
``SeedSequence([seed, 2, i])`` and the run (site weights) from ``SeedSequence([seed, 0])``, so the
same design, ``n_subjects``, ``seed`` and ``chunk`` give identical tables, with memory bounded by
one chunk.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import polars as pl

from atopic.errors import InvalidInput
from atopic.simulate import columns as col
from atopic.simulate.cohort import admissible_grades, draw_cohort
from atopic.simulate.course import finish_course, visit_days
from atopic.simulate.model import CellMechanism, Population, Treatment, population
from atopic.simulate.model.population import BUILTIN, from_dict
from atopic.simulate.observe import (
    Inclusion,
    Observation,
    arm_treatment,
    lab_values,
    lb_builder,
    run_arms,
    screen,
    target_weeks,
)
from atopic.simulate.params import Dropout, Rescue
from atopic.simulate.synth import (
    ENROLMENT_DAYS,
    MAX_SUBJECTS,
    START,
    Settings,
    chunk_tables,
    make_settings,
)
from atopic.trial.design import Design

DATA = Path(__file__).parent / "data" / "populations"
"""Packaged population files, loadable by name."""
CHUNK = 2_000


@dataclass(frozen=True)
class Model:
    """A population with its background care and cell-therapy mechanism."""

    population: Population
    care: float = 1.0
    mechanism: CellMechanism = field(default_factory=CellMechanism)

    @property
    def name(self) -> str:
        """The population's name."""
        return self.population.name


def _resolve(name: str | Path) -> Population:
    text = str(name)
    if text == BUILTIN:
        return population(BUILTIN)
    path = Path(text)
    if path.suffix in (".json", ".toml") and path.is_file():
        return population(path)
    for suffix in (".json", ".toml"):
        packaged = DATA / f"{text}{suffix}"
        if packaged.is_file():
            return population(packaged)
    known = sorted(p.stem for p in DATA.glob("*.*")) if DATA.is_dir() else []
    raise InvalidInput(
        "qsp",
        "population",
        text,
        f"{BUILTIN!r}, " + "".join(f"{k!r}, " for k in known) + "or a .json/.toml population file",
    )


def load_model(
    name: str | Path | Population = BUILTIN,
    *,
    care: float | None = None,
    mechanism: CellMechanism | None = None,
) -> Model:
    """The model of a population by name or path; ``care``/``mechanism`` override the file's."""
    pop = name if isinstance(name, Population) else _resolve(name)
    extra = dict(pop.extra)
    if care is None:
        care = float(extra.get("care", 1.0))  # type: ignore[arg-type]
    if mechanism is None:
        cell = extra.get("cell_therapy", {})
        mechanism = CellMechanism.from_dict(cell if isinstance(cell, dict) else {})
    if not (isinstance(care, int | float) and 0 <= care <= 10):
        raise InvalidInput("qsp", "care", care, "a k3 multiplier from 0 to 10")
    return Model(pop, float(care), mechanism)


def save_model(model: Model, path: str | Path, *, description: str = "") -> Path:
    """Write the population with ``care`` and ``cell_therapy`` in ``extra`` (JSON; loadable by
    ``load_model(path)`` and by ``atopic.simulate.model.population(path)``)."""
    path = Path(path)
    if path.suffix != ".json":
        raise InvalidInput("qsp", "path", str(path), "a file name ending in .json")
    data = model.population.to_dict()
    data["name"] = path.stem
    if description:
        data["description"] = description
    data["extra"] = {
        **dict(model.population.extra),
        "care": model.care,
        "cell_therapy": model.mechanism.to_dict(),
    }
    from_dict(data)  # refuse what could not be read back
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class _Run:
    settings: Settings
    model: Model
    inclusion: Inclusion
    observation: Observation
    dropout: Dropout
    rescue: Rescue
    null: bool


def _weights(rng: np.random.Generator, female: np.ndarray) -> np.ndarray:
    """Body weight in kg (log-normal: median 66 kg women, 80 kg men, log-SD 0.17; assumption)."""
    median = np.where(female, 66.0, 80.0)
    return np.round(median * np.exp(rng.normal(0, 0.17, size=female.size)), 1)


def _chunk(run: _Run, index: int, first: int, n: int) -> dict[str, pl.DataFrame]:
    design = run.settings.design
    rng = np.random.default_rng(np.random.SeedSequence([run.settings.seed, 2, index]))
    var = run.observation.variability
    scr = screen(
        run.model.population,
        n,
        target_weeks(design),
        rng,
        inclusion=run.inclusion,
        admissible=admissible_grades(design),
        variability=var,
    )
    cohort = draw_cohort(
        design,
        rng,
        n,
        site_weights=run.settings.site_weights,
        ages=run.settings.ages,
        start_day=int((START - col.EPOCH).astype(int)),
        enrolment_days=ENROLMENT_DAYS,
        iga0=scr.iga0,
    )
    weight = _weights(rng, cohort.female)
    day = visit_days(design, rng, n)
    treatments = [
        Treatment(label=a.code) if run.null else arm_treatment(a, run.model.mechanism, weight)
        for a in design.arms
    ]
    obs = run_arms(design, scr, cohort.arm, day, treatments, care=run.model.care, variability=var)
    drug = np.clip(1.0 - obs.mech / obs.mech[:, :1], 0.0, 1.0)
    course = finish_course(design, rng, day, obs.severity, scr.s0, drug, run.dropout, run.rescue)
    labs = lab_values(obs, scr.s0, rng, run.observation)
    return chunk_tables(
        run.settings, cohort, course, rng, first=first, builders={"LB": lb_builder(labs)}
    )


def iter_generate(
    design: Design,
    n_subjects: int,
    seed: int,
    *,
    population: str | Path | Population = BUILTIN,
    mechanism: CellMechanism | None = None,
    care: float | None = None,
    inclusion: Inclusion | None = None,
    observation: Observation | None = None,
    dropout: Dropout | None = None,
    rescue: Rescue | None = None,
    chunk: int = CHUNK,
    null: bool = False,
) -> Iterator[dict[str, pl.DataFrame]]:
    """Yield the collected tables ``chunk`` subjects at a time (arguments as ``generate``)."""
    settings = make_settings(design, n_subjects, seed=seed, dropout=dropout, rescue=rescue)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or not 1 <= chunk <= MAX_SUBJECTS:
        raise InvalidInput("qsp", "chunk", chunk, f"a whole number from 1 to {MAX_SUBJECTS}")
    run = _Run(
        settings,
        load_model(population, care=care, mechanism=mechanism),
        inclusion or Inclusion(),
        observation or Observation(),
        settings.dropout,
        settings.rescue,
        bool(null),
    )
    for index, first in enumerate(range(0, n_subjects, chunk)):
        yield _chunk(run, index, first, min(chunk, n_subjects - first))


def generate(
    design: Design,
    n_subjects: int,
    seed: int,
    *,
    population: str | Path | Population = BUILTIN,
    mechanism: CellMechanism | None = None,
    care: float | None = None,
    inclusion: Inclusion | None = None,
    observation: Observation | None = None,
    dropout: Dropout | None = None,
    rescue: Rescue | None = None,
    chunk: int = CHUNK,
    null: bool = False,
) -> dict[str, pl.DataFrame]:
    """Collected tables DM, EX, QS, LB, AE, CM, DS of ``n_subjects`` QSP virtual patients.

    ``population``: a model name or file (``load_model``); ``mechanism``/``care`` override the
    population's cell-therapy parameters and background care; ``inclusion`` the entry criteria;
    ``observation`` fluctuation, rater noise and labs; ``dropout``/``rescue`` as ``synth``;
    ``null=True`` gives every arm background care only (type I error). Same arguments, same
    tables. Bad arguments raise ``InvalidInput``.
    """
    parts = list(
        iter_generate(
            design,
            n_subjects,
            seed,
            population=population,
            mechanism=mechanism,
            care=care,
            inclusion=inclusion,
            observation=observation,
            dropout=dropout,
            rescue=rescue,
            chunk=chunk,
            null=null,
        )
    )
    return {name: pl.concat([p[name] for p in parts]) for name in parts[0]}


@dataclass(frozen=True)
class QSPGenerator:
    """``generate`` as a patient generator of the virtual-trial runner
    (``atopic.simulate.trials.PatientGenerator``)."""

    population: str = BUILTIN
    care: float | None = None
    mechanism: CellMechanism | None = None
    no_effect: bool = False

    def generate(self, design: Design, n_subjects: int, seed: int) -> dict[str, pl.DataFrame]:
        """The collected tables of one virtual trial."""
        return generate(
            design,
            n_subjects,
            seed,
            population=self.population,
            mechanism=self.mechanism,
            care=self.care,
            null=self.no_effect,
        )

    def null(self) -> QSPGenerator:
        """Every arm background care only (placebo response, noise and dropout kept)."""
        return replace(self, no_effect=True)

    def describe(self) -> str:
        """One line: the model, care and cell-therapy mechanism."""
        m = load_model(self.population, care=self.care, mechanism=self.mechanism)
        c = m.mechanism
        return (
            f"qsp (Miyano 2021 QSP model, population {m.name}, care {m.care:g}; MSC: half-life "
            f"{c.half_life_weeks:g} wk, T-cell Emax {c.tcell_emax:g}, EC50 {c.tcell_ec50:g}"
            f"x10^6{'; no effect' if self.no_effect else ''})"
        )
