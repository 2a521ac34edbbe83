"""Database engines: a SQLite file or a PostgreSQL schema per service."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Column, MetaData, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session, create_engine

from leadrouter.telemetry import database_span, instrument_engine

T = TypeVar("T")
P = ParamSpec("P")
log = logging.getLogger(__name__)


# The execution option of Database.reading's transactions.
_READING = "leadrouter_reading"


class _Attempt:
    """One run of a unit of work: whether it has begun to commit."""

    committing = False


# The attempt of Database.run under way in this thread, if any.
_attempt: contextvars.ContextVar[_Attempt | None] = contextvars.ContextVar(
    "leadrouter_db_attempt", default=None
)


class Database:
    """A service's engine with its own tables, and a thread pool to run sync work in."""

    def __init__(self, url: str, schema: str, metadata: MetaData, pool_size: int = 8):
        self.url = make_url(url)
        self.schema = schema
        self.metadata = metadata
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.engine = self._create_engine(pool_size)
        # The same pool; on SQLite its transactions begin without the write lock.
        self._reader = self.engine.execution_options(**{_READING: True})
        event.listen(self.engine, "commit", _note_commit)
        instrument_engine(self.engine)
        self._executor = ThreadPoolExecutor(pool_size, thread_name_prefix=schema)

    def _create_engine(self, pool_size: int) -> Engine:
        if self.is_sqlite:
            if self.url.database and self.url.database != ":memory:":
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                self.url,
                connect_args={"check_same_thread": False, "timeout": 30},
                pool_size=pool_size,
                max_overflow=pool_size,
            )
            _serialize_sqlite_writers(engine)
            return engine
        url = self.url
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        # No pre-ping: it costs a round trip on every checkout. A connection
        # that went stale (the server restarted, an idle connection was cut)
        # fails its first statement instead; SQLAlchemy then invalidates
        # every pooled connection of before, and run() does the work again.
        return create_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            # Tables are declared without a schema; each service lives in its own.
            execution_options={"schema_translate_map": {None: self.schema}},
        )

    def create_all(self) -> None:
        """Brings the schema up to date: missing tables and columns are added.

        Upgrades only ever add (tables, indexes, nullable or defaulted
        columns), so an existing database keeps every row; nothing is dropped
        or rewritten but indexes the metadata names as retired (replaced by
        wider ones).
        """
        with self.engine.begin() as conn:
            if not self.is_sqlite:
                # Replicas that start together would race to create the same
                # schema and tables; one at a time, the later ones find them.
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(hashtext(:name))"),
                    {"name": f"leadrouter.create_all.{self.schema}"},
                )
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
            self.metadata.create_all(conn)
            self._add_missing_columns(conn)
            # Indexes added since a table was created (create_all skips them).
            for table in self.metadata.sorted_tables:
                for index in table.indexes:
                    index.create(conn, checkfirst=True)
            for name in self.metadata.info.get("retired_indexes", ()):
                where = "" if self.is_sqlite else f'"{self.schema}".'
                conn.execute(text(f'DROP INDEX IF EXISTS {where}"{name}"'))

    def _add_missing_columns(self, conn: Connection) -> None:
        schema = None if self.is_sqlite else self.schema
        inspector = inspect(conn)  # the same connection: SQLite has one writer
        for table in self.metadata.sorted_tables:
            present = {c["name"] for c in inspector.get_columns(table.name, schema)}
            for column in table.columns:
                if column.name not in present:
                    conn.execute(text(_add_column_sql(self, table.name, column)))

    def insert(self, table: Any) -> Any:
        """An INSERT with this database's ON CONFLICT clauses (an upsert)."""
        return sqlite.insert(table) if self.is_sqlite else postgresql.insert(table)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on error."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """One transaction that only reads.

        On SQLite it does not take the write lock at BEGIN, so it reads its
        snapshot beside a writer (WAL) instead of queueing behind every write
        of the database; on PostgreSQL it is a session like any other.
        """
        with Session(self._reader, expire_on_commit=False) as session, session.begin():
            yield session

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Runs blocking database work off the event loop, as a span of the trace.

        The work runs in a copy of the caller's context, so its logs carry the
        caller's trace id and account. Work that lost its connection before
        it began to commit is done again once, on a fresh connection: nothing
        of it was kept, so a read or a write alike is safe to repeat. Work cut
        while committing is not repeated (whether it was kept is unknown):
        its error reaches the caller, who refuses in words.
        """
        loop = asyncio.get_running_loop()
        operation = getattr(fn, "__name__", "run")
        system = "sqlite" if self.is_sqlite else "postgresql"
        with database_span(system, self.schema, operation):
            context = contextvars.copy_context()
            return await loop.run_in_executor(
                self._executor, context.run, _reconnecting, fn, args, kwargs
            )

    def ping(self) -> bool:
        """Whether the database answers, on a fresh connection if need be."""
        return self._ping() or self._ping()  # the first may find a stale one

    def _ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except OperationalError:
            return False

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.engine.dispose()


def _reconnecting(
    fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> T:
    """Runs the work; once more if a stale connection failed it before a commit."""
    attempt = _Attempt()
    _attempt.set(attempt)
    try:
        return fn(*args, **kwargs)
    except DBAPIError as error:
        if not error.connection_invalidated or attempt.committing:
            raise
        log.info("%s: connection lost, once more (%s)", _name(fn), error.orig)
    _attempt.set(_Attempt())
    return fn(*args, **kwargs)


def _name(fn: Callable[..., Any]) -> str:
    return str(getattr(fn, "__qualname__", None) or getattr(fn, "__name__", "run"))


def _note_commit(_conn: Connection) -> None:
    attempt = _attempt.get()
    if attempt is not None:
        attempt.committing = True


def _add_column_sql(db: Database, table: str, column: Column[Any]) -> str:
    kind = column.type.compile(dialect=db.engine.dialect)
    qualified = f'"{table}"' if db.is_sqlite else f'"{db.schema}"."{table}"'
    default = getattr(column.default, "arg", None)
    add = f'ALTER TABLE {qualified} ADD COLUMN "{column.name}" {kind}'
    if isinstance(default, bool):
        literal = ("1" if default else "0") if db.is_sqlite else str(default).upper()
        return f"{add} DEFAULT {literal}"
    if isinstance(default, (int, float)):
        return f"{add} DEFAULT {default}"
    if isinstance(default, str):
        quoted = default.replace("'", "''")
        return f"{add} DEFAULT '{quoted}'"
    return add


def _serialize_sqlite_writers(engine: Engine) -> None:
    """Every transaction takes SQLite's write lock at BEGIN.

    A deferred transaction that reads and then writes can fail with "database is
    locked" when another writer got there first; BEGIN IMMEDIATE makes writers
    queue on the busy timeout instead, which is what exactly-once claims need.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(_READING):
            conn.exec_driver_sql("BEGIN")  # Database.reading: no write lock
            return
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except OperationalError as error:
            # A read-only database refuses the write lock even to readers:
            # let reads go on; a write then fails, and says why.
            if "readonly" not in str(error):
                raise
            conn.exec_driver_sql("BEGIN")
