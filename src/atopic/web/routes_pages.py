"""Subject pages beyond the record, the audit trail and the trial dashboard, each with a JSON twin.

Pages (server-rendered, no JavaScript needed) and their twins under ``/api``, both built from the
same read function below:

| page | JSON | who reads | who writes (POST) |
|---|---|---|---|
| ``/subjects/{u}/diagnosis`` | ``/api/subjects/{u}/diagnosis`` | every role | investigator |
| ``/subjects/{u}/doses`` | ``/api/subjects/{u}/doses`` | pharmacist only | pharmacist |
| ``/subjects/{u}/labs`` | ``/api/subjects/{u}/labs`` | every role | investigator, coordinator |
| ``/subjects/{u}/adverse-events`` | ``/api/subjects/{u}/adverse-events`` | every role | investigator, coordinator |
| ``/audit`` | ``/api/audit`` | monitor, admin | - |
| ``/dashboard`` | ``/api/dashboard`` | every role | - |

Writes go through ``atopic.registry.services`` in one audited ``transaction``; its
``InvalidInput`` answers 422 with the registry's own words (a page re-renders its form with the
values kept and the message inline, ``role="alert"``), a refused role 403, a missing or wrong
CSRF token 403. A saved form redirects (303) to its page.

Blinding (DESIGN.md, security model): doses reveal the arm (product, amount and lot tell placebo
from each dose level), so their page and twin are for the unblinded role (pharmacist) only. The
dashboard groups by arm only when ``randomization.can_see_allocation(session, actor)`` is true
(every subject's allocation); otherwise no arm code is read from the database at all.

Decisions:

* The read functions (``diagnosis_view``, ``dose_list``, ``lab_list``, ``adverse_event_list``,
  ``audit_view``, ``dashboard``) live in ``atopic.registry.reads``; each checks the role first,
  like a service, and the registry's leak test calls each as every role.
* API bodies take the values as sent (``Any``) so that every value check is the registry's and a
  bad value answers with its message; only the shape (a JSON object, known keys) is FastAPI's.
* Page forms send text; numbers are read with ``float``/``int`` and anything unreadable is passed
  on as typed, so the registry names it in its message (``lab value must be a number ...; got
  'abc'``).
* The diagnosis checklist is one form per criteria set: a ticked feature is met, an unticked one
  is recorded as absent (the form says so). The age phase comes from the birth date on today's
  date, else from the age in completed years given at enrolment.
* Dashboard: enrolment counts subjects by site and ISO week of enrolment (``2026-W02``), weeks
  without enrolment in between included; visit completion is visits with an actual date over
  visits scheduled, overall and by visit name; mean EASI is per visit name (AVISIT) over
  subjects, a subject's EASI at a visit being the mean over its evaluators. Subjects not
  randomized are left out of the by-arm means. The whole registry is summarised (all studies).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from atopic.diagnosis import CRITERIA
from atopic.errors import InvalidInput
from atopic.registry import services as svc
from atopic.registry.audit import Actor
from atopic.registry.db import transaction
from atopic.registry.reads import (
    AUDIT_MAX,
    _ae_dict,
    _diagnosis_dict,
    _dose_dict,
    _lab_dict,
    _subject,
    adverse_event_list,
    audit_view,
    dashboard,
    diagnosis_view,
    dose_list,
    lab_list,
    subject_age,
)
from atopic.registry.roles import PERMISSIONS, UNBLINDED, Role
from atopic.web.deps import Db, Me, check_write, current, page
from atopic.web.security import CSRF_FIELD

Csrf = Annotated[str, Form(alias=CSRF_FIELD)]
"""The CSRF token every page form carries."""

_COLOURS = ("#0b6e69", "#b3541e", "#4b5fb3", "#8a3b8f", "#5b6475", "#a1121a", "#2f7d32")
_DASHES = ("", "7 4", "2 3", "9 3 2 3")
_WIDTH, _HEIGHT = 640, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 52, 16, 44, 36


def _nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten that is at least ``value``."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _svg_open(key: str, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {_HEIGHT}" width="100%" '
        f'style="max-width:{_WIDTH}px" role="img" aria-labelledby="{key}-title {key}-desc">',
        f'<title id="{key}-title">{escape(title)}</title>',
        f'<desc id="{key}-desc">{escape(desc)}</desc>',
    ]


def _axes(parts: list[str], top_value: float, categories: Sequence[str], step: float) -> None:
    """Horizontal grid with y labels, and x labels under the categories (thinned to fit)."""
    bottom, height = _HEIGHT - _BOTTOM, _HEIGHT - _BOTTOM - _TOP
    for i in range(6):
        value = top_value * i / 5
        y = bottom - height * i / 5
        parts.append(
            f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#d7dbe3"/><text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="12" fill="#5b6475">{_num(value)}</text>'
        )
    every = max(1, math.ceil(64 / step)) if step else 1
    for i, name in enumerate(categories):
        if i % every:
            continue
        x = _LEFT + step * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{bottom + 18}" text-anchor="middle" font-size="12" '
            f'fill="#1d2433">{escape(name)}</text>'
        )


def _legend(parts: list[str], names: Sequence[str], line: bool) -> None:
    x = _LEFT
    for i, name in enumerate(names):
        colour = _COLOURS[i % len(_COLOURS)]
        if line:
            dash = _DASHES[i % len(_DASHES)]
            parts.append(
                f'<line x1="{x}" x2="{x + 22}" y1="16" y2="16" stroke="{colour}" '
                f'stroke-width="3" stroke-dasharray="{dash}"/>'
            )
            parts.append(_marker(i, x + 11, 16, colour))
        else:
            parts.append(f'<rect x="{x}" y="9" width="14" height="14" fill="{colour}"/>')
        parts.append(
            f'<text x="{x + 28}" y="21" font-size="12" fill="#1d2433">{escape(name)}</text>'
        )
        x += 44 + 8 * len(name)


def _marker(i: int, x: float, y: float, colour: str) -> str:
    """A point marker whose shape differs by series (colour is not the only cue)."""
    shape = i % 4
    if shape == 0:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{colour}"/>'
    if shape == 1:
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    if shape == 2:
        return (
            f'<path d="M{x:.1f} {y - 5:.1f}L{x + 5:.1f} {y + 4:.1f}L{x - 5:.1f} {y + 4:.1f}Z" '
            f'fill="{colour}"/>'
        )
    return (
        f'<path d="M{x:.1f} {y - 5:.1f}L{x + 5:.1f} {y:.1f}L{x:.1f} {y + 5:.1f}'
        f'L{x - 5:.1f} {y:.1f}Z" fill="{colour}"/>'
    )


def bar_chart_svg(
    key: str,
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
) -> str:
    """Stacked bars: one bar per category, one segment per series (inline SVG, role=img)."""
    parts = _svg_open(key, title, desc)
    totals = [sum(values[i] for _, values in series) for i in range(len(categories))]
    top_value = max(5.0, _nice_max(max(totals, default=0)))  # counts: whole-number ticks
    step = (_WIDTH - _LEFT - _RIGHT) / max(len(categories), 1)
    bottom, height = _HEIGHT - _BOTTOM, _HEIGHT - _BOTTOM - _TOP
    _axes(parts, top_value, categories, step)
    _legend(parts, [name for name, _ in series], line=False)
    bar = max(step * 0.7, 1.0)
    for i, category in enumerate(categories):
        y = float(bottom)
        for s, (name, values) in enumerate(series):
            if not values[i]:
                continue
            h = height * values[i] / top_value
            y -= h
            parts.append(
                f'<rect x="{_LEFT + step * i + (step - bar) / 2:.1f}" y="{y:.1f}" '
                f'width="{bar:.1f}" height="{h:.1f}" fill="{_COLOURS[s % len(_COLOURS)]}" '
                f'stroke="#fff"><title>{escape(category)}, {escape(name)}: '
                f"{_num(values[i])}</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)


def line_chart_svg(
    key: str,
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
) -> str:
    """Lines over categories, one per series, with shaped markers (inline SVG, role=img);
    a missing value breaks the line."""
    parts = _svg_open(key, title, desc)
    values = [v for _, vs in series for v in vs if v is not None]
    top_value = _nice_max(max(values, default=0))
    step = (_WIDTH - _LEFT - _RIGHT) / max(len(categories), 1)
    bottom, height = _HEIGHT - _BOTTOM, _HEIGHT - _BOTTOM - _TOP
    _axes(parts, top_value, categories, step)
    _legend(parts, [name for name, _ in series], line=True)
    for s, (name, points) in enumerate(series):
        colour, dash = _COLOURS[s % len(_COLOURS)], _DASHES[s % len(_DASHES)]
        path, pen = [], "M"
        marks = []
        for i, value in enumerate(points):
            if value is None:
                pen = "M"
                continue
            x, y = _LEFT + step * (i + 0.5), bottom - height * value / top_value
            path.append(f"{pen}{x:.1f} {y:.1f}")
            pen = "L"
            marks.append(
                f"<g>{_marker(s, x, y, colour)}<title>{escape(categories[i])}, "
                f"{escape(name)}: {_num(value)}</title></g>"
            )
        if path:
            parts.append(
                f'<path d="{"".join(path)}" fill="none" stroke="{colour}" stroke-width="2.5" '
                f'stroke-dasharray="{dash}"/>'
            )
        parts.extend(marks)
    parts.append("</svg>")
    return "".join(parts)


def dashboard_charts(data: dict[str, Any]) -> dict[str, str]:
    """The dashboard's two charts from its data: enrolment (stacked bars by site per ISO week)
    and mean EASI by visit (one line overall, and one per arm only when the data has them)."""
    enrolment = data["enrolment"]
    weeks, sites = enrolment["weeks"], enrolment["sites"]
    n = {(c["site"], c["week"]): c["n"] for c in enrolment["counts"]}
    series_bars = [(site, [float(n[(site, week)]) for week in weeks]) for site in sites]
    described = "; ".join(f"{w['week']}: {w['n']}" for w in enrolment["by_week"] if w["n"])
    bars = bar_chart_svg(
        "chart-enrolment",
        "Subjects enrolled per ISO week, by site",
        f"{data['subjects']} subjects at {len(sites)} sites. Enrolled per week: "
        f"{described or 'none'}.",
        weeks,
        series_bars,
    )
    overall = data["easi"]["overall"]
    by_arm: dict[str, list[dict[str, Any]]] = data["easi"].get("by_arm", {})
    visits = [row["visit"] for row in overall]
    lines: list[tuple[str, list[float | None]]] = [
        ("All subjects", [row["mean"] for row in overall])
    ]
    for arm, rows in by_arm.items():
        means = {row["visit"]: row["mean"] for row in rows}
        lines.append((arm, [means.get(v) for v in visits]))
    described = "; ".join(
        f"{name}: "
        + ", ".join(f"{v} {_num(m)}" for v, m in zip(visits, means, strict=True) if m is not None)
        for name, means in lines
    )
    line = line_chart_svg(
        "chart-easi",
        "Mean EASI by visit" + (" and arm" if by_arm else ""),
        f"Mean EASI (0-72) per visit. {described or 'No EASI recorded.'}",
        visits,
        lines,
    )
    return {"enrolment": bars, "easi": line}


# --- forms --------------------------------------------------------------------------------------


def _number(text: str) -> float | str:
    """A number typed in a form, or the text itself for the registry to refuse by name."""
    try:
        return float(text.strip())
    except ValueError:
        return text


def _optional_number(text: str) -> float | str | None:
    return None if not text.strip() else _number(text)


def _optional_int(text: str) -> int | str | None:
    if not text.strip():
        return None
    try:
        return int(text.strip())
    except ValueError:
        return text


def _blank_none(text: str) -> str | None:
    return text.strip() or None


def _saved(path: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?saved=1", status_code=303)


def _invalid_page(
    request: Request, template: str, actor: Actor, error: InvalidInput, **context: Any
) -> HTMLResponse:
    response = page(request, template, actor, error=error.to_dict(), saved=False, **context)
    response.status_code = 422
    return response


def _subject_path(usubjid: str, tail: str) -> str:
    return f"/subjects/{quote(usubjid, safe='')}/{tail}"


def _may(actor: Actor, action: str) -> bool:
    return Role(actor.role) in PERMISSIONS[action]


# --- API bodies ---------------------------------------------------------------------------------


class _Body(BaseModel):
    """Values go to the registry as sent; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")


class DiagnosisIn(_Body):
    """Answers to one criteria set (``GET /api/subjects/{u}/diagnosis`` lists the features)."""

    criteria: Any = Field(description="criteria set name", examples=["uk_working_party"])
    features: dict[str, Any] = Field(description="feature code -> true/false; answer all")
    assessed_on: Any = Field(description="YYYY-MM-DD", examples=["2026-01-05"])


class DoseIn(_Body):
    """A dose of the investigational product."""

    product: Any = Field(description="1-80 characters")
    lot: Any = Field(description="1-40 characters")
    dose: Any = Field(description="amount, 0 to 1e12", examples=[2.5e7])
    unit: Any = Field(description="one of " + ", ".join(svc.DOSE_UNITS))
    route: Any = Field(description="one of " + ", ".join(svc.ROUTES))
    given_at: Any = Field(description="ISO 8601 date and time", examples=["2026-01-05T10:30"])
    visitnum: float | None = None


class LabIn(_Body):
    """A lab result."""

    testcd: Any = Field(description="LBTESTCD, e.g. " + ", ".join(svc.LAB_UNITS))
    value: Any = Field(description="0 to 1e9")
    unit: Any = Field(
        description="; ".join(f"{code}: {unit}" for code, unit in svc.LAB_UNITS.items())
    )
    collected_on: Any = Field(description="YYYY-MM-DD")
    visitnum: float | None = None


class AdverseEventIn(_Body):
    """An adverse event: severity or CTCAE grade (or both); end on or after start."""

    term: Any
    start_date: Any = Field(description="YYYY-MM-DD")
    related: Any = Field(description="one of " + ", ".join(svc.RELATEDNESS))
    severity: Any = Field(default=None, description="one of " + ", ".join(svc.SEVERITIES))
    toxgr: Any = Field(default=None, description="CTCAE grade 1-5")
    serious: Any = False
    end_date: Any = None
    decod: str | None = Field(default=None, max_length=200)
    bodsys: str | None = Field(default=None, max_length=200)


# --- routes -------------------------------------------------------------------------------------


def register(app: FastAPI) -> None:
    """Add the diagnosis, dosing, lab, adverse-event, audit and dashboard pages and twins."""
    _diagnosis_routes(app)
    _dose_routes(app)
    _lab_routes(app)
    _adverse_event_routes(app)
    _audit_and_dashboard_routes(app)


def _unblinded(actor: Actor) -> bool:
    return Role(actor.role) in UNBLINDED


def _form_page(
    template: str,
    read: Callable[[Session, Actor, str], Any],
    action: str,
    current_page: str,
    *,
    defaults: Callable[[Any], dict[str, Any]],
    can_dose: Callable[[Actor], bool],
) -> Callable[..., HTMLResponse]:
    """The renderer of a subject's form page (diagnosis, doses, labs, adverse events): the read
    view, the form values (``defaults(view)`` when none were entered), whether the user may
    record (``action``), and on a refused save the page again with the error (422)."""

    def render(
        request: Request,
        session: Session,
        actor: Actor,
        usubjid: str,
        values: dict[str, Any] | None = None,
        error: InvalidInput | None = None,
    ) -> HTMLResponse:
        view = read(session, actor, usubjid)
        context = {
            "view": view,
            "values": values or defaults(view),
            "may_record": _may(actor, action),
            "can_dose": can_dose(actor),
            "current": current_page,
        }
        if error is not None:
            return _invalid_page(request, template, actor, error, **context)
        return page(
            request,
            template,
            actor,
            error=None,
            saved="saved" in request.query_params,
            **context,
        )

    return render


def _diagnosis_routes(app: FastAPI) -> None:
    render = _form_page(
        "pages_diagnosis.html",
        diagnosis_view,
        "record_diagnosis",
        "diagnosis",
        defaults=lambda view: {"criteria": None, "assessed_on": view["age"]["on"], "met": []},
        can_dose=_unblinded,
    )

    @app.get("/subjects/{usubjid}/diagnosis", response_class=HTMLResponse, include_in_schema=False)
    def diagnosis_page(request: Request, session: Db, usubjid: str) -> HTMLResponse:
        return render(request, session, current(request, session), usubjid)

    @app.post("/subjects/{usubjid}/diagnosis", include_in_schema=False)
    def diagnosis_post(
        request: Request,
        session: Db,
        usubjid: str,
        csrf_token_: Csrf = "",
        criteria: Annotated[str, Form()] = "",
        assessed_on: Annotated[str, Form()] = "",
        met: Annotated[list[str] | None, Form()] = None,
    ) -> Response:
        actor = current(request, session)
        check_write(request, csrf_token_)
        ticked = list(met or [])
        features = dict.fromkeys(CRITERIA[criteria].codes, False) if criteria in CRITERIA else {}
        features.update(dict.fromkeys(ticked, True))
        try:
            with transaction(request.app.state.factory, actor) as writing:
                svc.record_diagnosis(
                    writing,
                    actor,
                    usubjid=usubjid,
                    criteria=criteria,
                    features=features,
                    assessed_on=assessed_on,
                )
        except InvalidInput as error:
            values = {"criteria": criteria, "assessed_on": assessed_on, "met": ticked}
            return render(request, session, actor, usubjid, values, error)
        return _saved(_subject_path(usubjid, "diagnosis"))

    @app.get("/api/subjects/{usubjid}/diagnosis", tags=["diagnosis"])
    def diagnosis_api(actor: Me, session: Db, usubjid: str) -> dict[str, Any]:
        """The subject's age phase today, the checklist of every criteria set and the results
        recorded (newest first) with the features met, missed and not applied."""
        return diagnosis_view(session, actor, usubjid)

    @app.post("/api/subjects/{usubjid}/diagnosis", tags=["diagnosis"], status_code=201)
    def diagnosis_save(
        request: Request, actor: Me, usubjid: str, body: DiagnosisIn
    ) -> dict[str, Any]:
        """Apply a criteria set and keep the answers with the result (investigator); 422 with
        the criteria's message when an answer is missing or not true/false."""
        check_write(request)
        with transaction(request.app.state.factory, actor) as session:
            record = svc.record_diagnosis(
                session,
                actor,
                usubjid=usubjid,
                criteria=body.criteria,
                features=body.features,
                assessed_on=body.assessed_on,
            )
            return _diagnosis_dict(record)


def _dose_routes(app: FastAPI) -> None:
    blank = {"product": "", "lot": "", "dose": "", "unit": "", "route": "", "given_at": ""}

    render = _form_page(
        "pages_doses.html",
        dose_list,
        "record_dose",
        "doses",
        defaults=lambda view: dict(blank, visitnum=""),
        can_dose=lambda actor: True,
    )

    @app.get("/subjects/{usubjid}/doses", response_class=HTMLResponse, include_in_schema=False)
    def doses_page(request: Request, session: Db, usubjid: str) -> HTMLResponse:
        return render(request, session, current(request, session), usubjid)

    @app.post("/subjects/{usubjid}/doses", include_in_schema=False)
    def doses_post(
        request: Request,
        session: Db,
        usubjid: str,
        csrf_token_: Csrf = "",
        product: Annotated[str, Form()] = "",
        lot: Annotated[str, Form()] = "",
        dose: Annotated[str, Form()] = "",
        unit: Annotated[str, Form()] = "",
        route: Annotated[str, Form()] = "",
        given_at: Annotated[str, Form()] = "",
        visitnum: Annotated[str, Form()] = "",
    ) -> Response:
        actor = current(request, session)
        check_write(request, csrf_token_)
        try:
            with transaction(request.app.state.factory, actor) as writing:
                svc.record_dose(
                    writing,
                    actor,
                    usubjid=usubjid,
                    product=product,
                    lot=lot,
                    dose=_number(dose),  # text it cannot read goes on as typed
                    unit=unit,
                    route=route,
                    given_at=given_at,
                    visitnum=_optional_number(visitnum),
                )
        except InvalidInput as error:
            values = {
                "product": product,
                "lot": lot,
                "dose": dose,
                "unit": unit,
                "route": route,
                "given_at": given_at,
                "visitnum": visitnum,
            }
            return render(request, session, actor, usubjid, values, error)
        return _saved(_subject_path(usubjid, "doses"))

    @app.get("/api/subjects/{usubjid}/doses", tags=["dosing"])
    def doses_api(actor: Me, session: Db, usubjid: str) -> dict[str, Any]:
        """The subject's doses (pharmacist only: doses reveal the arm)."""
        return dose_list(session, actor, usubjid)

    @app.post("/api/subjects/{usubjid}/doses", tags=["dosing"], status_code=201)
    def doses_save(request: Request, actor: Me, usubjid: str, body: DoseIn) -> dict[str, Any]:
        """Record a dose (pharmacist); 422 with the registry's message on a bad value."""
        check_write(request)
        with transaction(request.app.state.factory, actor) as session:
            record = svc.record_dose(session, actor, usubjid=usubjid, **body.model_dump())
            return _dose_dict(_subject(session, usubjid), record)


def _lab_routes(app: FastAPI) -> None:
    render = _form_page(
        "pages_labs.html",
        lab_list,
        "record_lab",
        "labs",
        defaults=lambda view: {
            "testcd": "",
            "value": "",
            "unit": "",
            "collected_on": "",
            "visitnum": "",
        },
        can_dose=_unblinded,
    )

    @app.get("/subjects/{usubjid}/labs", response_class=HTMLResponse, include_in_schema=False)
    def labs_page(request: Request, session: Db, usubjid: str) -> HTMLResponse:
        return render(request, session, current(request, session), usubjid)

    @app.post("/subjects/{usubjid}/labs", include_in_schema=False)
    def labs_post(
        request: Request,
        session: Db,
        usubjid: str,
        csrf_token_: Csrf = "",
        testcd: Annotated[str, Form()] = "",
        value: Annotated[str, Form()] = "",
        unit: Annotated[str, Form()] = "",
        collected_on: Annotated[str, Form()] = "",
        visitnum: Annotated[str, Form()] = "",
    ) -> Response:
        actor = current(request, session)
        check_write(request, csrf_token_)
        try:
            with transaction(request.app.state.factory, actor) as writing:
                svc.record_lab(
                    writing,
                    actor,
                    usubjid=usubjid,
                    testcd=testcd,
                    value=_number(value),
                    unit=unit,
                    collected_on=collected_on,
                    visitnum=_optional_number(visitnum),
                )
        except InvalidInput as error:
            values = {
                "testcd": testcd,
                "value": value,
                "unit": unit,
                "collected_on": collected_on,
                "visitnum": visitnum,
            }
            return render(request, session, actor, usubjid, values, error)
        return _saved(_subject_path(usubjid, "labs"))

    @app.get("/api/subjects/{usubjid}/labs", tags=["labs"])
    def labs_api(actor: Me, session: Db, usubjid: str) -> dict[str, Any]:
        """The subject's lab results, with the units the known tests require."""
        return lab_list(session, actor, usubjid)

    @app.post("/api/subjects/{usubjid}/labs", tags=["labs"], status_code=201)
    def labs_save(request: Request, actor: Me, usubjid: str, body: LabIn) -> dict[str, Any]:
        """Record a lab result (investigator, coordinator); 422 with the registry's message
        (e.g. the unit a known test requires)."""
        check_write(request)
        with transaction(request.app.state.factory, actor) as session:
            record = svc.record_lab(session, actor, usubjid=usubjid, **body.model_dump())
            return _lab_dict(_subject(session, usubjid), record)


def _adverse_event_routes(app: FastAPI) -> None:
    blank = {
        "term": "",
        "decod": "",
        "bodsys": "",
        "severity": "",
        "toxgr": "",
        "serious": False,
        "related": "",
        "start_date": "",
        "end_date": "",
    }

    render = _form_page(
        "pages_adverse_events.html",
        adverse_event_list,
        "record_adverse_event",
        "adverse-events",
        defaults=lambda view: blank,
        can_dose=_unblinded,
    )

    @app.get(
        "/subjects/{usubjid}/adverse-events", response_class=HTMLResponse, include_in_schema=False
    )
    def adverse_events_page(request: Request, session: Db, usubjid: str) -> HTMLResponse:
        return render(request, session, current(request, session), usubjid)

    @app.post("/subjects/{usubjid}/adverse-events", include_in_schema=False)
    def adverse_events_post(
        request: Request,
        session: Db,
        usubjid: str,
        csrf_token_: Csrf = "",
        term: Annotated[str, Form()] = "",
        decod: Annotated[str, Form()] = "",
        bodsys: Annotated[str, Form()] = "",
        severity: Annotated[str, Form()] = "",
        toxgr: Annotated[str, Form()] = "",
        serious: Annotated[str, Form()] = "",
        related: Annotated[str, Form()] = "",
        start_date: Annotated[str, Form()] = "",
        end_date: Annotated[str, Form()] = "",
    ) -> Response:
        actor = current(request, session)
        check_write(request, csrf_token_)
        try:
            with transaction(request.app.state.factory, actor) as writing:
                svc.record_adverse_event(
                    writing,
                    actor,
                    usubjid=usubjid,
                    term=term,
                    decod=_blank_none(decod),
                    bodsys=_blank_none(bodsys),
                    severity=_blank_none(severity),
                    toxgr=_optional_int(toxgr),
                    serious=bool(serious),
                    related=related,
                    start_date=start_date,
                    end_date=_blank_none(end_date),
                )
        except InvalidInput as error:
            values = {
                "term": term,
                "decod": decod,
                "bodsys": bodsys,
                "severity": severity,
                "toxgr": toxgr,
                "serious": bool(serious),
                "related": related,
                "start_date": start_date,
                "end_date": end_date,
            }
            return render(request, session, actor, usubjid, values, error)
        return _saved(_subject_path(usubjid, "adverse-events"))

    @app.get("/api/subjects/{usubjid}/adverse-events", tags=["adverse events"])
    def adverse_events_api(actor: Me, session: Db, usubjid: str) -> dict[str, Any]:
        """The subject's adverse events, with the controlled terms for severity and relatedness."""
        return adverse_event_list(session, actor, usubjid)

    @app.post("/api/subjects/{usubjid}/adverse-events", tags=["adverse events"], status_code=201)
    def adverse_events_save(
        request: Request, actor: Me, usubjid: str, body: AdverseEventIn
    ) -> dict[str, Any]:
        """Record an adverse event (investigator, coordinator); 422 with the registry's message
        (e.g. an end date before the start)."""
        check_write(request)
        with transaction(request.app.state.factory, actor) as session:
            record = svc.record_adverse_event(session, actor, usubjid=usubjid, **body.model_dump())
            return _ae_dict(record)


def _audit_and_dashboard_routes(app: FastAPI) -> None:
    @app.get("/audit", response_class=HTMLResponse, include_in_schema=False)
    def audit_page(
        request: Request, session: Db, table: str | None = None, limit: str | None = None
    ) -> HTMLResponse:
        actor = current(request, session)
        try:
            view = audit_view(session, actor, table=table, limit=limit)
        except InvalidInput as error:  # a bad limit: the page with the message, newest entries
            view = audit_view(session, actor, table=table)
            return _invalid_page(
                request, "pages_audit.html", actor, error, view=view, limit_text=limit, more=None
            )
        more = None
        if view["more"]:
            query = {"limit": min(view["limit"] * 2, AUDIT_MAX)}
            if view["table"]:
                query["table"] = view["table"]
            more = "/audit?" + urlencode(query)
        return page(
            request,
            "pages_audit.html",
            actor,
            view=view,
            error=None,
            limit_text=str(view["limit"]),
            more=more,
        )

    @app.get("/api/audit", tags=["audit"])
    def audit_api(
        actor: Me, session: Db, table: str | None = None, limit: str | None = None
    ) -> dict[str, Any]:
        """The audit trail, newest first (monitor, admin): ``table`` filters by table name,
        ``limit`` (1-10000, default 100) says how many entries; ``more`` is true when older
        entries exist beyond the limit. Values that reveal the allocation are "(blinded)"."""
        return audit_view(session, actor, table=table, limit=limit)

    @app.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
    def dashboard_page(request: Request, session: Db) -> HTMLResponse:
        actor = current(request, session)
        data = dashboard(session, actor)
        return page(
            request, "pages_dashboard.html", actor, view=data, charts=dashboard_charts(data)
        )

    @app.get("/api/dashboard", tags=["dashboard"])
    def dashboard_api(actor: Me, session: Db) -> dict[str, Any]:
        """Enrolment by site and ISO week, visit completion, mean EASI by visit; ``easi.by_arm``
        only for a user who may see every subject's allocation."""
        return dashboard(session, actor)


__all__ = [
    "adverse_event_list",
    "audit_view",
    "bar_chart_svg",
    "dashboard",
    "dashboard_charts",
    "diagnosis_view",
    "dose_list",
    "lab_list",
    "line_chart_svg",
    "register",
    "subject_age",
]
