"""A take reads the pool from its floor: its cost does not grow with the leads taken.

PostgreSQL keeps the index entries of claimed leads until vacuum, so a take
that starts at the pool index's beginning reads more with every claim of a
long burst. The figures here are the shared buffers the take's statement
reads, from EXPLAIN (ANALYZE, BUFFERS), with autovacuum off for the leads so
nothing cleans up behind the test's back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, text, update
from sqlalchemy.dialects import postgresql
from sqlmodel import col

from leadrouter.clock import FixedClock
from leadrouter.db import Database
from services.crm.directory_store import (
    DirectorySpec,
    PipelineSpec,
    StageSpec,
    UserSpec,
)
from services.crm.pool import Raises, oldest
from services.crm.store import CrmStore, Pool
from services.crm.tables import Lead, metadata
from tests.fixtures import lead_created

pytestmark = pytest.mark.postgres

ACCOUNT = "acme"
POOL = Pool(source_stages=("sales/new",), exchange_users=("pool",))
START = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
LEADS = 6_000
CLAIMED = 5_000


def _directory(pool_technical: bool = True) -> DirectorySpec:
    return DirectorySpec(
        account=ACCOUNT,
        timezone="UTC",
        users=(
            UserSpec("pool", "Pool", technical=pool_technical),
            UserSpec("ursula", "Ursula"),
        ),
        pipelines=(
            PipelineSpec(
                "sales",
                "Sales",
                False,
                (StageSpec("new", "New", "open"), StageSpec("taken", "Taken", "open")),
            ),
        ),
    )


@pytest.fixture
def store(postgres_url: str) -> Iterator[CrmStore]:
    db = Database(postgres_url, "crm", metadata)
    db.create_all()
    with db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE crm.leads SET (autovacuum_enabled = false)"))
    crm = CrmStore(db, FixedClock(START + timedelta(days=1)))
    crm.apply_directory(spec=_directory(), dry_run=False)
    # Leads already in the pool before any floor, written as an import would.
    with db.engine.begin() as conn:
        conn.execute(
            insert(Lead),
            [
                {
                    "account": ACCOUNT,
                    "id": f"L{i:05}",
                    "budget": 0,
                    "pipeline": "sales",
                    "stage": "new",
                    "stage_key": "sales/new",
                    "responsible": "pool",
                    "created_at": START + timedelta(seconds=i),
                    "stage_changed_at": START + timedelta(seconds=i),
                }
                for i in range(LEADS)
            ],
        )
        conn.execute(text("ANALYZE crm.leads"))
    crm.raises = Raises(every=1)
    try:
        yield crm
    finally:
        db.close()


def _take(crm: CrmStore, n: int) -> str:
    taken = crm.take_pool_lead(
        account=ACCOUNT,
        operation_id=f"op-{n}",
        pool=POOL,
        user="ursula",
        target_stage="sales/taken",
        cascade=False,
        at=None,
    )
    assert taken.lead is not None
    return taken.lead.id


def _buffers(crm: CrmStore, floored: bool) -> int:
    """Shared buffers the take's own statement reads (it runs, then rolls back)."""
    stmt = oldest(ACCOUNT, POOL.source_stages, POOL.exchange_users, floored)
    compiled = stmt.compile(
        dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"literal_binds": True},
    )
    with crm.db.engine.connect() as conn:
        conn.execute(text("SET search_path TO crm"))
        plan: Any = conn.execute(
            text(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {compiled}")
        ).scalar()
        conn.rollback()
    top = (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]
    return int(top["Shared Hit Blocks"]) + int(top["Shared Read Blocks"])


def _claim_outside(crm: CrmStore, count: int) -> None:
    """As many claims as a long burst makes, straight in SQL (no floor moves)."""
    with crm.db.engine.begin() as conn:
        conn.execute(
            update(Lead)
            .where(
                col(Lead.account) == ACCOUNT,
                col(Lead.stage_key) == "sales/new",
                col(Lead.id) < f"L{count + 2:05}",
            )
            .values(stage_key="sales/taken", stage="taken", responsible="ursula")
            .execution_options(schema_translate_map={None: "crm"})
        )


def test_a_take_reads_as_much_after_many_claims_as_at_the_start(
    store: CrmStore,
) -> None:
    # The first take sets up the pool's floor, the second measures it.
    assert [_take(store, 0), _take(store, 1)] == ["L00000", "L00001"]
    floored_before = _buffers(store, floored=True)
    unfloored_before = _buffers(store, floored=False)
    _claim_outside(store, CLAIMED)
    # The next take still gets the oldest lead left, and raises the floor to it.
    assert _take(store, 2) == f"L{CLAIMED + 2:05}"
    floored_after = _buffers(store, floored=True)
    unfloored_after = _buffers(store, floored=False)
    # From the beginning of the index, a take steps over every claimed lead;
    # from the floor it reads what it read at the start.
    assert unfloored_after >= unfloored_before + 20, (unfloored_before, unfloored_after)
    assert floored_after <= floored_before + 2, (floored_before, floored_after)


def test_a_lead_older_than_the_floor_is_the_next_one_taken(store: CrmStore) -> None:
    assert [_take(store, n) for n in range(3)] == ["L00000", "L00001", "L00002"]
    # Given back to the pool: older than the floor, so it comes down.
    back = store.assign_lead(
        account=ACCOUNT,
        operation_id="back",
        lead_id="L00001",
        user="pool",
        target_stage="sales/new",
        cascade=False,
        expected_responsible=None,
        at=None,
    )
    assert back.lead is not None and back.lead.responsible == "pool"
    assert _take(store, 3) == "L00001"
    # Imported long after, but created before every lead in the pool.
    line = json.dumps(lead_created("EARLY", START - timedelta(days=3)))
    assert store.import_history(account=ACCOUNT, lines=[line], dry_run=False) == (1, [])
    assert _take(store, 4) == "EARLY"
    assert _take(store, 5) == "L00003"


def test_an_emptied_pool_takes_the_next_lead_that_comes(store: CrmStore) -> None:
    _claim_outside(store, LEADS)
    assert (
        store.take_pool_lead(
            account=ACCOUNT,
            operation_id="empty",
            pool=POOL,
            user="ursula",
            target_stage="sales/taken",
            cascade=False,
            at=None,
        ).lead
        is None
    )
    line = json.dumps(lead_created("NEW", START + timedelta(days=1)))
    assert store.import_history(account=ACCOUNT, lines=[line], dry_run=False) == (1, [])
    assert _take(store, 0) == "NEW"


def test_an_owner_no_longer_technical_is_read_without_a_floor(
    store: CrmStore,
) -> None:
    assert [_take(store, n) for n in range(3)] == ["L00000", "L00001", "L00002"]
    store.apply_directory(spec=_directory(pool_technical=False), dry_run=False)
    # Its arrivals lower no floor now; the one it had is gone with the change.
    store.assign_lead(
        account=ACCOUNT,
        operation_id="back",
        lead_id="L00000",
        user="pool",
        target_stage="sales/new",
        cascade=False,
        expected_responsible=None,
        at=None,
    )
    assert _take(store, 3) == "L00000"
