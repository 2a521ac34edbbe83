"""A PostgreSQL server of the test's own, to restart and break at will.

The machine's shared server runs other tests; this one is a fresh cluster in
a temporary directory on a free port, stopped and removed afterwards. initdb
refuses to run as root, so as root it runs as the `postgres` OS user.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import create_engine, text

from tests.processes import free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [
        shutil.which(name) or ""
    ]
    assert found[-1], f"PostgreSQL's {name} is not installed"
    return found[-1]


@dataclass
class PrivatePostgres:
    data: str
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/leadrouter"

    def _as_owner(self, *command: str) -> None:
        if os.geteuid() == 0:
            command = ("runuser", "-u", "postgres", "--", *command)
        done = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def pg_ctl(self, *args: str) -> None:
        self._as_owner(
            _bin("pg_ctl"),
            "-D",
            self.data,
            "-l",
            f"{self.data}/server.log",
            "-w",
            "-o",
            f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=200",
            *args,
        )

    def restart(self) -> None:
        """Stops the server (cutting every connection) and starts it again."""
        self.pg_ctl("-m", "fast", "restart")

    def admin(self, *statements: str) -> None:
        """Runs statements as the superuser, from the maintenance database."""
        engine = create_engine(
            f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres",
            isolation_level="AUTOCOMMIT",
        )
        try:
            with engine.connect() as conn:
                for statement in statements:
                    conn.execute(text(statement))
        finally:
            engine.dispose()

    def drop_connections(self) -> None:
        """Ends the product's sessions, so new ones pick up database settings."""
        self.admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = 'leadrouter' AND pid <> pg_backend_pid()"
        )


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    data = tempfile.mkdtemp(prefix="leadrouter-pg-")
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    server = PrivatePostgres(data, free_port())
    server._as_owner(
        _bin("initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"
    )
    server.pg_ctl("start")
    try:
        server.admin("CREATE DATABASE leadrouter")
        yield server
    finally:
        try:
            server.pg_ctl("-m", "immediate", "stop")
        finally:
            shutil.rmtree(data, ignore_errors=True)
