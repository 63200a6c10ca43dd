"""Fixtures shared by every test folder: one throwaway PostgreSQL server per test worker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from atopic.registry import pgserver


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A running PostgreSQL server; yields the admin URL (Unix socket)."""
    try:
        server = pgserver.temporary_server()
        url = server.__enter__()
    except FileNotFoundError as error:
        pytest.fail(str(error))
    try:
        yield url
    finally:
        server.__exit__(None, None, None)
