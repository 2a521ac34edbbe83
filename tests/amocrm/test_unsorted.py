"""A lead amoCRM holds in Unsorted is accepted into the chosen stage with the
chosen user, never PATCHed there (amoCRM refuses that), whether a press takes it
from a pool (pull) or push distribution gives it (push); its contacts follow
once it is accepted."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadrouter.clock import FixedClock
from leadrouter.db import Database
from services.crm.amocrm.client import AmoClient
from services.crm.amocrm.emulator import AmoEmulator, LoggedRequest
from services.crm.amocrm.outbox import Outbox
from services.crm.amocrm.sync import Syncer
from services.crm.amocrm.tables import AmoOutbox, AmoUnsortedLead
from services.crm.store import CrmStore, Pool
from tests.amocrm.conftest import ACCOUNT

EMULATED_LEADS = 120
UNSORTED = Pool(source_stages=("7001/70010",), exchange_users=("5007",))
TAKEN = "7001/70012"


@pytest.fixture
def outbox(crm_db: Database, clock: FixedClock) -> Outbox:
    return Outbox(crm_db, ACCOUNT, clock)


@pytest.fixture
def store(crm_db: Database, clock: FixedClock, outbox: Outbox) -> CrmStore:
    return CrmStore(crm_db, clock, on_assigned=outbox.record)


def _writes(emulator: AmoEmulator, mark: int) -> list[LoggedRequest]:
    return [r for r in emulator.log[mark:] if r.method != "GET"]


def _accepted(emulator: AmoEmulator, lead_id: int, user: int) -> None:
    lead = emulator.leads[lead_id]
    assert (lead.status_id, lead.responsible_user_id) == (70012, user)
    assert emulator.unsorted_of(lead_id) is None
    assert all(emulator.contacts[c].responsible_user_id == user for c in lead.contacts)


async def test_a_press_takes_an_unsorted_lead_and_amocrm_accepts_it(
    syncer: Syncer,
    store: CrmStore,
    outbox: Outbox,
    amo: AmoClient,
    emulator: AmoEmulator,
    crm_db: Database,
) -> None:
    await syncer.initial_sync()
    waiting = sorted(
        (x for x in emulator.leads.values() if emulator.unsorted_of(x.id)),
        key=lambda x: (x.created_at, x.id),
    )
    assert len(waiting) >= 3
    mark = len(emulator.log)

    taken = store.take_pool_lead(
        account=ACCOUNT,
        operation_id="press-1",
        pool=UNSORTED,
        user="5002",
        target_stage=TAKEN,
        cascade=True,
        at=None,
    )
    assert taken.lead is not None and taken.lead.id == str(waiting[0].id)
    flushed = await outbox.flush(amo)

    assert flushed.sent == 1
    _accepted(emulator, waiting[0].id, 5002)
    uid_path = next(r.path for r in emulator.log[mark:] if r.method == "POST")
    assert uid_path.startswith("/api/v4/leads/unsorted/")
    assert [
        (r.method, r.path.split("/")[-1], r.status) for r in _writes(emulator, mark)
    ] == [
        ("POST", "accept", 200),
        ("PATCH", "leads", 200),  # the responsible only: no status_id
        ("PATCH", "contacts", 200),  # reachable now that it is accepted
    ]
    # Learning the uid listed Unsorted once; every uid seen is kept.
    with crm_db.session() as s:
        known = {r.lead_id: r.uid for r in s.scalars(select(AmoUnsortedLead))}
    assert str(waiting[0].id) not in known
    assert all(known[str(x.id)] for x in waiting[1:])

    mark = len(emulator.log)
    taken = store.take_pool_lead(
        account=ACCOUNT,
        operation_id="press-2",
        pool=UNSORTED,
        user="5003",
        target_stage=TAKEN,
        cascade=True,
        at=None,
    )
    await outbox.flush(amo)
    _accepted(emulator, waiting[1].id, 5003)
    assert not [r for r in emulator.log[mark:] if r.path == "/api/v4/leads/unsorted"]


async def test_push_gives_a_new_unsorted_lead_and_amocrm_accepts_it(
    listening: Syncer,
    store: CrmStore,
    outbox: Outbox,
    amo: AmoClient,
    emulator: AmoEmulator,
    crm_db: Database,
) -> None:
    lead = await emulator.add_unsorted_lead("Form from the site")
    await listening.process_inbox()
    with crm_db.session() as s:
        assert s.get(AmoUnsortedLead, (ACCOUNT, str(lead.id))) is not None
    mark = len(emulator.log)

    given = store.assign_lead(
        account=ACCOUNT,
        operation_id="push-1",
        lead_id=str(lead.id),
        user="5004",
        target_stage=TAKEN,
        cascade=True,
        expected_responsible="5007",
        at=None,
    )
    assert given.lead is not None
    await outbox.flush(amo)

    _accepted(emulator, lead.id, 5004)
    assert [r.status for r in _writes(emulator, mark)] == [200, 200, 200]
    with crm_db.session() as s:
        row = s.scalars(select(AmoOutbox)).one()
        assert row.sent_at is not None and row.error == ""

    # amoCRM's hooks about the accept bring the mirror where amoCRM is.
    await listening.process_inbox()
    with crm_db.session() as s:
        assert s.get(AmoUnsortedLead, (ACCOUNT, str(lead.id))) is None


async def test_a_lead_accepted_in_amocrm_meanwhile_is_moved_the_ordinary_way(
    listening: Syncer,
    store: CrmStore,
    outbox: Outbox,
    amo: AmoClient,
    emulator: AmoEmulator,
) -> None:
    lead = await emulator.add_unsorted_lead("Call")
    await listening.process_inbox()
    store.assign_lead(
        account=ACCOUNT,
        operation_id="push-1",
        lead_id=str(lead.id),
        user="5004",
        target_stage=TAKEN,
        cascade=False,
        expected_responsible="5007",
        at=None,
    )
    # A manager accepts it in amoCRM before the write goes.
    await emulator.accept(lead.id, user_id=5002, status_id=70013)

    flushed = await outbox.flush(amo)

    assert flushed.sent == 1
    remote = emulator.leads[lead.id]
    assert (remote.status_id, remote.responsible_user_id) == (70012, 5004)
