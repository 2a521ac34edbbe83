"""The initial sync: an amoCRM account copied into the crm tables as events."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlalchemy import select
from sqlmodel import col

from leadrouter.clock import FixedClock
from leadrouter.db import Database
from services.crm.amocrm.client import AmoClient
from services.crm.amocrm.emulator import AmoEmulator, User
from services.crm.amocrm.mapping import Touched
from services.crm.amocrm.sync import Progress, Syncer
from services.crm.amocrm.tables import AmoDepartment, AmoUser
from services.crm.store import CrmStore, Pool
from services.crm.tables import Event, Lead, Task
from tests.amocrm.conftest import ACCOUNT, syncer_for

POOL = Pool(source_stages=("7001/70011",), exchange_users=("5007",))


def _events(db: Database) -> list[dict[str, object]]:
    with db.session() as s:
        return [json.loads(p) for p in s.scalars(select(col(Event.payload)))]


async def test_initial_sync_copies_users_pipelines_leads_and_open_tasks(
    emulator: AmoEmulator, syncer: Syncer, crm_db: Database, clock: FixedClock
) -> None:
    progress = await syncer.initial_sync()

    assert progress.finished
    store = CrmStore(crm_db, clock)
    directory = store.get_directory(ACCOUNT)
    assert directory.timezone == "Asia/Tomsk"
    assert {u.id: u.active for u in directory.users}["5008"] is False
    assert len(directory.users) == 8
    sales = next(p for p in directory.pipelines if p.id == "7001")
    assert {s.id: s.kind for s in sales.stages} == {
        "70010": "open",  # Unsorted
        "70011": "open",
        "70012": "open",
        "70013": "open",
        "142": "won",
        "143": "lost",
    }
    assert next(p for p in directory.pipelines if p.id == "7003").archived

    # The pool a claim draws from is the exchange user's leads in "New", oldest first.
    pool, _, total = store.list_pool(ACCOUNT, POOL, 500, "")
    assert [x.id for x in pool] == [str(x.id) for x in emulator.pool()]
    assert total == len(emulator.pool()) > 50

    with crm_db.session() as s:
        leads = {x.id: x for x in s.scalars(select(Lead))}
        open_tasks = {t.id for t in s.scalars(select(Task))}
    assert len(leads) == 300
    for remote in emulator.leads.values():
        mine = leads[str(remote.id)]
        assert (mine.pipeline, mine.stage, mine.responsible) == (
            str(remote.pipeline_id),
            str(remote.status_id),
            str(remote.responsible_user_id),
        )
        if remote.closed_at:
            assert mine.closed_at is not None
            assert int(mine.closed_at.timestamp()) == remote.closed_at
    assert open_tasks == {
        str(t.id) for t in emulator.tasks.values() if not t.is_completed
    }

    kinds = Counter(str(e["type"]) for e in _events(crm_db))
    closed = sum(1 for x in emulator.leads.values() if x.closed_at)
    assert kinds["lead_created"] == 300
    assert kinds["stage_changed"] == closed  # each closed lead: created, then closed

    with crm_db.session() as s:
        departments = {d.id: d.name for d in s.scalars(select(AmoDepartment))}
        olga = s.get(AmoUser, (ACCOUNT, "5006"))
    assert departments == {"0": "Sales department", "1": "Second line"}
    assert olga is not None and olga.department == "1"


async def test_sync_reads_whole_lists_without_api_filters(
    emulator: AmoEmulator, syncer: Syncer
) -> None:
    await syncer.initial_sync()
    listed = [r for r in emulator.log if r.method == "GET"]
    assert listed and not [r for r in listed if "filter" in r.query]


async def test_sync_resumes_from_the_last_finished_page(
    emulator: AmoEmulator, amo: AmoClient, crm_db: Database, clock: FixedClock
) -> None:
    seen: list[Progress] = []

    def crash_after_second_page(progress: Progress) -> None:
        seen.append(progress)
        if progress.step == "leads" and progress.page == 3:
            raise RuntimeError("the process was stopped")

    interrupted = syncer_for(
        amo, crm_db, clock, page_size=100, on_progress=crash_after_second_page
    )
    with pytest.raises(RuntimeError):
        await interrupted.initial_sync()
    # Contacts and companies of leads in Unsorted are not listed until accepted.
    hidden = emulator.hidden_parties()
    contacts = len(set(emulator.contacts) - hidden)
    companies = len(set(emulator.companies) - hidden)
    assert (contacts, companies) == (282, 51)
    assert str(seen[-1]) == (
        f"amoCRM sync: leads, page 3 next ({contacts} contacts, "
        f"{companies} companies, 200 leads)"
    )
    emulator.log.clear()

    resumed = syncer_for(amo, crm_db, clock, page_size=100)
    done = await resumed.initial_sync()

    assert done.counts == {
        "contacts": contacts,
        "companies": companies,
        "leads": 300,
        "tasks": len(emulator.tasks),
    }
    lead_pages = [r.query for r in emulator.log if r.path == "/api/v4/leads"]
    assert lead_pages[0] == "with=contacts%2Closs_reason&limit=100&page=3"
    assert len(lead_pages) == 1
    with crm_db.session() as s:
        assert len(s.scalars(select(col(Lead.id))).all()) == 300
    assert Counter(str(e["type"]) for e in _events(crm_db))["lead_created"] == 300


async def test_a_finished_sync_does_not_run_again(
    emulator: AmoEmulator, syncer: Syncer
) -> None:
    await syncer.initial_sync()
    emulator.log.clear()
    assert (await syncer.initial_sync()).finished
    assert emulator.log == []


async def test_a_new_amocrm_user_is_added_when_a_lead_names_them(
    emulator: AmoEmulator, syncer: Syncer, crm_db: Database, clock: FixedClock
) -> None:
    await syncer.initial_sync()
    emulator.users[5009] = User(5009, "Newcomer", "new@example.com")
    lead = emulator.pool()[0].id
    await emulator.give_lead(lead, 5009, notify=False)

    applied = await syncer.refresh(Touched(leads={str(lead)}))

    assert applied.events == Counter({"responsible_changed": 1})
    assert "5009" in {
        u.id for u in CrmStore(crm_db, clock).get_directory(ACCOUNT).users
    }
    with crm_db.session() as s:
        row = s.get(Lead, (ACCOUNT, str(lead)))
        assert row is not None and row.responsible == "5009"
