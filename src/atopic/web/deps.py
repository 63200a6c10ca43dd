"""Shared pieces of the web routes: the database session, who is asking, CSRF for writes, and
page rendering. Route modules (``routes_*.py``) import these; ``app.create_app`` wires them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from atopic.instruments import INSTRUMENTS
from atopic.registry.audit import Actor, AuditedSession
from atopic.registry.models import User
from atopic.registry.users import actor_for_token
from atopic.web.security import CSRF_HEADER, NotLoggedIn, check_csrf, csrf_token, session_actor

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")


def get_session(request: Request) -> Iterator[AuditedSession]:
    """Dependency: a read session on the app's registry, closed after the request."""
    with request.app.state.factory() as session:
        yield session


Db = Annotated[AuditedSession, Depends(get_session)]


def current(request: Request, session: AuditedSession) -> Actor:
    """The acting user: an API token (``Authorization: Bearer``) or the session cookie's user,
    checked against the users table on every request; else NotLoggedIn."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        actor = actor_for_token(session, header[7:].strip())
        if actor is None:
            raise NotLoggedIn()
        request.state.token = True
        session.rollback()  # as below: give the connection back before any write
        return actor
    actor = session_actor(request)
    if actor is None:
        raise NotLoggedIn()
    # a disabled user or a changed role takes effect at the next request
    user = session.scalars(select(User).where(User.username == actor.username)).one_or_none()
    if user is None or not user.active:
        request.session.clear()
        raise NotLoggedIn()
    request.state.token = False
    # End the read transaction now: the connection goes back to the pool instead of being held
    # while a write handler opens its own transaction (two connections per request would exhaust
    # the pool under load).
    session.rollback()
    return Actor(user.username, user.role)


def current_actor(request: Request, session: Db) -> Actor:
    """Dependency: the acting user (session cookie or API token), else NotLoggedIn."""
    return current(request, session)


Me = Annotated[Actor, Depends(current_actor)]


def check_write(request: Request, form_token: str | None = None) -> None:
    """CSRF check for cookie-authenticated writes (API tokens carry no cookie)."""
    if not getattr(request.state, "token", False):
        check_csrf(request, form_token or request.headers.get(CSRF_HEADER))


def page(request: Request, name: str, actor: Actor | None, **context: Any) -> HTMLResponse:
    """Render a template with the acting user, the CSRF token and the instruments."""
    context.update(actor=actor, csrf=csrf_token(request), instruments=INSTRUMENTS)
    return TEMPLATES.TemplateResponse(request, name, context)
