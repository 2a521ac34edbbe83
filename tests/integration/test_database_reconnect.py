"""A service's database connections: no round trip to check out, and work cut
by a lost connection done again on a fresh one, unless it began to commit.

The service reaches PostgreSQL through a loopback proxy here, which counts
what the service sends and can cut every connection at once, as a restart
of the server does.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from leadrouter.db import Database

pytestmark = pytest.mark.postgres

metadata = MetaData()
notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("text", String, nullable=False),
)


class Proxy:
    """Forwards loopback connections to a server; counts the client's sends."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sends = 0
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            with self._lock:
                self._open += [client, server]
            for pipe in ((client, server, True), (server, client, False)):
                threading.Thread(target=self._pipe, args=pipe, daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, counted: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if counted:
                    with self._lock:
                        self.sends += 1
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                end.close()

    def cut(self) -> None:
        """Drops every connection, as a restarting server does."""
        with self._lock:
            for end in self._open:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
            self._open.clear()

    def close(self) -> None:
        self.listener.close()
        self.cut()


@pytest.fixture
def proxied(postgres_url: str) -> Iterator[tuple[Database, Proxy]]:
    url = make_url(postgres_url)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    db = Database(
        url.set(port=proxy.port).render_as_string(hide_password=False),
        "notes",
        metadata,
        pool_size=4,
    )
    db.create_all()
    try:
        yield db, proxy
    finally:
        db.close()
        proxy.close()


def count_notes(session: Session) -> int:
    return session.execute(select(func.count()).select_from(notes)).scalar_one()


def read_count(db: Database) -> int:
    with db.session() as session:
        return count_notes(session)


def add_note(db: Database, text: str) -> int:
    with db.session() as session:
        session.execute(notes.insert().values(text=text))
        return count_notes(session)


async def test_checking_out_a_pooled_connection_sends_nothing(
    proxied: tuple[Database, Proxy],
) -> None:
    db, proxy = proxied
    assert await db.run(read_count, db) == 0
    before = proxy.sends
    for _ in range(20):
        with db.engine.connect():
            pass
    assert proxy.sends == before
    # A transaction of one statement: its begin, the statement, its commit.
    await db.run(read_count, db)
    assert proxy.sends - before <= 3


async def test_work_that_lost_its_connection_is_done_again_on_a_fresh_one(
    proxied: tuple[Database, Proxy],
) -> None:
    db, proxy = proxied
    assert await db.run(add_note, db, "before") == 1
    proxy.cut()
    # A read, then a write: each finds its pooled connection dead, and
    # answers as if nothing had happened.
    assert await db.run(read_count, db) == 1
    proxy.cut()
    assert await db.run(add_note, db, "after") == 2
    assert await db.run(read_count, db) == 2


async def test_work_that_began_to_commit_is_not_done_again(
    proxied: tuple[Database, Proxy],
) -> None:
    db, proxy = proxied

    def add_then_lose_the_connection(db: Database) -> int:
        add_note(db, "kept")
        proxy.cut()
        return read_count(db)

    with pytest.raises(DBAPIError) as raised:
        await db.run(add_then_lose_the_connection, db)
    assert raised.value.connection_invalidated
    # The note was written once: the work was not repeated.
    assert await db.run(read_count, db) == 1


async def test_a_ping_after_a_restart_finds_the_database_up(
    proxied: tuple[Database, Proxy],
) -> None:
    db, proxy = proxied
    assert db.ping()
    proxy.cut()
    assert db.ping()


async def test_a_lost_connection_is_not_an_internal_error_for_the_journal_counts(
    proxied: tuple[Database, Proxy],
) -> None:
    """The assigner counts journaled decisions from listeners on every engine's
    commit and rollback; the rollback of a lost connection must not fail in
    them, or the work is not done again and the press answers "internal"."""
    import services.assigner.journal_counts  # noqa: F401  (hangs the listeners)

    db, proxy = proxied
    assert await db.run(add_note, db, "before") == 1
    proxy.cut()
    assert await db.run(read_count, db) == 1
