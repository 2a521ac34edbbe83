"""Deletions, restores and merges in amoCRM reach the mirror: a deleted lead leaves
the pool and every count at once, a restored one comes back, a deleted task is no
longer overdue; a merge is the deletion of one lead and a change of the other."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select
from sqlmodel import col

from leadrouter.clock import FixedClock
from leadrouter.db import Database
from services.crm.activity import StageSettings, Windows
from services.crm.amocrm.emulator import AmoEmulator
from services.crm.amocrm.outbox import Outbox
from services.crm.amocrm.sync import Syncer
from services.crm.amocrm.tables import AmoOutbox
from services.crm.store import CrmStore, Pool
from services.crm.tables import Event, Lead, Task
from tests.amocrm.conftest import ACCOUNT

EMULATED_LEADS = 60
POOL = Pool(source_stages=("7001/70011",), exchange_users=("5007",))


def _pool(db: Database, clock: FixedClock) -> list[str]:
    leads, _, _ = CrmStore(db, clock).list_pool(ACCOUNT, POOL, 500, "")
    return [x.id for x in leads]


def _overdue(db: Database, clock: FixedClock, user: str) -> int:
    now = clock.now()
    windows = Windows(now, now, now, now, now, now)
    got = CrmStore(db, clock).activity(
        account=ACCOUNT, users=[user], settings=StageSettings(), windows=windows
    )
    return got.users[user].overdue_tasks


def _journal(db: Database, lead: str) -> list[str]:
    with db.session() as s:
        return list(
            s.scalars(
                select(col(Event.type))
                .where(col(Event.lead_id) == lead)
                .order_by(col(Event.offset))
            )
        )


async def test_a_lead_deleted_in_amocrm_leaves_the_pool_and_a_restored_one_returns(
    listening: Syncer, emulator: AmoEmulator, crm_db: Database, clock: FixedClock
) -> None:
    oldest = emulator.pool()[0]
    assert _pool(crm_db, clock)[0] == str(oldest.id)

    await emulator.delete_lead(oldest.id, by=5002)
    assert "leads%5Bdelete%5D" in emulator.deliveries[-1].body  # leads[delete]
    applied = await listening.process_inbox()

    assert applied.events == Counter({"lead_deleted": 1})
    assert str(oldest.id) not in _pool(crm_db, clock)
    assert _pool(crm_db, clock) == [str(x.id) for x in emulator.pool()]

    clock.advance(timedelta(minutes=3))
    await emulator.restore_lead(oldest.id)
    applied = await listening.process_inbox()

    assert applied.events == Counter({"lead_restored": 1})
    assert _pool(crm_db, clock)[0] == str(oldest.id)
    assert _journal(crm_db, str(oldest.id)) == [
        "lead_created",
        "lead_deleted",
        "lead_restored",
    ]


async def test_without_webhooks_the_events_api_deletes_and_restores(
    syncer: Syncer, emulator: AmoEmulator, crm_db: Database, clock: FixedClock
) -> None:
    await syncer.initial_sync()
    first, second = emulator.pool()[:2]
    clock.advance(timedelta(minutes=2))
    await emulator.delete_lead(first.id, notify=False, by=5003)
    await emulator.delete_lead(second.id, notify=False)
    clock.advance(timedelta(minutes=2))
    await emulator.restore_lead(second.id, notify=False)
    clock.advance(timedelta(minutes=2))

    applied = await syncer.reconcile()

    # The second was deleted and is back: the mirror never lost it.
    assert applied.events == Counter({"lead_deleted": 1})
    assert _pool(crm_db, clock) == [str(x.id) for x in emulator.pool()]
    with crm_db.session() as s:
        payload = s.scalars(
            select(col(Event.payload)).where(col(Event.type) == "lead_deleted")
        ).one()
    assert '"by":"5003"' in payload.replace(" ", "")  # who, from created_by


async def test_a_deleted_lead_leaves_its_owners_counts(
    listening: Syncer, emulator: AmoEmulator, crm_db: Database, clock: FixedClock
) -> None:
    store = CrmStore(crm_db, clock)
    owned = [x for x in emulator.open_leads() if x.responsible_user_id == 5002]
    before = store.count_open_leads(account=ACCOUNT, users=["5002"])["5002"]
    assert before == len(owned)

    await emulator.delete_lead(owned[0].id)
    await listening.process_inbox()

    assert store.count_open_leads(account=ACCOUNT, users=["5002"])["5002"] == before - 1


async def test_a_deleted_task_is_no_longer_overdue(
    listening: Syncer, emulator: AmoEmulator, crm_db: Database, clock: FixedClock
) -> None:
    lead = next(x for x in emulator.leads.values() if x.status_id == 70012)
    owner = lead.responsible_user_id
    task = await emulator.add_task(
        lead.id, responsible_user_id=owner, complete_till=emulator.now() + 60
    )
    await listening.process_inbox()
    clock.advance(timedelta(minutes=5))
    overdue = _overdue(crm_db, clock, str(owner))
    assert overdue >= 1

    await emulator.delete_task(task.id)
    applied = await listening.process_inbox()

    assert applied.events == Counter({"task_deleted": 1})
    assert _overdue(crm_db, clock, str(owner)) == overdue - 1
    with crm_db.session() as s:
        assert s.get(Task, (ACCOUNT, str(task.id))) is None


async def test_a_merge_deletes_one_lead_and_changes_the_other(
    listening: Syncer, emulator: AmoEmulator, crm_db: Database, clock: FixedClock
) -> None:
    kept, absorbed = emulator.pool()[:2]
    task = await emulator.add_task(
        absorbed.id, responsible_user_id=5007, complete_till=emulator.now() + 3600
    )
    await listening.process_inbox()

    await emulator.merge_leads(kept.id, absorbed.id, responsible_user_id=5004)
    applied = await listening.process_inbox()

    assert applied.events == Counter({"lead_deleted": 1, "responsible_changed": 1})
    with crm_db.session() as s:
        row = s.get(Lead, (ACCOUNT, str(kept.id)))
        assert row is not None and row.responsible == "5004"
        assert s.get(Lead, (ACCOUNT, str(absorbed.id))) is None

    # The events API tells of the merge; the kept lead's tasks are read again.
    clock.advance(timedelta(minutes=5))
    await listening.reconcile()
    with crm_db.session() as s:
        moved = s.get(Task, (ACCOUNT, str(task.id)))
        assert moved is not None and moved.lead_id == str(kept.id)


async def test_a_forged_deletion_costs_a_read_and_deletes_nothing(
    listening: Syncer, emulator: AmoEmulator, crm_db: Database, clock: FixedClock
) -> None:
    lead = emulator.pool()[0]
    emulator.log.clear()
    await crm_db.run(
        listening.accept,
        body=f"leads[delete][0][id]={lead.id}&account[subdomain]=emulated",
    )

    applied = await listening.process_inbox()

    assert applied.total == 0
    assert [r.path for r in emulator.log] == [f"/api/v4/leads/{lead.id}"]
    assert str(lead.id) in _pool(crm_db, clock)


async def test_a_write_to_a_lead_deleted_meanwhile_is_dropped_not_retried(
    listening: Syncer, emulator: AmoEmulator, crm_db: Database, clock: FixedClock
) -> None:
    outbox = Outbox(crm_db, ACCOUNT, clock)
    store = CrmStore(crm_db, clock, on_assigned=outbox.record)
    lead = emulator.pool()[0]
    store.take_pool_lead(
        account=ACCOUNT,
        operation_id="press-1",
        pool=POOL,
        user="5002",
        target_stage="7001/70012",
        cascade=False,
        at=None,
    )
    await emulator.delete_lead(lead.id)

    await listening.process_inbox()

    assert await outbox.pending() == 0
    with crm_db.session() as s:
        row = s.scalars(select(AmoOutbox)).one()
    assert row.sent_at is None and "deleted in amoCRM" in row.error
