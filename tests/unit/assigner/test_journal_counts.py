"""The journal's counters survive a connection the database dropped mid-press.

A PostgreSQL restart kills the connection under a transaction; rolling that
transaction back must end in the database's own error (which the service
turns into "the assigner database is not reachable"), not in an error of the
counters' bookkeeping, which the service can only call internal.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import PendingRollbackError

import services.assigner.journal_counts  # noqa: F401  (installs the listeners)


def test_a_rollback_on_an_invalidated_connection_is_not_an_internal_error() -> None:
    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        transaction = connection.begin()
        connection.execute(text("select 1"))
        connection.invalidate()  # what a restarted database does to it
        try:
            transaction.rollback()
        except PendingRollbackError as error:  # the bookkeeping's, not the database's
            pytest.fail(f"rolling back raised {error!r}")
