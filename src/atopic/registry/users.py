"""Users, passwords and API tokens: who may log in, as which role, and how scripts authenticate.

Passwords are hashed with Argon2id (argon2-cffi's ``PasswordHasher`` with its defaults); a stored
hash made with older parameters is replaced at the next successful login. API tokens are random
(``secrets.token_urlsafe(32)``), shown once, and stored only as their SHA-256, so a copy of the
database does not hand out working tokens. Both hashes appear in the audit trail as ``(secret)``.

Every function that changes something takes the acting ``Actor``, checks its role with
``roles.require`` and flushes its changes as that actor (see ``acting``), so the audit's "who" is
the person the permission check was made for. Messages name usernames but never a password or a
token.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from atopic.errors import Described, InvalidInput
from atopic.registry.audit import ADVISORY_LOCK, Actor, now
from atopic.registry.models import ApiToken, Site, User
from atopic.registry.roles import Role, parse_role, require

SYSTEM = Actor("system", "admin")
"""The actor that creates the first admin of an empty registry (``atopic db init --admin``)."""

MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # bounds the work one login attempt can cause
USERNAME = re.compile(r"[a-z][a-z0-9._-]{2,39}")
USERNAME_RULE = (
    "3 to 40 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter"
)
RESERVED_USERNAMES = frozenset({SYSTEM.username})
MAX_LABEL = 100

_HASHER = PasswordHasher()
_MISSING = object()


@dataclass(frozen=True)
class UserInfo:
    """A user as shown to an admin: never the password hash."""

    username: str
    role: str
    site_code: str | None
    active: bool
    created_at: str


# --- passwords -------------------------------------------------------------------------------


def check_password(password: str) -> None:
    """Enforce the password policy (12 to 1024 characters).

    The message names the length only, never the password, so it is safe to print or store.
    """
    length = len(password)
    if not MIN_PASSWORD <= length <= MAX_PASSWORD:
        raise InvalidInput(
            "user",
            "password",
            Described(f"a password of {length} characters"),
            f"at least {MIN_PASSWORD} characters (at most {MAX_PASSWORD})",
        )


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password`` (salted; encodes its own parameters)."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; False for a mismatch or a malformed hash."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when ``password_hash`` was made with other parameters than the current defaults."""
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@functools.cache
def _dummy_hash() -> str:
    """A hash of a random password, verified against when a username is unknown (same timing)."""
    return hash_password(secrets.token_urlsafe(16))


# --- acting as someone -----------------------------------------------------------------------


@contextmanager
def acting(session: Session, actor: Actor, reason: str | None = None) -> Iterator[None]:
    """Make the changes done inside the block as ``actor`` (and ``reason``), then flush them.

    Changes already pending in the session are flushed first under the session's own actor, so
    nothing is attributed to the wrong person; the session's ``info`` is restored afterwards.
    """
    session.flush()
    saved = {key: session.info.get(key, _MISSING) for key in ("actor", "reason")}
    session.info["actor"] = actor
    if reason is not None:
        session.info["reason"] = reason
    try:
        yield
        session.flush()
    finally:
        for key, value in saved.items():
            if value is _MISSING:
                session.info.pop(key, None)
            else:
                session.info[key] = value


def check_reason(subject: str, reason: str | None) -> str:
    """The reason stripped, or InvalidInput when it is empty (changes to saved rows need one)."""
    cleaned = (reason or "").strip()
    if not cleaned:
        raise InvalidInput(subject, "reason", reason, "a short explanation of why (not empty)")
    return cleaned


# --- users -----------------------------------------------------------------------------------


def check_username(username: str) -> None:
    """Enforce the username rules (see ``USERNAME_RULE``); ``system`` is reserved."""
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        raise InvalidInput("user", "username", username, USERNAME_RULE)
    if username in RESERVED_USERNAMES:
        raise InvalidInput("user", "username", username, "not a reserved name (system)")


def _find_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None:
        raise InvalidInput("user", "username", username, "the name of an existing user")
    return user


def _info(session: Session, user: User) -> UserInfo:
    code = session.get(Site, user.site_id).code if user.site_id is not None else None
    return UserInfo(user.username, user.role, code, user.active, user.created_at)


def _insert_user(
    session: Session, username: str, password: str, role: str, site_code: str | None
) -> User:
    check_username(username)
    parsed = parse_role(role)
    check_password(password)
    site_id = None
    if site_code is not None:
        site_id = session.scalars(select(Site.id).where(Site.code == site_code)).one_or_none()
        if site_id is None:
            raise InvalidInput("user", "site", site_code, "the code of an existing site")
    if session.scalars(select(User.id).where(User.username == username)).first() is not None:
        raise InvalidInput("user", "username", username, "a name not already in use")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=parsed.value,
        site_id=site_id,
        active=True,
        created_at=now(),
    )
    session.add(user)
    return user


def add_user(
    session: Session,
    actor: Actor,
    username: str,
    password: str,
    role: str,
    site_code: str | None = None,
) -> UserInfo:
    """Create a user (admins only). Refuses a bad username or role, a short password, an
    unknown site and a name already taken (also by a disabled user, so the audit stays
    unambiguous)."""
    require(actor.role, "manage_users")
    with acting(session, actor):
        user = _insert_user(session, username, password, role, site_code)
    return _info(session, user)


def create_first_admin(session: Session, username: str, password: str) -> UserInfo:
    """Create the first admin of an empty registry, acting as ``SYSTEM``.

    Allowed only while no user exists, so it cannot be used to add an admin later; on
    PostgreSQL the audit's advisory lock is taken first so two concurrent inits cannot both pass.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK})
    existing = session.scalar(select(func.count()).select_from(User))
    if existing:
        raise InvalidInput(
            "registry",
            "first admin",
            Described(f"a registry with {existing} user(s)"),
            "created only while no user exists (admins add users with atopic users add)",
        )
    with acting(session, SYSTEM):
        user = _insert_user(session, username, password, Role.ADMIN.value, None)
    return _info(session, user)


def list_users(session: Session, actor: Actor) -> list[UserInfo]:
    """Every user, by username (admins only); never the password hash."""
    require(actor.role, "manage_users")
    users = session.scalars(select(User).order_by(User.username)).all()
    return [_info(session, user) for user in users]


def disable_user(session: Session, actor: Actor, username: str, reason: str) -> UserInfo:
    """Disable a user (admins only, with a reason): they can no longer log in or use tokens.

    The row stays, since the audit trail names them. The last active admin cannot be disabled,
    so the registry always has someone who can manage it.
    """
    require(actor.role, "manage_users")
    why = check_reason("user", reason)
    user = _find_user(session, username)
    if not user.active:
        raise InvalidInput("user", "username", username, "an active user")
    if user.role == Role.ADMIN:
        admins = session.scalar(
            select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)
        )
        if admins <= 1:
            raise InvalidInput("user", "username", username, "not the last active admin")
    with acting(session, actor, why):
        user.active = False
    return _info(session, user)


def authenticate(session: Session, username: str, password: str) -> Actor | None:
    """The Actor for a correct username and password of an active user, else None.

    An unknown username is verified against a dummy hash and a disabled user's password is still
    checked, so the time taken does not reveal which usernames exist. A hash made with older
    Argon2 parameters is replaced (audited as the user, with a reason) in the caller's
    transaction.
    """
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None:
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    actor = Actor(user.username, user.role)
    if needs_rehash(user.password_hash):
        with acting(session, actor, "password rehashed with the current Argon2 parameters"):
            user.password_hash = hash_password(password)
    return actor


# --- API tokens ------------------------------------------------------------------------------


def token_digest(token: str) -> str:
    """SHA-256 hex of a token: what is stored, and what a presented token is looked up by."""
    return hashlib.sha256(token.encode()).hexdigest()


def _may_manage_tokens_of(actor: Actor, username: str) -> None:
    if actor.username != username:
        require(actor.role, "manage_users")


def create_token(session: Session, actor: Actor, username: str, label: str) -> str:
    """A new API token for ``username`` (the user themselves or an admin); returned once.

    Only its SHA-256 is stored; ``label`` says what it is for (a script's name) and identifies
    it for ``revoke_token``.
    """
    _may_manage_tokens_of(actor, username)
    label = (label or "").strip()
    if not 1 <= len(label) <= MAX_LABEL:
        raise InvalidInput("token", "label", label, f"1 to {MAX_LABEL} characters")
    user = _find_user(session, username)
    if not user.active:
        raise InvalidInput("token", "username", username, "an active user")
    token = secrets.token_urlsafe(32)
    with acting(session, actor):
        session.add(
            ApiToken(user_id=user.id, token_hash=token_digest(token), label=label, created_at=now())
        )
    return token


def actor_for_token(session: Session, token: str) -> Actor | None:
    """The Actor a token stands for, or None if it is unknown, revoked or its user disabled."""
    if not token:
        return None
    user = session.scalars(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == token_digest(token), ApiToken.revoked_at.is_(None))
    ).one_or_none()
    if user is None or not user.active:
        return None
    return Actor(user.username, user.role)


def revoke_token(session: Session, actor: Actor, username: str, label: str, reason: str) -> int:
    """Revoke ``username``'s active tokens labelled ``label`` (the user or an admin, with a
    reason); returns how many. Revoked tokens stay as rows so the audit keeps its references."""
    _may_manage_tokens_of(actor, username)
    why = check_reason("token", reason)
    user = _find_user(session, username)
    tokens = session.scalars(
        select(ApiToken).where(
            ApiToken.user_id == user.id, ApiToken.label == label, ApiToken.revoked_at.is_(None)
        )
    ).all()
    if not tokens:
        raise InvalidInput("token", "label", label, f"the label of an active token of {username}")
    with acting(session, actor, why):
        at = now()
        for token in tokens:
            token.revoked_at = at
    return len(tokens)


__all__ = [
    "SYSTEM",
    "UserInfo",
    "acting",
    "actor_for_token",
    "add_user",
    "authenticate",
    "check_password",
    "check_username",
    "create_first_admin",
    "create_token",
    "disable_user",
    "hash_password",
    "list_users",
    "needs_rehash",
    "revoke_token",
    "verify_password",
]
