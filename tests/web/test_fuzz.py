"""API fuzzing from the OpenAPI spec: schemathesis generates requests for every operation, sent
as a logged-in investigator (API token) and anonymously; no input may make the server fail (5xx).

Driven through Hypothesis directly (``operation.as_strategy()``), not schemathesis' pytest plugin.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atopic.registry.audit import Actor
from atopic.registry.db import make_engine, session_factory, transaction
from atopic.registry.users import create_token

OPERATIONS = 40


@pytest.fixture(scope="module")
def token(registry: str) -> str:
    engine = make_engine(registry)
    with transaction(session_factory(engine), Actor("investigator", "investigator")) as session:
        value = create_token(session, Actor("investigator", "investigator"), "investigator", "fuzz")
    engine.dispose()
    return value


def test_no_generated_request_makes_the_api_fail(app, token: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 4
    client = TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False)
    failures: list[str] = []
    statuses: set[int] = set()

    for operation in operations:

        @settings(
            max_examples=OPERATIONS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=operation.as_strategy(), authorized=st.booleans())
        def run(case, authorized: bool) -> None:
            headers = {"Authorization": f"Bearer {token}"} if authorized else {}
            kwargs = case.as_transport_kwargs(headers=headers)
            response = client.request(
                kwargs["method"],
                case.formatted_path,
                params=kwargs.get("params"),
                json=kwargs.get("json"),
                headers=headers,
            )
            statuses.add(response.status_code)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: "
                    f"{response.text[:200]}"
                )

        run()
    assert not failures, "\n".join(failures[:10])
    assert statuses - {401}, "every request was refused: the fuzzing reached no handler"
    assert 200 in statuses or 201 in statuses
