"""Who is asking, and may they: session login, API tokens, CSRF tokens, login lockout.

- Pages use a signed session cookie (Starlette's SessionMiddleware: HttpOnly, SameSite=strict,
  Secure unless serving plain HTTP on loopback for a demo) holding only the username and a CSRF
  token. Every form carries the CSRF token and every state-changing request checks it.
- The JSON API also accepts ``Authorization: Bearer <API token>`` (no cookie, so no CSRF).
- After ``MAX_FAILURES`` failed logins for one username within ``LOCKOUT_SECONDS``, that username
  is locked out for ``LOCKOUT_SECONDS`` (kept in memory per server process; the message does not
  say whether the username exists).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from fastapi import HTTPException, Request

from atopic.registry.audit import Actor

MAX_FAILURES = 5
LOCKOUT_SECONDS = 15 * 60
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class NotLoggedIn(Exception):
    """A page needs a logged-in user (redirect to /login) or the API a credential (401)."""


@dataclass
class Lockout:
    """Failed-login bookkeeping per username (thread-safe, in memory)."""

    failures: dict[str, deque[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def locked(self, username: str, now: float | None = None) -> bool:
        """True while ``username`` has MAX_FAILURES failures within the last LOCKOUT_SECONDS."""
        now = time.monotonic() if now is None else now
        with self.lock:
            recent = self._recent(username, now)
            return len(recent) >= MAX_FAILURES

    def failed(self, username: str, now: float | None = None) -> None:
        """Record a failed login."""
        now = time.monotonic() if now is None else now
        with self.lock:
            self._recent(username, now).append(now)

    def succeeded(self, username: str) -> None:
        """Forget the failures after a successful login."""
        with self.lock:
            self.failures.pop(username, None)

    def _recent(self, username: str, now: float) -> deque[float]:
        recent = self.failures.setdefault(username, deque())
        while recent and now - recent[0] > LOCKOUT_SECONDS:
            recent.popleft()
        return recent


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use)."""
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return str(token)


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse (403) a cookie-authenticated state change without the session's CSRF token."""
    expected = request.session.get(CSRF_FIELD)
    if not expected or not submitted or not hmac.compare_digest(str(expected), submitted):
        raise HTTPException(status_code=403, detail="CSRF token missing or wrong: reload the page")


def session_actor(request: Request) -> Actor | None:
    """The logged-in user of a page request, if any."""
    username, role = request.session.get("username"), request.session.get("role")
    if isinstance(username, str) and isinstance(role, str):
        return Actor(username, role)
    return None
