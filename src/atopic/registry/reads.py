"""Read functions for subject pages beyond the record, the audit trail and the trial dashboard.

Each checks the actor's role first, like every service, and returns a JSON-ready dict; the web
pages and their JSON twins are built from them (``atopic.web.routes_pages``), and the leak test
calls each as every role. Decisions are listed in ``atopic.web.routes_pages``' docstring.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from atopic.diagnosis import CRITERIA, age_phase, age_phase_from_years
from atopic.diagnosis.rules import CriteriaSet
from atopic.errors import InvalidInput
from atopic.registry import services as svc
from atopic.registry.audit import Actor
from atopic.registry.models import (
    AdverseEvent,
    Assessment,
    Base,
    DiagnosisRecord,
    Dose,
    Lab,
    RandomizationSlot,
    Site,
    Subject,
    Visit,
)
from atopic.registry.randomization import can_see_allocation
from atopic.registry.roles import UNBLINDED, Forbidden, Role, refusal, require

AUDIT_LIMIT = 100
"""Audit entries shown per page unless ``limit`` says otherwise."""
AUDIT_MAX = 10_000
"""Largest ``limit`` the audit page accepts."""


class DosesForbidden(Forbidden):
    """Reading doses is for unblinded roles only: they reveal the arm (a ``roles.Forbidden``)."""

    def __init__(self, role: str) -> None:
        PermissionError.__init__(self, refusal(role, "read doses", UNBLINDED))
        self.action = "read_doses"


# --- reading ------------------------------------------------------------------------------------


def _subject(session: Session, usubjid: str) -> Subject:
    """The subject, or the registry's InvalidInput for an unknown USUBJID."""
    subject = session.scalars(select(Subject).where(Subject.usubjid == usubjid)).first()
    if subject is None:
        raise InvalidInput("subject", "usubjid", usubjid, "an enrolled subject")
    return subject


def _visits(subject: Subject) -> list[dict[str, Any]]:
    """The subject's visits for a form's visit choice: number, name, date done."""
    return [
        {
            "visitnum": v.visitnum,
            "name": v.name,
            "date": v.actual_date.isoformat() if v.actual_date else None,
        }
        for v in subject.visits
    ]


def _visit_of(subject: Subject, visit_id: int | None) -> tuple[float | None, str | None]:
    for v in subject.visits:
        if v.id == visit_id:
            return v.visitnum, v.name
    return None, None


def _criteria_dict(criteria: CriteriaSet) -> dict[str, Any]:
    """A criteria set as its checklist: groups (with threshold) holding their features."""
    return {
        "name": criteria.name,
        "title": criteria.title,
        "source": criteria.source,
        "groups": [
            {
                "code": group.code,
                "label": group.label,
                "needed": group.needed,
                "features": [
                    {"code": f.code, "label": f.label, "applies": f.applies}
                    for f in criteria.features
                    if f.group == group.code
                ],
            }
            for group in criteria.groups
        ],
    }


def subject_age(subject: Subject, on: dt.date) -> dict[str, Any]:
    """The subject's age and age phase on ``on`` from the registry: from the birth date when
    recorded (exact age), else from the age in completed years given at enrolment."""
    years = svc.age_on(subject, on)
    if subject.birth_date is not None:
        phase = age_phase(subject.birth_date, on)
        basis = "birth date"
    else:
        phase = age_phase_from_years(years)
        basis = "age in completed years given at enrolment"
    return {
        "on": on.isoformat(),
        "years": years,
        "basis": basis,
        "phase": {
            "code": phase.value,
            "label": phase.label,
            "range": phase.age_range,
            "presentation": phase.presentation,
        },
    }


def diagnosis_view(
    session: Session, actor: Actor, usubjid: str, on: dt.date | None = None
) -> dict[str, Any]:
    """The diagnosis page's data (every role): the subject's age phase on ``on`` (today), the
    checklists of every criteria set and the results recorded, newest first, with the features
    met, missed and not applied."""
    require(actor.role, "read")
    subject = _subject(session, usubjid)
    records = session.scalars(
        select(DiagnosisRecord)
        .where(DiagnosisRecord.subject_id == subject.id)
        .order_by(DiagnosisRecord.assessed_on.desc(), DiagnosisRecord.id.desc())
    )
    return {
        "usubjid": subject.usubjid,
        "age": subject_age(subject, on or dt.date.today()),
        "criteria": [_criteria_dict(c) for c in CRITERIA.values()],
        "results": [_diagnosis_dict(r) for r in records],
    }


def _diagnosis_dict(record: DiagnosisRecord) -> dict[str, Any]:
    result = json.loads(record.result)
    return {
        "id": record.id,
        "criteria": record.criteria,
        "title": result.get("title", record.criteria),
        "source": result.get("source", ""),
        "assessed_on": record.assessed_on.isoformat(),
        "diagnosed": record.diagnosed,
        "groups": result.get("groups", []),
        "met": result.get("met", []),
        "missed": result.get("missed", []),
        "not_applied": result.get("not_applied", []),
        "rules": result.get("rules", []),
        "age_phase": result.get("age_phase"),
    }


def dose_list(session: Session, actor: Actor, usubjid: str) -> dict[str, Any]:
    """A subject's doses, in the order given (unblinded roles only: doses reveal the arm)."""
    if Role(actor.role) not in UNBLINDED:
        raise DosesForbidden(actor.role)
    require(actor.role, "read")
    subject = _subject(session, usubjid)
    doses = session.scalars(
        select(Dose).where(Dose.subject_id == subject.id).order_by(Dose.given_at, Dose.id)
    )
    return {
        "usubjid": subject.usubjid,
        "doses": [_dose_dict(subject, d) for d in doses],
        "visits": _visits(subject),
        "choices": {"unit": list(svc.DOSE_UNITS), "route": list(svc.ROUTES)},
    }


def _dose_dict(subject: Subject, dose: Dose) -> dict[str, Any]:
    visitnum, visit = _visit_of(subject, dose.visit_id)
    return {
        "id": dose.id,
        "given_at": dose.given_at,
        "product": dose.product,
        "dose": dose.dose,
        "unit": dose.unit,
        "route": dose.route,
        "lot": dose.lot,
        "visitnum": visitnum,
        "visit": visit,
        "given_by": dose.given_by,
    }


def lab_list(session: Session, actor: Actor, usubjid: str) -> dict[str, Any]:
    """A subject's lab results by collection date (every role), with the known tests' units."""
    require(actor.role, "read")
    subject = _subject(session, usubjid)
    labs = session.scalars(
        select(Lab).where(Lab.subject_id == subject.id).order_by(Lab.collected_on, Lab.id)
    )
    return {
        "usubjid": subject.usubjid,
        "labs": [_lab_dict(subject, lab) for lab in labs],
        "visits": _visits(subject),
        "choices": {"testcd": list(svc.LAB_UNITS), "unit": dict(svc.LAB_UNITS)},
    }


def _lab_dict(subject: Subject, lab: Lab) -> dict[str, Any]:
    visitnum, visit = _visit_of(subject, lab.visit_id)
    return {
        "id": lab.id,
        "testcd": lab.testcd,
        "value": lab.value,
        "unit": lab.unit,
        "collected_on": lab.collected_on.isoformat(),
        "visitnum": visitnum,
        "visit": visit,
    }


def adverse_event_list(session: Session, actor: Actor, usubjid: str) -> dict[str, Any]:
    """A subject's adverse events by start date (every role), with the controlled terms."""
    require(actor.role, "read")
    subject = _subject(session, usubjid)
    events = session.scalars(
        select(AdverseEvent)
        .where(AdverseEvent.subject_id == subject.id)
        .order_by(AdverseEvent.start_date, AdverseEvent.id)
    )
    return {
        "usubjid": subject.usubjid,
        "adverse_events": [_ae_dict(e) for e in events],
        "choices": {
            "severity": list(svc.SEVERITIES),
            "toxgr": [1, 2, 3, 4, 5],
            "related": list(svc.RELATEDNESS),
        },
    }


def _ae_dict(event: AdverseEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "term": event.term,
        "decod": event.decod,
        "bodsys": event.bodsys,
        "severity": event.severity,
        "toxgr": event.toxgr,
        "serious": event.serious,
        "related": event.related,
        "start_date": event.start_date.isoformat(),
        "end_date": event.end_date.isoformat() if event.end_date else None,
    }


def _limit(raw: str | int | None) -> int:
    if raw is None or raw == "":
        return AUDIT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not 1 <= value <= AUDIT_MAX:
        raise InvalidInput("audit", "limit", raw, f"a whole number from 1 to {AUDIT_MAX}")
    return value


def audit_view(
    session: Session, actor: Actor, *, table: str | None = None, limit: str | int | None = None
) -> dict[str, Any]:
    """The audit trail, newest first (monitor, admin), filtered by table; ``limit`` entries (100
    unless given; a page asks for more to see older entries). Values of tables that reveal the
    allocation are "(blinded)" for blinded roles (``services.audit_trail``)."""
    require(actor.role, "read_audit")
    count = _limit(limit)
    entries = svc.audit_trail(session, actor, table=table or None, limit=count + 1)
    return {
        "table": table or None,
        "limit": count,
        "more": len(entries) > count,
        "tables": sorted(Base.metadata.tables),
        "entries": entries[:count],
    }


def _iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _week_range(days: Sequence[dt.date]) -> list[str]:
    """Every ISO week from the first to the last of ``days``."""
    if not days:
        return []
    monday = min(days) - dt.timedelta(days=min(days).weekday())
    weeks = []
    while monday <= max(days):
        weeks.append(_iso_week(monday))
        monday += dt.timedelta(days=7)
    return weeks


def _means(
    values: dict[tuple[int, str], list[float]], order: dict[str, float], subjects: set[int] | None
) -> list[dict[str, Any]]:
    """Mean over subjects per visit name (a subject's value: the mean of its evaluators)."""
    per_visit: dict[str, list[float]] = defaultdict(list)
    for (subject_id, visit), totals in values.items():
        if subjects is None or subject_id in subjects:
            per_visit[visit].append(sum(totals) / len(totals))
    return [
        {
            "visit": visit,
            "visitnum": order[visit],
            "n": len(per_visit[visit]),
            "mean": round(sum(per_visit[visit]) / len(per_visit[visit]), 2),
        }
        for visit in sorted(per_visit, key=lambda name: (order[name], name))
    ]


def dashboard(session: Session, actor: Actor) -> dict[str, Any]:
    """The trial dashboard (every role): enrolment by site and ISO week, visit completion, mean
    EASI by visit; ``easi.by_arm`` only when ``actor`` may see every subject's allocation."""
    require(actor.role, "read")
    enrolled = session.execute(
        select(Subject.id, Subject.enrolled_on, Site.code).join(Site, Site.id == Subject.site_id)
    ).all()
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for _, day, site in enrolled:
        counts[(site, _iso_week(day))] += 1
    sites = sorted({site for _, _, site in enrolled})
    weeks = _week_range([day for _, day, _ in enrolled])

    visits = session.execute(select(Visit.name, Visit.visitnum, Visit.actual_date)).all()
    order: dict[str, float] = {}
    scheduled: dict[str, int] = defaultdict(int)
    done: dict[str, int] = defaultdict(int)
    for name, visitnum, actual in visits:
        order[name] = min(order.get(name, visitnum), visitnum)
        scheduled[name] += 1
        done[name] += actual is not None

    easi: dict[tuple[int, str], list[float]] = defaultdict(list)
    rows = session.execute(
        select(Visit.subject_id, Visit.name, Visit.visitnum, Assessment.total)
        .join(Visit, Visit.id == Assessment.visit_id)
        .where(Assessment.instrument == "EASI")
    )
    for subject_id, name, visitnum, total in rows:
        order[name] = min(order.get(name, visitnum), visitnum)
        easi[(subject_id, name)].append(float(total))

    by_visit = sorted(order, key=lambda name: (order[name], name))
    result: dict[str, Any] = {
        "subjects": len(enrolled),
        "enrolment": {
            "sites": sites,
            "weeks": weeks,
            "counts": [
                {"site": site, "week": week, "n": counts[(site, week)]}
                for site in sites
                for week in weeks
            ],
            "by_week": [
                {"week": week, "n": sum(counts[(site, week)] for site in sites)} for week in weeks
            ],
        },
        "visits": {
            "scheduled": len(visits),
            "done": sum(done.values()),
            "by_visit": [
                {
                    "visit": name,
                    "visitnum": order[name],
                    "scheduled": scheduled[name],
                    "done": done[name],
                }
                for name in by_visit
                if scheduled[name]
            ],
        },
        "easi": {"overall": _means(easi, order, None)},
        "allocation_visible": False,
    }
    if can_see_allocation(session, actor):
        arms: dict[str, set[int]] = defaultdict(set)
        for subject_id, arm in session.execute(
            select(RandomizationSlot.subject_id, RandomizationSlot.arm).where(
                RandomizationSlot.subject_id.is_not(None)
            )
        ):
            arms[arm].add(subject_id)
        result["easi"]["by_arm"] = {arm: _means(easi, order, arms[arm]) for arm in sorted(arms)}
        result["allocation_visible"] = True
    return result


# --- charts (server-rendered SVG) ---------------------------------------------------------------
