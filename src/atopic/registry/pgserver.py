"""A throwaway PostgreSQL server from Debian's packages, for tests and benchmarks.

It runs ``initdb`` and ``pg_ctl`` from ``/usr/lib/postgresql/*/bin`` in a temporary directory,
listens on a Unix socket only, and is stopped and removed on exit. As root, the server runs as the
``postgres`` user that Debian's package creates (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text


def bindir() -> Path:
    """The newest PostgreSQL server's bin directory, or FileNotFoundError saying what to install."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise FileNotFoundError(
            "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb): "
            "install Debian's postgresql package (make test does this)"
        )
    return Path(found[-1]).parent


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def temporary_server(fsync: bool = False) -> Iterator[str]:
    """Start a server; yield its admin URL (database ``postgres``); stop and remove it after.

    ``fsync=False`` (tests) trades durability for speed; benchmarks should pass True.
    """
    bins = bindir()
    root = Path(tempfile.mkdtemp(prefix="atopic-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    port = _free_port()
    subprocess.run(
        _as_postgres(
            [str(bins / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
            + ([] if fsync else ["--no-sync"])
        ),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {sock} -c listen_addresses='' -c max_connections=200" + (
        "" if fsync else " -c fsync=off"
    )
    subprocess.run(
        _as_postgres(
            [
                str(bins / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-w",
                "-l",
                str(root / "log"),
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={sock}&port={port}"
    finally:
        subprocess.run(
            _as_postgres([str(bins / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def create_database(admin_url: str) -> str:
    """A new empty database on the server; returns its URL."""
    name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.replace("/postgres?", f"/{name}?")


def drop_database(admin_url: str, url: str) -> None:
    """Drop a database made by ``create_database``."""
    name = make_url(url).database
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()
