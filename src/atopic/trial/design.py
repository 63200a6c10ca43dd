"""A trial design, read from a TOML file a statistician can read and review.

``load_design(path_or_text)`` returns a frozen ``Design``; every fault raises
``InvalidInput("design", "<path>", value, allowed)`` where ``<path>`` names the TOML field with
0-based positions in arrays (``arms[1].ratio`` is the ratio of the *second* arm). Unknown keys are
refused, so a typo never passes unnoticed. ``examples/trial/design.toml`` is the demo trial.

Sections (see the example file for every field):

``[study]``
    ``studyid``, ``title``.
``[[arms]]``
    ``code``, ``label``, ``product``, ``dose`` (a number, 0 for placebo), ``dose_unit`` (CDISC
    UNIT, e.g. ``"10^6 Therapeutic Cells"``: 2.5x10^7 cells is dose 25), ``route`` (CDISC ROUTE),
    ``schedule = { weeks = [0] }`` or ``{ days = [1] }`` (administrations; study days have no day
    0), ``ratio`` (whole number), ``control = true`` for the one comparator. The order of the arms
    gives TRT01PN (1, 2, ...).
``[randomization]``
    ``block_sizes`` (each a multiple of the sum of the ratios), ``planned_subjects`` (optional)
    and ``[[randomization.strata]]``: ``name``, ``variable`` (ADSL ``STRATwR``), ``levels`` and
    how a subject's level is derived from the collected tables: ``source = "baseline"`` (the
    baseline value of ``paramcd``), ``"dm"`` (DM ``column``) or ``"age_phase"`` (AGEGR1). Values
    become levels by ``map`` (level -> the values it holds) or, for numbers, by ``cuts``
    (ascending; level i holds cuts[i-1] <= value < cuts[i]); without either, a value is its own
    level. ``randomization_plan()`` gives the registry's randomization these pieces as plain data.
``[visits]``
    ``baseline`` names the baseline visit; ``[[visits.schedule]]`` lists every analysis visit:
    ``avisit``, ``avisitn``, ``target``, ``low``, ``high`` (study days, no day 0). Windows are
    ascending and do not overlap; the baseline window ends on day 1 (the first-dose day).
``[[criteria]]``
    Responder criteria: ``name`` (CRITy text), ``paramcd``, ``responder`` (all must hold, e.g.
    ``["AVAL <= 1", "CHG <= -2"]``), ``eligible`` (optional: a subject whose baseline fails it is
    not evaluated, e.g. ``["BASE >= 4"]`` for a 4-point itch improvement). Conditions compare
    AVAL, BASE, CHG or PCHG with a number by ``<``, ``<=``, ``>``, ``>=`` or ``==``.
``[[endpoints]]``
    ``id``, ``role`` (primary, secondary, safety), ``kind`` (responder, continuous, ratio,
    incidence), ``paramcd``, ``criterion`` (responder) or ``variable`` (continuous: AVAL, CHG,
    PCHG), ``avisit`` (an analysis visit; optional for incidence), ``population`` (ITTFL, SAFFL,
    PPROTFL).
``[[intercurrent_events]]``
    ``event`` (``rescue``: a CM record whose CMCAT is ``cmcat``, default RESCUE, dated by CMSTDTC;
    ``discontinuation``: a DS record whose DSDECOD is not COMPLETED, dated by DSSTDTC) and
    ``strategy``: ``treatment_policy`` (use the data as observed) or ``composite`` (a responder
    after the event is a non-responder; a continuous value after it is set missing).
``[safety]``
    ``teae_window_days``: an adverse event is treatment-emergent when it starts on or after the
    first dose and at most this many days after the last dose.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from atopic.errors import Described, InvalidInput
from atopic.tables.analysis import AGE_PHASES
from atopic.tables.collected import DOSE_UNITS, ROUTES

SUBJECT = "design"
ROLES: tuple[str, ...] = ("primary", "secondary", "safety")
KINDS: tuple[str, ...] = ("responder", "continuous", "ratio", "incidence")
POPULATIONS: tuple[str, ...] = ("ITTFL", "SAFFL", "PPROTFL")
STRATEGIES: tuple[str, ...] = ("treatment_policy", "composite")
EVENTS: tuple[str, ...] = ("rescue", "discontinuation")
STRATUM_SOURCES: tuple[str, ...] = ("baseline", "dm", "age_phase")
CONDITION_VARIABLES: tuple[str, ...] = ("AVAL", "BASE", "CHG", "PCHG")
CONTINUOUS_VARIABLES: tuple[str, ...] = ("AVAL", "CHG", "PCHG")
OPERATORS: tuple[str, ...] = ("<=", ">=", "==", "<", ">")
_CONDITION = re.compile(r"^\s*([A-Z]+)\s*(<=|>=|==|<|>)\s*(-?[0-9]+(?:\.[0-9]+)?)\s*$")
_STRAT = re.compile(r"STRAT[1-9]R")
_PARAMCD = re.compile(r"[A-Z][A-Z0-9]{0,7}")


# --- the design as data -------------------------------------------------------------------------


@dataclass(frozen=True)
class Study:
    """The study identifier (STUDYID) and a title."""

    studyid: str
    title: str


@dataclass(frozen=True)
class Schedule:
    """When an arm's product is given: ``unit`` "day" (study days, first dose day 1) or "week"
    (week 0 is the first dose), ``at`` the administrations in ascending order."""

    unit: str
    at: tuple[int, ...]

    @property
    def administrations(self) -> int:
        """The number of administrations the schedule plans."""
        return len(self.at)


@dataclass(frozen=True)
class Arm:
    """One arm. ``number`` is its 1-based position in the design (TRT01PN); ``dose`` is in
    ``dose_unit`` (EXDOSE/EXDOSU), 0 for placebo."""

    code: str
    label: str
    product: str
    dose: float
    dose_unit: str
    route: str
    schedule: Schedule
    ratio: int
    control: bool
    number: int


@dataclass(frozen=True)
class Stratum:
    """A stratification factor: ``name`` (as the randomization knows it), ``variable`` (ADSL
    STRATwR), ``levels``, and its derivation: ``source`` baseline/dm/age_phase with ``paramcd``
    (baseline) or ``column`` (dm), and ``cuts`` or ``level_map`` (level -> values)."""

    name: str
    variable: str
    levels: tuple[str, ...]
    source: str
    paramcd: str | None = None
    column: str | None = None
    cuts: tuple[float, ...] | None = None
    level_map: Mapping[str, tuple[Any, ...]] | None = field(default=None, hash=False)


@dataclass(frozen=True)
class Randomization:
    """Allocation: block sizes, strata and (optionally) the planned number of subjects."""

    block_sizes: tuple[int, ...]
    strata: tuple[Stratum, ...]
    planned_subjects: int | None = None


@dataclass(frozen=True)
class Visit:
    """An analysis visit and its window in study days (no day 0): AVISIT, AVISITN, the target day
    (AWTARGET) and the first and last day of the window (AWLO, AWHI), all inclusive."""

    avisit: str
    avisitn: float
    target: int
    low: int
    high: int


@dataclass(frozen=True)
class Condition:
    """``variable op value``, e.g. PCHG <= -75."""

    variable: str
    op: str
    value: float

    def __str__(self) -> str:
        number = int(self.value) if self.value == int(self.value) else self.value
        return f"{self.variable} {self.op} {number}"


@dataclass(frozen=True)
class Criterion:
    """A responder criterion on one parameter: responder when every ``responder`` condition holds;
    evaluated only for subjects whose record meets every ``eligible`` condition."""

    name: str
    paramcd: str
    responder: tuple[Condition, ...]
    eligible: tuple[Condition, ...] = ()

    @property
    def text(self) -> str:
        """The CRITy text: ``"EASI-75: PCHG <= -75"``."""
        return f"{self.name}: " + " and ".join(str(c) for c in self.responder)


@dataclass(frozen=True)
class Endpoint:
    """An endpoint of the protocol."""

    id: str
    role: str
    kind: str
    paramcd: str
    avisit: str | None
    population: str
    criterion: str | None = None
    variable: str | None = None


@dataclass(frozen=True)
class IntercurrentEvent:
    """An intercurrent event and the strategy that handles it (ICH E9(R1))."""

    event: str
    strategy: str
    cmcat: str | None = None


@dataclass(frozen=True)
class Design:
    """A whole trial design; build it with ``load_design``."""

    study: Study
    arms: tuple[Arm, ...]
    randomization: Randomization
    baseline_visit: str
    visits: tuple[Visit, ...]
    criteria: tuple[Criterion, ...]
    endpoints: tuple[Endpoint, ...]
    intercurrent_events: tuple[IntercurrentEvent, ...]
    teae_window_days: int

    def arm(self, code: str) -> Arm:
        """The arm with ``code`` (KeyError when there is none)."""
        for arm in self.arms:
            if arm.code == code:
                return arm
        raise KeyError(code)

    @property
    def control(self) -> Arm:
        """The comparator arm (``control = true``)."""
        return next(arm for arm in self.arms if arm.control)

    @property
    def baseline(self) -> Visit:
        """The baseline analysis visit."""
        return self.visit(self.baseline_visit)

    @property
    def post_baseline(self) -> tuple[Visit, ...]:
        """The scheduled analysis visits after baseline, in order."""
        return tuple(v for v in self.visits if v.avisit != self.baseline_visit)

    def visit(self, avisit: str) -> Visit:
        """The analysis visit called ``avisit`` (KeyError when there is none)."""
        for visit in self.visits:
            if visit.avisit == avisit:
                return visit
        raise KeyError(avisit)

    def criteria_for(self, paramcd: str) -> tuple[Criterion, ...]:
        """The criteria of a parameter in design order: CRIT1, CRIT2 ... of its BDS rows."""
        return tuple(c for c in self.criteria if c.paramcd == paramcd)

    def strategy(self, event: str) -> str:
        """The strategy for an intercurrent event; treatment policy when the design names none."""
        for ice in self.intercurrent_events:
            if ice.event == event:
                return ice.strategy
        return "treatment_policy"

    @property
    def primary(self) -> tuple[Endpoint, ...]:
        """The primary endpoints."""
        return tuple(e for e in self.endpoints if e.role == "primary")

    def randomization_plan(self) -> dict[str, Any]:
        """What a randomization list is made from, as plain data: ``{"arms": (("PBO", 1), ...),
        "strata": {"IGA": ("3", "4")}, "block_sizes": (3, 6), "list_length": 36 or None}``
        (the shape of ``atopic.registry.randomization.RandomizationDesign``)."""
        return {
            "arms": tuple((arm.code, arm.ratio) for arm in self.arms),
            "strata": {s.name: s.levels for s in self.randomization.strata},
            "block_sizes": self.randomization.block_sizes,
            "list_length": self.randomization.planned_subjects,
        }

    def __repr__(self) -> str:
        arms = ":".join(str(a.ratio) for a in self.arms)
        codes = "/".join(a.code for a in self.arms)
        return (
            f"<Design {self.study.studyid}: {codes} {arms}, {len(self.visits)} visits, "
            f"{len(self.endpoints)} endpoints>"
        )


# --- reading ------------------------------------------------------------------------------------


def load_design(source: str | os.PathLike[str]) -> Design:
    """Read a design from a TOML file (a path) or from TOML text; see the module docstring.

    >>> d = load_design(Path(__file__).parents[3] / "examples" / "trial" / "design.toml")
    >>> d.randomization_plan()["arms"]
    (('PBO', 1), ('LOW', 1), ('HIGH', 1))
    """
    if isinstance(source, os.PathLike) or ("\n" not in source and source.endswith(".toml")):
        path = Path(source)
        if not path.is_file():
            raise InvalidInput(SUBJECT, "file", str(path), "an existing TOML file")
        text = path.read_text(encoding="utf-8")
    else:
        text = source
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(SUBJECT, "toml", Described(str(error)), "valid TOML") from None
    return _design(data)


def _design(data: dict[str, Any]) -> Design:
    _keys(
        data,
        "",
        required=("study", "arms", "randomization", "visits", "endpoints"),
        optional=("criteria", "intercurrent_events", "safety"),
    )
    study = _study(_table(data["study"], "study"))
    arms = _arms(_array(data["arms"], "arms", minimum=2))
    randomization = _randomization(_table(data["randomization"], "randomization"), arms)
    baseline, visits = _visits(_table(data["visits"], "visits"))
    criteria = _criteria(_array(data.get("criteria", []), "criteria"))
    endpoints = _endpoints(_array(data["endpoints"], "endpoints", minimum=1), visits, criteria)
    events = _events(_array(data.get("intercurrent_events", []), "intercurrent_events"))
    safety = _table(data.get("safety", {}), "safety")
    _keys(safety, "safety", optional=("teae_window_days",))
    window = _int(safety.get("teae_window_days", 30), "safety.teae_window_days", minimum=0)
    return Design(study, arms, randomization, baseline, visits, criteria, endpoints, events, window)


def _study(t: dict[str, Any]) -> Study:
    _keys(t, "study", required=("studyid",), optional=("title",))
    return Study(
        _text(t["studyid"], "study.studyid"), _text(t.get("title", ""), "study.title", True)
    )


def _arms(items: list[Any]) -> tuple[Arm, ...]:
    arms = []
    for i, item in enumerate(items):
        path = f"arms[{i}]"
        t = _table(item, path)
        _keys(
            t,
            path,
            required=("code", "label", "product", "dose", "dose_unit", "route", "schedule"),
            optional=("ratio", "control"),
        )
        code = _text(t["code"], f"{path}.code")
        if len(code) > 20 or "=" in code or "|" in code:
            raise InvalidInput(
                SUBJECT, f"{path}.code", code, "at most 20 characters without = or |"
            )
        if code in [a.code for a in arms]:
            raise InvalidInput(SUBJECT, f"{path}.code", code, "unique among the arms")
        arms.append(
            Arm(
                code=code,
                label=_text(t["label"], f"{path}.label"),
                product=_text(t["product"], f"{path}.product"),
                dose=_number(t["dose"], f"{path}.dose", minimum=0),
                dose_unit=_choice(t["dose_unit"], f"{path}.dose_unit", DOSE_UNITS),
                route=_choice(t["route"], f"{path}.route", ROUTES),
                schedule=_schedule(t["schedule"], f"{path}.schedule"),
                ratio=_int(t.get("ratio", 1), f"{path}.ratio", minimum=1),
                control=_bool(t.get("control", False), f"{path}.control"),
                number=i + 1,
            )
        )
    controls = [a for a in arms if a.control]
    if len(controls) != 1:
        raise InvalidInput(
            SUBJECT,
            "arms.control",
            Described(f"{len(controls)} arms with control = true"),
            "exactly one arm with control = true (the comparator)",
        )
    return tuple(arms)


def _schedule(value: Any, path: str) -> Schedule:
    t = _table(value, path)
    if len(t) != 1 or next(iter(t)) not in ("days", "weeks"):
        raise InvalidInput(
            SUBJECT,
            path,
            Described(f"keys {sorted(t)}"),
            "exactly one of days = [...] or weeks = [...]",
        )
    key = next(iter(t))
    at = _array(t[key], f"{path}.{key}", minimum=1)
    minimum = 1 if key == "days" else 0
    times = tuple(_int(x, f"{path}.{key}[{j}]", minimum=minimum) for j, x in enumerate(at))
    if list(times) != sorted(set(times)):
        raise InvalidInput(SUBJECT, f"{path}.{key}", list(times), "ascending without repeats")
    return Schedule(key[:-1], times)


def _randomization(t: dict[str, Any], arms: tuple[Arm, ...]) -> Randomization:
    _keys(t, "randomization", required=("block_sizes",), optional=("strata", "planned_subjects"))
    total = sum(a.ratio for a in arms)
    sizes = _array(t["block_sizes"], "randomization.block_sizes", minimum=1)
    blocks = []
    for j, size in enumerate(sizes):
        path = f"randomization.block_sizes[{j}]"
        n = _int(size, path, minimum=1)
        if n % total:
            raise InvalidInput(SUBJECT, path, n, f"a multiple of the sum of the ratios ({total})")
        blocks.append(n)
    planned = t.get("planned_subjects")
    if planned is not None:
        planned = _int(planned, "randomization.planned_subjects", minimum=1)
    strata = []
    for i, item in enumerate(_array(t.get("strata", []), "randomization.strata")):
        stratum = _stratum(_table(item, f"randomization.strata[{i}]"), f"randomization.strata[{i}]")
        for other in strata:
            for name in ("name", "variable"):
                if getattr(stratum, name) == getattr(other, name):
                    raise InvalidInput(
                        SUBJECT,
                        f"randomization.strata[{i}].{name}",
                        getattr(stratum, name),
                        "unique among the strata",
                    )
        strata.append(stratum)
    return Randomization(tuple(sorted(set(blocks))), tuple(strata), planned)


def _stratum(t: dict[str, Any], path: str) -> Stratum:
    _keys(
        t,
        path,
        required=("name", "variable", "levels", "source"),
        optional=("paramcd", "column", "cuts", "map"),
    )
    name = _text(t["name"], f"{path}.name")
    variable = _text(t["variable"], f"{path}.variable")
    if not _STRAT.fullmatch(variable):
        raise InvalidInput(
            SUBJECT, f"{path}.variable", variable, "an ADSL name STRAT1R ... STRAT9R"
        )
    levels = tuple(
        _text(x, f"{path}.levels[{j}]")
        for j, x in enumerate(_array(t["levels"], f"{path}.levels", minimum=2))
    )
    if len(set(levels)) != len(levels):
        raise InvalidInput(SUBJECT, f"{path}.levels", list(levels), "levels without repeats")
    source = _choice(t["source"], f"{path}.source", STRATUM_SOURCES)
    needs = {"baseline": "paramcd", "dm": "column", "age_phase": None}[source]
    for key in ("paramcd", "column"):
        if key == needs and key not in t:
            raise InvalidInput(SUBJECT, f"{path}.{key}", None, f"given when source is {source!r}")
        if key != needs and key in t:
            raise InvalidInput(
                SUBJECT, f"{path}.{key}", t[key], f"left out when source is {source!r}"
            )
    paramcd = _paramcd(t["paramcd"], f"{path}.paramcd") if "paramcd" in t else None
    column = _text(t["column"], f"{path}.column") if "column" in t else None
    if "cuts" in t and "map" in t:
        raise InvalidInput(SUBJECT, f"{path}.cuts", t["cuts"], "left out when map is given")
    cuts = None
    if "cuts" in t:
        if source != "baseline":
            raise InvalidInput(
                SUBJECT, f"{path}.cuts", t["cuts"], "used only with source 'baseline'"
            )
        raw = _array(t["cuts"], f"{path}.cuts", minimum=1)
        cuts = tuple(_number(x, f"{path}.cuts[{j}]") for j, x in enumerate(raw))
        if list(cuts) != sorted(set(cuts)) or len(cuts) != len(levels) - 1:
            raise InvalidInput(
                SUBJECT,
                f"{path}.cuts",
                list(cuts),
                f"{len(levels) - 1} ascending numbers (one fewer than the levels)",
            )
    level_map = None
    if "map" in t:
        level_map = _level_map(_table(t["map"], f"{path}.map"), f"{path}.map", levels, source)
    return Stratum(name, variable, levels, source, paramcd, column, cuts, level_map)


def _level_map(
    t: dict[str, Any], path: str, levels: tuple[str, ...], source: str
) -> Mapping[str, tuple[Any, ...]]:
    if set(t) != set(levels):
        raise InvalidInput(
            SUBJECT, path, Described(f"keys {sorted(t)}"), f"one key per level: {', '.join(levels)}"
        )
    out: dict[str, tuple[Any, ...]] = {}
    seen: set[Any] = set()
    for level in levels:
        where = f"{path}.{level}"
        raw = _array(t[level], where, minimum=1)
        if source == "baseline":
            values: tuple[Any, ...] = tuple(_number(x, f"{where}[{j}]") for j, x in enumerate(raw))
        elif source == "age_phase":
            values = tuple(_choice(x, f"{where}[{j}]", AGE_PHASES) for j, x in enumerate(raw))
        else:
            values = tuple(_text(x, f"{where}[{j}]") for j, x in enumerate(raw))
        for value in values:
            if value in seen:
                raise InvalidInput(SUBJECT, where, value, "a value that belongs to one level only")
            seen.add(value)
        out[level] = values
    return MappingProxyType(out)


def _visits(t: dict[str, Any]) -> tuple[str, tuple[Visit, ...]]:
    _keys(t, "visits", required=("baseline", "schedule"))
    baseline = _text(t["baseline"], "visits.baseline")
    visits: list[Visit] = []
    for i, item in enumerate(_array(t["schedule"], "visits.schedule", minimum=2)):
        path = f"visits.schedule[{i}]"
        v = _table(item, path)
        _keys(v, path, required=("avisit", "avisitn", "target", "low", "high"))
        visit = Visit(
            avisit=_text(v["avisit"], f"{path}.avisit"),
            avisitn=_number(v["avisitn"], f"{path}.avisitn"),
            target=_day(v["target"], f"{path}.target"),
            low=_day(v["low"], f"{path}.low"),
            high=_day(v["high"], f"{path}.high"),
        )
        if not visit.low <= visit.target <= visit.high:
            raise InvalidInput(
                SUBJECT,
                f"{path}.target",
                visit.target,
                f"within low..high ({visit.low}..{visit.high})",
            )
        if visits:
            before = visits[-1]
            if visit.avisit in [x.avisit for x in visits]:
                raise InvalidInput(
                    SUBJECT, f"{path}.avisit", visit.avisit, "unique among the visits"
                )
            if visit.avisitn <= before.avisitn:
                raise InvalidInput(
                    SUBJECT,
                    f"{path}.avisitn",
                    visit.avisitn,
                    f"greater than {before.avisitn} (ascending)",
                )
            if visit.low <= before.high:
                raise InvalidInput(
                    SUBJECT,
                    f"{path}.low",
                    visit.low,
                    f"after the previous window's last day {before.high} (windows do not overlap)",
                )
        visits.append(visit)
    names = [v.avisit for v in visits]
    if baseline not in names:
        raise InvalidInput(SUBJECT, "visits.baseline", baseline, "one of " + ", ".join(names))
    if names.index(baseline) != 0:
        raise InvalidInput(SUBJECT, "visits.baseline", baseline, f"the first visit ({names[0]})")
    if visits[0].high != 1:
        raise InvalidInput(
            SUBJECT,
            "visits.schedule[0].high",
            visits[0].high,
            "1: the baseline window ends on the first-dose day (day 1)",
        )
    return baseline, tuple(visits)


def _criteria(items: list[Any]) -> tuple[Criterion, ...]:
    out: list[Criterion] = []
    for i, item in enumerate(items):
        path = f"criteria[{i}]"
        t = _table(item, path)
        _keys(t, path, required=("name", "paramcd", "responder"), optional=("eligible",))
        name = _text(t["name"], f"{path}.name")
        if name in [c.name for c in out]:
            raise InvalidInput(SUBJECT, f"{path}.name", name, "unique among the criteria")
        criterion = Criterion(
            name=name,
            paramcd=_paramcd(t["paramcd"], f"{path}.paramcd"),
            responder=_conditions(t["responder"], f"{path}.responder", minimum=1),
            eligible=_conditions(t.get("eligible", []), f"{path}.eligible", minimum=0),
        )
        if len(criterion.text) > 200:
            raise InvalidInput(
                SUBJECT, f"{path}.name", name, "a CRITy text of at most 200 characters"
            )
        out.append(criterion)
    return tuple(out)


def _conditions(value: Any, path: str, minimum: int) -> tuple[Condition, ...]:
    out = []
    for j, x in enumerate(_array(value, path, minimum=minimum)):
        where = f"{path}[{j}]"
        match = _CONDITION.match(x) if isinstance(x, str) else None
        if match is None or match.group(1) not in CONDITION_VARIABLES:
            raise InvalidInput(
                SUBJECT,
                where,
                x,
                "a condition 'VARIABLE OP NUMBER' with VARIABLE one of "
                + ", ".join(CONDITION_VARIABLES)
                + " and OP one of "
                + ", ".join(OPERATORS),
            )
        out.append(Condition(match.group(1), match.group(2), float(match.group(3))))
    return tuple(out)


def _endpoints(
    items: list[Any], visits: tuple[Visit, ...], criteria: tuple[Criterion, ...]
) -> tuple[Endpoint, ...]:
    out: list[Endpoint] = []
    names = [v.avisit for v in visits]
    by_name = {c.name: c for c in criteria}
    for i, item in enumerate(items):
        path = f"endpoints[{i}]"
        t = _table(item, path)
        _keys(
            t,
            path,
            required=("id", "role", "kind", "paramcd", "population"),
            optional=("avisit", "criterion", "variable"),
        )
        ident = _text(t["id"], f"{path}.id")
        if ident in [e.id for e in out]:
            raise InvalidInput(SUBJECT, f"{path}.id", ident, "unique among the endpoints")
        kind = _choice(t["kind"], f"{path}.kind", KINDS)
        paramcd = (
            _paramcd(t["paramcd"], f"{path}.paramcd")
            if kind != "incidence"
            else _text(t["paramcd"], f"{path}.paramcd")
        )
        avisit = t.get("avisit")
        if avisit is None and kind != "incidence":
            raise InvalidInput(
                SUBJECT, f"{path}.avisit", None, "an analysis visit: " + ", ".join(names)
            )
        if avisit is not None:
            avisit = _choice(avisit, f"{path}.avisit", tuple(names))
        criterion = variable = None
        if kind == "responder":
            if "criterion" not in t:
                raise InvalidInput(
                    SUBJECT, f"{path}.criterion", None, "the name of a [[criteria]] entry"
                )
            criterion = _choice(t["criterion"], f"{path}.criterion", tuple(by_name))
            if by_name[criterion].paramcd != paramcd:
                raise InvalidInput(
                    SUBJECT,
                    f"{path}.paramcd",
                    paramcd,
                    f"{by_name[criterion].paramcd}, the criterion's parameter",
                )
        elif "criterion" in t:
            raise InvalidInput(
                SUBJECT, f"{path}.criterion", t["criterion"], "left out unless kind is 'responder'"
            )
        if kind == "continuous":
            variable = _choice(t.get("variable"), f"{path}.variable", CONTINUOUS_VARIABLES)
        elif "variable" in t:
            raise InvalidInput(
                SUBJECT, f"{path}.variable", t["variable"], "left out unless kind is 'continuous'"
            )
        out.append(
            Endpoint(
                id=ident,
                role=_choice(t["role"], f"{path}.role", ROLES),
                kind=kind,
                paramcd=paramcd,
                avisit=avisit,
                population=_choice(t["population"], f"{path}.population", POPULATIONS),
                criterion=criterion,
                variable=variable,
            )
        )
    if not any(e.role == "primary" for e in out):
        raise InvalidInput(
            SUBJECT,
            "endpoints",
            Described("no primary endpoint"),
            "at least one endpoint with role 'primary'",
        )
    return tuple(out)


def _events(items: list[Any]) -> tuple[IntercurrentEvent, ...]:
    out: list[IntercurrentEvent] = []
    for i, item in enumerate(items):
        path = f"intercurrent_events[{i}]"
        t = _table(item, path)
        _keys(t, path, required=("event", "strategy"), optional=("cmcat",))
        event = _choice(t["event"], f"{path}.event", EVENTS)
        if event in [e.event for e in out]:
            raise InvalidInput(SUBJECT, f"{path}.event", event, "named once")
        if "cmcat" in t and event != "rescue":
            raise InvalidInput(
                SUBJECT, f"{path}.cmcat", t["cmcat"], "given only for event 'rescue'"
            )
        cmcat = _text(t.get("cmcat", "RESCUE"), f"{path}.cmcat") if event == "rescue" else None
        out.append(
            IntercurrentEvent(event, _choice(t["strategy"], f"{path}.strategy", STRATEGIES), cmcat)
        )
    return tuple(out)


# --- small checks -------------------------------------------------------------------------------


def _keys(
    t: dict[str, Any], path: str, required: tuple[str, ...] = (), optional: tuple[str, ...] = ()
) -> None:
    prefix = f"{path}." if path else ""
    for key in required:
        if key not in t:
            raise InvalidInput(SUBJECT, f"{prefix}{key}", None, "given (a required field)")
    allowed = (*required, *optional)
    for key in t:
        if key not in allowed:
            raise InvalidInput(
                SUBJECT,
                f"{prefix}{key}",
                Described("an unknown field"),
                "one of " + ", ".join(allowed),
            )


def _table(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(SUBJECT, path, value, "a table ([section] or { key = value })")
    return value


def _array(value: Any, path: str, minimum: int = 0) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidInput(SUBJECT, path, value, "an array [ ... ]")
    if len(value) < minimum:
        raise InvalidInput(
            SUBJECT, path, Described(f"{len(value)} entries"), f"at least {minimum} entries"
        )
    return value


def _text(value: Any, path: str, blank: bool = False) -> str:
    if not isinstance(value, str) or (not blank and not value.strip()):
        raise InvalidInput(SUBJECT, path, value, "non-blank text" if not blank else "text")
    return value


def _choice(value: Any, path: str, allowed: tuple[Any, ...]) -> Any:
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInput(SUBJECT, path, value, "one of " + ", ".join(str(a) for a in allowed))
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(SUBJECT, path, value, "true or false")
    return value


def _number(value: Any, path: str, minimum: float | None = None) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or (minimum is not None and value < minimum):
        bound = "" if minimum is None else f" of at least {minimum:g}"
        raise InvalidInput(SUBJECT, path, value, f"a finite number{bound}")
    return float(value)


def _int(value: Any, path: str, minimum: int | None = None) -> int:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or (minimum is not None and value < minimum)
    ):
        bound = "" if minimum is None else f" of at least {minimum}"
        raise InvalidInput(SUBJECT, path, value, f"a whole number{bound}")
    return value


def _day(value: Any, path: str) -> int:
    day = _int(value, path)
    if day == 0:
        raise InvalidInput(
            SUBJECT,
            path,
            0,
            "a study day other than 0 (day 1 is the first dose; the day before is -1)",
        )
    return day


def _paramcd(value: Any, path: str) -> str:
    if not isinstance(value, str) or not _PARAMCD.fullmatch(value):
        raise InvalidInput(
            SUBJECT, path, value, "a PARAMCD: capital letters and digits, at most 8 characters"
        )
    return value
