"""trial.design: the TOML design file, its validation and the plain data the registry reads."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from atopic.demo import ARMS, STUDYID, VISITS
from atopic.errors import InvalidInput
from atopic.trial.design import Design, load_design

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "trial" / "design.toml"
TEXT = EXAMPLE.read_text()


def _dump(data: dict[str, Any]) -> str:
    """Minimal TOML writer for the test mutations (tables, arrays of tables, scalars, lists)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f'"{k}" = {value(x)}' for k, x in v.items()) + " }"
        return repr(v)

    lines: list[str] = []

    def table(prefix: str, t: dict[str, Any], header: str) -> None:
        lines.append(header)
        nested = []
        for k, v in t.items():
            if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                nested.append((k, v))
            else:
                lines.append(f"{k} = {value(v)}")
        for k, items in nested:
            for item in items:
                table(f"{prefix}{k}.", item, f"[[{prefix}{k}]]")

    for k, v in data.items():
        if isinstance(v, dict):
            table(f"{k}.", v, f"[{k}]")
        else:
            for item in v:
                table(f"{k}.", item, f"[[{k}]]")
    return "\n".join(lines) + "\n"


def _mutated(change: Any) -> str:
    data = tomllib.loads(TEXT)
    change(data)
    return _dump(data)


def test_the_writer_round_trips_the_example() -> None:
    assert load_design(_mutated(lambda d: None)) == load_design(EXAMPLE)


def test_example_is_the_demo_trial() -> None:
    design = load_design(EXAMPLE)
    assert design.study.studyid == STUDYID
    assert [a.code for a in design.arms] == list(ARMS)
    assert [a.label for a in design.arms] == [label for label, _ in ARMS.values()]
    # EXDOSE is in 10^6 cells: the demo's 2.5e7 and 5e7 cells are 25 and 50.
    assert [a.dose * 1e6 for a in design.arms] == [cells for _, cells in ARMS.values()]
    assert [v.avisit for v in design.visits] == [name for _, name, _ in VISITS]
    assert [v.target for v in design.visits] == [7 * week + 1 for _, _, week in VISITS]
    assert design.control.code == "PBO"
    assert [a.number for a in design.arms] == [1, 2, 3]
    assert {e.criterion for e in design.primary} == {"EASI-75", "IGA 0/1"}
    assert design.strategy("rescue") == "composite"
    assert repr(design) == "<Design ATO-MSC-201: PBO/LOW/HIGH 1:1:1, 5 visits, 12 endpoints>"


def test_randomization_plan_is_what_the_demo_registry_uses() -> None:
    plan = load_design(EXAMPLE).randomization_plan()
    assert plan == {
        "arms": tuple((code, 1) for code in ARMS),
        "strata": {"IGA": ("3", "4")},
        "block_sizes": (3, 6),
        "list_length": 36,
    }


def test_randomization_plan_builds_a_registry_design() -> None:
    from atopic.registry.randomization import RandomizationDesign

    built = RandomizationDesign(**load_design(EXAMPLE).randomization_plan())
    assert built.ratio_sum == 3


def test_load_design_reads_a_path_or_text() -> None:
    assert isinstance(load_design(EXAMPLE), Design)
    assert load_design(str(EXAMPLE)) == load_design(TEXT)


def test_criterion_text_names_every_condition() -> None:
    design = load_design(EXAMPLE)
    iga = design.criteria_for("IGA")[0]
    assert iga.text == "IGA 0/1: AVAL <= 1 and CHG <= -2"
    assert [c.name for c in design.criteria_for("EASI")] == ["EASI-50", "EASI-75", "EASI-90"]


def _set(path: str, value: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        *parents, last = re.findall(r"[^.\[\]]+", path)
        node: Any = data
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        if value is _DELETE:
            del node[last]
        else:
            node[int(last) if last.isdigit() else last] = value

    return change


_DELETE = object()

BAD = [
    ("arms[1].ratio", 0, "arms[1].ratio must be a whole number of at least 1; got 0"),
    ("arms[1].ratio", True, "arms[1].ratio must be a whole number of at least 1; got True"),
    ("arms[0].dose", -1, "arms[0].dose must be a finite number of at least 0; got -1"),
    ("arms[0].dose_unit", "cells", "arms[0].dose_unit must be one of"),
    ("arms[2].route", "SC", "arms[2].route must be one of SUBCUTANEOUS"),
    ("arms[1].code", "PBO", "arms[1].code must be unique among the arms; got 'PBO'"),
    ("arms[1].control", True, "arms.control must be exactly one arm with control = true"),
    ("arms[0].schedule", {"weeks": [0], "days": [1]}, "arms[0].schedule must be exactly one"),
    (
        "arms[0].schedule",
        {"days": [0]},
        "arms[0].schedule.days[0] must be a whole number of at least 1",
    ),
    ("arms[0].colour", "red", "arms[0].colour must be one of code, label"),
    (
        "randomization.block_sizes",
        [4],
        "randomization.block_sizes[0] must be a multiple of the sum of the ratios (3); got 4",
    ),
    (
        "randomization.strata[0].variable",
        "STRAT0R",
        "randomization.strata[0].variable must be an ADSL name",
    ),
    (
        "randomization.strata[0].levels",
        ["3"],
        "randomization.strata[0].levels must be at least 2 entries",
    ),
    (
        "randomization.strata[0].source",
        "irt",
        "randomization.strata[0].source must be one of baseline, dm, age_phase",
    ),
    (
        "randomization.strata[0].map",
        {"3": [3], "4": [3]},
        "randomization.strata[0].map.4 must be a value that belongs to one level only; got 3.0",
    ),
    (
        "randomization.strata[0].map",
        {"3": [3]},
        "randomization.strata[0].map must be one key per level",
    ),
    ("visits.baseline", "WEEK 2", "visits.baseline must be the first visit (WEEK 0)"),
    ("visits.schedule[1].target", 0, "visits.schedule[1].target must be a study day other than 0"),
    (
        "visits.schedule[2].low",
        20,
        "visits.schedule[2].low must be after the previous window's last day 22",
    ),
    (
        "visits.schedule[1].target",
        30,
        "visits.schedule[1].target must be within low..high (2..22); got 30",
    ),
    ("visits.schedule[3].avisitn", 4, "visits.schedule[3].avisitn must be greater than 4.0"),
    (
        "criteria[1].responder",
        ["PCHG =< -75"],
        "criteria[1].responder[0] must be a condition 'VARIABLE OP NUMBER'",
    ),
    ("criteria[1].responder", ["AVALC <= 1"], "criteria[1].responder[0] must be a condition"),
    ("criteria[1].paramcd", "easi", "criteria[1].paramcd must be a PARAMCD"),
    ("endpoints[0].criterion", "EASI-80", "endpoints[0].criterion must be one of EASI-50"),
    (
        "endpoints[0].paramcd",
        "IGA",
        "endpoints[0].paramcd must be EASI, the criterion's parameter; got 'IGA'",
    ),
    ("endpoints[0].avisit", "WEEK 16", "endpoints[0].avisit must be one of WEEK 0"),
    (
        "endpoints[0].population",
        "FAS",
        "endpoints[0].population must be one of ITTFL, SAFFL, PPROTFL",
    ),
    ("endpoints[5].variable", "BASE", "endpoints[5].variable must be one of AVAL, CHG, PCHG"),
    ("endpoints[0].role", "key", "endpoints[0].role must be one of primary, secondary, safety"),
    (
        "intercurrent_events[0].strategy",
        "hypothetical",
        "intercurrent_events[0].strategy must be one of treatment_policy, composite",
    ),
    (
        "intercurrent_events[1].cmcat",
        "RESCUE",
        "intercurrent_events[1].cmcat must be given only for event 'rescue'",
    ),
    (
        "safety.teae_window_days",
        -1,
        "safety.teae_window_days must be a whole number of at least 0; got -1",
    ),
    ("study.studyid", " ", "study.studyid must be non-blank text"),
    ("study.sponsor", "x", "study.sponsor must be one of studyid, title"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD, ids=[b[0] for b in BAD])
def test_every_bad_value_is_refused_by_its_path(path: str, value: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_design(_mutated(_set(path, value)))
    assert caught.value.subject == "design"
    assert caught.value.message.startswith("design " + message), caught.value.message


def test_missing_required_field_is_named() -> None:
    with pytest.raises(InvalidInput, match=r"design arms\[0\]\.product must be given"):
        load_design(_mutated(_set("arms[0].product", _DELETE)))


def test_no_primary_endpoint_is_refused() -> None:
    def secondary(data: dict[str, Any]) -> None:
        for e in data["endpoints"]:
            if e["role"] == "primary":
                e["role"] = "secondary"

    with pytest.raises(InvalidInput, match="at least one endpoint with role 'primary'"):
        load_design(_mutated(secondary))


def test_invalid_toml_and_missing_file_are_input_errors() -> None:
    with pytest.raises(InvalidInput, match="design toml must be valid TOML"):
        load_design("[study\nstudyid = 1\n")
    with pytest.raises(InvalidInput, match="design file must be an existing TOML file"):
        load_design("no/such/design.toml")


def test_cuts_need_one_fewer_than_levels() -> None:
    def cuts(data: dict[str, Any]) -> None:
        s = data["randomization"]["strata"][0]
        del s["map"]
        s["cuts"] = [3.5, 4.5]

    with pytest.raises(InvalidInput, match=r"strata\[0\]\.cuts must be 1 ascending numbers"):
        load_design(_mutated(cuts))


def test_baseline_window_ends_on_the_first_dose_day() -> None:
    def before(data: dict[str, Any]) -> None:
        data["visits"]["schedule"][0].update(target=-1, high=-1)

    with pytest.raises(InvalidInput, match=r"visits.schedule\[0\]\.high must be 1: the baseline"):
        load_design(_mutated(before))
