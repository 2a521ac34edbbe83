"""The reports' read models on a real database: SQLite, then PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from leadrouter.db import Database
from services.reports.store import ReportsStore
from services.reports.tables import metadata


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> Iterator[ReportsStore]:
    url = database_url or f"sqlite:///{tmp_path / 'reports.db'}"
    db = Database(url, "reports", metadata)
    db.create_all()
    try:
        yield ReportsStore(db)
    finally:
        db.close()
