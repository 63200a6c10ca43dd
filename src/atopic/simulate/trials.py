"""Virtual trials: run a design on fresh virtual cohorts and analyse every replicate with
``atopic.trial`` (derive + analyze: the code that analyses a real trial).

``simulate_trials(design, n_trials=..., seed=...)`` returns a ``TrialResults``: one row per
replicate x endpoint x comparison (``results``) and the operating characteristics per endpoint
and comparison (``summary``: power or type I error with its Monte Carlo CI, distribution of the
estimate). ``TrialResults.write(out)`` writes the tables, the figures and ``summary.html``.

Which test makes a replicate "significant" (decided once, here)
    Two-sided p-value below ``alpha`` (default 0.05; confidence intervals at ``1 - alpha``), arm
    vs control, each endpoint and comparison on its own (no multiplicity adjustment: the rate is
    the marginal power of that test).

    ========== =================================================== =====================================
    kind       test (ARD ANALYSIS, ESTIMAND)                       estimate
    ========== =================================================== =====================================
    responder  CMH test stratified by the randomization strata     CMH-weighted risk difference
               (``BIN-CMH``, composite: NRI for missing visits and (``BIN-CMH-RD``; Sato SE, stratified
               intercurrent events), at the endpoint's visit       MN CI), proportion -1..1
    continuous ANCOVA on arm + BASE + strata (``ANCOVA``, observed LS-mean difference (units of the
               values after composite intercurrent events set      variable: points for CHG, % for PCHG)
               missing); or with ``continuous="mmrm"`` the MMRM
               contrast at the endpoint's visit (``MMRM``, mar)
    ratio      log-scale ANCOVA of AVAL/BASE (``GMR-ANCOVA``,       ratio of geometric mean ratios
               observed)                                           (arm / control)
    ========== =================================================== =====================================

    Incidence (safety) endpoints have no test and are not simulated. A replicate whose analysis
    cannot be computed (e.g. a CMH test without variance, an arm without complete rows) counts as
    not significant, with the reason in NOTE; the summary counts them (N_NOT_ESTIMABLE).

Speed: replicates are processed in chunks. A chunk generates each replicate's collected tables,
gives its subjects distinct USUBJIDs (``R0000012-`` + the generator's USUBJID; the replicate key
is read back from this prefix), leaves out what no selected analysis reads (``trim_tables``: AE,
QS instruments and LB tests of other parameters), derives ADSL/BDS once over the stacked
tables, then runs
``atopic.trial.analyze.run.analyze`` restricted to one endpoint (``Options(endpoints=...)``) per
replicate. Chunks run on an engine of ``atopic.simulate.engines``.

Sweeps (``parse_sweep``, ``scenario_design``): ``subjects``, ``dose`` and ``followup`` take
numbers; ``schedule`` takes dosing schedules of the treated arm, weeks joined by ``+`` and points
separated by commas (``schedule=0,0+4,0+1+2``: one dose at week 0; weeks 0 and 4; weeks 0, 1, 2).
A schedule point's SWEEPVAL is its position in the sweep (1, 2, ...) and SWEEPLABEL says what it
is (``"weeks 0, 4"``); every point has a SWEEPLABEL (``"100"`` for numbers).

Reproducibility: replicate i of every sweep point has the i-th seed of
``engines.replicate_seeds(seed, n_trials)`` (common random numbers across sweep points), and each
replicate's data depend on that seed alone, so results are identical whatever the chunk size,
the number of workers or the engine.

The patient generator is pluggable (``PatientGenerator``): today ``SynthGenerator``
(``atopic.simulate.synth``, Emax dose response in ``Effects``); a mechanistic model plugs in by
implementing ``generate`` and ``null`` and being registered in ``GENERATORS``.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import polars as pl

from atopic.errors import Described, InvalidInput
from atopic.instruments import INSTRUMENTS
from atopic.simulate.engines import check_engine, replicate_seeds, run_tasks
from atopic.simulate.params import Dropout, Effects, Rescue
from atopic.simulate.synth import synthesize
from atopic.trial import analyses as ids
from atopic.trial.analyze.run import Options, analyze
from atopic.trial.derive.params import PARAMETER
from atopic.trial.derive.pipeline import derive_all
from atopic.trial.design import Arm, Design, Endpoint, Schedule, load_design

SUBJECT = "simulate"
TESTED_KINDS: tuple[str, ...] = ("responder", "continuous", "ratio")
CONTINUOUS_METHODS: tuple[str, ...] = ("ancova", "mmrm")
SWEEP_VARIABLES: tuple[str, ...] = ("subjects", "dose", "followup", "schedule")
MAX_TRIALS = 9_999_999
MAX_SUBJECTS = 1_000_000
CHUNK = 50
"""Replicates per chunk at most: large enough that derivation overhead is shared, small enough
that a chunk's tables stay small (about 60 ms of derivation per 100-subject replicate)."""
RESULT_SCHEMA: dict[str, pl.DataType] = {
    "SCENARIO": pl.Int64(),
    "SWEEP": pl.String(),
    "SWEEPVAL": pl.Float64(),
    "SWEEPLABEL": pl.String(),
    "SUBJECTS": pl.Int64(),
    "REPLICATE": pl.Int64(),
    "SEED": pl.Int64(),
    "ENDPOINT": pl.String(),
    "ROLE": pl.String(),
    "KIND": pl.String(),
    "PARAMCD": pl.String(),
    "AVISIT": pl.String(),
    "TEST": pl.String(),
    "ESTIMATOR": pl.String(),
    "ESTIMAND": pl.String(),
    "GROUP": pl.String(),
    "COMPARATOR": pl.String(),
    "DOSE": pl.Float64(),
    "N_GROUP": pl.Int64(),
    "N_COMPARATOR": pl.Int64(),
    "ESTIMATE": pl.Float64(),
    "SE": pl.Float64(),
    "CI_LOWER": pl.Float64(),
    "CI_UPPER": pl.Float64(),
    "P_VALUE": pl.Float64(),
    "SIGNIFICANT": pl.Boolean(),
    "REJECTS": pl.Int64(),
    "NOTE": pl.String(),
}
"""The long results table: one row per scenario x replicate x endpoint x comparison."""


# --- the patient generator ----------------------------------------------------------------------


@runtime_checkable
class PatientGenerator(Protocol):
    """What makes virtual patients: the collected tables of one virtual trial.

    ``generate(design, n_subjects, seed)`` returns ``{"DM", "EX", "QS", "LB", "AE"[, "CM", "DS"]}``
    as Polars frames of the collected-table shape (``atopic.tables.COLLECTED``) for ``n_subjects``
    randomized to ``design``'s arms, reading each arm's dose, route and schedule from the design;
    the same arguments must give the same tables. ``null()`` returns the generator with every
    arm's treatment effect set to the control's (placebo response, dropout and noise kept), for
    type I error. Instances must pickle (they travel to worker processes and Spark executors);
    ``describe()`` is one line for the report.
    """

    def generate(self, design: Design, n_subjects: int, seed: int) -> Mapping[str, pl.DataFrame]:
        """The collected tables of one virtual trial."""
        ...

    def null(self) -> PatientGenerator:
        """The same generator without any treatment effect."""
        ...

    def describe(self) -> str:
        """One line saying what the generator is and its main assumptions."""
        ...


@dataclass(frozen=True)
class SynthGenerator:
    """``atopic.simulate.synth.synthesize`` as a patient generator: latent-severity model with
    an Emax dose response (``effects``), dropout and rescue (``atopic.simulate.params``)."""

    effects: Effects = field(default_factory=Effects)
    dropout: Dropout = field(default_factory=Dropout)
    rescue: Rescue = field(default_factory=Rescue)

    def generate(self, design: Design, n_subjects: int, seed: int) -> dict[str, pl.DataFrame]:
        """Synthetic collected tables (``synthesize(design, n_subjects, seed=seed, ...)``)."""
        return synthesize(
            design,
            n_subjects,
            seed=seed,
            effects=self.effects,
            dropout=self.dropout,
            rescue=self.rescue,
        )

    def null(self) -> SynthGenerator:
        """No product effect: Emax 0 (severity) and no IgE effect; placebo response kept."""
        return replace(self, effects=replace(self.effects, emax=0.0, ige_effect=0.0))

    def describe(self) -> str:
        """One line: the model and its dose-response assumption."""
        e = self.effects
        return (
            f"synth (latent severity; Emax dose response emax={e.emax:g}, ed50={e.ed50:g}, "
            f"hill={e.hill:g}; placebo {e.placebo:g})"
        )


def _qsp() -> PatientGenerator:
    """The mechanistic QSP generator (``atopic.simulate.qsp``; imported only when chosen)."""
    from atopic.simulate.qsp import QSPGenerator

    return QSPGenerator()


GENERATORS: dict[str, Callable[[], PatientGenerator]] = {"synth": SynthGenerator, "qsp": _qsp}
"""Generators by name (``atopic simulate --generator NAME``); a model registers itself here."""


# --- scenarios and sweeps -----------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One point of a sweep: subjects per trial, and optionally the dose of the treated arm
    (designs with one treated arm), the follow-up (AVISITN of the last analysis visit) or the
    dosing schedule of the treated arm (``weeks``; ``value`` is then the point's position in
    the sweep, 1, 2, ...)."""

    subjects: int
    sweep: str | None = None
    value: float | None = None
    weeks: tuple[int, ...] | None = None

    @property
    def label(self) -> str | None:
        """The point as a reader sees it: ``"100"``, ``"weeks 0, 4"``; None without a sweep."""
        if self.sweep is None:
            return None
        if self.weeks is not None:
            return schedule_label(self.weeks)
        return f"{self.value:g}"


SCHEDULE_ALLOWED = (
    "whole weeks from 0, ascending, without repeats, joined by + (e.g. 0+4 for doses at weeks 0 "
    "and 4); sweep points separated by commas, e.g. schedule=0,0+4,0+1+2"
)


def schedule_label(weeks: Sequence[int]) -> str:
    """``(0,)`` -> ``"week 0"``; ``(0, 4)`` -> ``"weeks 0, 4"``."""
    return ("week " if len(weeks) == 1 else "weeks ") + ", ".join(str(w) for w in weeks)


def parse_schedule(text: str) -> tuple[int, ...]:
    """One dosing schedule of a schedule sweep: ``"0+1+2"`` -> ``(0, 1, 2)`` (weeks of dosing,
    week 0 the first dose, as ``schedule = { weeks = [...] }`` in a design).

    Decided once: within a sweep point the weeks are joined by ``+`` (commas already separate the
    sweep's points). Whole weeks >= 0, strictly ascending (no repeats); anything else raises
    ``InvalidInput`` naming the point, the value and what is allowed.
    """
    field_name = "sweep schedule"
    parts = text.split("+")
    weeks: list[int] = []
    for part in parts:
        item = part.strip()
        if not (item.isascii() and item.isdigit()):  # refuses "", "-1", "1.5", "a", "1e3"
            raise InvalidInput(SUBJECT, field_name, item if item else text, SCHEDULE_ALLOWED)
        weeks.append(int(item))
    if len(set(weeks)) != len(weeks):
        raise InvalidInput(SUBJECT, field_name, text, "weeks without repeats (e.g. 0+4)")
    if weeks != sorted(weeks):
        raise InvalidInput(SUBJECT, field_name, text, "weeks in ascending order (0+4, not 4+0)")
    return tuple(weeks)


SweepValues = tuple[float, ...] | tuple[tuple[int, ...], ...]
"""The points of a sweep: numbers (subjects, dose, follow-up) or schedules (tuples of weeks)."""


def parse_sweep(text: str) -> tuple[str, SweepValues]:
    """``"subjects=60,100,150"`` -> ``("subjects", (60.0, 100.0, 150.0))``;
    ``"schedule=0,0+4,0+1+2"`` -> ``("schedule", ((0,), (0, 4), (0, 1, 2)))`` (weeks of dosing
    of the treated arm, joined by ``+``: ``parse_schedule``); InvalidInput otherwise."""
    allowed = "VARIABLE=V1,V2,... with VARIABLE one of " + ", ".join(SWEEP_VARIABLES)
    if not isinstance(text, str) or "=" not in text:
        raise InvalidInput(SUBJECT, "sweep", text, allowed)
    name, _, values = text.partition("=")
    name = name.strip()
    if name not in SWEEP_VARIABLES:
        raise InvalidInput(SUBJECT, "sweep", name, "one of " + ", ".join(SWEEP_VARIABLES))
    parts = [v.strip() for v in values.split(",") if v.strip()]
    if name == "schedule":
        schedules = tuple(parse_schedule(part) for part in parts)
        if not schedules:
            raise InvalidInput(SUBJECT, "sweep schedule", values, SCHEDULE_ALLOWED)
        if len(set(schedules)) != len(schedules):
            raise InvalidInput(SUBJECT, "sweep schedule", values, "schedules without repeats")
        return name, schedules
    numbers = []
    for part in parts:
        try:
            number = float(part)
        except ValueError:
            raise InvalidInput(SUBJECT, f"sweep {name}", part, "a number") from None
        if not math.isfinite(number):
            raise InvalidInput(SUBJECT, f"sweep {name}", part, "a finite number")
        numbers.append(number)
    if not numbers:
        raise InvalidInput(SUBJECT, f"sweep {name}", values, "at least one value")
    if len(set(numbers)) != len(numbers):
        raise InvalidInput(SUBJECT, f"sweep {name}", values, "values without repeats")
    return name, tuple(numbers)


def _whole(value: Any, name: str, minimum: int, maximum: int) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= maximum
    if not ok:
        raise InvalidInput(SUBJECT, name, value, f"a whole number from {minimum} to {maximum}")
    return value


def _treated_arm(design: Design, field_name: str) -> Arm:
    """The one treated (non-control) arm of a design; InvalidInput when there are several."""
    treated = [a for a in design.arms if not a.control]
    if len(treated) != 1:
        raise InvalidInput(
            SUBJECT,
            field_name,
            Described(f"a design with {len(treated)} treated arms"),
            "a design with exactly one treated arm besides the control (the arms of a "
            "dose-ranging design already give power by dose)",
        )
    return treated[0]


def scenario_design(design: Design, scenario: Scenario) -> Design:
    """The design of one sweep point (module docstring of ``parse_sweep`` for the variables).

    ``dose``: the one treated arm (non-control) gets the dose (> 0, the arm's unit) and the label
    ``"<product> <dose> <unit>"``. ``followup``: the visits up to that AVISITN are kept and every
    endpoint after it moves to the last kept visit. ``schedule``: the one treated arm gets
    ``Schedule("week", weeks)`` (its label is kept, so the power curve is one line); a placebo
    control (dose 0) gets the same schedule, as a blinded trial gives matching placebo, while an
    active control keeps its own. Every dose must fall on or before the last visit's target day
    (week w is study day 7 w + 1). The QSP generator superposes the exposure of every dose
    (``observe.arm_treatment``); the synth generator writes one EX record per dose, but its
    efficacy follows the dose alone (``params.Effects``), so only the QSP generator shows a
    schedule's effect on power.
    """
    if scenario.sweep == "schedule":
        arm = _treated_arm(design, "sweep schedule")
        weeks = scenario.weeks or ()
        last = design.visits[-1]
        latest = (last.target - 1) // 7
        late = [w for w in weeks if 7 * w + 1 > last.target]
        if not weeks or late:
            raise InvalidInput(
                SUBJECT,
                "sweep schedule",
                schedule_label(weeks) if weeks else None,
                f"weeks of dosing on or before the last visit ({last.avisit}, study day "
                f"{last.target}: week {latest} at the latest)",
            )
        schedule = Schedule("week", tuple(int(w) for w in weeks))
        arms = tuple(
            replace(a, schedule=schedule) if a is arm or (a.control and a.dose <= 0) else a
            for a in design.arms
        )
        return replace(design, arms=arms)
    if scenario.sweep == "dose":
        arm = _treated_arm(design, "sweep dose")
        dose = float(scenario.value or 0.0)
        if dose <= 0:
            raise InvalidInput(SUBJECT, "sweep dose", dose, "doses above 0 (0 is the control)")
        label = f"{arm.product} {dose:g} {arm.dose_unit}"
        arms = tuple(replace(a, dose=dose, label=label) if a is arm else a for a in design.arms)
        return replace(design, arms=arms)
    if scenario.sweep == "followup":
        post = [v.avisitn for v in design.post_baseline]
        if scenario.value not in post:
            raise InvalidInput(
                SUBJECT,
                "sweep followup",
                scenario.value,
                "the AVISITN of a post-baseline visit: " + ", ".join(f"{v:g}" for v in post),
            )
        visits = tuple(v for v in design.visits if v.avisitn <= float(scenario.value))
        kept = {v.avisit for v in visits}
        last = visits[-1].avisit
        endpoints = tuple(
            e if e.avisit is None or e.avisit in kept else replace(e, avisit=last)
            for e in design.endpoints
        )
        return replace(design, visits=visits, endpoints=endpoints)
    return design


def scenarios(
    design: Design, subjects: int | None, sweep: str | None
) -> tuple[tuple[Scenario, ...], str | None]:
    """The sweep points (one without a sweep), checked against the design."""
    planned = design.randomization.planned_subjects
    name, values = parse_sweep(sweep) if sweep is not None else (None, ())
    if name == "subjects":
        if subjects is not None:
            raise InvalidInput(
                SUBJECT, "subjects", subjects, "left out when the sweep varies subjects"
            )
        out = []
        for v in values:
            if v != int(v) or not 2 <= v <= MAX_SUBJECTS:
                raise InvalidInput(
                    SUBJECT, "sweep subjects", v, f"whole numbers from 2 to {MAX_SUBJECTS}"
                )
            out.append(Scenario(int(v), "subjects", v))
        return tuple(out), name
    if subjects is None:
        if planned is None:
            raise InvalidInput(
                SUBJECT,
                "subjects",
                None,
                "a number of subjects per trial (the design has no planned_subjects)",
            )
        subjects = planned
    _whole(subjects, "subjects", 2, MAX_SUBJECTS)
    if name is None:
        return (Scenario(subjects),), None
    schedules = [v for v in values if isinstance(v, tuple)]
    numbers = [float(v) for v in values if not isinstance(v, tuple)]
    points = (
        tuple(Scenario(subjects, name, float(i + 1), weeks=w) for i, w in enumerate(schedules))
        if name == "schedule"
        else tuple(Scenario(subjects, name, v) for v in numbers)
    )
    for point in points:
        scenario_design(design, point)  # refuses bad values before any work
    return points, name


def select_endpoints(design: Design, endpoints: Sequence[str] | None) -> tuple[Endpoint, ...]:
    """The endpoints to simulate: the given ids, or every endpoint with a test (TESTED_KINDS)."""
    tested = [e for e in design.endpoints if e.kind in TESTED_KINDS]
    if endpoints is None:
        return tuple(tested)
    if isinstance(endpoints, str) or not endpoints:
        raise InvalidInput(SUBJECT, "endpoints", endpoints, "a non-empty list of endpoint ids")
    by_id = {e.id: e for e in design.endpoints}
    allowed = ", ".join(e.id for e in tested)
    for ident in endpoints:
        if ident not in by_id or by_id[ident].kind not in TESTED_KINDS:
            raise InvalidInput(
                SUBJECT, "endpoint", ident, f"an endpoint with a test in the design: {allowed}"
            )
    return tuple(e for e in design.endpoints if e.id in endpoints)


# --- one chunk of replicates --------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """How every replicate is analysed."""

    endpoints: tuple[str, ...]
    alpha: float = 0.05
    continuous: str = "ancova"


@dataclass(frozen=True)
class Chunk:
    """A picklable unit of work: replicates of one scenario with their seeds."""

    design: Design
    scenario: Scenario
    index: int
    generator: PatientGenerator
    replicates: tuple[int, ...]
    seeds: tuple[int, ...]
    settings: Settings


def _key(replicate: int) -> str:
    return f"R{replicate:07d}-"


def stack_replicates(
    generator: PatientGenerator,
    design: Design,
    n_subjects: int,
    replicates: Sequence[int],
    seeds: Sequence[int],
) -> dict[str, pl.DataFrame]:
    """The collected tables of several replicates stacked, each USUBJID prefixed with its
    replicate key ``R<7 digits>-``."""
    parts: dict[str, list[pl.DataFrame]] = {}
    for replicate, seed in zip(replicates, seeds, strict=True):
        tables = generator.generate(design, n_subjects, seed)
        prefix = _key(replicate)
        for name, frame in tables.items():
            keyed = frame.with_columns((pl.lit(prefix) + pl.col("USUBJID")).alias("USUBJID"))
            parts.setdefault(name, []).append(keyed)
    return {name: pl.concat(frames, how="vertical_relaxed") for name, frames in parts.items()}


BASELINE_PARAMETERS: tuple[str, ...] = ("EASI", "IGA")
"""Parameters always derived: ADSL's baseline severity (BLEASI, BLIGA)."""


def needed_parameters(design: Design, endpoints: Sequence[str]) -> set[str]:
    """BDS parameters the analyses of ``endpoints`` read: theirs, the strata's, and
    ``BASELINE_PARAMETERS``."""
    chosen = {e.paramcd for e in design.endpoints if e.id in endpoints}
    strata = {s.paramcd for s in design.randomization.strata if s.paramcd}
    return chosen | strata | set(BASELINE_PARAMETERS)


def trim_tables(
    tables: Mapping[str, pl.DataFrame], parameters: set[str]
) -> dict[str, pl.DataFrame]:
    """The collected tables without what no selected analysis reads: AE (safety is not
    simulated), the QS rows of instruments and the LB rows of tests of other parameters.
    Derivations are per subject and parameter, so the analysed records are unchanged (a test
    compares them with the untrimmed derivation)."""
    params = [PARAMETER[p] for p in parameters if p in PARAMETER]
    qscat = {INSTRUMENTS[p.instrument].qscat for p in params if p.instrument}
    lbtest = {p.lbtestcd for p in params if p.lbtestcd}
    out = {}
    for name, frame in tables.items():
        if name == "AE":
            continue
        if name == "QS":
            frame = frame.filter(pl.col("QSCAT").is_in(sorted(qscat)))
        elif name == "LB":
            frame = frame.filter(pl.col("LBTESTCD").is_in(sorted(lbtest)))
        out[name] = frame
    return out


def _replicate(column: str = "USUBJID") -> pl.Expr:
    return pl.col(column).str.slice(1, 7).cast(pl.Int64).alias("REPLICATE")


def derive_replicates(
    generator: PatientGenerator,
    design: Design,
    n_subjects: int,
    replicates: Sequence[int],
    seeds: Sequence[int],
    parameters: set[str] | None = None,
) -> dict[str, pl.DataFrame]:
    """ADSL, BDS, ADAE and REJECTS of several replicates, derived in one ``derive_all`` call;
    each table gains REPLICATE (read from the USUBJID prefix). With ``parameters``, the tables
    are trimmed to them first (``trim_tables``; ADAE is then empty)."""
    tables = stack_replicates(generator, design, n_subjects, replicates, seeds)
    if parameters is not None:
        tables = trim_tables(tables, parameters)
    derived = derive_all(tables, design)
    derived.setdefault("ADAE", pl.DataFrame({"USUBJID": []}, schema={"USUBJID": pl.String}))
    out = {}
    for name in ("ADSL", "BDS", "ADAE"):
        out[name] = pl.DataFrame(derived[name]).with_columns(_replicate())
    rejects = derived["REJECTS"]
    out["REJECTS"] = rejects.with_columns(
        pl.when(pl.col("USUBJID").str.starts_with("R")).then(_replicate()).alias("REPLICATE")
    )
    return out


def _options(endpoint: Endpoint, settings: Settings) -> Options:
    return Options(
        endpoints=(endpoint.id,),
        conf_level=1 - settings.alpha,
        descriptive=False,
        safety=False,
        biomarkers=endpoint.kind == "ratio",
        all_visits=False,
        sensitivity=False,
        mi=False,
        mmrm=endpoint.kind == "continuous" and settings.continuous == "mmrm",
        dose_response=False,
    )


def _test_of(endpoint: Endpoint, settings: Settings) -> tuple[str, str, str, str]:
    """(ARD PARAMCD, test ANALYSIS, estimate ANALYSIS, ESTIMAND) of an endpoint."""
    if endpoint.kind == "responder":
        return endpoint.criterion or endpoint.id, ids.BIN_CMH, ids.BIN_CMH_RD, "composite"
    if endpoint.kind == "continuous":
        param = f"{endpoint.paramcd}:{endpoint.variable or 'CHG'}"
        if settings.continuous == "mmrm":
            return param, ids.MMRM, ids.MMRM, "mar"
        return param, ids.ANCOVA, ids.ANCOVA, "observed"
    return endpoint.paramcd, ids.GMR_ANCOVA, ids.GMR_ANCOVA, "observed"


def _counts(ard: pl.DataFrame, endpoint: Endpoint, param: str, visit: str) -> dict[str, float]:
    """Subjects analysed per arm (BIN-RATE N, ANCOVA / GMR-ANCOVA N)."""
    analysis = {"responder": ids.BIN_RATE, "continuous": ids.ANCOVA, "ratio": ids.GMR_ANCOVA}
    part = ard.filter(
        (pl.col("ANALYSIS") == analysis[endpoint.kind])
        & (pl.col("PARAMCD") == param)
        & (pl.col("AVISIT") == visit)
        & (pl.col("STAT") == "N")
        & pl.col("GROUP").is_not_null()
        & pl.col("COMPARATOR").is_null()
    )
    return dict(part.select("GROUP", "VALUE").iter_rows())


def _stats(
    ard: pl.DataFrame, analysis: str, param: str, visit: str, estimand: str
) -> dict[str, dict[str, float | None]]:
    part = ard.filter(
        (pl.col("ANALYSIS") == analysis)
        & (pl.col("PARAMCD") == param)
        & (pl.col("AVISIT") == visit)
        & (pl.col("ESTIMAND") == estimand)
        & pl.col("COMPARATOR").is_not_null()
    )
    out: dict[str, dict[str, float | None]] = {}
    for group, stat, value, reason in part.select("GROUP", "STAT", "VALUE", "VALUEC").iter_rows():
        out.setdefault(group, {})[stat] = value
        if value is None and reason:
            out[group].setdefault("_reason", reason)  # type: ignore[arg-type]
    return out


def _endpoint_rows(
    ard: pl.DataFrame | None,
    error: str | None,
    endpoint: Endpoint,
    design: Design,
    settings: Settings,
) -> list[dict[str, Any]]:
    param, test, estimator, estimand = _test_of(endpoint, settings)
    visit = endpoint.avisit or design.post_baseline[-1].avisit
    control = design.control.label
    tests = estimates = {}
    counts: dict[str, float] = {}
    if ard is not None:
        tests = _stats(ard, test, param, visit, estimand)
        estimates = _stats(ard, estimator, param, visit, estimand)
        counts = _counts(ard, endpoint, param, visit)
    out = []
    for arm in design.arms:
        if arm.control:
            continue
        t, e = tests.get(arm.label, {}), estimates.get(arm.label, {})
        p = t.get("p_value")
        note = error
        if note is None and p is None:
            note = str(t.get("_reason") or "no result: the arm or the control has no subject")
        n_group, n_control = counts.get(arm.label), counts.get(control)
        out.append(
            {
                "ENDPOINT": endpoint.id,
                "ROLE": endpoint.role,
                "KIND": endpoint.kind,
                "PARAMCD": param,
                "AVISIT": visit,
                "TEST": test,
                "ESTIMATOR": estimator,
                "ESTIMAND": estimand,
                "GROUP": arm.label,
                "COMPARATOR": control,
                "DOSE": arm.dose,
                "N_GROUP": None if n_group is None else int(n_group),
                "N_COMPARATOR": None if n_control is None else int(n_control),
                "ESTIMATE": e.get("estimate"),
                "SE": e.get("se"),
                "CI_LOWER": e.get("ci_lower"),
                "CI_UPPER": e.get("ci_upper"),
                "P_VALUE": p,
                "SIGNIFICANT": p is not None and p < settings.alpha,
                "NOTE": note,
            }
        )
    return out


def run_chunk(chunk: Chunk) -> pl.DataFrame:
    """Generate, derive (once) and analyse the chunk's replicates: rows of ``RESULT_SCHEMA``."""
    design = scenario_design(chunk.design, chunk.scenario)
    n = chunk.scenario.subjects
    needed = needed_parameters(design, chunk.settings.endpoints)
    derived = derive_replicates(chunk.generator, design, n, chunk.replicates, chunk.seeds, needed)
    parts = {
        name: derived[name].partition_by("REPLICATE", as_dict=True, include_key=False)
        for name in ("ADSL", "BDS", "ADAE")
    }
    rejects = dict(
        derived["REJECTS"].group_by("REPLICATE").len().drop_nulls("REPLICATE").iter_rows()
    )
    endpoints = [e for e in design.endpoints if e.id in chunk.settings.endpoints]
    records: list[dict[str, Any]] = []
    for replicate, seed in zip(chunk.replicates, chunk.seeds, strict=True):
        frames = {
            name: parts[name].get((replicate,), derived[name].clear().drop("REPLICATE"))
            for name in parts
        }
        for endpoint in endpoints:
            ard, error = None, None
            try:
                ard = analyze(
                    frames["ADSL"],
                    frames["BDS"],
                    frames["ADAE"],
                    design,
                    _options(endpoint, chunk.settings),
                )
            except InvalidInput as problem:
                error = problem.message
            except (np.linalg.LinAlgError, ArithmeticError) as problem:
                error = f"{type(problem).__name__}: {problem}"
            for row in _endpoint_rows(ard, error, endpoint, design, chunk.settings):
                row |= {
                    "SCENARIO": chunk.index,
                    "SWEEP": chunk.scenario.sweep,
                    "SWEEPVAL": chunk.scenario.value,
                    "SWEEPLABEL": chunk.scenario.label,
                    "SUBJECTS": n,
                    "REPLICATE": replicate,
                    "SEED": seed,
                    "REJECTS": rejects.get(replicate, 0),
                }
                records.append(row)
    return pl.DataFrame(records, schema=RESULT_SCHEMA, orient="row")


# --- the run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrialResults:
    """A virtual-trial run: ``results`` (RESULT_SCHEMA), ``summary`` (``power.summarise``), the
    run's settings and timing (``elapsed`` seconds, ``replicates`` analysed)."""

    design: Design
    results: pl.DataFrame
    summary: pl.DataFrame
    settings: dict[str, Any]
    generator: PatientGenerator
    scenarios: tuple[Scenario, ...]
    elapsed: float
    replicates: int

    @property
    def replicates_per_second(self) -> float:
        """Replicates (trials) generated, derived and analysed per second of wall time."""
        return self.replicates / self.elapsed if self.elapsed > 0 else math.inf

    def write(self, out: str | os.PathLike[str], *, figures: bool = True) -> dict[str, Path]:
        """Write results, summary (Parquet + CSV), figures (SVG + PNG) and summary.html."""
        from atopic.simulate.figures import write_outputs

        return write_outputs(self, Path(out), figures=figures)


def _picklable(design: Design) -> Design:
    """The design with plain dicts where it holds read-only mappings (which do not pickle)."""
    strata = tuple(
        replace(s, level_map=dict(s.level_map)) if s.level_map is not None else s
        for s in design.randomization.strata
    )
    return replace(design, randomization=replace(design.randomization, strata=strata))


def chunk_size(n_trials: int, workers: int, chunk: int | None = None) -> int:
    """Replicates per chunk: ``chunk`` if given, else at most ``CHUNK`` with about four chunks
    per worker (load balance)."""
    if chunk is not None:
        return _whole(chunk, "chunk", 1, MAX_TRIALS)
    return max(1, min(CHUNK, math.ceil(n_trials / (4 * workers)) if workers > 1 else CHUNK))


def simulate_trials(
    design: Design | str | os.PathLike[str],
    *,
    n_trials: int,
    seed: int,
    subjects: int | None = None,
    generator: PatientGenerator | None = None,
    sweep: str | None = None,
    null: bool = False,
    endpoints: Sequence[str] | None = None,
    alpha: float = 0.05,
    continuous: str = "ancova",
    engine: str = "local",
    workers: int = 1,
    chunk: int | None = None,
    spark_master: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> TrialResults:
    """Run ``n_trials`` virtual trials of ``design`` (a Design, a TOML path or TOML text) at each
    sweep point and analyse every one with atopic.trial (module docstring).

    ``subjects``: per trial (default the design's planned_subjects); ``sweep``:
    ``"subjects=60,100"``, ``"dose=10,25,50"`` (one treated arm), ``"followup=8,12,16"``
    (AVISITN of the last visit) or ``"schedule=0,0+4,0+1+2"`` (weeks of dosing of the one
    treated arm, joined by ``+``: ``parse_schedule``, ``scenario_design``); ``null=True``: no treatment effect (type I error); ``endpoints``:
    ids (default every responder, continuous and ratio endpoint); ``alpha``: two-sided level;
    ``continuous``: "ancova" or "mmrm"; ``engine`` "local" or "spark" with ``workers`` processes
    (or Spark's ``local[workers]``, or ``spark_master``); ``progress(k)`` is told as k more
    replicates finish. Bad arguments raise ``InvalidInput`` naming the field.
    """
    if not isinstance(design, Design):
        design = load_design(design)
    _whole(n_trials, "n_trials", 1, MAX_TRIALS)
    _whole(seed, "seed", 0, 2**63 - 1)
    check_engine(engine, workers)
    if not isinstance(alpha, float | int) or isinstance(alpha, bool) or not 0 < alpha < 1:
        raise InvalidInput(SUBJECT, "alpha", alpha, "a number between 0 and 1 (e.g. 0.05)")
    if continuous not in CONTINUOUS_METHODS:
        raise InvalidInput(
            SUBJECT, "continuous", continuous, "one of " + ", ".join(CONTINUOUS_METHODS)
        )
    gen = generator if generator is not None else SynthGenerator()
    if not isinstance(gen, PatientGenerator):
        raise InvalidInput(
            SUBJECT, "generator", gen, "a PatientGenerator (generate, null and describe)"
        )
    if null:
        gen = gen.null()
    points, _ = scenarios(design, subjects, sweep)
    chosen = select_endpoints(design, endpoints)
    if not chosen:
        raise InvalidInput(
            SUBJECT,
            "endpoints",
            Described("none with a test"),
            "a design with a responder, continuous or ratio endpoint",
        )
    settings = Settings(tuple(e.id for e in chosen), float(alpha), continuous)
    seeds = replicate_seeds(seed, n_trials)
    size = chunk_size(n_trials, workers, chunk)
    shipped = _picklable(design)
    tasks = [
        Chunk(
            shipped,
            point,
            index,
            gen,
            tuple(range(first, min(first + size, n_trials))),
            seeds[first : first + size],
            settings,
        )
        for index, point in enumerate(points)
        for first in range(0, n_trials, size)
    ]
    start = time.perf_counter()
    frames = run_tasks(
        run_chunk,
        tasks,
        engine=engine,
        workers=workers,
        master=spark_master,
        progress=progress,
        weights=[len(t.replicates) for t in tasks],
    )
    elapsed = time.perf_counter() - start
    results = pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()
    from atopic.simulate.power import summarise

    summary = summarise(results, null=null)
    info = {
        "studyid": design.study.studyid,
        "title": design.study.title,
        "n_trials": n_trials,
        "seed": seed,
        "subjects": subjects,
        "sweep": sweep,
        "null": null,
        "alpha": float(alpha),
        "continuous": continuous,
        "endpoints": list(settings.endpoints),
        "generator": gen.describe(),
        "engine": engine,
        "workers": workers,
        "chunk": size,
    }
    return TrialResults(
        design=design,
        results=results,
        summary=summary,
        settings=info,
        generator=gen,
        scenarios=points,
        elapsed=elapsed,
        replicates=n_trials * len(points),
    )
