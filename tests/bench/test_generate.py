"""The benchmark account: the sizes asked for, the same rows from the same seed."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import date

import psycopg
import pytest

from bench.generate import (
    Sizes,
    create_tables,
    pg_dsn,
    recreate_database,
)
from bench.history import write_history

pytestmark = pytest.mark.postgres

TINY = Sizes(
    managers=20,
    groups=2,
    leads=2_000,
    events=9_000,
    tasks=300,
    decisions=2_500,
    pool=200,
)
DAY = date(2026, 11, 2)


def generated(url: str, seed: int) -> tuple[dict[str, int], str, Counter[str]]:
    """Row counts, a digest of every generated row, and leads per owner."""
    recreate_database(url)
    create_tables(url)
    write_history(url, TINY, seed, DAY)
    digest = hashlib.sha256()
    counts: dict[str, int] = {}
    with psycopg.connect(pg_dsn(url)) as conn:
        for table, order in (
            ("crm.leads", "id"),
            ("crm.events", '"offset"'),
            ("crm.tasks", "id"),
            ("reports.distribution_days", "day, user_id, group_id, kind"),
            ("reports.lead_states", "lead_id"),
        ):
            rows = conn.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
            counts[table] = len(rows)
            digest.update(repr(rows).encode())
        owners = Counter(
            str(owner)
            for (owner,) in conn.execute(
                "SELECT responsible FROM crm.leads WHERE responsible <> 'pool'"
            )
        )
        counts["overdue"] = conn.execute(
            "SELECT count(*) FROM crm.tasks WHERE completed_at IS NULL "
            "AND deadline < %s",
            (DAY,),
        ).fetchone()[0]  # type: ignore[index]
        counts["pool"] = conn.execute(
            "SELECT count(*) FROM crm.leads WHERE responsible = 'pool'"
        ).fetchone()[0]  # type: ignore[index]
        counts["handed_out"] = conn.execute(
            "SELECT sum(leads) FROM reports.distribution_days"
        ).fetchone()[0]  # type: ignore[index]
    return counts, digest.hexdigest(), owners


def test_the_account_has_the_sizes_asked_for_and_follows_from_the_seed(
    postgres_url: str,
) -> None:
    counts, first, owners = generated(postgres_url, seed=7)

    assert counts["crm.leads"] == TINY.leads
    assert counts["crm.events"] == TINY.events
    assert counts["crm.tasks"] == TINY.tasks
    assert counts["pool"] == TINY.pool
    assert counts["handed_out"] == TINY.leads - TINY.pool
    # The reports know every lead's pipeline, as after reading the history.
    assert counts["reports.lead_states"] == TINY.leads
    assert 0 < counts["overdue"] < TINY.tasks // 4
    # Skew: the busiest manager has several times the quietest one's leads.
    busiest, quietest = max(owners.values()), min(owners.values())
    assert busiest >= 3 * quietest

    again, second, _ = generated(postgres_url, seed=7)
    assert (again, second) == (counts, first)
    _, other, _ = generated(postgres_url, seed=8)
    assert other != first
