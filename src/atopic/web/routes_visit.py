"""Visit entry: every instrument of one visit on one page, scored live, saved in one transaction.

Routes (``register(app)``; each page has a JSON twin built from the same function):

- ``GET  /subjects/{u}/visits/{n}/entry`` and ``GET /api/subjects/{u}/visits/{n}/entry``: the
  form (``visit_form``): SCORAD with the body map, EASI by region, vIGA-AD, POEM, PP-NRS, sleep
  NRS and the quality-of-life instrument for the subject's age on the visit date (IDQOL under 4
  years, CDLQI 4-15, DLQI 16 and over), each with its schema and any values already saved.
- ``POST /subjects/{u}/visits/{n}/score/{instrument}`` (htmx fragment) and
  ``POST /api/subjects/{u}/visits/{n}/score/{instrument}``: the live score of one section
  (``evaluate``), with the age taken from the subject's record. Nothing is saved.
- ``POST /subjects/{u}/visits/{n}/entry`` (form) and ``POST /api/subjects/{u}/visits/{n}/entry``
  (JSON): score every section that has a value and save them all in one transaction
  (``save_visit``); any invalid or incomplete section and nothing is saved (422).

Form fields are named ``<instrument key>:<field>``: the key of ``atopic.instruments.INSTRUMENTS``
and the item's dotted field from its declaration (``easi:trunk.erythema``, ``scorad:extent.back``,
``poem:items.3``, ``dlqi:items.7a``); ``assessed_on``, ``reason`` and ``csrf_token`` are the form's
own. A blank input is an item not given.

Decisions:

- **Empty, incomplete, invalid.** A section with no value is *empty* (not scored, not saved). A
  value that its item does not allow makes the section *invalid* at once, with the instrument's
  message, even while other items are blank. Otherwise the section is scored: when the instrument
  refuses it, the section is *invalid* if the field it names was given (a cross-item rule such as
  DLQI 7a after "yes") and *incomplete* if that field was left blank (a required item, or "at most
  one unanswered"). "N of M items" counts the fields shown on the form, without the optional extras
  (DLQI 7a, IDQOL severity).
- A section re-scores on ``input changed delay:400ms`` rather than ``change, keyup``: ``input``
  fires for typing, pasting, number spinners, selects, radios and tablet keyboards (whose keyup
  is unreliable), once per change; ``hx-sync="this:replace"`` keeps only the latest request.
- The htmx fragment answers 200 for every outcome, an invalid value included: htmx does not swap a
  4xx answer by default, and the message belongs in place. Its JSON twin answers 422.
- The form shows one way to give each value: EASI area as % of the region (not the area score)
  and SCORAD extent per region (not A as a whole); the JSON API takes the instrument's full JSON.
- Saving over a saved assessment is a correction and needs ``reason``; a section whose values
  and date equal the saved ones is left alone ("unchanged"), so a form prefilled with the saved
  values can be sent again to add a missing instrument.
- Assessments are saved with the services' default evaluator (``INVESTIGATOR``).
- vIGA-AD shows the grade names only: ``atopic.instruments.iga`` does not reproduce the grade
  descriptors (a ``VIGA_AD_DESCRIPTORS`` mapping there would be shown).
- The live score endpoints save nothing but are POSTs, so they check the CSRF token like every
  other POST (htmx sends it as ``X-CSRF-Token``; API tokens need none).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from atopic.errors import InvalidInput
from atopic.instruments import INSTRUMENTS, easi, iga
from atopic.instruments.domains import Continuous, Labels, Steps
from atopic.instruments.scalar import flatten, score_fields
from atopic.instruments.spec import Instrument, Item, Score
from atopic.registry import services as svc
from atopic.registry.audit import Actor, AuditedSession
from atopic.registry.db import transaction
from atopic.registry.models import Assessment, Subject, Visit
from atopic.registry.roles import require
from atopic.web.deps import TEMPLATES, Db, Me, check_write, current, page
from atopic.web.security import CSRF_FIELD

SEP = ":"
"""Between the instrument key and the item field in a form field's name."""
EVALUATOR = "INVESTIGATOR"
"""The evaluator every visit-entry assessment is saved under (the services' default)."""
ACTION = "record_assessment"
"""The permission the entry form, its live score and its save need."""
CLINICAL = ("scorad", "easi", "viga-ad", "poem", "pp-nrs", "sleep-nrs")
"""The sections every visit shows, in page order; the quality-of-life one follows."""
HIDDEN: dict[str, frozenset[str]] = {
    "scorad": frozenset({"extent_percent"}),
    "easi": frozenset(f"{region}.area_score" for region in easi.REGIONS),
}
"""Alternatives the form does not show (the JSON API takes them)."""
EXTRAS: dict[str, frozenset[str]] = {
    "dlqi": frozenset({"items.7a"}),
    "idqol": frozenset({"severity"}),
}
"""Fields shown but not counted in "N of M items": a follow-up and a reported-only question."""
JSON_KEYS: dict[str, dict[str, str]] = {"dlqi": {"items.7a": "item_7a"}}
"""Fields whose key in the instrument's JSON differs from the field (see the instrument)."""
QOL_RULE = "IDQOL under 4 years, CDLQI 4 to 15, DLQI 16 and over, by age on the visit date"
SINGLE_CHOICE_LIMIT = 11
"""Stepped items with at most this many values are a choice (select or radios), else a number."""
REASON_MAX = 500

_LIST_FIELD = re.compile(r"items\.(\d+)")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_CODED = re.compile(r"(\d+) ([^,]+)")


# --- which instruments, which fields ------------------------------------------------------------


def quality_of_life(age_years: int) -> str:
    """The DLQI-family instrument for an age in completed years: IDQOL, CDLQI or DLQI."""
    if age_years < 4:
        return "idqol"
    if age_years < 16:
        return "cdlqi"
    return "dlqi"


def instrument_keys(age_years: int) -> tuple[str, ...]:
    """The sections of the visit form for a subject of this age, in page order."""
    return (*CLINICAL, quality_of_life(age_years))


def _fmt(value: Decimal | float | int) -> str:
    """A number as the form shows it: 1.5, 2 (never 2.0)."""
    d = value if isinstance(value, Decimal) else Decimal(repr(value))
    text = format(d.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _coded(unit: str) -> dict[str, str]:
    """Answer texts from a unit such as ``"days ...: 0 none, 1 1-2, 4 every day"`` (POEM)."""
    if ": " not in unit:
        return {}
    codes = unit.split(": ", 1)[1].split(", ")
    found = [_CODED.fullmatch(code) for code in codes]
    return {m.group(1): m.group(2) for m in found if m} if all(found) else {}


def _grade_names(spec: Instrument) -> dict[str, str]:
    """Value -> name when the instrument's band is the grade itself (vIGA-AD, IGA6)."""
    if len(spec.items) != 1 or not spec.bandings:
        return {}
    band_set = next(iter(spec.bandings[0].sets.values()))
    domain = spec.items[0].domain
    if not isinstance(domain, Steps):
        return {}
    if [cut.lower for cut in band_set.cuts] != list(domain.allowed_values):
        return {}
    return {_fmt(cut.lower): cut.label for cut in band_set.cuts}


def _descriptors(key: str) -> dict[str, str]:
    """Grade descriptors the instrument module provides (none are written here)."""
    if key != "viga-ad":
        return {}
    found = getattr(iga, "VIGA_AD_DESCRIPTORS", None)
    if isinstance(found, Mapping):
        return {str(k): str(v) for k, v in found.items()}
    if isinstance(found, tuple | list):
        return {str(n): str(v) for n, v in enumerate(found)}
    return {}


def _input_id(key: str, field_name: str) -> str:
    return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", f"{key}-{field_name}")


def _field(key: str, spec: Instrument, item: Item, legend: str | None) -> dict[str, Any]:
    """One form field of an item, JSON-ready: name, id, label, widget and what it allows."""
    label = item.label
    prefix = f"{legend}: " if legend else None
    short = label[len(prefix) :] if prefix and label.startswith(prefix) else label
    entry: dict[str, Any] = {
        "name": f"{key}{SEP}{item.field}",
        "id": _input_id(key, item.field),
        "field": item.field,
        "code": item.code,
        "label": label,
        "short_label": short,
        "allowed": item.domain.describe(),
        "unit": item.unit,
        "counted": item.field not in EXTRAS.get(key, frozenset()),
    }
    domain = item.domain
    single = len(spec.items) == 1 or all(i.context for i in spec.items if i is not item)
    if isinstance(domain, Labels):
        entry["widget"] = "select"
        entry["options"] = [{"value": w, "text": w} for w in domain.allowed_words]
    elif isinstance(domain, Steps) and len(domain.allowed_units) <= SINGLE_CHOICE_LIMIT:
        grades, coded = _grade_names(spec), _coded(item.unit)
        descriptors = _descriptors(key)
        options = []
        for value in domain.allowed_values:
            text = _fmt(value)
            option = {"value": text, "text": text}
            if text in grades:
                option["text"] = f"{text} {grades[text]}"
            elif text in coded:
                option["text"] = f"{text}: {coded[text]}"
            if text in descriptors:
                option["descriptor"] = descriptors[text]
            options.append(option)
        entry["widget"] = "radio" if single else "select"
        entry["options"] = options
    elif isinstance(domain, Steps):
        entry["widget"] = "number"
        entry["min"], entry["max"] = _fmt(domain.lo / domain.scale), _fmt(domain.hi / domain.scale)
        entry["step"] = _fmt(Decimal(1) / Decimal(domain.scale))
    else:
        assert isinstance(domain, Continuous)
        entry["widget"] = "number"
        entry["min"], entry["max"], entry["step"] = _fmt(domain.lo), _fmt(domain.hi), "any"
    if entry["widget"] == "number":
        entry["hint"] = entry["allowed"] + (f" ({item.unit})" if item.unit else "")
    else:
        entry["hint"] = item.unit
    return entry


def _group_of(key: str, spec: Instrument, item: Item) -> tuple[str, str | None]:
    """The sub-fieldset an item belongs to and its legend (declaration text)."""
    outputs = {o.name: o.label for o in spec.outputs}
    if key == "easi":
        region = item.field.split(".", 1)[0]
        return region, easi.REGION_LABELS.get(region)
    if key == "scorad":
        part = item.field.split(".", 1)[0]
        group = part if part in ("extent", "intensity") else "subjective"
        return group, outputs.get(group)
    return "", None


@cache
def form_sections(key: str) -> tuple[dict[str, Any], ...]:
    """The groups of form fields of one section, in the declaration's order (JSON-ready)."""
    spec = INSTRUMENTS[key]
    hidden = HIDDEN.get(key, frozenset())
    groups: dict[str, dict[str, Any]] = {}
    for item in spec.items:
        if item.context or item.field in hidden:
            continue
        name, legend = _group_of(key, spec, item)
        group = groups.setdefault(name, {"group": name, "legend": legend, "fields": []})
        group["fields"].append(_field(key, spec, item, legend))
    for name, group in groups.items():
        fields = group["fields"]
        hints = {f["hint"] for f in fields}
        shared = len(fields) > 1 and len(hints) == 1 and "" not in hints
        group["hint"] = hints.pop() if shared else ""
        group["hint_id"] = _input_id(key, f"{name or 'all'}-hint") if shared else ""
        for f in fields:
            f["hint_id"] = group["hint_id"] if shared else (f"{f['id']}-hint" if f["hint"] else "")
            f["hint_shown"] = bool(f["hint"]) and not shared
    return tuple(groups.values())


def form_fields(key: str) -> tuple[dict[str, Any], ...]:
    """Every form field of one section, in order."""
    return tuple(f for group in form_sections(key) for f in group["fields"])


# --- values: form text -> instrument input ------------------------------------------------------


def parse_value(item: Item, text: str) -> object:
    """A form value as the instrument reads it: blank -> None (not given), a number for numeric
    items (text that is no number is passed on, so the instrument names it), words as given."""
    if not text.strip():
        return None
    if isinstance(item.domain, Labels):
        return text
    stripped = text.strip()
    if not _NUMBER.fullmatch(stripped):
        return stripped
    if re.fullmatch(r"[+-]?\d+", stripped):
        return int(stripped)
    return float(stripped)


def section_text(form: Mapping[str, str], key: str) -> dict[str, str]:
    """The raw text of one section's form fields, by item field (other names are ignored)."""
    out = {}
    for f in form_fields(key):
        text = form.get(f["name"])
        if text is not None:
            out[f["field"]] = text
    return out


def to_flat(key: str, text: Mapping[str, str]) -> dict[str, object]:
    """One section's form text as the instrument's dotted fields (blank fields left out)."""
    spec = INSTRUMENTS[key]
    flat: dict[str, object] = {}
    for name, raw in text.items():
        value = parse_value(spec.item(name), raw)
        if value is not None:
            flat[name] = value
    return flat


def to_json(key: str, flat: Mapping[str, object]) -> dict[str, Any]:
    """Dotted fields as the instrument's documented JSON (``atopic score NAME --schema``)."""
    spec = INSTRUMENTS[key]
    data: dict[str, Any] = {}
    if spec.parse is not None:
        numbered = [
            int(m.group(1)) for item in spec.items if (m := _LIST_FIELD.fullmatch(item.field))
        ]
        data["items"] = [flat.get(f"items.{n}") for n in range(1, max(numbered) + 1)]
        renames = JSON_KEYS.get(key, {})
        for name, value in flat.items():
            if value is not None and not _LIST_FIELD.fullmatch(name):
                data[renames.get(name, name)] = value
        return data
    for name, value in flat.items():
        if value is None:
            continue
        *parents, leaf = name.split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return data


def from_json(key: str, data: object) -> dict[str, object]:
    """The instrument's JSON as dotted fields (``InvalidInput`` if its shape is wrong)."""
    spec = INSTRUMENTS[key]
    if not isinstance(data, Mapping):
        raise InvalidInput(spec.name, "input", data, "a JSON object")
    return spec.parse(data) if spec.parse else flatten(data)


# --- scoring one section ------------------------------------------------------------------------


def allowed(item: Item, value: object) -> bool:
    """The item's domain allows the value (a float too large for its grid is not allowed: the
    domain's own check raises OverflowError on it)."""
    try:
        return item.domain.units(value) is not None
    except (OverflowError, ValueError):
        return False


@dataclass
class Outcome:
    """Where one section stands: empty, incomplete, invalid or complete (then with its score)."""

    key: str
    status: str
    given: int
    expected: int
    score: Score | None = None
    error: InvalidInput | None = None
    next_label: str | None = None
    flat: dict[str, object] = field(default_factory=dict)

    @property
    def instrument(self) -> str:
        """The instrument's name (``EASI``)."""
        return INSTRUMENTS[self.key].name

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: status, items given of expected, score or the instrument's message."""
        out: dict[str, Any] = {
            "instrument": self.key,
            "status": self.status,
            "given": self.given,
            "expected": self.expected,
        }
        if self.score is not None:
            out["score"] = self.score.to_dict()
            out["note"] = self.score.note
        if self.error is not None:
            out["error"] = {**self.error.to_dict(), "instrument": self.key}
        if self.next_label:
            out["next"] = self.next_label
        return out


def evaluate(key: str, flat: Mapping[str, object], age_years: float) -> Outcome:
    """Score one section's values (dotted fields; None = not given) with the age of the subject.

    See the module docstring for how *incomplete* is told from *invalid*.
    """
    spec = INSTRUMENTS[key]
    given = {name: value for name, value in flat.items() if value is not None}
    counted = [f["field"] for f in form_fields(key) if f["counted"]]
    outcome = Outcome(key, "empty", sum(1 for f in counted if f in given), len(counted))
    outcome.flat = dict(given)
    if not given:
        return outcome
    for item in spec.items:
        if item.field in given and not allowed(item, given[item.field]):
            raw = given[item.field]
            outcome.status = "invalid"
            outcome.error = InvalidInput(spec.name, item.field, raw, item.domain.describe())
            return outcome
    full = dict(given)
    for item in spec.items:
        if item.context and item.field not in full:
            full[item.field] = age_years
    try:
        outcome.score = score_fields(spec, full)
    except InvalidInput as error:
        outcome.error = error
        outcome.status = "invalid" if error.field in given else "incomplete"
        if outcome.status == "incomplete":
            blank = [
                f["label"] for f in form_fields(key) if f["counted"] and f["field"] not in given
            ]
            known = {item.field: item.label for item in spec.items}
            outcome.next_label = blank[0] if blank else known.get(error.field)
        return outcome
    outcome.status = "complete"
    return outcome


# --- the subject, the visit and what is saved ---------------------------------------------------


@dataclass
class VisitContext:
    """The subject and visit an entry is for, the visit's date and the age on it."""

    subject: Subject
    visit: Visit
    day: dt.date
    age: int

    @property
    def keys(self) -> tuple[str, ...]:
        """The sections of this visit's form."""
        return instrument_keys(self.age)


def load_visit(session: Session, usubjid: str, visitnum: float) -> VisitContext:
    """The subject and visit, or ``InvalidInput`` as the services word it."""
    subject = session.scalars(select(Subject).where(Subject.usubjid == usubjid)).first()
    if subject is None:
        raise InvalidInput("subject", "usubjid", usubjid, "an enrolled subject")
    visit = session.scalars(
        select(Visit).where(Visit.subject_id == subject.id, Visit.visitnum == visitnum)
    ).first()
    if visit is None:
        raise InvalidInput("visit", "visitnum", visitnum, f"a visit of {subject.usubjid}")
    day = visit.actual_date or visit.planned_date or dt.date.today()
    return VisitContext(subject, visit, day, svc.age_on(subject, day))


def _saved(session: Session, visit: Visit) -> dict[str, Assessment]:
    """Assessments saved at the visit under the entry's evaluator, by instrument name."""
    rows = session.scalars(
        select(Assessment).where(Assessment.visit_id == visit.id, Assessment.evaluator == EVALUATOR)
    )
    return {a.instrument: a for a in rows}


def _unchanged(key: str, assessment: Assessment, flat: Mapping[str, object], on: dt.date) -> bool:
    """The section repeats the saved assessment exactly (same date, same values)."""
    if assessment.assessed_on != on:
        return False
    spec = INSTRUMENTS[key]
    stored = {s.field: s for s in assessment.items}
    for item in spec.items:
        if item.context:
            continue
        value, saved = flat.get(item.field), stored.get(item.field)
        if value is None or saved is None:
            if (value is None) != (saved is None):
                return False
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            if saved.value_num is None or float(value) != saved.value_num:
                return False
        elif str(value) != saved.value_text:
            return False
    return True


def _visit_label(visitnum: float) -> str:
    return _fmt(visitnum) if isinstance(visitnum, float) else str(visitnum)


def visit_form(session: Session, actor: Actor, usubjid: str, visitnum: float) -> dict[str, Any]:
    """The visit-entry form as JSON: the sections for the subject's age, each with its fields,
    schema, saved assessment and live result, and the values to prefill (page and API alike)."""
    require(actor.role, ACTION)
    ctx = load_visit(session, usubjid, visitnum)
    saved = _saved(session, ctx.visit)
    dates = [a.assessed_on for a in saved.values()]
    assessed_on = min(dates) if dates else ctx.day
    age_then = _age_or(ctx, assessed_on)
    values: dict[str, str] = {}
    sections = []
    for key in ctx.keys:
        spec = INSTRUMENTS[key]
        assessment = saved.get(spec.name)
        text: dict[str, str] = {}
        if assessment is not None:
            shown = {f["field"] for f in form_fields(key)}
            text = {s.field: s.value_text for s in assessment.items if s.field in shown}
            values.update({f"{key}{SEP}{name}": value for name, value in text.items()})
        outcome = evaluate(key, to_flat(key, text), age_then)
        sections.append(
            {
                "key": key,
                "instrument": spec.name,
                "title": spec.title,
                "version": spec.version,
                "source": spec.source,
                "groups": list(form_sections(key)),
                "schema": spec.schema(),
                "saved": None
                if assessment is None
                else {
                    "total": float(assessment.total),
                    "band": assessment.band,
                    "assessed_on": assessment.assessed_on.isoformat(),
                    "version": assessment.version,
                },
                "result": outcome.to_dict(),
                "score_url": f"/subjects/{quote(usubjid)}/visits/{_visit_label(visitnum)}"
                f"/score/{key}",
            }
        )
    others = sorted(set(saved) - {INSTRUMENTS[k].name for k in ctx.keys})
    return {
        "usubjid": ctx.subject.usubjid,
        "visitnum": ctx.visit.visitnum,
        "visit": ctx.visit.name,
        "visit_date": ctx.day.isoformat(),
        "date_done": ctx.visit.actual_date is not None,
        "age_years": ctx.age,
        "quality_of_life": quality_of_life(ctx.age),
        "quality_of_life_rule": QOL_RULE,
        "assessed_on": assessed_on.isoformat(),
        "evaluator": EVALUATOR,
        "correction": bool(saved),
        "saved_elsewhere": others,
        "values": values,
        "sections": sections,
    }


def _age_or(ctx: VisitContext, on: dt.date) -> int:
    """Age on ``on``, or on the visit date when ``on`` is before the birth date."""
    try:
        return svc.age_on(ctx.subject, on)
    except InvalidInput:
        return ctx.age


# --- saving the visit ---------------------------------------------------------------------------


class EntryRefused(Exception):
    """Nothing was saved: ``problems`` maps a section key (or ``assessed_on``, ``reason``,
    ``assessments``) to the instrument's or the registry's message; ``outcomes`` are the
    sections as scored."""

    def __init__(self, problems: dict[str, InvalidInput], outcomes: dict[str, Outcome]) -> None:
        super().__init__("; ".join(p.message for p in problems.values()))
        self.problems = problems
        self.outcomes = outcomes

    def to_dict(self) -> dict[str, Any]:
        """``{"error": first problem, "errors": all}``, each with field, message, instrument."""
        errors = [
            {**error.to_dict(), "instrument": key if key in INSTRUMENTS else None}
            for key, error in self.problems.items()
        ]
        return {"error": errors[0], "errors": errors}


def parse_date(text: object) -> dt.date:
    """An assessment date ``YYYY-MM-DD`` (a ``date`` passes), else ``InvalidInput``."""
    if isinstance(text, dt.date) and not isinstance(text, dt.datetime):
        return text
    if isinstance(text, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        try:
            return dt.date.fromisoformat(text.strip())
        except ValueError:
            pass
    raise InvalidInput("visit entry", "assessed_on", text or None, "a date (YYYY-MM-DD)")


def save_visit(
    factory: sessionmaker[AuditedSession],
    actor: Actor,
    usubjid: str,
    visitnum: float,
    *,
    assessed_on: object,
    sections: Mapping[str, Mapping[str, object]],
    reason: str | None = None,
    documents: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Score every section that has a value and save them all in ONE transaction.

    ``sections`` maps instrument keys to dotted fields; ``documents`` optionally gives the
    instrument JSON to store for a key (the API's own input), else it is built from the fields.
    Raises ``EntryRefused`` (nothing saved) when the date, the reason, a section or the registry
    refuses; returns the saved and unchanged instruments.
    """
    require(actor.role, ACTION)
    problems: dict[str, InvalidInput] = {}
    outcomes: dict[str, Outcome] = {}
    reason = reason.strip() if isinstance(reason, str) and reason.strip() else None
    if reason is not None and len(reason) > REASON_MAX:
        problems["reason"] = InvalidInput(
            "visit entry", "reason", f"{len(reason)} characters", f"at most {REASON_MAX} characters"
        )
    saved_rows: list[dict[str, Any]] = []
    unchanged: list[str] = []
    try:
        with transaction(factory, actor, reason) as session:
            ctx = load_visit(session, usubjid, visitnum)
            try:
                on = parse_date(assessed_on)
                age = svc.age_on(ctx.subject, on)
            except InvalidInput as error:
                problems["assessed_on"] = InvalidInput(
                    "visit entry", "assessed_on", error.value, error.allowed
                )
                on, age = ctx.day, ctx.age
            for key in sections:
                if key not in ctx.keys:
                    problems[key] = InvalidInput(
                        "visit entry",
                        "assessments",
                        key,
                        "one of " + ", ".join(ctx.keys) + f" for this visit ({QOL_RULE})",
                    )
            for key in ctx.keys:
                if key in sections:
                    outcomes[key] = evaluate(key, sections[key], age)
                    if outcomes[key].error is not None:
                        problems[key] = outcomes[key].error
            if not problems and not any(o.status != "empty" for o in outcomes.values()):
                problems["assessments"] = InvalidInput(
                    "visit entry", "assessments", None, "at least one instrument with values"
                )
            if problems:
                raise EntryRefused(problems, outcomes)
            existing = _saved(session, ctx.visit)
            for key, outcome in outcomes.items():
                if outcome.status == "empty":
                    continue
                spec = INSTRUMENTS[key]
                before = existing.get(spec.name)
                if before is not None and _unchanged(key, before, outcome.flat, on):
                    unchanged.append(key)
                    continue
                data = (documents or {}).get(key) or to_json(key, outcome.flat)
                try:
                    row = svc.record_assessment(
                        session,
                        actor,
                        usubjid=usubjid,
                        visitnum=visitnum,
                        instrument=key,
                        data=data,
                        assessed_on=on,
                        evaluator=EVALUATOR,
                        reason=reason,
                    )
                except InvalidInput as error:
                    raise EntryRefused({key: error}, outcomes) from None
                saved_rows.append(
                    {
                        "instrument": key,
                        "name": row.instrument,
                        "total": float(row.total),
                        "band": row.band,
                        "version": row.version,
                    }
                )
            session.flush()
    except InvalidInput as error:  # the registry refused at commit (e.g. a locked database)
        raise EntryRefused({"assessments": error}, outcomes) from None
    return {
        "usubjid": usubjid,
        "visitnum": visitnum,
        "assessed_on": on.isoformat(),
        "saved": saved_rows,
        "unchanged": unchanged,
    }


# --- rendering ----------------------------------------------------------------------------------


def _map(key: str, flat: Mapping[str, object], age: float) -> str | None:
    """The body map of a section as SVG (SCORAD, EASI); None without ``atopic.web.bodymap``.

    Regions whose value is blank or not allowed are drawn as not set.
    """
    if key not in ("scorad", "easi"):
        return None
    try:
        from atopic.web import bodymap
    except ImportError:
        return None
    spec = INSTRUMENTS[key]

    def shown(name: str) -> object:
        value = flat.get(name)
        return value if value is not None and allowed(spec.item(name), value) else None

    try:
        if key == "scorad":
            regions = [
                item.field.split(".", 1)[1]
                for item in spec.items
                if item.field.startswith("extent.")
            ]
            return bodymap.body_map_svg(
                {r: shown(f"extent.{r}") for r in regions},
                age_years=age,
                instrument=spec.name,
                field_prefix=f"{key}{SEP}extent.",
                id_prefix="bodymap-scorad-svg",
                width=None,
            )
        return bodymap.easi_regions_svg(
            {r: shown(f"{r}.area_percent") for r in easi.REGIONS},
            age_years=age,
            field_prefix=f"{key}{SEP}",
            field_suffix=".area_percent",
            id_prefix="bodymap-easi-svg",
            width=None,
        )
    except (AttributeError, TypeError, ValueError):  # a body map still being written
        return None


def _results(
    form: Mapping[str, Any],
    outcomes: Mapping[str, Outcome] | None = None,
    problems: Mapping[str, InvalidInput] | None = None,
) -> dict[str, dict[str, Any]]:
    """Each section's result for the page: as scored now, marked where it stopped the save."""
    results = {s["key"]: dict(s["result"]) for s in form["sections"]}
    for key, outcome in (outcomes or {}).items():
        results[key] = outcome.to_dict()
    for key, error in (problems or {}).items():
        if key in results:
            results[key]["refused"] = {**error.to_dict(), "instrument": key}
    for key, result in results.items():
        result["label"] = INSTRUMENTS[key].outputs[0].label
    return results


def _render_entry(
    request: Request,
    session: Session,
    actor: Actor,
    form: dict[str, Any],
    *,
    values: Mapping[str, str] | None = None,
    assessed_on: str | None = None,
    reason: str = "",
    refused: EntryRefused | None = None,
) -> HTMLResponse:
    """The visit-entry page: the form definition, the values to show and any refusal."""
    values = dict(form["values"] if values is None else values)
    assessed_on = form["assessed_on"] if assessed_on is None else assessed_on
    ctx = load_visit(session, form["usubjid"], form["visitnum"])
    try:
        age = svc.age_on(ctx.subject, parse_date(assessed_on))
    except InvalidInput:
        age = ctx.age
    problems = refused.problems if refused else {}
    invalid_inputs = {
        f"{key}{SEP}{error.field}" for key, error in problems.items() if key in INSTRUMENTS
    }
    maps = {
        key: _map(key, to_flat(key, section_text(values, key)), age) for key in ("scorad", "easi")
    }
    response = page(
        request,
        "visit_entry.html",
        actor,
        form=form,
        values=values,
        assessed_on=assessed_on,
        reason=reason,
        results=_results(form, refused.outcomes if refused else None, problems),
        problems={key: error.message for key, error in problems.items()},
        invalid_inputs=invalid_inputs,
        maps=maps,
        entry_url=_entry_url(form["usubjid"], form["visitnum"]),
        visit_label=_visit_label(form["visitnum"]),
    )
    if refused is not None:
        response.status_code = 422
    return response


def _entry_url(usubjid: str, visitnum: float) -> str:
    return f"/subjects/{quote(usubjid)}/visits/{_visit_label(visitnum)}/entry"


async def form_text(request: Request) -> dict[str, str]:
    """Dependency: the posted form's text fields (the first value of each name)."""
    form = await request.form()
    out: dict[str, str] = {}
    for name, value in form.multi_items():
        if isinstance(value, str) and name not in out:
            out[name] = value
    return out


FormText = Annotated[dict[str, str], Depends(form_text)]


class VisitEntryIn(BaseModel):
    """A whole visit to save: each instrument's JSON form by key (``atopic score NAME
    --schema``); the age is taken from the subject's record."""

    assessed_on: dt.date
    assessments: dict[str, dict[str, Any]]
    reason: str | None = Field(default=None, max_length=REASON_MAX)


def _api_error(error: InvalidInput, instrument: str | None) -> JSONResponse:
    body = {**error.to_dict(), "instrument": instrument}
    return JSONResponse({"error": body, "errors": [body]}, status_code=422)


def register(app: FastAPI) -> None:
    """Add the visit-entry pages and their JSON twins to ``app``."""
    base = "/subjects/{usubjid}/visits/{visitnum}"

    @app.get(base + "/entry", response_class=HTMLResponse, include_in_schema=False)
    def entry_page(request: Request, session: Db, usubjid: str, visitnum: float) -> HTMLResponse:
        actor = current(request, session)
        return _render_entry(request, session, actor, visit_form(session, actor, usubjid, visitnum))

    @app.get("/api" + base + "/entry", tags=["visits"])
    def entry_api(actor: Me, session: Db, usubjid: str, visitnum: float) -> dict[str, Any]:
        """The visit-entry form: the instruments for the subject's age on the visit date (IDQOL
        under 4, CDLQI 4-15, DLQI 16 and over), their form fields and schemas, saved values."""
        return visit_form(session, actor, usubjid, visitnum)

    @app.post(base + "/score/{instrument}", response_class=HTMLResponse, include_in_schema=False)
    def score_fragment(
        request: Request,
        session: Db,
        usubjid: str,
        visitnum: float,
        instrument: str,
        form: FormText,
    ) -> HTMLResponse:
        actor = current(request, session)
        check_write(request, form.get(CSRF_FIELD))
        require(actor.role, ACTION)
        ctx = load_visit(session, usubjid, visitnum)
        key = _section_key(ctx, instrument)
        age = _age_on_text(ctx, form.get("assessed_on"))
        flat = to_flat(key, section_text(form, key))
        outcome = evaluate(key, flat, age)
        result = outcome.to_dict()
        result["label"] = INSTRUMENTS[key].outputs[0].label
        return TEMPLATES.TemplateResponse(
            request,
            "_visit_score.html",
            {"r": result, "key": key, "map_svg": _map(key, flat, age), "oob": True},
        )

    @app.post("/api" + base + "/score/{instrument}", tags=["visits"])
    def score_api(
        request: Request,
        actor: Me,
        session: Db,
        usubjid: str,
        visitnum: float,
        instrument: str,
        data: dict[str, Any],
        assessed_on: dt.date | None = None,
    ) -> Response:
        """Score one section as entered so far (nothing is saved): status ``empty``,
        ``incomplete`` (a blank item still needed) or ``complete`` with the score; 422 with the
        instrument's message for a value it does not allow."""
        check_write(request)
        require(actor.role, ACTION)
        ctx = load_visit(session, usubjid, visitnum)
        key = _section_key(ctx, instrument)
        age = _age_or(ctx, assessed_on) if assessed_on else ctx.age
        try:
            flat = from_json(key, data)
        except InvalidInput as error:
            return _api_error(error, key)
        outcome = evaluate(key, flat, age)
        if outcome.status == "invalid" and outcome.error is not None:
            return JSONResponse(
                {**outcome.to_dict(), "error": {**outcome.error.to_dict(), "instrument": key}},
                status_code=422,
            )
        return JSONResponse(outcome.to_dict())

    @app.post(base + "/entry", include_in_schema=False)
    def entry_save(
        request: Request, session: Db, usubjid: str, visitnum: float, form: FormText
    ) -> Response:
        actor = current(request, session)
        check_write(request, form.get(CSRF_FIELD))
        definition = visit_form(session, actor, usubjid, visitnum)
        keys = [s["key"] for s in definition["sections"]]
        sections = {key: to_flat(key, section_text(form, key)) for key in keys}
        reason = form.get("reason", "")
        try:
            save_visit(
                request.app.state.factory,
                actor,
                usubjid,
                visitnum,
                assessed_on=form.get("assessed_on", ""),
                sections=sections,
                reason=reason,
            )
        except EntryRefused as refused:
            return _render_entry(
                request,
                session,
                actor,
                definition,
                values=form,
                assessed_on=form.get("assessed_on", ""),
                reason=reason,
                refused=refused,
            )
        return RedirectResponse(f"/subjects/{quote(usubjid)}", status_code=303)

    @app.post("/api" + base + "/entry", tags=["visits"], status_code=201)
    def entry_save_api(
        request: Request, actor: Me, usubjid: str, visitnum: float, body: VisitEntryIn
    ) -> Response:
        """Score and save a whole visit in one transaction: ``{"assessed_on", "assessments":
        {"easi": {...}, "scorad": {...}}, "reason"}``. 201 with what was saved (and what was
        unchanged); 422 with ``{"error": {"field", "message", "instrument"}}`` and nothing
        saved when any instrument refuses its input."""
        check_write(request)
        sections: dict[str, dict[str, object]] = {}
        documents: dict[str, dict[str, Any]] = {}
        for name, data in body.assessments.items():
            key = name.lower()
            if key not in INSTRUMENTS:
                return _api_error(
                    InvalidInput(
                        "visit entry", "assessments", name, "one of " + ", ".join(INSTRUMENTS)
                    ),
                    None,
                )
            try:
                sections[key] = from_json(key, data)
            except InvalidInput as error:
                return _api_error(error, key)
            documents[key] = data
        try:
            saved = save_visit(
                request.app.state.factory,
                actor,
                usubjid,
                visitnum,
                assessed_on=body.assessed_on,
                sections=sections,
                reason=body.reason,
                documents=documents,
            )
        except EntryRefused as refused:
            return JSONResponse(refused.to_dict(), status_code=422)
        return JSONResponse(saved, status_code=201)


def _section_key(ctx: VisitContext, instrument: str) -> str:
    """The section key for this visit, or ``InvalidInput`` listing the visit's sections."""
    key = instrument.lower()
    if key not in ctx.keys:
        raise InvalidInput("visit entry", "instrument", instrument, "one of " + ", ".join(ctx.keys))
    return key


def _age_on_text(ctx: VisitContext, text: str | None) -> int:
    """Age on the form's assessment date; on the visit date when that date is blank or wrong."""
    try:
        return _age_or(ctx, parse_date(text))
    except InvalidInput:
        return ctx.age
