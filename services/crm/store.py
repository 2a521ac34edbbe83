"""Use cases of the built-in CRM, each one transaction over the crm service's tables."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlmodel import Session, col

from leadrouter import messages
from leadrouter.clock import Clock
from leadrouter.cursors import decode_lead_cursor, lead_cursor
from leadrouter.db import Database
from leadrouter.errors import BadInput, NotFound, Problem
from leadrouter.i18n import _
from leadrouter.keyset import Page, PageRequest, keyset_page
from leadrouter.timestamps import utc
from leadrouter.validation import field_message
from services.crm import history as h
from services.crm.activity import Measured, StageSettings, Windows, measure
from services.crm.claims import note_claim
from services.crm.directory_store import (
    DirectoryStore,
)
from services.crm.intake import misplaced
from services.crm.loss_reasons import ReasonRefused, checked_reason
from services.crm.pool import Raises, oldest, raise_floors
from services.crm.state import Directory, EventRejected, Ledger, Moved, UnknownLead
from services.crm.tables import (
    Account,
    Event,
    Lead,
    LeadParty,
    Operation,
    Party,
    Pipeline,
    Stage,
    Task,
)


@dataclass(frozen=True)
class LeadView:
    id: str
    name: str
    budget: int
    pipeline: str
    stage: str
    responsible: str
    channel: str
    contacts: list[str]
    companies: list[str]
    tags: list[str]
    created_at: datetime
    closed_at: datetime | None
    loss_reason: str


@dataclass(frozen=True)
class Pool:
    source_stages: tuple[str, ...]
    exchange_users: tuple[str, ...]


@dataclass(frozen=True)
class Link:
    """A user a lead is linked to, and through what."""

    user: str
    kind: str  # contact_responsible | company_responsible | previous_lead_owner
    source_id: str


@dataclass(frozen=True)
class LeadWork:
    lead_id: str
    found: bool
    stage: str = ""
    responsible: str = ""
    open: bool = False
    tasks_completed: int = 0


@dataclass
class Assignment:
    lead: LeadView | None
    moved: Moved = field(default_factory=Moved)
    conflict: str = ""


@dataclass(frozen=True)
class LeadFilter:
    """Which leads a manual transfer or assignment takes; empty fields select all."""

    lead_ids: tuple[str, ...] = ()
    responsible: str = ""
    pipeline: str = ""
    stages: tuple[str, ...] = ()  # "pipeline/stage", or a stage id in any pipeline
    created_from: datetime | None = None
    created_to: datetime | None = None
    no_open_task: bool = False


@dataclass(frozen=True)
class OwnedItem:
    id: str
    kind: str  # task | contact | company
    responsible: str


@dataclass
class LeadScope:
    """A lead and what a cascade would take along with it."""

    lead_id: str
    responsible: str
    stage: str
    items: list[OwnedItem] = field(default_factory=list)
    done: bool = False


@dataclass(frozen=True)
class ManualAssignment:
    operation_id: str
    lead_id: str
    user: str
    target_stage: str = ""
    expected_responsible: str | None = None


@dataclass
class ManualOutcome:
    lead_id: str
    assigned: bool
    previous_responsible: str = ""
    moved: Moved = field(default_factory=Moved)
    conflict: str = ""
    replayed: bool = False


# Called inside the transaction that assigned or reopened a lead (amoCRM mode:
# the connector's outbox), with the lead as it now is and the cascade flag.
AssignedHook = Callable[[Session, str, Lead, bool], None]


class CrmStore(DirectoryStore):
    def __init__(
        self, db: Database, clock: Clock, on_assigned: AssignedHook | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.on_assigned = on_assigned
        self.raises = Raises()

    def _assigned(self, s: Session, account: str, lead: Lead, cascade: bool) -> None:
        if self.on_assigned is not None:
            self.on_assigned(s, account, lead, cascade)

    # -- history -----------------------------------------------------------
    def import_history(
        self, account: str, lines: list[str], dry_run: bool
    ) -> tuple[int, list[Problem]]:
        """Applies every line or none; reports each bad line with its number."""
        problems: list[Problem] = []
        applied = 0
        with self.db.session() as s:
            if s.get(Account, account) is None:
                return 0, [Problem("", messages.account_is_empty(account))]
            ledger = Ledger(s, account)
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                where = f"line {number}"
                event, bad = h.parse_line(line, where)
                if event is None:
                    problems += bad
                    continue
                try:
                    with s.begin_nested():
                        ledger.apply(event)
                    applied += 1
                except EventRejected as error:
                    problems.append(Problem(where, str(error)))
            if problems or dry_run:
                s.rollback()
        return (0 if problems else applied), problems

    def submit_lead(
        self, account: str, event: h.LeadCreated, operation_id: str
    ) -> LeadView:
        with self.db.session() as s:
            if operation_id:
                done = s.get(Operation, (account, operation_id))
                if done is not None:
                    return self._view(s, account, json.loads(done.result)["lead"])
            ledger = Ledger(s, account)
            problems = misplaced(ledger.directory, event)
            if problems:
                raise BadInput("; ".join(map(str, problems)), problems)
            try:
                ledger.apply(event)
            except EventRejected as error:
                # Where it starts is checked above: what is left is the id.
                raise BadInput(f"id: {error}", [Problem("id", str(error))]) from error
            if operation_id:
                s.add(
                    Operation(
                        account=account,
                        id=operation_id,
                        result=json.dumps({"lead": event.lead}),
                    )
                )
            return self._view(s, account, event.lead)

    def new_lead_id(self) -> str:
        return f"L-{uuid.uuid4().hex[:12]}"

    # -- reading -----------------------------------------------------------
    def get_leads(self, account: str, ids: list[str]) -> list[LeadView]:
        with self.db.session() as s:
            rows = s.scalars(
                select(Lead).where(col(Lead.account) == account, col(Lead.id).in_(ids))
            ).all()
            return self._views(s, account, list(rows))

    def list_pool(
        self, account: str, pool: Pool, first: int, after: str
    ) -> tuple[list[LeadView], str, int]:
        """The first leads of the pool after a cursor, the next page's cursor
        ("" on the last page) and the pool's size."""
        want = PageRequest(
            first=first, after=decode_lead_cursor(after) if after else None
        )
        page, total = self.pool_page(account, pool, want)
        last = page.rows[-1] if page.rows and page.has_next else None
        cursor = lead_cursor(last.created_at, last.id) if last else ""
        return page.rows, cursor, total

    def pool_page(
        self, account: str, pool: Pool, want: PageRequest
    ) -> tuple[Page[LeadView], int]:
        """A keyset page of the pool in claim order (oldest first), and its size."""
        with self.db.session() as s:
            where = _pool_filter(account, pool)
            total = len(s.scalars(select(col(Lead.id)).where(*where)).all())
            page = keyset_page(
                s,
                select(Lead).where(*where),
                [col(Lead.created_at), col(Lead.id)],
                want,
            )
            views = self._views(s, account, page.rows)
            return Page(views, page.has_previous, page.has_next), total

    # -- changing ----------------------------------------------------------
    def take_pool_lead(
        self,
        account: str,
        operation_id: str,
        pool: Pool,
        user: str,
        target_stage: str,
        cascade: bool,
        at: datetime | None,
        group_id: str = "",
    ) -> Assignment:
        """The oldest pool lead to `user`, exactly once per operation id.

        With a group, the claim counts for the interval limit in the same
        transaction that gives the lead.
        """
        when = at or self.clock.now()
        with self.db.session() as s:
            done = _done(s, account, operation_id)
            if done is not None:
                return self._replay(s, account, done)
            # On PostgreSQL from the pool's floor, and concurrent claimers each
            # lock a different row instead of queueing (services/crm/pool.py).
            postgres = not self.db.is_sqlite
            stmt = oldest(account, pool.source_stages, pool.exchange_users, postgres)
            lead = s.scalars(stmt).first()
            if postgres and self.raises.due():
                raise_floors(s, account, pool.source_stages, pool.exchange_users)
            if lead is None:
                _remember(s, account, operation_id, None, Moved())
                return Assignment(lead=None)
            ledger = Ledger(s, account)
            moved = ledger.assign(lead, user, target_stage, cascade, when)
            self._assigned(s, account, lead, cascade)
            if group_id:
                note_claim(s, account, group_id, user, when)
            _remember(s, account, operation_id, lead.id, moved)
            return Assignment(lead=self._view(s, account, lead.id), moved=moved)

    def assign_lead(
        self,
        account: str,
        operation_id: str,
        lead_id: str,
        user: str,
        target_stage: str,
        cascade: bool,
        expected_responsible: str | None,
        at: datetime | None,
    ) -> Assignment:
        when = at or self.clock.now()
        with self.db.session() as s:
            done = _done(s, account, operation_id)
            if done is not None:
                return self._replay(s, account, done)
            ledger = Ledger(s, account)
            try:
                lead = ledger.lead(lead_id, for_update=not self.db.is_sqlite)
            except EventRejected as error:
                raise NotFound(str(error)) from error
            # A twin call with the same operation id may have committed while
            # we waited for the row: replay it rather than report a conflict.
            done = _done(s, account, operation_id)
            if done is not None:
                return self._replay(s, account, done)
            if (
                expected_responsible is not None
                and lead.responsible != expected_responsible
            ):
                return Assignment(
                    lead=self._view(s, account, lead.id),
                    conflict=f"lead '{lead_id}' now belongs to '{lead.responsible}'",
                )
            try:
                moved = ledger.assign(lead, user, target_stage, cascade, when)
            except EventRejected as error:
                raise BadInput(str(error)) from error
            self._assigned(s, account, lead, cascade)
            _remember(s, account, operation_id, lead.id, moved)
            return Assignment(lead=self._view(s, account, lead.id), moved=moved)

    def assign_leads(
        self,
        account: str,
        assignments: list[ManualAssignment],
        cascade: bool,
        at: datetime | None,
    ) -> list[ManualOutcome]:
        """One batch of manual assignments: all in one transaction, or none.

        Each operation id changes the CRM once; a retried batch replays the
        assignments already done and performs only the rest.
        """
        when = at or self.clock.now()
        out: list[ManualOutcome] = []
        with self.db.session() as s:
            ledger = Ledger(s, account)
            for a in assignments:
                done = _done(s, account, a.operation_id)
                if done is None:
                    out.append(self._assign_one(s, ledger, account, a, cascade, when))
                    continue
                out.append(
                    ManualOutcome(
                        lead_id=a.lead_id,
                        assigned=True,
                        previous_responsible=str(done.get("from", "")),
                        moved=Moved(**done.get("moved", {})),
                        replayed=True,
                    )
                )
        return out

    def _assign_one(
        self,
        s: Session,
        ledger: Ledger,
        account: str,
        a: ManualAssignment,
        cascade: bool,
        when: datetime,
    ) -> ManualOutcome:
        try:
            lead = ledger.lead(a.lead_id, for_update=not self.db.is_sqlite)
        except EventRejected as error:
            raise NotFound(str(error)) from error
        previous = lead.responsible
        if a.expected_responsible is not None and previous != a.expected_responsible:
            return ManualOutcome(
                lead_id=a.lead_id,
                assigned=False,
                previous_responsible=previous,
                conflict=f"lead '{a.lead_id}' now belongs to '{previous}'",
            )
        try:
            moved = ledger.assign(lead, a.user, a.target_stage, cascade, when)
        except EventRejected as error:
            raise BadInput(str(error)) from error
        self._assigned(s, account, lead, cascade)
        if a.operation_id:
            s.add(
                Operation(
                    account=account,
                    id=a.operation_id,
                    result=json.dumps(
                        {"lead": lead.id, "moved": asdict(moved), "from": previous}
                    ),
                )
            )
        return ManualOutcome(
            lead_id=a.lead_id, assigned=True, previous_responsible=previous, moved=moved
        )

    def lead_ids_page(
        self, account: str, f: LeadFilter, want: PageRequest
    ) -> tuple[Page[str], int]:
        """A keyset page of the ids a filter selects, oldest first, and how many
        in all."""
        with self.db.session() as s:
            chosen = _filtered(select(Lead), account, f).subquery()
            total = s.scalar(select(func.count()).select_from(chosen)) or 0
            page = keyset_page(
                s, select(chosen.c.id), [chosen.c.created_at, chosen.c.id], want
            )
            return page, total

    def find_lead_ids(
        self, account: str, f: LeadFilter, offset: int = 0, limit: int = 0
    ) -> tuple[list[str], int]:
        """One page of the ids a filter selects, oldest first, and how many in all."""
        with self.db.session() as s:
            chosen = _filtered(select(Lead), account, f).subquery()
            total = s.scalar(select(func.count()).select_from(chosen)) or 0
            stmt = (
                select(chosen.c.id)
                .order_by(chosen.c.created_at, chosen.c.id)
                .offset(offset)
            )
            if limit:
                stmt = stmt.limit(limit)
            return list(s.scalars(stmt)), total

    def find_leads(
        self, account: str, f: LeadFilter, operation_prefix: str
    ) -> tuple[list[LeadScope], list[str]]:
        """The leads a filter selects, oldest first, and the asked-for ids unknown."""
        with self.db.session() as s:
            stmt = _filtered(select(Lead), account, f)
            leads = {x.id: x for x in s.scalars(stmt)}
            done: set[str] = set()
            if operation_prefix:
                for row in s.scalars(
                    select(Operation).where(
                        col(Operation.account) == account,
                        col(Operation.id).startswith(operation_prefix, autoescape=True),
                    )
                ):
                    lead_id = json.loads(row.result).get("lead")
                    if isinstance(lead_id, str):
                        done.add(lead_id)
                for lead in s.scalars(
                    select(Lead).where(
                        col(Lead.account) == account, col(Lead.id).in_(done)
                    )
                ):
                    leads.setdefault(lead.id, lead)
            ordered = sorted(leads.values(), key=lambda x: (utc(x.created_at), x.id))
            scopes = {
                x.id: LeadScope(x.id, x.responsible, x.stage_key, done=x.id in done)
                for x in ordered
            }
            self._cascade_items(s, account, scopes)
            missing = [x for x in f.lead_ids if x not in leads]
            return list(scopes.values()), missing

    def _cascade_items(
        self, s: Session, account: str, scopes: dict[str, LeadScope]
    ) -> None:
        ids = list(scopes)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            tasks = s.execute(
                select(
                    col(Task.lead_id),
                    col(Task.id),
                    col(Task.responsible),
                )
                .where(
                    col(Task.account) == account,
                    col(Task.lead_id).in_(chunk),
                    col(Task.completed_at).is_(None),
                )
                .order_by(col(Task.id))
            ).all()
            for lead_id, task_id, responsible in tasks:
                scopes[lead_id].items.append(OwnedItem(task_id, "task", responsible))
            parties = s.execute(
                select(
                    col(LeadParty.lead_id),
                    col(LeadParty.kind),
                    col(Party.id),
                    col(Party.responsible),
                )
                .join(
                    Party,
                    (col(Party.account) == col(LeadParty.account))
                    & (col(Party.kind) == col(LeadParty.kind))
                    & (col(Party.id) == col(LeadParty.party_id)),
                )
                .where(
                    col(LeadParty.account) == account,
                    col(LeadParty.lead_id).in_(chunk),
                )
                .order_by(col(LeadParty.kind), col(LeadParty.sort))
            ).all()
            for lead_id, kind, party_id, responsible in parties:
                scopes[lead_id].items.append(OwnedItem(party_id, kind, responsible))

    def reopen_lead(
        self, account: str, lead_id: str, by: str, at: datetime | None
    ) -> LeadView:
        when = at or self.clock.now()
        try:
            event = h.LeadReopened(type="lead_reopened", at=when, lead=lead_id, by=by)
        except ValidationError as error:  # an id no lead can have: empty, too long
            raise NotFound(messages.not_found("lead", lead_id)) from error
        with self.db.session() as s:
            ledger = Ledger(s, account)
            try:
                ledger.apply(event)
            except UnknownLead as error:
                raise NotFound(str(error)) from error
            except EventRejected as error:
                raise BadInput(str(error)) from error
            self._assigned(s, account, ledger.lead(lead_id), False)
            return self._view(s, account, lead_id)

    def move_lead(
        self,
        account: str,
        lead_id: str,
        stage: str,
        loss_reason: str,
        by: str,
        at: datetime | None,
    ) -> LeadView:
        """The built-in CRM's stage change, refused as a person would need it.

        A closed lead is reopened, not moved: reopening is an admin's, and
        journaled. A lost stage that requires a reason takes one of its own.
        """
        when = at or self.clock.now()
        with self.db.session() as s:
            ledger = Ledger(s, account)
            try:
                lead = ledger.lead(lead_id, for_update=not self.db.is_sqlite)
            except EventRejected as error:
                raise NotFound(str(error)) from error
            key = stage if "/" in stage else f"{lead.pipeline}/{stage}"
            kind = ledger.directory.stages.get(key)
            if kind is None:
                raise BadInput(_("there is no stage '{stage}'").format(stage=key))
            closed = ledger.directory.stages.get(lead.stage_key) != "open"
            if key == lead.stage_key and not closed:
                # Already there (a repeated request): nothing to change.
                return self._view(s, account, lead_id)
            if closed:
                raise BadInput(
                    _(
                        "lead '{lead}' is closed ({stage}); reopen it to work on "
                        "it again"
                    ).format(lead=lead_id, stage=lead.stage_key)
                )
            try:
                reason = checked_reason(
                    key, ledger.directory.stage_reasons(key), loss_reason
                )
                pipeline, to = key.split("/", 1)
                event = h.StageChanged(
                    type="stage_changed",
                    at=when,
                    lead=lead_id,
                    to=to,
                    pipeline=pipeline if pipeline != lead.pipeline else None,
                    loss_reason=reason or None,
                    by=by or None,
                )
                ledger.apply(event)
            except (ReasonRefused, EventRejected) as error:
                raise BadInput(str(error)) from error
            except ValidationError as error:  # an id no stage or user can have
                message = field_message(error.errors()[0])
                raise BadInput(
                    _("the move is not valid: {problem}").format(problem=message)
                ) from error
            self._assigned(s, account, lead, False)
            return self._view(s, account, lead_id)

    def activity(
        self,
        account: str,
        users: list[str],
        settings: StageSettings,
        windows: Windows,
        group_id: str = "",
    ) -> Measured:
        with self.db.session() as s:
            return measure(s, account, users, settings, windows, group_id)

    def events_after(self, account: str, offset: int, limit: int) -> list[Event]:
        with self.db.session() as s:
            stmt = select(Event).where(col(Event.offset) > offset)
            if account:
                stmt = stmt.where(col(Event.account) == account)
            return list(s.scalars(stmt.order_by(col(Event.offset)).limit(limit)))

    # -- push distribution ---------------------------------------------------
    def linked_users(self, account: str, lead_ids: list[str]) -> dict[str, list[Link]]:
        """Per lead, the users its contacts and companies already work with."""
        out: dict[str, list[Link]] = {lead_id: [] for lead_id in lead_ids}
        if not lead_ids:
            return out
        same_party = (
            (col(Party.account) == col(LeadParty.account))
            & (col(Party.kind) == col(LeadParty.kind))
            & (col(Party.id) == col(LeadParty.party_id))
        )
        with self.db.session() as s:
            rows = s.execute(
                select(
                    col(LeadParty.lead_id),
                    col(LeadParty.kind),
                    col(LeadParty.party_id),
                    col(Party.responsible),
                )
                .join(Party, same_party)
                .where(
                    col(LeadParty.account) == account,
                    col(LeadParty.lead_id).in_(lead_ids),
                )
                # Contacts before companies, each in the lead's own order.
                .order_by(
                    col(LeadParty.lead_id),
                    col(LeadParty.kind).desc(),
                    col(LeadParty.sort),
                )
            ).all()
            contacts: dict[str, list[str]] = {}
            for lead_id, kind, party_id, responsible in rows:
                out[lead_id].append(Link(responsible, f"{kind}_responsible", party_id))
                if kind == "contact":
                    contacts.setdefault(lead_id, []).append(party_id)
            for lead_id, party_ids in contacts.items():
                for party_id in party_ids:
                    previous = s.execute(
                        select(col(Lead.id), col(Lead.responsible))
                        .join(
                            LeadParty,
                            (col(LeadParty.account) == col(Lead.account))
                            & (col(LeadParty.lead_id) == col(Lead.id)),
                        )
                        .where(
                            col(LeadParty.account) == account,
                            col(LeadParty.kind) == "contact",
                            col(LeadParty.party_id) == party_id,
                            col(Lead.id) != lead_id,
                        )
                        .order_by(col(Lead.created_at).desc(), col(Lead.id).desc())
                        .limit(1)
                    ).first()
                    if previous is not None:
                        out[lead_id].append(
                            Link(previous[1], "previous_lead_owner", previous[0])
                        )
        return out

    def count_open_leads(self, account: str, users: list[str]) -> dict[str, int]:
        """Leads each user is responsible for in open stages of live pipelines."""
        counts = dict.fromkeys(users, 0)
        if not users:
            return counts
        with self.db.session() as s:
            rows = s.execute(
                select(col(Lead.responsible), func.count())
                .join(
                    Stage,
                    (col(Stage.account) == col(Lead.account))
                    & (col(Stage.pipeline) == col(Lead.pipeline))
                    & (col(Stage.id) == col(Lead.stage)),
                )
                .join(
                    Pipeline,
                    (col(Pipeline.account) == col(Lead.account))
                    & (col(Pipeline.id) == col(Lead.pipeline)),
                )
                .where(
                    col(Lead.account) == account,
                    col(Lead.responsible).in_(users),
                    col(Stage.kind) == "open",
                    col(Pipeline.archived).is_(False),
                )
                .group_by(col(Lead.responsible))
            ).all()
            for user, count in rows:
                counts[user] = int(count)
        return counts

    def lead_work(
        self, account: str, queries: list[tuple[str, datetime]]
    ) -> list[LeadWork]:
        """Where each lead stands, and how many of its tasks were done since when."""
        out: list[LeadWork] = []
        with self.db.session() as s:
            directory = Directory.load(s, account)
            for lead_id, since in queries:
                lead = s.get(Lead, (account, lead_id))
                if lead is None:
                    out.append(LeadWork(lead_id, found=False))
                    continue
                done = s.scalar(
                    select(func.count()).where(
                        col(Task.account) == account,
                        col(Task.lead_id) == lead_id,
                        col(Task.completed_at) >= since,
                    )
                )
                out.append(
                    LeadWork(
                        lead_id,
                        found=True,
                        stage=lead.stage_key,
                        responsible=lead.responsible,
                        open=directory.stages.get(lead.stage_key) == "open",
                        tasks_completed=int(done or 0),
                    )
                )
        return out

    # -- views -------------------------------------------------------------
    def _view(self, s: Session, account: str, lead_id: str) -> LeadView:
        lead = s.get(Lead, (account, lead_id))
        if lead is None:
            raise NotFound(_("unknown lead '{lead}'").format(lead=lead_id))
        return self._views(s, account, [lead])[0]

    def _views(self, s: Session, account: str, leads: list[Lead]) -> list[LeadView]:
        parties: dict[tuple[str, str], list[str]] = {}
        if leads:
            rows = s.execute(
                select(
                    col(LeadParty.lead_id), col(LeadParty.kind), col(LeadParty.party_id)
                )
                .where(
                    col(LeadParty.account) == account,
                    col(LeadParty.lead_id).in_([x.id for x in leads]),
                )
                .order_by(col(LeadParty.sort))
            )
            for lead_id, kind, party_id in rows:
                parties.setdefault((lead_id, kind), []).append(party_id)
        return [
            LeadView(
                id=x.id,
                name=x.name,
                budget=x.budget,
                pipeline=x.pipeline,
                stage=x.stage,
                responsible=x.responsible,
                channel=x.channel,
                contacts=parties.get((x.id, "contact"), []),
                companies=parties.get((x.id, "company"), []),
                tags=[t for t in x.tags.split(",") if t],
                created_at=utc(x.created_at),
                closed_at=utc(x.closed_at) if x.closed_at else None,
                loss_reason=x.loss_reason,
            )
            for x in leads
        ]

    def _replay(self, s: Session, account: str, done: dict[str, Any]) -> Assignment:
        lead_id = done.get("lead")
        moved = Moved(**done.get("moved", {}))
        if not isinstance(lead_id, str):
            return Assignment(lead=None, moved=moved)
        return Assignment(lead=self._view(s, account, lead_id), moved=moved)


def _pool_filter(account: str, pool: Pool) -> list[ColumnElement[bool]]:
    return [
        col(Lead.account) == account,
        col(Lead.stage_key).in_(pool.source_stages),
        col(Lead.responsible).in_(pool.exchange_users),
    ]


def _done(s: Session, account: str, operation_id: str) -> dict[str, Any] | None:
    if not operation_id:
        return None
    row = s.get(Operation, (account, operation_id))
    return json.loads(row.result) if row else None


def _remember(
    s: Session, account: str, operation_id: str, lead_id: str | None, moved: Moved
) -> None:
    if operation_id:
        s.add(
            Operation(
                account=account,
                id=operation_id,
                result=json.dumps({"lead": lead_id, "moved": asdict(moved)}),
            )
        )


def _filtered(stmt: Select[Lead], account: str, f: LeadFilter) -> Select[Lead]:
    """The account's leads narrowed by each part of the filter that is set."""
    stmt = stmt.where(col(Lead.account) == account)
    if f.lead_ids:
        stmt = stmt.where(col(Lead.id).in_(f.lead_ids))
    if f.responsible:
        stmt = stmt.where(col(Lead.responsible) == f.responsible)
    if f.pipeline:
        stmt = stmt.where(col(Lead.pipeline) == f.pipeline)
    if f.stages:
        keys = [x for x in f.stages if "/" in x]
        ids = [x for x in f.stages if "/" not in x]
        stmt = stmt.where(or_(col(Lead.stage_key).in_(keys), col(Lead.stage).in_(ids)))
    if f.created_from is not None:
        stmt = stmt.where(col(Lead.created_at) >= f.created_from)
    if f.created_to is not None:
        stmt = stmt.where(col(Lead.created_at) < f.created_to)
    if f.no_open_task:
        open_task = select(col(Task.id)).where(
            col(Task.account) == account,
            col(Task.lead_id) == col(Lead.id),
            col(Task.completed_at).is_(None),
        )
        stmt = stmt.where(~open_task.exists())
    return stmt
