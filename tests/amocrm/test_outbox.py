"""Assignments in amoCRM mode: the mirror changes at once, amoCRM when it can."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadrouter.clock import FixedClock
from leadrouter.db import Database
from services.crm.amocrm.changes import Touched
from services.crm.amocrm.client import AmoClient
from services.crm.amocrm.emulator import AmoEmulator
from services.crm.amocrm.outbox import Outbox, coalesce
from services.crm.amocrm.sync import Syncer
from services.crm.store import CrmStore, Pool
from tests.amocrm.conftest import ACCOUNT, START

EMULATED_LEADS = 80
POOL = Pool(source_stages=("7001/70011",), exchange_users=("5007",))
TAKEN = "7001/70012"


@pytest.fixture
def outbox(crm_db: Database, clock: FixedClock) -> Outbox:
    return Outbox(crm_db, ACCOUNT, clock)


@pytest.fixture
async def store(
    syncer: Syncer, crm_db: Database, clock: FixedClock, outbox: Outbox
) -> CrmStore:
    await syncer.initial_sync()
    return CrmStore(crm_db, clock, on_assigned=outbox.record)


def _claim(store: CrmStore, user: str, key: str) -> str:
    taken = store.take_pool_lead(
        account=ACCOUNT,
        operation_id=key,
        pool=POOL,
        user=user,
        target_stage=TAKEN,
        cascade=True,
        at=None,
    )
    assert taken.lead is not None, "the pool is empty"
    return taken.lead.id


def _patches(emulator: AmoEmulator) -> list[str]:
    return [f"{r.path} {r.status}" for r in emulator.log if r.method == "PATCH"]


async def test_a_claim_reaches_amocrm_with_its_contacts_companies_and_tasks(
    emulator: AmoEmulator, store: CrmStore, outbox: Outbox, amo: AmoClient
) -> None:
    oldest = emulator.pool()[0]
    task = await emulator.add_task(
        oldest.id, responsible_user_id=5007, complete_till=emulator.now() + 3600
    )
    await Syncer(
        amo=amo, db=store.db, store=store, account=ACCOUNT, clock=store.clock
    ).refresh(Touched(tasks={str(task.id)}))

    lead_id = _claim(store, "5002", "claim-1")
    assert lead_id == str(oldest.id)
    assert emulator.leads[oldest.id].responsible_user_id == 5007  # not written yet

    flushed = await outbox.flush(amo)

    assert flushed.sent == 1
    remote = emulator.leads[oldest.id]
    assert (remote.responsible_user_id, remote.status_id) == (5002, 70012)
    assert all(
        emulator.contacts[c].responsible_user_id == 5002 for c in remote.contacts
    )
    assert emulator.tasks[task.id].responsible_user_id == 5002
    assert _patches(emulator) == [
        "/api/v4/leads 200",
        "/api/v4/contacts 200",
        "/api/v4/tasks 200",
    ]
    assert await outbox.pending() == 0


async def test_claims_wait_out_a_two_minute_outage_and_nothing_is_lost_or_doubled(
    emulator: AmoEmulator,
    store: CrmStore,
    outbox: Outbox,
    amo: AmoClient,
    clock: FixedClock,
) -> None:
    emulator.outage(seconds=120)
    outage_ends = START + timedelta(seconds=120)
    claims = {
        user: _claim(store, user, f"claim-{n}")
        for n, user in enumerate(["5002", "5003", "5004"])
    }
    assert len(set(claims.values())) == 3  # three different leads

    attempts = 0
    while await outbox.pending():
        attempts += 1
        assert attempts < 20, "the outbox never drained"
        flushed = await outbox.flush(amo)
        if flushed.waiting or not flushed.sent:
            clock.advance(timedelta(seconds=20))
    assert clock.now() >= outage_ends

    for user, lead in claims.items():
        remote = emulator.leads[int(lead)]
        assert remote.responsible_user_id == int(user)
        assert remote.status_id == 70012
    lead_writes = [
        r for r in emulator.log if r.method == "PATCH" and r.path.endswith("leads")
    ]
    assert {r.status for r in lead_writes} == {503, 200}
    assert all(r.at >= outage_ends for r in lead_writes if r.status == 200)
    assert len([r for r in lead_writes if r.status == 200]) == 1  # one batch of three
    # Meanwhile nobody else could take those leads: they left the pool at once.
    pool = store.list_pool(ACCOUNT, POOL, 500, "")[0]
    assert not set(claims.values()) & {x.id for x in pool}


async def test_an_old_snapshot_does_not_give_back_a_lead_whose_write_is_waiting(
    emulator: AmoEmulator,
    store: CrmStore,
    outbox: Outbox,
    amo: AmoClient,
    syncer: Syncer,
) -> None:
    emulator.outage(seconds=60)
    lead = _claim(store, "5002", "claim-1")
    await outbox.flush(amo)  # amoCRM is down: the write waits

    emulator.outage_until = None
    # amoCRM still says the exchange user has it (as a webhook would make us read).
    await syncer.refresh(Touched(leads={lead}))

    assert store.get_leads(account=ACCOUNT, ids=[lead])[0].responsible == "5002"
    pool = store.list_pool(ACCOUNT, POOL, 500, "")[0]
    assert lead not in {x.id for x in pool}


async def test_a_write_amocrm_refuses_is_set_aside_and_the_rest_go_through(
    emulator: AmoEmulator, store: CrmStore, outbox: Outbox, amo: AmoClient
) -> None:
    first = _claim(store, "5002", "claim-1")
    second = _claim(store, "5003", "claim-2")
    emulator.users[5003].is_active = False  # deactivated in amoCRM meanwhile

    flushed = await outbox.flush(amo)

    assert (flushed.sent, flushed.refused) == (1, 1)
    assert emulator.leads[int(first)].responsible_user_id == 5002
    assert emulator.leads[int(second)].responsible_user_id == 5007
    assert await outbox.pending() == 0


def test_the_latest_write_of_an_entity_wins() -> None:
    older = {"leads": [{"id": 1, "responsible_user_id": 5}]}
    newer = {
        "leads": [{"id": 1, "responsible_user_id": 6}],
        "contacts": [{"id": 7, "responsible_user_id": 6}],
    }
    assert coalesce([older, newer]) == {
        "leads": [{"id": 1, "responsible_user_id": 6}],
        "contacts": [{"id": 7, "responsible_user_id": 6}],
    }
