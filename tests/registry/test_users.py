"""Users, passwords and API tokens on SQLite and PostgreSQL: Argon2, policy, roles, secrets."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from atopic.errors import InvalidInput
from atopic.registry import users
from atopic.registry.audit import Actor, AuditedSession, verify_chain
from atopic.registry.db import session_factory, transaction
from atopic.registry.models import ApiToken, AuditEntry, Base, Site, User
from atopic.registry.roles import Forbidden, Role

ADMIN = Actor("ada", "admin")
ADA_PASSWORD = "ada's long passphrase"
BOB_PASSWORD = "bob's long passphrase"


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[AuditedSession]:
    """A registry with its first admin ``ada`` and a site ``S01``."""
    factory = session_factory(engine)
    with transaction(factory, users.SYSTEM) as session:
        users.create_first_admin(session, "ada", ADA_PASSWORD)
        session.add(Site(code="S01", name="Site one"))
    return factory


def _all_text(engine: Engine) -> str:
    """Every value of every table, as one string (to prove a secret is stored nowhere)."""
    with engine.connect() as connection:
        return "\n".join(
            "|".join(str(value) for value in row)
            for table in Base.metadata.sorted_tables
            for row in connection.execute(select(table))
        )


def _audit(factory: sessionmaker[AuditedSession], table: str, field: str) -> list[AuditEntry]:
    with factory() as session:
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.table_name == table, AuditEntry.field == field)
                .order_by(AuditEntry.id)
            )
        )


def test_passwords_are_salted_argon2_hashes_that_verify() -> None:
    first, second = users.hash_password(ADA_PASSWORD), users.hash_password(ADA_PASSWORD)
    assert first.startswith("$argon2id$")
    assert first != second  # salted
    assert ADA_PASSWORD not in first
    assert users.verify_password(first, ADA_PASSWORD)
    assert not users.verify_password(first, BOB_PASSWORD)
    assert not users.verify_password("not a hash", ADA_PASSWORD)
    assert not users.needs_rehash(first)
    assert users.needs_rehash(PasswordHasher(time_cost=1, memory_cost=8192).hash(ADA_PASSWORD))


@pytest.mark.parametrize("length", [0, 11, 1025])
def test_password_policy_names_the_length_never_the_password(
    factory: sessionmaker[AuditedSession], length: int
) -> None:
    password = "p" * length
    with pytest.raises(InvalidInput) as caught, transaction(factory, ADMIN) as session:
        users.add_user(session, ADMIN, "bob", password, "monitor")
    error = caught.value
    assert error.field == "password"
    assert error.message == (
        f"user password must be at least 12 characters (at most 1024); "
        f"got a password of {length} characters"
    )
    assert length == 0 or password not in error.message


def test_twelve_characters_are_enough(factory: sessionmaker[AuditedSession]) -> None:
    with transaction(factory, ADMIN) as session:
        info = users.add_user(session, ADMIN, "bob", "x" * 12, "monitor")
    assert (info.username, info.role, info.active) == ("bob", "monitor", True)


@pytest.mark.parametrize("name", ["Ada2", "ab", "1ada", "ada smith", "a" * 41, "system", ""])
def test_usernames_follow_the_rules(factory: sessionmaker[AuditedSession], name: str) -> None:
    with (
        pytest.raises(InvalidInput, match="user username must be"),
        transaction(factory, ADMIN) as session,
    ):
        users.add_user(session, ADMIN, name, BOB_PASSWORD, "monitor")


def test_a_duplicate_username_is_refused(factory: sessionmaker[AuditedSession]) -> None:
    with transaction(factory, ADMIN) as session:
        users.add_user(session, ADMIN, "bob", BOB_PASSWORD, "monitor")
    with (
        pytest.raises(
            InvalidInput, match="user username must be a name not already in use; got 'bob'"
        ),
        transaction(factory, ADMIN) as session,
    ):
        users.add_user(session, ADMIN, "bob", BOB_PASSWORD, "investigator")


def test_role_and_site_are_checked(factory: sessionmaker[AuditedSession]) -> None:
    with (
        pytest.raises(InvalidInput, match="user role must be one of admin, investigator"),
        transaction(factory, ADMIN) as session,
    ):
        users.add_user(session, ADMIN, "bob", BOB_PASSWORD, "wizard")
    with (
        pytest.raises(InvalidInput, match="user site must be the code of an existing site"),
        transaction(factory, ADMIN) as session,
    ):
        users.add_user(session, ADMIN, "bob", BOB_PASSWORD, "investigator", site_code="S99")
    with transaction(factory, ADMIN) as session:
        info = users.add_user(session, ADMIN, "bob", BOB_PASSWORD, "investigator", "S01")
    assert info.site_code == "S01"


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_only_admins_manage_users(factory: sessionmaker[AuditedSession], role: Role) -> None:
    actor = Actor("someone", role.value)
    with transaction(factory, ADMIN) as session:
        users.add_user(session, ADMIN, "bob", BOB_PASSWORD, "monitor")
    with (
        pytest.raises(Forbidden, match=f"an? {role.value} may not manage users"),
        transaction(factory, actor) as session,
    ):
        users.add_user(session, actor, "eve", BOB_PASSWORD, "admin")
    with pytest.raises(Forbidden), factory() as session:
        users.list_users(session, actor)
    with pytest.raises(Forbidden), transaction(factory, actor) as session:
        users.disable_user(session, actor, "bob", "no reason")
    with pytest.raises(Forbidden), transaction(factory, actor) as session:
        users.create_token(session, actor, "bob", "not mine")


def test_list_users_never_returns_hashes(factory: sessionmaker[AuditedSession]) -> None:
    with transaction(factory, ADMIN) as session:
        users.add_user(session, ADMIN, "bob", BOB_PASSWORD, "monitor", "S01")
    with factory() as session:
        listed = users.list_users(session, ADMIN)
        stored = session.scalars(select(User.password_hash)).all()
    assert [(u.username, u.role, u.site_code, u.active) for u in listed] == [
        ("ada", "admin", None, True),
        ("bob", "monitor", "S01", True),
    ]
    shown = repr(listed)
    assert "argon2" not in shown
    assert not any(h in shown for h in stored)


def test_authenticate_checks_password_and_hides_which_names_exist(
    factory: sessionmaker[AuditedSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real = users.verify_password

    def spy(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(users, "verify_password", spy)
    with transaction(factory, ADMIN) as session:
        assert users.authenticate(session, "ada", ADA_PASSWORD) == ADMIN
        assert users.authenticate(session, "ada", BOB_PASSWORD) is None
        assert users.authenticate(session, "nobody", ADA_PASSWORD) is None
    assert len(checked) == 3  # the unknown name was verified too, against a dummy hash
    assert checked[2] == users._dummy_hash()


def test_a_disabled_user_cannot_authenticate(factory: sessionmaker[AuditedSession]) -> None:
    with transaction(factory, ADMIN) as session:
        users.add_user(session, ADMIN, "bob", BOB_PASSWORD, "monitor")
    with (
        pytest.raises(InvalidInput, match="user reason must be a short explanation"),
        transaction(factory, ADMIN) as session,
    ):
        users.disable_user(session, ADMIN, "bob", "  ")
    with transaction(factory, ADMIN) as session:
        info = users.disable_user(session, ADMIN, "bob", "left the study team")
    assert not info.active
    with transaction(factory, ADMIN) as session:
        assert users.authenticate(session, "bob", BOB_PASSWORD) is None
    (change,) = _audit(factory, "user_account", "active")[-1:]
    assert (change.action, change.old, change.new) == ("update", "True", "False")
    assert (change.username, change.reason) == ("ada", "left the study team")
    with (
        pytest.raises(InvalidInput, match="must be an active user; got 'bob'"),
        transaction(factory, ADMIN) as session,
    ):
        users.disable_user(session, ADMIN, "bob", "again")


def test_the_last_active_admin_cannot_be_disabled(factory: sessionmaker[AuditedSession]) -> None:
    with (
        pytest.raises(InvalidInput, match="must be not the last active admin"),
        transaction(factory, ADMIN) as session,
    ):
        users.disable_user(session, ADMIN, "ada", "leaving")
    with transaction(factory, ADMIN) as session:
        users.add_user(session, ADMIN, "ann", "another admin's passphrase", "admin")
    with transaction(factory, ADMIN) as session:
        users.disable_user(session, ADMIN, "ada", "leaving")


def test_an_old_hash_is_replaced_at_login(factory: sessionmaker[AuditedSession]) -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(ADA_PASSWORD)
    with transaction(factory, ADMIN, reason="test: parameters of an older release") as session:
        session.scalars(select(User).where(User.username == "ada")).one().password_hash = old
    with factory() as session, session.begin():
        assert users.authenticate(session, "ada", ADA_PASSWORD) == ADMIN
    with factory() as session:
        stored = session.scalars(select(User.password_hash).where(User.username == "ada")).one()
        assert stored != old
        assert not users.needs_rehash(stored)
        assert users.verify_password(stored, ADA_PASSWORD)
        assert verify_chain(session).ok
    rehash = _audit(factory, "user_account", "password_hash")[-1]
    assert (rehash.username, rehash.old, rehash.new) == ("ada", "(secret)", "(secret)")
    assert rehash.reason == "password rehashed with the current Argon2 parameters"


def test_the_password_hash_is_a_secret_in_the_audit(
    engine: Engine, factory: sessionmaker[AuditedSession]
) -> None:
    with transaction(factory, ADMIN) as session:
        users.add_user(session, ADMIN, "bob", BOB_PASSWORD, "monitor")
    entries = _audit(factory, "user_account", "password_hash")
    assert [(e.action, e.old, e.new) for e in entries] == [("insert", None, "(secret)")] * 2
    with factory() as session:
        hashes = session.scalars(select(User.password_hash)).all()
    everything = _all_text(engine)
    assert ADA_PASSWORD not in everything
    assert BOB_PASSWORD not in everything
    with factory() as session:
        audit_text = repr([(e.old, e.new) for e in session.scalars(select(AuditEntry))])
    assert not any(h in audit_text for h in hashes)


def test_tokens_work_are_stored_hashed_and_can_be_revoked(
    engine: Engine, factory: sessionmaker[AuditedSession]
) -> None:
    bob = Actor("bob", "monitor")
    with transaction(factory, ADMIN) as session:
        users.add_user(session, ADMIN, "bob", BOB_PASSWORD, "monitor")
        users.add_user(session, ADMIN, "cora", "cora's long passphrase", "coordinator")
    with transaction(factory, bob) as session:
        token = users.create_token(session, bob, "bob", "nightly export")  # own token
    with transaction(factory, ADMIN) as session:
        other = users.create_token(session, ADMIN, "cora", "import script")  # an admin's
    assert token != other
    assert len(token) >= 43
    with factory() as session:
        assert users.actor_for_token(session, token) == bob
        assert users.actor_for_token(session, other) == Actor("cora", "coordinator")
        assert users.actor_for_token(session, token + "x") is None
        assert users.actor_for_token(session, "") is None
        stored = session.scalars(select(ApiToken.token_hash).order_by(ApiToken.id)).all()
    assert stored == [users.token_digest(token), users.token_digest(other)]
    everything = _all_text(engine)
    assert token not in everything
    assert other not in everything
    secrets_in_audit = _audit(factory, "api_token", "token_hash")
    assert [e.new for e in secrets_in_audit] == ["(secret)", "(secret)"]
    with factory() as session:
        assert not any(
            token in (e.new or "") or other in (e.new or "")
            for e in session.scalars(select(AuditEntry))
        )

    with pytest.raises(Forbidden), transaction(factory, bob) as session:
        users.revoke_token(session, bob, "cora", "import script", "not mine")
    with transaction(factory, bob) as session:
        assert users.revoke_token(session, bob, "bob", "nightly export", "script retired") == 1
    with (
        pytest.raises(InvalidInput, match="token label must be the label of an active token"),
        transaction(factory, bob) as session,
    ):
        users.revoke_token(session, bob, "bob", "nightly export", "again")
    with transaction(factory, ADMIN) as session:
        users.disable_user(session, ADMIN, "cora", "left")
    with factory() as session:
        assert users.actor_for_token(session, token) is None  # revoked
        assert users.actor_for_token(session, other) is None  # its user is disabled
        assert verify_chain(session).ok
    with (
        pytest.raises(InvalidInput, match="token username must be an active user"),
        transaction(factory, ADMIN) as session,
    ):
        users.create_token(session, ADMIN, "cora", "again")
    with (
        pytest.raises(InvalidInput, match="token label must be 1 to 100 characters"),
        transaction(factory, ADMIN) as session,
    ):
        users.create_token(session, ADMIN, "bob", " ")


def test_the_first_admin_only_in_an_empty_registry(engine: Engine) -> None:
    factory = session_factory(engine)
    with transaction(factory, users.SYSTEM) as session:
        users.create_first_admin(session, "ada", ADA_PASSWORD)
    with (
        pytest.raises(
            InvalidInput, match=r"created only while no user exists .*; got a registry with 1 user"
        ),
        transaction(factory, users.SYSTEM) as session,
    ):
        users.create_first_admin(session, "mallory", "mallory's passphrase")
    with factory() as session:
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.field == "username")).all()
        assert (entry.username, entry.role, entry.new) == ("system", "admin", "ada")
        assert users.authenticate(session, "ada", ADA_PASSWORD) == ADMIN


def test_acting_attributes_pending_changes_to_their_own_actor(
    factory: sessionmaker[AuditedSession],
) -> None:
    with transaction(factory, Actor("cora", "coordinator")) as session:
        session.add(Site(code="S02", name="Site two"))  # pending, done by cora
        users.add_user(session, ADMIN, "bob", BOB_PASSWORD, "monitor")
        assert session.info["actor"] == Actor("cora", "coordinator")
    site = _audit(factory, "site", "code")[-1]
    user = _audit(factory, "user_account", "username")[-1]
    assert (site.username, site.new) == ("cora", "S02")
    assert (user.username, user.new) == ("ada", "bob")
