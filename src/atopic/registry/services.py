"""The service layer every front door calls (web, API, CLI): plain functions taking a session and
the acting user. Each checks the role, validates with the instruments' and the registry's
messages, and writes; the session audits every write in the same transaction and refuses changes
without a reason and clinical changes after lock (``atopic.registry.audit``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from atopic.diagnosis import age_in_years, age_phase, age_phase_from_years, diagnose
from atopic.errors import InvalidInput
from atopic.instruments import INSTRUMENTS, get_instrument
from atopic.instruments.domains import Continuous, Steps
from atopic.instruments.scalar import flatten, score_fields
from atopic.registry.audit import Actor
from atopic.registry.models import (
    BLINDED_TABLES,
    AdverseEvent,
    Assessment,
    AssessmentItem,
    AuditEntry,
    ConMed,
    DiagnosisRecord,
    Dose,
    Lab,
    Site,
    Study,
    Subject,
    Visit,
)
from atopic.registry.randomization import arm_for, can_see_allocation
from atopic.registry.roles import require

USUBJID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
SEXES = ("F", "M", "U")
DOSE_UNITS = ("cells", "cells/kg")
ROUTES = ("SC", "IV")
SEVERITIES = ("MILD", "MODERATE", "SEVERE")
RELATEDNESS = ("NOT RELATED", "UNLIKELY RELATED", "POSSIBLY RELATED", "PROBABLY RELATED", "RELATED")
LAB_UNITS = {"IGE": "IU/mL", "EOS": "10^9/L", "CCL17": "pg/mL"}
"""Units required for the labs atopic knows (trials.md); other tests take their own unit."""


def _choice(subject: str, field: str, value: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInput(subject, field, value, "one of " + ", ".join(allowed))
    return value


def _date(subject: str, field: str, value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        raise InvalidInput(subject, field, value, "a date (YYYY-MM-DD) without a time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(subject, field, value, "a date (YYYY-MM-DD)")


def _text(subject: str, field: str, value: object, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise InvalidInput(subject, field, value, f"text of 1 to {max_length} characters")
    return value


def _number(subject: str, field: str, value: object, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InvalidInput(subject, field, value, f"a number from {lo:g} to {hi:g}")
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        raise InvalidInput(subject, field, value, f"a number from {lo:g} to {hi:g}") from None
    if not math.isfinite(number) or not lo <= number <= hi:
        raise InvalidInput(subject, field, value, f"a number from {lo:g} to {hi:g}")
    return number


def _subject(session: Session, usubjid: str) -> Subject:
    subject = session.scalars(select(Subject).where(Subject.usubjid == usubjid)).first()
    if subject is None:
        raise InvalidInput("subject", "usubjid", usubjid, "an enrolled subject")
    return subject


def _visit(session: Session, subject: Subject, visitnum: float) -> Visit:
    visit = session.scalars(
        select(Visit).where(Visit.subject_id == subject.id, Visit.visitnum == visitnum)
    ).first()
    if visit is None:
        raise InvalidInput("visit", "visitnum", visitnum, f"a visit of {subject.usubjid}")
    return visit


# --- set-up -------------------------------------------------------------------------------------


def add_site(session: Session, actor: Actor, code: str, name: str) -> Site:
    """Add a trial site (admin)."""
    require(actor.role, "manage_study")
    site = Site(code=_text("site", "code", code, 20), name=_text("site", "name", name, 200))
    session.add(site)
    session.flush()
    return site


def create_study(
    session: Session, actor: Actor, studyid: str, title: str, design: str = ""
) -> Study:
    """Create a study (admin); ``design`` is the trial design file's text (TOML)."""
    require(actor.role, "manage_study")
    study = Study(
        studyid=_text("study", "studyid", studyid, 40),
        title=_text("study", "title", title, 200),
        design=design,
    )
    session.add(study)
    session.flush()
    return study


# --- subjects and visits ------------------------------------------------------------------------


def enrol_subject(
    session: Session,
    actor: Actor,
    *,
    studyid: str,
    site_code: str,
    usubjid: str,
    sex: str,
    enrolled_on: dt.date | str,
    birth_date: dt.date | str | None = None,
    age: int | None = None,
    strata: Mapping[str, str] | None = None,
) -> Subject:
    """Enrol a pseudonymous subject (investigator, coordinator). Give ``birth_date`` or ``age``
    (whole years); no names or other identifiers are stored."""
    require(actor.role, "enrol")
    if not isinstance(usubjid, str) or not USUBJID.match(usubjid):
        raise InvalidInput(
            "subject", "usubjid", usubjid, "1-40 letters, digits, '.', '_' or '-' (a pseudonym)"
        )
    study = session.scalars(select(Study).where(Study.studyid == studyid)).first()
    if study is None:
        raise InvalidInput("subject", "studyid", studyid, "an existing study")
    site = session.scalars(select(Site).where(Site.code == site_code)).first()
    if site is None:
        raise InvalidInput("subject", "site_code", site_code, "an existing site")
    if session.scalars(select(Subject.id).where(Subject.usubjid == usubjid)).first():
        raise InvalidInput("subject", "usubjid", usubjid, "not yet enrolled (it already is)")
    enrolled = _date("subject", "enrolled_on", enrolled_on)
    born = None if birth_date is None else _date("subject", "birth_date", birth_date)
    if born is None and age is None:
        raise InvalidInput("subject", "birth_date", None, "given (or age in whole years)")
    if born is not None and born > enrolled:
        raise InvalidInput("subject", "birth_date", born.isoformat(), "on or before enrolled_on")
    if age is not None and (
        isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 130
    ):
        raise InvalidInput("subject", "age", age, "a whole number of years from 0 to 130")
    subject = Subject(
        study_id=study.id,
        site_id=site.id,
        usubjid=usubjid,
        sex=_choice("subject", "sex", sex, SEXES),
        birth_date=born,
        age=age,
        enrolled_on=enrolled,
        strata=json.dumps(dict(strata or {}), sort_keys=True),
    )
    session.add(subject)
    session.flush()
    return subject


def age_on(subject: Subject, on: dt.date) -> int:
    """The subject's completed years on a date (from birth date, else the age at enrolment)."""
    if subject.birth_date is not None:
        return age_in_years(subject.birth_date, on)
    assert subject.age is not None
    return subject.age


def schedule_visit(
    session: Session,
    actor: Actor,
    usubjid: str,
    visitnum: float,
    name: str,
    planned_date: dt.date | str | None = None,
    actual_date: dt.date | str | None = None,
) -> Visit:
    """Add a visit to a subject's schedule (VISITNUM, VISIT), planned and/or done."""
    require(actor.role, "record_visit")
    subject = _subject(session, usubjid)
    number = _number("visit", "visitnum", visitnum, 0, 9999)
    visit = Visit(
        subject_id=subject.id,
        visitnum=number,
        name=_text("visit", "name", name, 40),
        planned_date=None if planned_date is None else _date("visit", "planned_date", planned_date),
        actual_date=None if actual_date is None else _date("visit", "actual_date", actual_date),
    )
    session.add(visit)
    session.flush()
    return visit


# --- assessments --------------------------------------------------------------------------------


def _entered(value: object) -> str:
    """The value as entered, as text (QSORRES): 1.5 -> "1.5", 2 -> "2", "a lot" -> "a lot"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value)


def record_assessment(
    session: Session,
    actor: Actor,
    *,
    usubjid: str,
    visitnum: float,
    instrument: str,
    data: Mapping[str, object],
    assessed_on: dt.date | str,
    evaluator: str = "INVESTIGATOR",
    reason: str | None = None,
) -> Assessment:
    """Score and save one instrument at a visit (investigator, coordinator).

    The items are validated and scored by ``atopic.instruments`` (its messages reach the user
    unchanged); nothing is saved when any item is invalid. The age an instrument needs is taken
    from the subject's record when the form does not give it. Saving over an existing assessment
    of the same instrument and evaluator at that visit is a correction and needs ``reason``.
    """
    require(actor.role, "record_assessment")
    spec = get_instrument(instrument)
    subject = _subject(session, usubjid)
    visit = _visit(session, subject, visitnum)
    on = _date("assessment", "assessed_on", assessed_on)
    flat = spec.parse(data) if spec.parse else flatten(data)
    for item in spec.items:
        if item.context and flat.get(item.field) is None:
            flat[item.field] = age_on(subject, on)
    result = score_fields(spec, flat)
    existing = session.scalars(
        select(Assessment).where(
            Assessment.visit_id == visit.id,
            Assessment.instrument == spec.name,
            Assessment.evaluator == evaluator,
        )
    ).first()
    same_category = [
        other.name
        for other in INSTRUMENTS.values()
        if other.qscat == spec.qscat and other.name != spec.name
    ]
    if (
        same_category
        and session.scalars(
            select(Assessment.id).where(
                Assessment.visit_id == visit.id,
                Assessment.instrument.in_(same_category),
                Assessment.evaluator == evaluator,
            )
        ).first()
    ):
        # SCORAD and objective SCORAD share their items (QSCAT SCORAD): one record per visit
        raise InvalidInput(
            spec.name,
            "instrument",
            spec.name,
            f"not recorded beside {', '.join(same_category)} at the same visit (they share items)",
        )
    if existing is not None and not (reason or session.info.get("reason")):
        raise InvalidInput(
            spec.name, "reason", None, "given to correct an assessment already saved at this visit"
        )
    if reason:
        session.info["reason"] = reason
    assessment = existing or Assessment(
        visit_id=visit.id, instrument=spec.name, evaluator=evaluator
    )
    assessment.assessed_on = on
    assessment.total = str(result.total)
    assessment.band = result.band
    assessment.version = spec.version
    by_code = {stored.qstestcd: stored for stored in assessment.items}
    for item in spec.items:
        value = flat.get(item.field)
        if item.context:
            continue
        stored = by_code.get(item.code)
        if value is None:
            if stored is not None:
                assessment.items.remove(stored)
            continue
        numeric = isinstance(item.domain, Steps | Continuous) and isinstance(value, int | float)
        text, number = _entered(value), float(value) if numeric else None
        if stored is None:
            assessment.items.append(
                AssessmentItem(
                    qstestcd=item.code, field=item.field, value_text=text, value_num=number
                )
            )
        elif stored.value_text != text:
            stored.value_text, stored.value_num = text, number
    if existing is None:
        session.add(assessment)
    session.flush()
    return assessment


# --- dosing, labs, adverse events, medication, diagnosis ----------------------------------------


def record_dose(
    session: Session,
    actor: Actor,
    *,
    usubjid: str,
    product: str,
    lot: str,
    dose: float,
    unit: str,
    route: str,
    given_at: dt.datetime | str,
    visitnum: float | None = None,
) -> Dose:
    """Record a dose of the investigational product (pharmacist): ``dose`` in cells or cells/kg
    (e.g. 2.5e7 cells), route SC or IV, time given (ISO 8601)."""
    require(actor.role, "record_dose")
    subject = _subject(session, usubjid)
    amount = _number("dose", "dose", dose, 0, 1e12)
    when = given_at.isoformat() if isinstance(given_at, dt.datetime) else given_at
    try:
        dt.datetime.fromisoformat(str(when))
    except ValueError:
        raise InvalidInput("dose", "given_at", given_at, "a date and time (ISO 8601)") from None
    record = Dose(
        subject_id=subject.id,
        visit_id=None if visitnum is None else _visit(session, subject, visitnum).id,
        product=_text("dose", "product", product, 80),
        lot=_text("dose", "lot", lot, 40),
        dose=amount,
        unit=_choice("dose", "unit", unit, DOSE_UNITS),
        route=_choice("dose", "route", route, ROUTES),
        given_at=str(when),
        given_by=actor.username,
    )
    session.add(record)
    session.flush()
    return record


def record_lab(
    session: Session,
    actor: Actor,
    *,
    usubjid: str,
    testcd: str,
    value: float,
    unit: str,
    collected_on: dt.date | str,
    visitnum: float | None = None,
) -> Lab:
    """Record a lab result (IGE in IU/mL, EOS in 10^9/L, CCL17 in pg/mL, others by code)."""
    require(actor.role, "record_lab")
    subject = _subject(session, usubjid)
    if not isinstance(testcd, str) or not re.fullmatch(r"[A-Z][A-Z0-9]{0,7}", testcd):
        raise InvalidInput("lab", "testcd", testcd, "an LBTESTCD of 1-8 capital letters or digits")
    if testcd in LAB_UNITS and unit != LAB_UNITS[testcd]:
        raise InvalidInput("lab", "unit", unit, f"{LAB_UNITS[testcd]} for {testcd}")
    record = Lab(
        subject_id=subject.id,
        visit_id=None if visitnum is None else _visit(session, subject, visitnum).id,
        testcd=testcd,
        value=_number("lab", "value", value, 0, 1e9),
        unit=_text("lab", "unit", unit, 20),
        collected_on=_date("lab", "collected_on", collected_on),
    )
    session.add(record)
    session.flush()
    return record


def record_adverse_event(
    session: Session,
    actor: Actor,
    *,
    usubjid: str,
    term: str,
    start_date: dt.date | str,
    related: str,
    severity: str | None = None,
    toxgr: int | None = None,
    serious: bool = False,
    end_date: dt.date | str | None = None,
    decod: str | None = None,
    bodsys: str | None = None,
) -> AdverseEvent:
    """Record an adverse event: severity (MILD/MODERATE/SEVERE) or CTCAE grade 1-5, serious,
    relatedness, dates (end on or after start)."""
    require(actor.role, "record_adverse_event")
    subject = _subject(session, usubjid)
    if severity is None and toxgr is None:
        raise InvalidInput("adverse event", "severity", None, "given (or toxgr, a CTCAE grade)")
    if severity is not None:
        _choice("adverse event", "severity", severity, SEVERITIES)
    if toxgr is not None and (isinstance(toxgr, bool) or toxgr not in (1, 2, 3, 4, 5)):
        raise InvalidInput("adverse event", "toxgr", toxgr, "a CTCAE grade from 1 to 5")
    if not isinstance(serious, bool):
        raise InvalidInput("adverse event", "serious", serious, "true or false")
    start = _date("adverse event", "start_date", start_date)
    end = None if end_date is None else _date("adverse event", "end_date", end_date)
    if end is not None and end < start:
        raise InvalidInput("adverse event", "end_date", end.isoformat(), "on or after start_date")
    record = AdverseEvent(
        subject_id=subject.id,
        term=_text("adverse event", "term", term, 200),
        decod=decod,
        bodsys=bodsys,
        severity=severity,
        toxgr=toxgr,
        serious=serious,
        related=_choice("adverse event", "related", related, RELATEDNESS),
        start_date=start,
        end_date=end,
    )
    session.add(record)
    session.flush()
    return record


def record_medication(
    session: Session,
    actor: Actor,
    *,
    usubjid: str,
    name: str,
    start_date: dt.date | str,
    rescue: bool = False,
    indication: str = "",
    end_date: dt.date | str | None = None,
) -> ConMed:
    """Record a concomitant medication; ``rescue`` marks rescue therapy (an intercurrent event)."""
    require(actor.role, "record_medication")
    subject = _subject(session, usubjid)
    if not isinstance(rescue, bool):
        raise InvalidInput("medication", "rescue", rescue, "true or false")
    start = _date("medication", "start_date", start_date)
    end = None if end_date is None else _date("medication", "end_date", end_date)
    if end is not None and end < start:
        raise InvalidInput("medication", "end_date", end.isoformat(), "on or after start_date")
    record = ConMed(
        subject_id=subject.id,
        name=_text("medication", "name", name, 200),
        indication=indication,
        rescue=rescue,
        start_date=start,
        end_date=end,
    )
    session.add(record)
    session.flush()
    return record


def record_diagnosis(
    session: Session,
    actor: Actor,
    *,
    usubjid: str,
    criteria: str,
    features: Mapping[str, bool],
    assessed_on: dt.date | str,
) -> DiagnosisRecord:
    """Apply diagnostic criteria (investigator) and keep the answers with the result."""
    require(actor.role, "record_diagnosis")
    if not isinstance(features, Mapping):
        raise InvalidInput("diagnosis", "features", features, "an object of feature -> true/false")
    subject = _subject(session, usubjid)
    on = _date("diagnosis", "assessed_on", assessed_on)
    data: dict[str, Any] = {"criteria": criteria, "features": dict(features)}
    if subject.birth_date is not None:
        data.update(birth_date=subject.birth_date.isoformat(), assessment_date=on.isoformat())
    else:
        data["age_years"] = age_on(subject, on)
    result = diagnose(criteria, data)
    record = DiagnosisRecord(
        subject_id=subject.id,
        criteria=criteria,
        diagnosed=result.diagnosed,
        answers=json.dumps(dict(features), sort_keys=True),
        result=json.dumps(result.to_dict(), sort_keys=True),
        assessed_on=on,
    )
    session.add(record)
    session.flush()
    return record


# --- reading ------------------------------------------------------------------------------------


def audit_trail(
    session: Session, actor: Actor, *, table: str | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """The audit trail, newest first (monitor, admin). For anyone who may not see the allocation,
    values of allocation tables are shown as "(blinded)"."""
    require(actor.role, "read_audit")
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if table:
        query = query.where(AuditEntry.table_name == table)
    blinded = not can_see_allocation(session, actor)
    rows = []
    for e in session.scalars(query):
        hide = blinded and e.table_name in BLINDED_TABLES
        rows.append(
            {
                "id": e.id,
                "at": e.at,
                "username": e.username,
                "role": e.role,
                "table": e.table_name,
                "record": e.record_id,
                "action": e.action,
                "field": e.field,
                "old": "(blinded)" if hide and e.old is not None else e.old,
                "new": "(blinded)" if hide and e.new is not None else e.new,
                "reason": e.reason,
            }
        )
    return rows


def _number_of(text: str) -> int | float:
    """A stored exact total as a JSON number: 22 stays 22, 33.6 is 33.6."""
    value = Decimal(text)
    return int(value) if value == value.to_integral_value() else float(value)


def list_subjects(
    session: Session, actor: Actor, *, q: str | None = None, site: str | None = None
) -> list[dict[str, Any]]:
    """Subjects for a list page: USUBJID, site, sex, enrolment date, visits done and the latest
    EASI; ``q`` filters by part of the USUBJID, ``site`` by site code. Never the allocation."""
    require(actor.role, "read")
    query = (
        select(Subject, Site.code).join(Site, Site.id == Subject.site_id).order_by(Subject.usubjid)
    )
    if q:
        query = query.where(Subject.usubjid.contains(q.strip(), autoescape=True))
    if site:
        query = query.where(Site.code == site)
    rows = []
    for subject, site_code in session.execute(query):
        latest = session.execute(
            select(Assessment.total, Assessment.band, Assessment.assessed_on)
            .join(Visit, Visit.id == Assessment.visit_id)
            .where(Visit.subject_id == subject.id, Assessment.instrument == "EASI")
            .order_by(Assessment.assessed_on.desc())
            .limit(1)
        ).first()
        rows.append(
            {
                "usubjid": subject.usubjid,
                "site": site_code,
                "sex": subject.sex,
                "enrolled_on": subject.enrolled_on.isoformat(),
                "visits_done": sum(1 for v in subject.visits if v.actual_date is not None),
                "latest_easi": None if latest is None else float(latest.total),
                "latest_easi_band": None if latest is None else latest.band,
            }
        )
    return rows


def subject_record(session: Session, actor: Actor, usubjid: str) -> dict[str, Any]:
    """One subject's record as a JSON-ready dict; ``arm`` only for those who may see it."""
    require(actor.role, "read")
    subject = _subject(session, usubjid)
    record: dict[str, Any] = {
        "usubjid": subject.usubjid,
        "sex": subject.sex,
        "enrolled_on": subject.enrolled_on.isoformat(),
        "visits": [],
    }
    # One query for every visit's assessments (not one per visit: the page is read at each save).
    by_visit: dict[int, list[Assessment]] = {}
    for a in session.scalars(
        select(Assessment)
        .where(Assessment.visit_id.in_([v.id for v in subject.visits]))
        .order_by(Assessment.id)
    ):
        by_visit.setdefault(a.visit_id, []).append(a)
    for visit in subject.visits:
        assessments = by_visit.get(visit.id, [])
        record["visits"].append(
            {
                "visitnum": visit.visitnum,
                "name": visit.name,
                "date": visit.actual_date.isoformat() if visit.actual_date else None,
                "assessments": [
                    {"instrument": a.instrument, "total": _number_of(a.total), "band": a.band}
                    for a in assessments
                ],
            }
        )
    today = dt.date.today()
    years = age_on(subject, today)
    phase = (
        age_phase(subject.birth_date, today)
        if subject.birth_date is not None
        else age_phase_from_years(years)
    )
    record["age"] = {"years": years, "phase": phase.value, "phase_label": phase.label}
    latest = session.scalars(
        select(DiagnosisRecord)
        .where(DiagnosisRecord.subject_id == subject.id)
        .order_by(DiagnosisRecord.assessed_on.desc(), DiagnosisRecord.id.desc())
    ).first()
    if latest is not None:
        result = json.loads(latest.result)
        record["diagnosis"] = {
            "criteria": result.get("title", latest.criteria),
            "assessed_on": latest.assessed_on.isoformat(),
            "diagnosed": latest.diagnosed,
            "met": [m["label"] for m in result.get("met", [])],
            "missed": [m["label"] for m in result.get("missed", [])],
        }
    # When doses were given is not blinded information (placebo is given too); what was given is.
    record["dose_times"] = [
        d.given_at
        for d in session.scalars(
            select(Dose).where(Dose.subject_id == subject.id).order_by(Dose.given_at)
        )
    ]
    if can_see_allocation(session, actor, subject.id):
        record["arm"] = arm_for(session, actor, subject.id)
    return record
