"""The web app: server-rendered pages (Jinja2 + htmx) and a JSON API, both on the registry's
service layer. Every page has a JSON twin under ``/api`` built from the same service call.

Errors: ``InvalidInput`` answers 422 with ``{"error": {"field", "message"}}`` (the instrument's or
the registry's own words); a refused role answers 403; no credential answers 401 on the API and
a redirect to /login on pages.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Any

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.middleware.sessions import SessionMiddleware

from atopic.errors import InvalidInput
from atopic.instruments import INSTRUMENTS, get_instrument
from atopic.instruments.scalar import score as score_instrument
from atopic.registry import services as svc
from atopic.registry.audit import Actor
from atopic.registry.db import make_engine, session_factory, transaction, upgrade
from atopic.registry.roles import Forbidden
from atopic.registry.users import authenticate
from atopic.web import routes_pages, routes_visit
from atopic.web.charts import timeline_svg
from atopic.web.deps import HERE, Db, Me, check_write, current, page
from atopic.web.security import CSRF_FIELD, Lockout, NotLoggedIn, check_csrf, csrf_token


def create_app(
    url: str | None = None, *, secret_key: str | None = None, https_only: bool = True
) -> FastAPI:
    """The app on the registry at ``url`` (migrated to the latest schema on start).

    ``secret_key`` signs the session cookie (a random one per process when not given: sessions
    then end with the process). ``https_only`` marks the cookie Secure; turn it off only for a
    demo on loopback over plain HTTP.
    """
    # Sized for the server's thread pool (40 worker threads by default).
    engine = make_engine(url, pool_size=20, max_overflow=30, pool_timeout=60)
    upgrade(engine)
    factory = session_factory(engine)
    app = FastAPI(
        title="atopic",
        summary="Atopic dermatitis registry: scoring, subjects, visits, trial data",
        version="0.1.0",
    )
    app.state.factory = factory
    app.state.lockout = Lockout()
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key or secrets.token_urlsafe(32),
        session_cookie="atopic_session",
        max_age=8 * 3600,
        same_site="strict",
        https_only=https_only,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _add_error_handlers(app)
    _add_routes(app)
    routes_visit.register(app)
    routes_pages.register(app)
    return app


# --- errors -------------------------------------------------------------------------------------


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api") or "application/json" in request.headers.get(
        "accept", ""
    )


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InvalidInput)
    async def invalid(request: Request, error: InvalidInput) -> Response:
        if request.headers.get("hx-request"):
            return HTMLResponse(
                f'<p class="error" role="alert">{_escape(error.message)}</p>', status_code=422
            )
        return JSONResponse({"error": error.to_dict()}, status_code=422)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, error: Forbidden) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": {"field": "role", "message": str(error)}}, 403)
        return HTMLResponse(f'<p class="error">{_escape(str(error))}</p>', status_code=403)

    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, error: NotLoggedIn) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"error": {"field": "authorization", "message": "log in or send an API token"}},
                status_code=401,
            )
        return RedirectResponse("/login", status_code=303)


def _escape(text: str) -> str:
    from html import escape

    return escape(text, quote=True)


# --- API bodies ---------------------------------------------------------------------------------


class AssessmentIn(BaseModel):
    """An assessment to save: the instrument's JSON form (``atopic score NAME --schema``)."""

    data: dict[str, Any]
    assessed_on: dt.date
    evaluator: str = Field(default="INVESTIGATOR", max_length=20)
    reason: str | None = Field(default=None, max_length=500)


# --- routes -------------------------------------------------------------------------------------


def _add_routes(app: FastAPI) -> None:
    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/subjects", status_code=303)

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request) -> HTMLResponse:
        return page(request, "login.html", None, error=None)

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        username: Annotated[str, Form(max_length=80)],
        password: Annotated[str, Form(max_length=1024)],
        csrf_token_: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    ) -> Response:
        check_csrf(request, csrf_token_)
        lockout: Lockout = request.app.state.lockout
        if lockout.locked(username):
            return _login_error(request, "Too many failed attempts: try again in 15 minutes.")
        with transaction(request.app.state.factory, Actor(username, "login")) as session:
            actor = authenticate(session, username, password)
        if actor is None:
            lockout.failed(username)
            return _login_error(request, "Username or password is wrong.")
        lockout.succeeded(username)
        request.session.clear()
        request.session.update(username=actor.username, role=actor.role)
        csrf_token(request)  # a fresh CSRF token for the new session
        return RedirectResponse("/subjects", status_code=303)

    def _login_error(request: Request, message: str) -> HTMLResponse:
        response = page(request, "login.html", None, error=message)
        response.status_code = 401
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(
        request: Request, csrf_token_: Annotated[str, Form(alias=CSRF_FIELD)] = ""
    ) -> RedirectResponse:
        check_csrf(request, csrf_token_)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # subjects: a page and its JSON twin from the same service call
    @app.get("/subjects", response_class=HTMLResponse, include_in_schema=False)
    def subjects_page(
        request: Request, session: Db, q: str | None = None, site: str | None = None
    ) -> HTMLResponse:
        actor = current(request, session)
        rows = svc.list_subjects(session, actor, q=q, site=site)
        return page(request, "subjects.html", actor, subjects=rows, q=q or "", site=site or "")

    @app.get("/api/subjects", tags=["subjects"])
    def subjects_api(
        actor: Me, session: Db, q: str | None = None, site: str | None = None
    ) -> list[dict[str, Any]]:
        """Subjects, filtered by part of the USUBJID (``q``) and site code (``site``)."""
        return svc.list_subjects(session, actor, q=q, site=site)

    @app.get("/subjects/{usubjid}", response_class=HTMLResponse, include_in_schema=False)
    def subject_page(request: Request, session: Db, usubjid: str) -> HTMLResponse:
        actor = current(request, session)
        record = svc.subject_record(session, actor, usubjid)
        return page(request, "subject.html", actor, subject=record, chart=_chart(record))

    @app.get("/api/subjects/{usubjid}", tags=["subjects"])
    def subject_api(actor: Me, session: Db, usubjid: str) -> dict[str, Any]:
        """One subject's record: visits and scores (the arm only for those who may see it)."""
        return svc.subject_record(session, actor, usubjid)

    @app.get("/api/instruments", tags=["instruments"])
    def instruments_api() -> dict[str, Any]:
        """Every instrument atopic scores, with its fields, codes and allowed values."""
        return {name: spec.schema() for name, spec in INSTRUMENTS.items()}

    @app.post("/api/score/{instrument}", tags=["instruments"])
    def score_api(instrument: str, data: dict[str, Any], band_set: str | None = None) -> dict:
        """Score one assessment without saving it (the live score of the visit form)."""
        return score_instrument(get_instrument(instrument), data, band_set).to_dict()

    @app.post(
        "/api/subjects/{usubjid}/visits/{visitnum}/assessments/{instrument}",
        tags=["subjects"],
        status_code=201,
    )
    def save_assessment(
        request: Request,
        actor: Me,
        usubjid: str,
        visitnum: float,
        instrument: str,
        body: AssessmentIn,
    ) -> dict[str, Any]:
        """Score and save an assessment; 422 with the instrument's message if an item is invalid."""
        check_write(request)
        with transaction(request.app.state.factory, actor) as session:
            saved = svc.record_assessment(
                session,
                actor,
                usubjid=usubjid,
                visitnum=visitnum,
                instrument=instrument,
                data=body.data,
                assessed_on=body.assessed_on,
                evaluator=body.evaluator,
                reason=body.reason,
            )
            return {
                "instrument": saved.instrument,
                "total": float(saved.total),
                "band": saved.band,
                "version": saved.version,
            }


def _chart(record: dict[str, Any]) -> str:
    """The subject's timeline as SVG: EASI, SCORAD and itch by visit date, doses marked."""
    series: dict[str, list[tuple[dt.date, float]]] = {"EASI": [], "SCORAD": [], "PP-NRS": []}
    for visit in record["visits"]:
        if not visit["date"]:
            continue
        day = dt.date.fromisoformat(visit["date"])
        for a in visit["assessments"]:
            if a["instrument"] in series:
                series[a["instrument"]].append((day, a["total"]))
    doses = [(dt.datetime.fromisoformat(t).date(), "dose") for t in record.get("dose_times", [])]
    return timeline_svg(series, doses, title=f"{record['usubjid']}: scores over time")


__all__ = ["HTTPException", "create_app"]
