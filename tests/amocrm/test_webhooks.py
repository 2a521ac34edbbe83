"""Webhooks and reconciliation: amoCRM changes reach the mirror as canonical events."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from leadrouter.clock import FixedClock
from leadrouter.db import Database
from services.crm.amocrm.client import AmoClient
from services.crm.amocrm.emulator import AmoEmulator
from services.crm.amocrm.sync import Syncer
from services.crm.store import CrmStore, Pool
from services.crm.tables import Event, Lead
from tests.amocrm.conftest import (
    ACCOUNT,
    crm_database,
    syncer_for,
)

EMULATED_LEADS = 60
POOL = Pool(source_stages=("7001/70011",), exchange_users=("5007",))


def _events_after(db: Database, offset: int) -> list[dict[str, object]]:
    with db.session() as s:
        payloads = s.scalars(
            select(col(Event.payload))
            .where(col(Event.offset) > offset)
            .order_by(col(Event.offset))
        )
        return [json.loads(p) for p in payloads]


def _last_offset(db: Database) -> int:
    with db.session() as s:
        offsets = s.scalars(select(col(Event.offset))).all()
        return max((o for o in offsets if o is not None), default=0)


async def test_a_webhook_for_a_new_lead_puts_it_in_the_pool(
    listening: Syncer, emulator: AmoEmulator, crm_db: Database, clock: FixedClock
) -> None:
    lead = await emulator.add_lead("From the site", price=1000)
    assert emulator.deliveries[-1].status == 200

    applied = await listening.process_inbox()

    assert applied.events == Counter({"lead_created": 1})
    pool, _, _ = CrmStore(crm_db, clock).list_pool(ACCOUNT, POOL, 500, "")
    assert pool[-1].id == str(lead.id)
    assert pool[-1].budget == 1000
    # The webhook only named the lead; what was applied was read from the API.
    assert [str(r) for r in emulator.log][-1].startswith(
        f"GET /api/v4/leads/{lead.id}?with=contacts"
    )


async def test_the_same_webhook_twice_changes_nothing(
    listening: Syncer, emulator: AmoEmulator, crm_db: Database
) -> None:
    lead = emulator.pool()[0]
    await emulator.move_lead(lead.id, 70013)
    await listening.process_inbox()
    offset = _last_offset(crm_db)

    await crm_db.run(listening.accept, body=emulator.deliveries[-1].body)
    again = await listening.process_inbox()

    assert again.total == 0
    assert _events_after(crm_db, offset) == []


async def test_a_forged_webhook_changes_nothing(
    listening: Syncer, emulator: AmoEmulator, crm_db: Database
) -> None:
    lead = emulator.pool()[0]
    forged = (
        f"leads[status][0][id]={lead.id}&leads[status][0][status_id]=142"
        "&leads[status][0][pipeline_id]=7001&account[subdomain]=emulated"
    )
    offset = _last_offset(crm_db)
    await crm_db.run(listening.accept, body=forged)
    assert (await listening.process_inbox()).total == 0
    assert _events_after(crm_db, offset) == []


async def test_a_webhook_of_another_account_is_not_read(
    listening: Syncer, emulator: AmoEmulator, crm_db: Database
) -> None:
    lead = emulator.pool()[0]
    await crm_db.run(
        listening.accept,
        body=f"leads[add][0][id]={lead.id}&account[subdomain]=someone-else",
    )
    await listening.process_inbox()
    assert emulator.log == []


async def test_webhooks_and_reconciliation_produce_the_same_events(
    listening: Syncer,
    emulator: AmoEmulator,
    amo: AmoClient,
    crm_db: Database,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    # A second mirror, synced at the same moment, that hears no webhooks.
    other_db = crm_database(tmp_path / "other.db")
    other = syncer_for(amo, other_db, clock)
    await other.initial_sync()
    before = (_last_offset(crm_db), _last_offset(other_db))

    pool = emulator.pool()
    owned = [x for x in emulator.leads.values() if x.responsible_user_id == 5002]
    open_task = next(t for t in emulator.tasks.values() if not t.is_completed)
    for change in (
        emulator.add_lead("Call from the ad", tags=["call"]),
        emulator.move_lead(pool[0].id, 70013),
        emulator.give_lead(pool[1].id, 5003),
        emulator.add_task(
            owned[0].id,
            responsible_user_id=5002,
            complete_till=emulator.now() + 86400,
        ),
        emulator.complete_task(open_task.id),
        emulator.move_lead(owned[1].id, 143, loss_reason_id=9001),
    ):
        clock.advance(timedelta(minutes=3))
        await change

    from_webhooks = await listening.process_inbox()
    from_events = await other.reconcile()

    assert (
        from_webhooks.events
        == from_events.events
        == Counter(
            {
                "lead_created": 1,
                "stage_changed": 2,
                "responsible_changed": 1,
                "task_created": 1,
                "task_completed": 1,
            }
        )
    )
    assert _events_after(crm_db, before[0]) == _events_after(other_db, before[1])
    lost = next(
        e
        for e in _events_after(other_db, before[1])
        if e["type"] == "stage_changed" and e["to"] == "143"
    )
    assert lost["loss_reason"] == "Too expensive"
    other_db.close()


async def test_reconciliation_mends_what_webhooks_missed(
    syncer: Syncer, emulator: AmoEmulator, crm_db: Database, clock: FixedClock
) -> None:
    await syncer.initial_sync()
    lead = emulator.pool()[0]
    clock.advance(timedelta(minutes=5))
    moved_at = clock.now().replace(microsecond=0)  # amoCRM keeps whole seconds
    await emulator.move_lead(lead.id, 142, notify=False)
    clock.advance(timedelta(minutes=5))
    await emulator.give_lead(lead.id, 5004, notify=False)  # later: updated_at moves
    clock.advance(timedelta(minutes=5))

    await syncer.reconcile()

    with crm_db.session() as s:
        row = s.get(Lead, (ACCOUNT, str(lead.id)))
        assert row is not None
        assert (row.stage, row.responsible) == ("142", "5004")
        # The sale counts from when it happened, not from when it was noticed.
        assert row.closed_at is not None
        assert row.closed_at.replace(tzinfo=moved_at.tzinfo) == moved_at


async def test_reconciliation_goes_on_from_where_it_stopped(
    syncer: Syncer, emulator: AmoEmulator, clock: FixedClock
) -> None:
    await syncer.initial_sync()
    clock.advance(timedelta(minutes=10))
    first_until = clock.now()
    await syncer.reconcile()
    clock.advance(timedelta(minutes=10))
    await emulator.add_task(
        emulator.pool()[0].id,
        responsible_user_id=5007,
        complete_till=emulator.now() + 600,
        notify=False,
    )
    emulator.log.clear()

    applied = await syncer.reconcile()

    assert applied.events == Counter({"task_created": 1})
    events_query = emulator.log[0].query
    since = int(first_until.timestamp()) - 120  # two minutes of overlap
    assert f"filter%5Bcreated_at%5D%5Bfrom%5D={since}" in events_query
