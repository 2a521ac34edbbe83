"""Keeping the mirror in line with amoCRM: the initial sync, webhooks, reconciliation.

Every path ends the same way: amoCRM entities are read from the API and the
differences with the mirror are applied as canonical events. Webhooks and the
events API only say which entities to read, so both produce the same events,
a webhook seen twice changes nothing, and a forged one only costs a read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from leadrouter.clock import Clock
from leadrouter.db import Database
from leadrouter.timestamps import utc
from services.crm.amocrm.changes import (
    RECONCILED_TYPES,
    Touched,
    parse_webhook,
    touched_by_events,
)
from services.crm.amocrm.client import AmoClient
from services.crm.amocrm.directory_mapping import (
    entry_stages,
    pipelines_from_api,
    unsorted_stages,
    users_from_api,
)
from services.crm.amocrm.mapping import (
    RemoteLead,
    RemoteTask,
    lead_from_api,
    party_from_api,
    task_from_api,
)
from services.crm.amocrm.mirror import AfterApply, Applied, Mirror
from services.crm.amocrm.tables import AmoInbox, AmoSync
from services.crm.directory_store import DirectorySpec
from services.crm.store import CrmStore

log = logging.getLogger(__name__)

STEPS = ("directory", "contacts", "companies", "leads", "tasks", "completed_tasks")
DONE = "done"
LISTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "contacts": ("/api/v4/contacts", "contacts", {}),
    "companies": ("/api/v4/companies", "companies", {}),
    "leads": ("/api/v4/leads", "leads", {"with": "contacts,loss_reason"}),
    # Reading every task of a big account can get the IP restricted ("requests
    # from your IP address will be restricted"): the open ones, and the
    # completed ones only as far back as anything here looks. Task filters are
    # not the paid API filtering: "filter[is_completed] | bool | ... 1 –
    # завершенные, 0 – к выполнению", "filter[updated_at][from]".
    "tasks": ("/api/v4/tasks", "tasks", {"filter[is_completed]": "0"}),
    "completed_tasks": ("/api/v4/tasks", "tasks", {"filter[is_completed]": "1"}),
}
# Completed tasks count only in push's work on a lead (was a task done since it
# was given?); a month covers any lead push still watches.
COMPLETED_WINDOW = timedelta(days=30)
LEAD_WITH = {"with": "contacts,loss_reason"}
# Events can be listed a little after they happen; look back this far again.
EVENTS_OVERLAP = timedelta(minutes=2)


@dataclass(frozen=True)
class Progress:
    step: str
    page: int  # the next page of the step
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.step == DONE

    def __str__(self) -> str:
        done = ", ".join(f"{n} {what}" for what, n in self.counts.items())
        if self.finished:
            return f"amoCRM sync finished: {done or 'nothing to copy'}"
        return f"amoCRM sync: {self.step}, page {self.page} next ({done or 'starting'})"


class Syncer:
    """Reads one amoCRM account into the mirror."""

    def __init__(
        self,
        *,
        amo: AmoClient,
        db: Database,
        store: CrmStore,
        account: str,
        clock: Clock,
        subdomain: str = "",
        technical: frozenset[str] = frozenset(),
        page_size: int = 250,
        on_progress: Callable[[Progress], None] | None = None,
        completed_window: timedelta = COMPLETED_WINDOW,
    ) -> None:
        self.amo = amo
        self.db = db
        self.store = store
        self.account = account
        self.clock = clock
        self.subdomain = subdomain
        self.technical = technical
        self.page_size = page_size
        self.on_progress = on_progress
        self.completed = completed_window
        self.mirror = Mirror(db, account)
        self._entry: dict[str, str] | None = None
        self._unsorted: frozenset[str] = frozenset()

    # -- the directory -------------------------------------------------------
    async def sync_directory(self) -> list[str]:
        """Account timezone, users, departments and pipelines with their stages."""
        account = await self.amo.request(
            "GET", "/api/v4/account", params={"with": "users_groups,datetime_settings"}
        )
        users = await self.amo.all("/api/v4/users", "users", {"limit": 250})
        pipelines = await self._pipelines()
        embedded = (account or {}).get("_embedded") or {}
        if (account or {}).get("id"):
            # Widget tokens name this id: "account_id | int | ID аккаунта".
            await self.db.run(self._remember_account, account_id=int(account["id"]))
        timezone = (embedded.get("datetime_settings") or {}).get("timezone") or "UTC"
        spec = DirectorySpec(
            account=self.account,
            timezone=timezone,
            users=users_from_api(users, self.technical),
            pipelines=pipelines_from_api(pipelines),
        )
        changes = await self.db.run(
            self.store.apply_directory, spec=spec, dry_run=False
        )
        groups = {
            str(g["id"]): str(g.get("name") or "")
            for g in embedded.get("users_groups") or []
        }
        rights = [
            (
                str(u["id"]),
                str((u.get("rights") or {}).get("group_id") or 0),
                bool((u.get("rights") or {}).get("is_admin")),
                str(u.get("email") or ""),
            )
            for u in users
        ]
        await self.db.run(self.mirror.departments, groups=groups, users=rights)
        return changes

    async def _pipelines(self) -> list[dict[str, Any]]:
        body = await self.amo.request("GET", "/api/v4/leads/pipelines")
        pipelines: list[dict[str, Any]] = ((body or {}).get("_embedded") or {}).get(
            "pipelines"
        ) or []
        self._entry = entry_stages(pipelines)
        self._unsorted = unsorted_stages(pipelines)
        return pipelines

    async def _entry_stages(self) -> dict[str, str]:
        if self._entry is None:
            await self._pipelines()
        assert self._entry is not None
        return self._entry

    # -- the initial sync ----------------------------------------------------
    async def progress(self) -> Progress:
        row = await self.db.run(self.state)
        return Progress(row.step, row.page, json.loads(row.counts))

    async def initial_sync(self) -> Progress:
        """Copies the account page by page; after an interruption it goes on from
        the last page it finished. Works without API filters (a paid add-on)."""
        state = await self.db.run(self.state)
        counts: dict[str, int] = json.loads(state.counts)
        step, page = state.step, state.page
        while step != DONE:
            if step == "directory":
                await self.sync_directory()
                step, page = STEPS[1], 1
                await self.db.run(
                    self._save, step=step, page=page, counts=counts, done=False
                )
                self._report(Progress(step, page, dict(counts)))
                continue
            path, key, extra = LISTS[step]
            params: dict[str, Any] = {**extra, "limit": self.page_size, "page": page}
            if step == "completed_tasks":
                # From when the sync started, so a resumed page is the same page.
                since = utc(state.started_at or self.clock.now()) - self.completed
                params["filter[updated_at][from]"] = int(since.timestamp())
            async for got in self.amo.pages(path, key, params):
                page = got.number + 1
                counts[step] = counts.get(step, 0) + len(got.items)
                checkpoint = self._checkpoint(step, page, dict(counts))
                await self._apply_list(step, got.items, checkpoint)
                self._report(Progress(step, page, dict(counts)))
            following = STEPS.index(step) + 1
            step, page = (STEPS[following] if following < len(STEPS) else DONE), 1
            await self.db.run(
                self._save, step=step, page=page, counts=counts, done=step == DONE
            )
        done = Progress(DONE, 1, dict(counts))
        self._report(done)
        return done

    async def _apply_list(
        self, step: str, items: list[dict[str, Any]], after: AfterApply
    ) -> Applied:
        if step == "leads":
            leads = [lead_from_api(x) for x in items]
            return await self._apply_leads(leads, {}, after)
        if step in ("tasks", "completed_tasks"):
            tasks = [task_from_api(x) for x in items]
            return await self._retrying(lambda: self.mirror.tasks(tasks, after))
        kind = "contact" if step == "contacts" else "company"
        parties = [party_from_api(kind, x) for x in items]
        return await self._retrying(lambda: self.mirror.parties(parties, after))

    async def _apply_leads(
        self,
        leads: list[RemoteLead],
        moves: dict[str, tuple[str, datetime]],
        after: AfterApply | None = None,
    ) -> Applied:
        entry = await self._entry_stages()
        unsorted = self._unsorted
        return await self._retrying(
            lambda: self.mirror.leads(leads, entry, moves, after, unsorted)
        )

    async def _retrying(self, apply: Callable[[], Applied]) -> Applied:
        """Applies; if amoCRM named a user or stage the directory lacks, syncs it
        and applies again (what was applied the first time is then a no-op)."""
        applied = await self.db.run(apply)
        if applied.stale_directory:
            await self.sync_directory()
            applied = await self.db.run(apply)
        return applied

    def _report(self, progress: Progress) -> None:
        log.info("%s", progress)
        if self.on_progress is not None:
            self.on_progress(progress)

    # -- webhooks ------------------------------------------------------------
    def accept(self, *, body: str) -> int:
        """Keeps a webhook as received; it is read and applied later, in order."""
        with self.db.session() as s:
            row = AmoInbox(
                account=self.account, received_at=self.clock.now(), body=body
            )
            s.add(row)
            s.flush()
            assert row.seq is not None
            return row.seq

    async def process_inbox(self, limit: int = 200) -> Applied:
        """Reads what waiting webhooks name and applies it; they stay on failure."""
        rows = await self.db.run(self._waiting, limit=limit)
        if not rows:
            return Applied()
        touched = Touched()
        foreign: list[int] = []
        for seq, body in rows:
            got = parse_webhook(body)
            if self.subdomain and got.subdomain and got.subdomain != self.subdomain:
                foreign.append(seq)
                continue
            touched.add(got)
        try:
            applied = await self.refresh(touched)
        except Exception as error:
            await self.db.run(
                self._failed, seqs=[seq for seq, _ in rows], error=str(error)
            )
            raise
        await self.db.run(
            self._processed, seqs=[seq for seq, _ in rows], foreign=foreign
        )
        return applied

    # -- reading entities ----------------------------------------------------
    async def refresh(self, touched: Touched) -> Applied:
        """Reads the named leads and tasks from amoCRM and applies the differences;
        those amoCRM answers 204 for were deleted there."""
        applied = Applied()
        if not touched:
            return applied
        tasks, gone_tasks = [], []
        for task_id in sorted(touched.tasks, key=int):
            data = await self.amo.request("GET", f"/api/v4/tasks/{task_id}")
            if data is None:
                gone_tasks.append(task_id)
            else:
                tasks.append(task_from_api(data))
        tasks += await self._tasks_of(touched.task_leads)
        wanted = set(touched.leads)
        task_leads = {t.lead for t in tasks if t.lead is not None}
        wanted |= task_leads - await self.db.run(
            self.mirror.known_leads, ids=task_leads
        )
        leads, gone_leads = [], []
        for lead_id in sorted(wanted, key=int):
            data = await self.amo.request(
                "GET", f"/api/v4/leads/{lead_id}", params=LEAD_WITH
            )
            if data is None:
                gone_leads.append(lead_id)
            else:
                leads.append(lead_from_api(data))
        applied.add(await self._apply_leads(leads, touched.moves))
        if tasks:
            applied.add(await self._retrying(lambda: self.mirror.tasks(tasks)))
        if gone_leads or gone_tasks:
            applied.add(
                await self.db.run(
                    self.mirror.gone,
                    leads=gone_leads,
                    tasks=gone_tasks,
                    at=self.clock.now(),
                    actors=touched.actors,
                )
            )
        return applied

    async def _tasks_of(self, leads: set[str]) -> list[RemoteTask]:
        """Every task of these leads: "filter[entity_type]", "filter[entity_id]"."""
        found: list[RemoteTask] = []
        ordered = sorted(leads, key=int)
        for start in range(0, len(ordered), 50):
            items = await self.amo.all(
                "/api/v4/tasks",
                "tasks",
                {
                    "limit": 250,
                    "filter[entity_type]": "leads",
                    "filter[entity_id][]": ordered[start : start + 50],
                },
            )
            found += [task_from_api(x) for x in items]
        return found

    async def reconcile(self, until: datetime | None = None) -> Applied:
        """Mends what webhooks missed, from amoCRM's events since the last pass."""
        state = await self.db.run(self.state)
        until = until or self.clock.now()
        since = utc(
            state.reconciled_until or state.started_at or until - timedelta(days=1)
        )
        events = await self.amo.all(
            "/api/v4/events",
            "events",
            {
                "limit": 100,
                "filter[type][]": list(RECONCILED_TYPES),
                "filter[entity][]": ["lead", "task"],
                "filter[created_at][from]": int((since - EVENTS_OVERLAP).timestamp()),
                "filter[created_at][to]": int(until.timestamp()),
            },
        )
        applied = await self.refresh(touched_by_events(events))
        await self.db.run(self._reconciled, until=until)
        return applied

    # -- state rows ----------------------------------------------------------
    def state(self) -> AmoSync:
        """The sync's row, created on first use."""
        with self.db.session() as s:
            row = s.get(AmoSync, self.account)
            if row is None:
                row = AmoSync(
                    account=self.account,
                    step=STEPS[0],
                    page=1,
                    started_at=self.clock.now(),
                )
                s.add(row)
            return row

    def _checkpoint(self, step: str, page: int, counts: dict[str, int]) -> AfterApply:
        def write(s: Session) -> None:
            row = s.get(AmoSync, self.account)
            assert row is not None
            row.step, row.page, row.counts = step, page, json.dumps(counts)

        return write

    def _save(
        self, *, step: str, page: int, counts: dict[str, int], done: bool
    ) -> None:
        with self.db.session() as s:
            self._checkpoint(step, page, counts)(s)
            if done:
                row = s.get(AmoSync, self.account)
                assert row is not None
                row.finished_at = self.clock.now()
                # Changes made while the sync ran are caught by reconciliation.
                row.reconciled_until = row.reconciled_until or row.started_at

    def _remember_account(self, *, account_id: int) -> None:
        self.state()  # the row, if this is the first thing the sync writes
        with self.db.session() as s:
            row = s.get(AmoSync, self.account)
            assert row is not None
            row.amo_account_id = account_id

    def _reconciled(self, *, until: datetime) -> None:
        with self.db.session() as s:
            row = s.get(AmoSync, self.account)
            assert row is not None
            row.reconciled_until = until

    def _waiting(self, *, limit: int) -> list[tuple[int, str]]:
        with self.db.session() as s:
            rows = s.execute(
                select(col(AmoInbox.seq), col(AmoInbox.body))
                .where(
                    col(AmoInbox.account) == self.account,
                    col(AmoInbox.processed_at).is_(None),
                )
                .order_by(col(AmoInbox.seq))
                .limit(limit)
            ).all()
            return [(int(seq), str(body)) for seq, body in rows]

    def _processed(self, *, seqs: list[int], foreign: list[int]) -> None:
        with self.db.session() as s:
            for seq in seqs:
                row = s.get(AmoInbox, seq)
                if row is not None:
                    row.processed_at = self.clock.now()
                    row.attempts += 1
                    row.error = "another account's webhook" if seq in foreign else ""

    def _failed(self, *, seqs: list[int], error: str) -> None:
        with self.db.session() as s:
            for seq in seqs:
                row = s.get(AmoInbox, seq)
                if row is not None:
                    row.attempts += 1
                    row.error = error[:500]
