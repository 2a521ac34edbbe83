"""A 403 block of the account and a 402 ended subscription: every write of the
account waits (none is given up), nothing is sent meanwhile, the worker asks
again after a long pause and goes on by itself once amoCRM serves the account."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import REGISTRY
from sqlalchemy import select

from leadrouter.clock import FixedClock
from leadrouter.db import Database
from leadrouter.timestamps import from_ts
from services.crm.amocrm.connector import AmoConnector
from services.crm.amocrm.emulator import AmoEmulator
from services.crm.amocrm.tables import AmoOutbox
from services.crm.store import Pool
from tests.amocrm.conftest import ACCOUNT

EMULATED_LEADS = 60
POOL = Pool(source_stages=("7001/70011",), exchange_users=("5007",))


def _claim(connector: AmoConnector, user: str, key: str) -> str:
    taken = connector.store.take_pool_lead(
        account=ACCOUNT,
        operation_id=key,
        pool=POOL,
        user=user,
        target_stage="7001/70012",
        cascade=True,
        at=None,
    )
    assert taken.lead is not None
    return taken.lead.id


def _blocked_gauge(reason: str) -> float | None:
    return REGISTRY.get_sample_value(
        "leadrouter_amocrm_blocked", {"account": ACCOUNT, "reason": reason}
    )


def _rows(db: Database) -> list[AmoOutbox]:
    with db.session() as s:
        return list(s.scalars(select(AmoOutbox)))


async def _synced(connector: AmoConnector) -> None:
    await connector.step()
    assert connector.synced


async def test_a_403_block_keeps_every_write_and_they_go_once_it_ends(
    connector: AmoConnector,
    emulator: AmoEmulator,
    crm_db: Database,
    clock: FixedClock,
) -> None:
    await _synced(connector)
    claimed = {
        user: _claim(connector, user, f"press-{user}")
        for user in ("5002", "5003", "5004")
    }
    emulator.block(120)

    await connector.step()

    refused = [r for r in emulator.log if r.status == 403]
    assert len(refused) == 1  # one refused write, not one per lead
    state = await connector.connection()
    assert state.block == "blocked"
    assert state.waiting_writes == 3
    next_attempt = from_ts(state.next_attempt_at)
    assert next_attempt == refused[0].at + timedelta(minutes=1)
    assert _blocked_gauge("blocked") == 1
    rows = _rows(crm_db)
    assert len(rows) == 3 and all(r.failed_at is None for r in rows)

    # Within the pause nothing is sent, however often the worker wakes.
    mark = len(emulator.log)
    while clock.now() + timedelta(seconds=10) < next_attempt:
        clock.advance(timedelta(seconds=10))
        await connector.step()
    assert emulator.log[mark:] == []

    # The pause is over but the block is not: one cheap question, a longer pause.
    clock.set(next_attempt)
    await connector.step()
    asked = emulator.log[mark:]
    assert [(r.method, r.path, r.status) for r in asked] == [
        ("GET", "/api/v4/account", 403)
    ]
    state = await connector.connection()
    assert from_ts(state.next_attempt_at) == asked[0].at + timedelta(minutes=2)

    clock.advance(timedelta(minutes=2))
    await connector.step()

    for user, lead in claimed.items():
        assert emulator.leads[int(lead)].responsible_user_id == int(user)
    state = await connector.connection()
    assert (state.block, state.waiting_writes) == ("", 0)
    assert _blocked_gauge("blocked") == 0
    assert all(r.sent_at is not None and r.failed_at is None for r in _rows(crm_db))


async def test_an_ended_subscription_waits_until_it_is_paid(
    connector: AmoConnector,
    emulator: AmoEmulator,
    crm_db: Database,
    clock: FixedClock,
) -> None:
    await _synced(connector)
    lead = _claim(connector, "5002", "press-1")
    emulator.end_subscription()

    await connector.step()
    state = await connector.connection()
    assert (state.block, state.waiting_writes) == ("not_paid", 1)
    assert _blocked_gauge("not_paid") == 1

    # Unpaid for an hour: the worker asks at 1, 2, 4, 8, 15, 15 ... minutes.
    asked = []
    for _ in range(60):
        clock.advance(timedelta(minutes=1))
        mark = len(emulator.log)
        await connector.step()
        asked += emulator.log[mark:]
    assert len(asked) == 7
    assert {r.status for r in asked} == {402}
    assert _rows(crm_db)[0].failed_at is None

    emulator.pay()
    clock.advance(timedelta(minutes=15))
    await connector.step()

    assert emulator.leads[int(lead)].responsible_user_id == 5002
    assert (await connector.connection()).block == ""


async def test_a_restarted_worker_keeps_the_block(
    connector: AmoConnector,
    emulator: AmoEmulator,
    crm_db: Database,
    clock: FixedClock,
) -> None:
    await _synced(connector)
    _claim(connector, "5002", "press-1")
    emulator.block(600)
    await connector.step()
    await connector.stop()

    again = AmoConnector(connector.settings, crm_db, clock)
    again.synced = True
    mark = len(emulator.log)
    await again.step()
    await again.stop()

    assert emulator.log[mark:] == []  # the pause stands across a restart
    assert (await again.connection()).block == "blocked"
