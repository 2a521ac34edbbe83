"""Fixtures: SQLite always, PostgreSQL when reachable, and the running stack."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tests.stack import Stack, running_stack

POSTGRES_URL = os.environ.get(
    "LEADROUTER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# A Monday morning in the demo account's zone (Asia/Tomsk, UTC+7): 10:00 local.
MONDAY_10_TOMSK = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


def _postgres_available() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except OperationalError as error:
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {error.orig}"


_PG_PROBLEM = _postgres_available()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    if _PG_PROBLEM:
        if os.environ.get("CI"):
            pytest.fail(_PG_PROBLEM)
        pytest.skip(_PG_PROBLEM)
    name = f"lr_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            make_url(POSTGRES_URL)
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """Each test using this runs once on SQLite files and once on PostgreSQL."""
    if request.param == "sqlite":
        return None  # the default: a SQLite file per service under data_dir
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """The product on SQLite, clock pinned to a Monday 10:00 in Tomsk."""
    async with running_stack(tmp_path, None, MONDAY_10_TOMSK) as s:
        yield s


@pytest.fixture
async def any_stack(tmp_path: Path, database_url: str | None) -> AsyncIterator[Stack]:
    """The product on each database in turn."""
    async with running_stack(tmp_path, database_url, MONDAY_10_TOMSK) as s:
        yield s
