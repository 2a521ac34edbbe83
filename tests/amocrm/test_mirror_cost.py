"""What applying amoCRM's snapshots costs the crm database, in statements.

A batch of webhooks names leads the mirror mostly has already (the echo of our
own writes, a lead moved twice); the first sync brings pages of 250 new ones.
The mirror's side of a batch is read in a few statements, not several per
lead, so a re-read that changes nothing costs next to nothing and the first
sync of a big account is not a dozen round trips per lead before it writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from leadrouter.db import Database
from services.crm.amocrm.emulator import AmoEmulator
from services.crm.amocrm.mapping import Touched
from services.crm.amocrm.sync import Syncer

EMULATED_LEADS = 200


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]).split(None, 1)[0])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


async def test_leads_read_again_unchanged_cost_a_few_statements_in_all(
    syncer: Syncer, emulator: AmoEmulator, crm_db: Database
) -> None:
    await syncer.initial_sync()
    every = {str(x) for x in emulator.leads}
    assert len(every) == EMULATED_LEADS

    with statements(crm_db) as seen:
        applied = await syncer.refresh(Touched(leads=every))

    assert applied.total == 0
    # Five a lead before (its row, its Unsorted entry, its waiting writes, its
    # contacts' and its companies' links): a thousand for these 200.
    assert len(seen) <= 12, seen


async def test_the_first_sync_writes_without_reading_lead_by_lead(
    syncer: Syncer, emulator: AmoEmulator, crm_db: Database
) -> None:
    with statements(crm_db) as seen:
        await syncer.initial_sync()

    per_lead = len(seen) / EMULATED_LEADS
    # 21 a lead before (SQLite; 18 on PostgreSQL); what is left is mostly the
    # ledger's writes and the savepoint around each event.
    assert per_lead < 17, f"{per_lead:.1f} statements a lead"
    print(f"\nfirst sync: {len(seen)} statements, {per_lead:.1f} a lead")
