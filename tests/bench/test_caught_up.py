"""The wait for the product's followers: a follower with no offset yet is behind."""

from __future__ import annotations

import pytest

from bench.followers import _behind, pg_scalar
from bench.generate import pg_dsn

pytestmark = pytest.mark.postgres


def test_a_query_without_a_row_reads_as_nothing_not_a_crash(
    postgres_url: str,
) -> None:
    # A follower that has not stored its offset yet has no row to read.
    scalar = pg_scalar(pg_dsn(postgres_url))
    assert scalar("pg_catalog", "SELECT relname FROM {s}pg_class WHERE false") is None
    assert scalar("pg_catalog", "SELECT count(*) FROM {s}pg_class WHERE false") == 0


def test_rows_written_and_not_read_keep_the_run_waiting() -> None:
    assert _behind(last=5, read=None)  # nothing read yet
    assert _behind(last=5, read=4)
    assert not _behind(last=5, read=5)
    assert not _behind(last=None, read=None)  # nothing written
