"""A small registry behind the web app, and clients logged in as each role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from atopic.registry import randomization as rnd
from atopic.registry import services as svc
from atopic.registry.audit import Actor
from atopic.registry.db import make_engine, session_factory, transaction, upgrade
from atopic.registry.users import add_user, create_first_admin
from atopic.web.app import create_app

PASSWORD = "correct horse battery"
ROLES = ("admin", "investigator", "coordinator", "pharmacist", "monitor", "statistician")
ARMS = ("ARM_PBO_W", "ARM_HIGH_W")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'web.db'}"
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    admin = Actor("admin", "admin")
    with factory() as session, session.begin():
        create_first_admin(session, "admin", PASSWORD)
    with transaction(factory, admin) as session:
        for role in ROLES[1:]:
            add_user(session, admin, role, PASSWORD, role)
        svc.add_site(session, admin, "S01", "Site one")
        study = svc.create_study(session, admin, "ATO-W", "Web test")
        design = rnd.RandomizationDesign(
            arms=((ARMS[0], 1), (ARMS[1], 1)), block_sizes=(2,), list_length=4
        )
        rnd.setup_randomization(session, admin, study.id, design, 7)
    inv = Actor("investigator", "investigator")
    for n in (1, 2):
        with transaction(factory, inv) as session:
            subject = svc.enrol_subject(
                session,
                inv,
                studyid="ATO-W",
                site_code="S01",
                usubjid=f"ATO-W-000{n}",
                sex="F",
                enrolled_on="2026-01-05",
                birth_date="1990-01-01",
            )
            rnd.randomize(session, inv, subject.id, {})
            svc.schedule_visit(session, inv, f"ATO-W-000{n}", 1, "WEEK 0", actual_date="2026-01-05")
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def app(registry: str):
    return create_app(registry, https_only=False, secret_key="test-secret")


def login(client: TestClient, username: str, password: str = PASSWORD) -> object:
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def csrf_of(client: TestClient) -> str:
    page = client.get("/subjects")
    return page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


@pytest.fixture
def client_as(app) -> Iterator[Callable[[str], TestClient]]:
    clients: list[TestClient] = []

    def make(role: str) -> TestClient:
        client = TestClient(app, base_url="http://127.0.0.1")
        clients.append(client)
        response = login(client, role)
        assert response.status_code == 303, response.text
        return client

    yield make
    for client in clients:
        client.close()


def example_path() -> Path:
    return Path(__file__).parents[2] / "examples" / "easi.json"
