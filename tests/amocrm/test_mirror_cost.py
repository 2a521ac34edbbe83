"""What applying amoCRM's snapshots costs the crm database, in statements.

A batch of webhooks names leads the mirror mostly has already (the echo of our
own writes, a lead moved twice); the first sync brings pages of 250 new ones.
The mirror's side of a batch is read in a few statements, not several per
lead, so a re-read that changes nothing costs next to nothing and the first
sync of a big account is not a dozen round trips per lead before it writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from leadrouter.db import Database
from services.crm.amocrm.changes import Touched
from services.crm.amocrm.emulator import AmoEmulator
from services.crm.amocrm.mapping import lead_from_api
from services.crm.amocrm.sync import Syncer
from services.crm.tables import Lead

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
    # 21 a lead before (SQLite; 18.6 on PostgreSQL), 10.4 now (7.6): what is
    # left is mostly the ledger's own reads and writes.
    assert per_lead < 12, f"{per_lead:.1f} statements a lead"
    print(f"\nfirst sync: {len(seen)} statements, {per_lead:.1f} a lead")


async def test_a_refused_lead_in_a_batch_leaves_out_itself_only(
    syncer: Syncer, emulator: AmoEmulator, crm_db: Database
) -> None:
    """The batch goes without a savepoint per event; when the ledger refuses
    one, it is applied again with them, and only that lead is left out."""
    await syncer.initial_sync()
    first, second, third = (emulator.pool()[n].id for n in range(3))
    for lead in (first, third):
        await emulator.give_lead(lead, 5003, notify=False)
    # A stage the mirror does not know (its pipeline was added since).
    emulator.leads[second].status_id = 70099
    await emulator.give_lead(second, 5004, notify=False)
    leads = [lead_from_api(_api_lead(emulator, x)) for x in (first, second, third)]

    applied = await crm_db.run(syncer.mirror.leads, leads, {}, None, None, frozenset())

    # The second's change of owner came before its move, and stays.
    assert applied.events == Counter({"responsible_changed": 3})
    assert [p.split(" refused")[0] for p in applied.problems] == [
        f"lead {second}: stage_changed"
    ]
    assert applied.stale_directory
    with crm_db.session() as s:
        rows = [s.get(Lead, ("acme", str(x))) for x in (first, second, third)]
        got = [(x.responsible, x.stage) for x in rows if x is not None]
    assert got == [("5003", "70011"), ("5004", "70011"), ("5003", "70011")]


def _api_lead(emulator: AmoEmulator, lead_id: int) -> dict[str, Any]:
    render = emulator.render_lead("http://emulated", {"contacts"})
    return render(emulator.leads[lead_id])
