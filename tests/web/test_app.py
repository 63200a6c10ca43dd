"""The web app through its HTTP interface: login, CSRF, lockout, pages and their JSON twins,
422 with the instrument's words, roles, and no allocation for blinded roles."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from atopic.web.app import create_app
from tests.web.conftest import ARMS, PASSWORD, ROLES, csrf_of, example_path, login


def test_pages_need_a_login_and_the_api_a_credential(app) -> None:
    client = TestClient(app, base_url="http://127.0.0.1")
    assert client.get("/subjects", follow_redirects=False).headers["location"] == "/login"
    response = client.get("/api/subjects")
    assert response.status_code == 401
    assert response.json()["error"]["field"] == "authorization"


def test_login_without_the_csrf_token_is_refused(app) -> None:
    client = TestClient(app, base_url="http://127.0.0.1")
    client.get("/login")
    response = client.post("/login", data={"username": "monitor", "password": PASSWORD})
    assert response.status_code == 403


def test_five_failures_lock_the_username_out(registry: str) -> None:
    app = create_app(registry, https_only=False, secret_key="another")  # its own lockout book
    client = TestClient(app, base_url="http://127.0.0.1")
    for _ in range(5):
        assert login(client, "coordinator", "wrong password!!").status_code == 401
    locked = login(client, "coordinator")  # the right password, but locked out now
    assert locked.status_code == 401
    assert "Too many failed attempts" in locked.text
    assert login(TestClient(app, base_url="http://127.0.0.1"), "monitor").status_code == 303


def test_session_cookie_is_httponly_and_samesite_strict(app) -> None:
    client = TestClient(app, base_url="http://127.0.0.1")
    response = login(client, "monitor")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie


def test_subject_page_and_json_twin_show_the_same_subjects(client_as) -> None:
    client = client_as("monitor")
    api = client.get("/api/subjects").json()
    page = client.get("/subjects").text
    assert [s["usubjid"] for s in api] == ["ATO-W-0001", "ATO-W-0002"]
    assert all(s["usubjid"] in page for s in api)
    assert client.get("/api/subjects", params={"q": "0002"}).json()[0]["usubjid"] == "ATO-W-0002"


@pytest.mark.parametrize("role", ROLES)
def test_no_arm_reaches_a_blinded_role(client_as, role: str) -> None:
    client = client_as(role)
    seen = client.get("/subjects").text + client.get("/api/subjects").text
    for n in (1, 2):
        seen += client.get(f"/subjects/ATO-W-000{n}").text
        seen += client.get(f"/api/subjects/ATO-W-000{n}").text
    found = [arm for arm in ARMS if arm in seen]
    if role == "pharmacist":
        assert found == list(ARMS)
    else:
        assert found == []


def test_live_score_returns_the_instrument_message_with_422(app) -> None:
    client = TestClient(app, base_url="http://127.0.0.1")
    good = json.loads(example_path().read_text())
    assert client.post("/api/score/easi", json=good).json()["total"] == 17
    bad = dict(good, trunk=dict(good["trunk"], erythema=0.5))
    response = client.post("/api/score/easi", json=bad)
    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "field": "trunk.erythema",
            "message": "EASI trunk.erythema must be one of 0, 1, 1.5, 2, 2.5, 3; got 0.5",
        }
    }


def test_saving_an_assessment_needs_the_right_role_and_csrf(client_as) -> None:
    form = json.loads(example_path().read_text())
    del form["age_years"]  # taken from the subject's record
    body = {"data": form, "assessed_on": "2026-01-05"}
    path = "/api/subjects/ATO-W-0001/visits/1/assessments/easi"
    coordinator = client_as("coordinator")
    assert coordinator.post(path, json=body).status_code == 403  # no CSRF header
    headers = {"X-CSRF-Token": csrf_of(coordinator)}
    saved = coordinator.post(path, json=body, headers=headers)
    assert saved.status_code == 201, saved.text
    assert saved.json()["total"] == 17
    again = coordinator.post(path, json=body, headers=headers)
    assert again.status_code == 422
    assert "reason must be given" in again.json()["error"]["message"]
    monitor = client_as("monitor")
    refused = monitor.post(path, json=body, headers={"X-CSRF-Token": csrf_of(monitor)})
    assert refused.status_code == 403
    assert "a monitor may not record assessment" in refused.json()["error"]["message"]


def test_openapi_lists_the_json_api(app) -> None:
    spec = TestClient(app).get("/openapi.json").json()
    assert "/api/subjects/{usubjid}" in spec["paths"]
    assert "/api/score/{instrument}" in spec["paths"]
