"""The initial sync: an amoCRM account copied into the crm tables as events."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlalchemy import select
from sqlmodel import col

from leadrouter.clock import FixedClock
from leadrouter.db import Database
from services.crm.amocrm.changes import Touched
from services.crm.amocrm.client import AmoClient
from services.crm.amocrm.emulator import AmoEmulator, User
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
    directory = store.get_directory(account=ACCOUNT)
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
        tasks = list(s.scalars(select(Task)))
        open_tasks = {t.id for t in tasks if t.completed_at is None}
        done_tasks = {t.id for t in tasks if t.completed_at is not None}
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
    # Completed tasks of the last 30 days only: push asks what was done since.
    month_ago = emulator.now() - 30 * 86400
    assert done_tasks == {
        str(t.id)
        for t in emulator.tasks.values()
        if t.is_completed and t.updated_at >= month_ago
    }
    assert 0 < len(done_tasks) < sum(t.is_completed for t in emulator.tasks.values())

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
    """API filtering is a paid add-on; the task filters are not part of it."""
    await syncer.initial_sync()
    listed = [
        r for r in emulator.log if r.method == "GET" and r.path != "/api/v4/tasks"
    ]
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

    month_ago = emulator.now() - 30 * 86400
    assert done.counts == {
        "contacts": contacts,
        "companies": companies,
        "leads": 300,
        "tasks": sum(not t.is_completed for t in emulator.tasks.values()),
        "completed_tasks": sum(
            t.is_completed and t.updated_at >= month_ago
            for t in emulator.tasks.values()
        ),
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
        u.id for u in CrmStore(crm_db, clock).get_directory(account=ACCOUNT).users
    }
    with crm_db.session() as s:
        row = s.get(Lead, (ACCOUNT, str(lead)))
        assert row is not None and row.responsible == "5009"


async def test_a_big_account_is_read_by_its_open_and_recent_tasks_only(
    emulator: AmoEmulator, amo: AmoClient, crm_db: Database, clock: FixedClock
) -> None:
    """50,000 tasks, most completed long ago: the first sync asks for the open
    ones and the last month's completed ones, a page of 250 at a time, and
    goes on from its last page when it is interrupted."""
    emulator.seed_tasks(50_000)
    month_ago = emulator.now() - 30 * 86400
    open_ = sum(not t.is_completed for t in emulator.tasks.values())
    recent = sum(
        t.is_completed and t.updated_at >= month_ago for t in emulator.tasks.values()
    )
    assert len(emulator.tasks) > 50_000 and open_ + recent < 9_000
    lines: list[str] = []

    def stop_in_the_completed_tasks(progress: Progress) -> None:
        lines.append(str(progress))
        if progress.step == "completed_tasks" and progress.page == 4:
            raise RuntimeError("the process was stopped")

    first = syncer_for(amo, crm_db, clock, on_progress=stop_in_the_completed_tasks)
    with pytest.raises(RuntimeError):
        await first.initial_sync()
    assert lines[-1].startswith("amoCRM sync: completed_tasks, page 4 next (")
    assert f"{open_} tasks, 750 completed_tasks)" in lines[-1]
    again = syncer_for(amo, crm_db, clock)
    done = await again.initial_sync()

    assert (done.counts["tasks"], done.counts["completed_tasks"]) == (open_, recent)
    task_pages = [r for r in emulator.log if r.path == "/api/v4/tasks"]
    pages = -(-open_ // 250) + -(-recent // 250)
    assert len(task_pages) == pages  # reading every task would take 201 pages
    assert pages <= 36
    print(
        f"\n50,000-task account: {len(task_pages)} task pages, "
        f"{len(emulator.log)} calls in all"
    )
    with crm_db.session() as s:
        assert len(s.scalars(select(col(Task.id))).all()) == open_ + recent
