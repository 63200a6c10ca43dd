"""Every route as every role: no server error, no allocation for blinded roles, no write without
the CSRF token. Routes are read from the app itself, so new pages are crawled without edits."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.web.conftest import ARMS, ROLES

PARAMS = {"usubjid": "ATO-W-0001", "visitnum": "1", "instrument": "easi"}
"""Values for path parameters; a route with any other parameter fails the test until added."""
UNBLINDED = {"pharmacist"}


def _routes(app, method: str) -> list[str]:
    paths = []
    for route in app.routes:
        if not isinstance(route, APIRoute) or method not in route.methods:
            continue
        names = re.findall(r"{(\w+)}", route.path)
        unknown = [n for n in names if n not in PARAMS]
        assert not unknown, f"add a value for {unknown} of {route.path} to PARAMS"
        paths.append(re.sub(r"{(\w+)}", lambda m: PARAMS[m.group(1)], route.path))
    return sorted(set(paths))


@pytest.mark.parametrize("role", ROLES)
def test_every_page_as_every_role(app, client_as, role: str) -> None:
    client = client_as(role)
    seen = []
    for path in _routes(app, "GET"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code < 500, (path, response.status_code, response.text[:300])
        assert response.status_code in (200, 303, 401, 403, 404, 422), (path, response.status_code)
        seen.append(f"{path}\n{response.text}")
    text = "\n".join(seen)
    found = [arm for arm in ARMS if arm in text]
    if role in UNBLINDED:
        assert found, "the pharmacist should see the crawled subject's arm"
    else:
        assert not found, f"a {role} saw {found}"


@pytest.mark.parametrize("role", ROLES)
def test_no_write_without_the_csrf_token(app, client_as, role: str) -> None:
    client = client_as(role)
    posts = _routes(app, "POST")
    assert posts
    for path in posts:
        if path.startswith("/api/score/"):
            continue  # scores without saving: no state to protect
        response = client.post(path, json={}, data=None)
        assert response.status_code in (403, 422), (path, response.status_code)
        if response.status_code == 422:
            # validation ran before the CSRF check could: nothing may have been written
            assert "error" in response.json() or "detail" in response.json()


def test_anonymous_requests_get_nothing(app) -> None:
    client = TestClient(app, base_url="http://127.0.0.1")
    for path in _routes(app, "GET"):
        if path in ("/healthz", "/login", "/api/instruments", "/openapi.json"):
            continue
        response = client.get(path, follow_redirects=False)
        assert response.status_code in (303, 401), (path, response.status_code)
        assert not [arm for arm in ARMS if arm in response.text]
