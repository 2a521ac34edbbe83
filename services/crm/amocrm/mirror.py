"""The crm tables as amoCRM's mirror: snapshots go in as canonical events."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from leadrouter.db import Database
from services.crm import history as h
from services.crm.amocrm.known import (
    KnownLeads,
    KnownTasks,
    chunks,
    held_leads,
    load_parties,
)
from services.crm.amocrm.mapping import (
    LocalLead,
    LocalTask,
    RemoteLead,
    RemoteParty,
    RemoteTask,
    lead_events,
    party_events,
    task_events,
)
from services.crm.amocrm.tables import (
    AmoDepartment,
    AmoOutbox,
    AmoUnsortedLead,
    AmoUser,
)
from services.crm.state import EventRejected, Ledger, UnknownStage, UnknownUser
from services.crm.tables import Lead, LeadParty, Party, Task

log = logging.getLogger(__name__)

AfterApply = Callable[[Session], None]


@dataclass
class Applied:
    """What one pass changed, and what it could not apply."""

    events: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    # A snapshot named a user or stage the directory lacks: sync it and retry.
    stale_directory: bool = False

    def add(self, other: Applied) -> None:
        self.events.update(other.events)
        self.problems += other.problems
        self.stale_directory |= other.stale_directory

    @property
    def total(self) -> int:
        return sum(self.events.values())


class Mirror:
    """Applies amoCRM snapshots for one account, each batch in one transaction."""

    def __init__(self, db: Database, account: str) -> None:
        self.db = db
        self.account = account

    # -- leads ---------------------------------------------------------------
    def leads(
        self,
        remote: Iterable[RemoteLead],
        entry: dict[str, str],
        moves: dict[str, tuple[str, datetime]] | None = None,
        after: AfterApply | None = None,
        unsorted: frozenset[str] = frozenset(),
    ) -> Applied:
        # One snapshot per lead, the latest: the batch's rows are read once.
        batch = list({r.id: r for r in remote}.values())
        try:
            return self._leads(batch, entry, moves, after, unsorted, careful=False)
        except EventRejected:
            return self._leads(batch, entry, moves, after, unsorted, careful=True)

    def _leads(
        self,
        remote: list[RemoteLead],
        entry: dict[str, str],
        moves: dict[str, tuple[str, datetime]] | None,
        after: AfterApply | None,
        unsorted: frozenset[str],
        *,
        careful: bool,
    ) -> Applied:
        applied = Applied()
        with self.db.session() as s:
            ledger = Ledger(s, self.account)
            known = KnownLeads.read(
                s,
                self.account,
                [r.id for r in remote],
                _parties_of(remote),
                lock=not self.db.is_sqlite,
            )
            for r in remote:
                self._unsorted(s, r, r.stage_key in unsorted, known)
                row = known.leads.get(r.id)
                if row is None and r.id in known.deleted:
                    # Back from amoCRM's trash: as it was, then as it is now.
                    restored = h.LeadRestored(
                        type="lead_restored", at=r.updated_at, lead=r.id
                    )
                    self._apply(ledger, [restored], applied, f"lead {r.id}", careful)
                    row = self._lead(s, r.id)
                local = (
                    LocalLead(row.responsible, row.pipeline, row.stage) if row else None
                )
                move = (moves or {}).get(r.id)
                events = lead_events(
                    r,
                    local,
                    entry_stage=entry.get(r.pipeline),
                    moved_at=move[1] if move and move[0] == r.stage_key else None,
                    hold_assignment=row is not None and r.id in known.held,
                )
                self._apply(ledger, events, applied, f"lead {r.id}", careful)
                if row is not None:
                    self._link_parties(s, r, row.responsible, known)
            if after is not None:
                after(s)
        return applied

    def known_leads(self, *, ids: Iterable[str]) -> set[str]:
        wanted = list(ids)
        if not wanted:
            return set()
        with self.db.session() as s:
            return set(
                s.scalars(
                    select(col(Lead.id)).where(
                        col(Lead.account) == self.account,
                        col(Lead.id).in_(wanted),
                    )
                )
            )

    # -- deletions -----------------------------------------------------------
    def gone(
        self,
        *,
        leads: Iterable[str],
        tasks: Iterable[str],
        at: datetime,
        actors: dict[str, str] | None = None,
    ) -> Applied:
        """Leads and tasks whose re-read amoCRM answered with 204: deleted there
        ("204 | Сделка с указанным ID не существует"), a merge's absorbed lead
        too. Ids the mirror never had are nothing to delete."""
        applied = Applied()
        actors = actors or {}
        with self.db.session() as s:
            ledger = Ledger(s, self.account)
            for lead_id in leads:
                if self._lead(s, lead_id) is None:
                    continue
                by = actors.get(f"lead {lead_id}")
                event = h.LeadDeleted(type="lead_deleted", at=at, lead=lead_id, by=by)
                if self._apply(ledger, [event], applied, f"lead {lead_id}"):
                    self._drop_writes(s, lead_id, at)
            for task_id in tasks:
                row = s.get(Task, (self.account, task_id))
                if row is None:
                    continue
                if row.lead_id and s.get(Lead, (self.account, row.lead_id)) is None:
                    continue  # its lead is in the trash: the task waits there with it
                by = actors.get(f"task {task_id}")
                deleted = h.TaskDeleted(type="task_deleted", at=at, task=task_id, by=by)
                self._apply(ledger, [deleted], applied, f"task {task_id}")
        return applied

    def _unsorted(
        self, s: Session, r: RemoteLead, inside: bool, known: KnownLeads
    ) -> None:
        """Keeps the list of leads amoCRM holds in Unsorted up to date."""
        row = known.unsorted.get(r.id)
        if inside and row is None:
            known.unsorted[r.id] = row = AmoUnsortedLead(
                account=self.account,
                lead_id=r.id,
                pipeline=r.pipeline,
                stage=r.status,
            )
            s.add(row)
        elif not inside and row is not None:
            s.delete(row)
            del known.unsorted[r.id]

    def _drop_writes(self, s: Session, lead_id: str, at: datetime) -> None:
        """A write to a lead deleted in amoCRM has nothing left to change."""
        for row in s.scalars(
            select(AmoOutbox).where(
                col(AmoOutbox.account) == self.account,
                col(AmoOutbox.lead_id) == lead_id,
                col(AmoOutbox.sent_at).is_(None),
                col(AmoOutbox.failed_at).is_(None),
            )
        ):
            row.failed_at = at
            row.error = "the lead was deleted in amoCRM; nothing to write"

    # -- tasks ---------------------------------------------------------------
    def tasks(
        self, remote: Iterable[RemoteTask], after: AfterApply | None = None
    ) -> Applied:
        batch = list({r.id: r for r in remote}.values())
        try:
            return self._tasks(batch, after, careful=False)
        except EventRejected:
            return self._tasks(batch, after, careful=True)

    def _tasks(
        self, remote: list[RemoteTask], after: AfterApply | None, *, careful: bool
    ) -> Applied:
        applied = Applied()
        with self.db.session() as s:
            ledger = Ledger(s, self.account)
            known = KnownTasks.read(
                s,
                self.account,
                [r.id for r in remote],
                [r.lead for r in remote if r.lead is not None],
            )
            for r in remote:
                row = known.tasks.get(r.id)
                lead_known = r.lead is not None and r.lead in known.leads
                local = (
                    LocalTask(row.responsible, row.completed_at is not None)
                    if row
                    else None
                )
                held = bool(row and row.lead_id and row.lead_id in known.held)
                events = task_events(
                    r, local, lead_known=lead_known, hold_assignment=held
                )
                self._apply(ledger, events, applied, f"task {r.id}", careful)
                if row is not None and row.completed_at is None:
                    # No canonical event moves a deadline; the overdue limit reads it.
                    row.deadline = r.deadline
                if row is not None and lead_known and row.lead_id != r.lead:
                    # guess: a merge moves the absorbed lead's tasks to the lead
                    # kept without a task event; the task follows its lead here.
                    row.lead_id = r.lead
            if after is not None:
                after(s)
        return applied

    # -- contacts and companies ---------------------------------------------
    def parties(
        self, remote: Iterable[RemoteParty], after: AfterApply | None = None
    ) -> Applied:
        batch = list({(r.kind, r.id): r for r in remote}.values())
        try:
            return self._parties(batch, after, careful=False)
        except EventRejected:
            return self._parties(batch, after, careful=True)

    def _parties(
        self, remote: list[RemoteParty], after: AfterApply | None, *, careful: bool
    ) -> Applied:
        applied = Applied()
        with self.db.session() as s:
            ledger = Ledger(s, self.account)
            rows = load_parties(s, self.account, [(r.kind, r.id) for r in remote])
            held = self._parties_held(s, list(rows.values()))
            for r in remote:
                row = rows.get((r.kind, r.id))
                if row is not None and (r.kind, r.id) in held:
                    continue
                events = party_events(r, row.responsible if row else None)
                self._apply(ledger, events, applied, f"{r.kind} {r.id}", careful)
            if after is not None:
                after(s)
        return applied

    # -- directory extras ----------------------------------------------------
    def departments(
        self, *, groups: dict[str, str], users: list[tuple[str, str, bool, str]]
    ) -> None:
        """amoCRM's user groups (departments) and each user's group and rights."""
        with self.db.session() as s:
            for gid, name in groups.items():
                dept = s.get(AmoDepartment, (self.account, gid))
                if dept is None:
                    s.add(AmoDepartment(account=self.account, id=gid, name=name))
                else:
                    dept.name = name
            for uid, group, is_admin, email in users:
                user = s.get(AmoUser, (self.account, uid))
                if user is None:
                    user = AmoUser(account=self.account, id=uid)
                    s.add(user)
                user.department, user.is_admin, user.email = group, is_admin, email

    # -- internals -----------------------------------------------------------
    def _lead(self, s: Session, lead_id: str) -> Lead | None:
        stmt = select(Lead).where(
            col(Lead.account) == self.account,
            col(Lead.id) == lead_id,
        )
        if not self.db.is_sqlite:
            # A claim holds this row while it writes its outbox row: wait for it.
            stmt = stmt.with_for_update()
        return s.scalars(stmt).first()

    def _parties_held(self, s: Session, rows: list[Party]) -> set[tuple[str, str]]:
        """Parties one of whose leads has a write made here still on its way."""
        links: list[tuple[str, str, str]] = []
        for kind in ("contact", "company"):
            ids = [p.id for p in rows if p.kind == kind]
            for chunk in chunks(ids):
                links += [
                    (kind, party, lead)
                    for party, lead in s.execute(
                        select(col(LeadParty.party_id), col(LeadParty.lead_id)).where(
                            col(LeadParty.account) == self.account,
                            col(LeadParty.kind) == kind,
                            col(LeadParty.party_id).in_(chunk),
                        )
                    )
                ]
        held = held_leads(s, self.account, {lead for _, _, lead in links})
        return {(kind, party) for kind, party, lead in links if lead in held}

    def _link_parties(
        self, s: Session, r: RemoteLead, owner: str, known: KnownLeads
    ) -> None:
        """Contacts and companies linked or unlinked since: no event, just the links."""
        mine = known.links.get(r.id, [])
        for kind, ids in (("contact", r.contacts), ("company", r.companies)):
            links = {link.party_id: link for link in mine if link.kind == kind}
            for sort, party_id in enumerate(ids):
                if party_id in links:
                    links.pop(party_id).sort = sort
                    continue
                if s.get(Party, (self.account, kind, party_id)) is None:
                    s.add(
                        Party(
                            account=self.account,
                            kind=kind,
                            id=party_id,
                            responsible=owner,
                        )
                    )
                s.add(
                    LeadParty(
                        account=self.account,
                        lead_id=r.id,
                        kind=kind,
                        party_id=party_id,
                        sort=sort,
                    )
                )
            for gone in links.values():
                s.delete(gone)

    def _apply(
        self,
        ledger: Ledger,
        events: list[h.CanonicalEvent],
        applied: Applied,
        what: str,
        careful: bool = True,
    ) -> bool:
        """Applies the entity's events in order; False once one is refused.

        A batch is first applied without a savepoint per event (two statements
        an event, four in ten of the first sync's): a refusal then raises, the
        batch's transaction is rolled back whole and the batch is applied again
        `careful`ly, where a refused event leaves out only its entity's rest."""
        for event in events:
            if not careful:
                ledger.apply(event)
                applied.events[event.type] += 1
                continue
            try:
                with ledger.session.begin_nested():
                    ledger.apply(event)
            except EventRejected as error:
                problem = f"{what}: {event.type} refused ({error})"
                applied.problems.append(problem)
                if isinstance(error, UnknownUser | UnknownStage):
                    applied.stale_directory = True
                log.warning("amoCRM mirror: %s", problem)
                return False  # the entity's later events build on this one
            applied.events[event.type] += 1
        return True


def _parties_of(remote: list[RemoteLead]) -> set[tuple[str, str]]:
    return {
        (kind, party)
        for r in remote
        for kind, ids in (("contact", r.contacts), ("company", r.companies))
        for party in ids
    }
