"""Use cases of the built-in CRM, each one transaction over the crm service's tables."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime

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
from services.crm.assignments import (
    AssignedHook,
    Assignment,
    Assignments,
    ManualAssignment,
    ManualOutcome,
)
from services.crm.directory_store import (
    DirectoryStore,
)
from services.crm.intake import misplaced
from services.crm.lead_views import LeadView
from services.crm.loss_reasons import ReasonRefused, checked_reason
from services.crm.pool import Pool, Raises
from services.crm.push_reads import LeadWork, Link, PushReads
from services.crm.state import EventRejected, Ledger, UnknownLead
from services.crm.tables import (
    Account,
    Event,
    Lead,
    LeadParty,
    Operation,
    Party,
    Task,
)


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


class CrmStore(DirectoryStore, Assignments, PushReads):
    def __init__(
        self, db: Database, clock: Clock, on_assigned: AssignedHook | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.on_assigned = on_assigned
        self.raises = Raises()

    # -- history -----------------------------------------------------------
    def import_history(
        self, *, account: str, lines: list[str], dry_run: bool
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
        self, *, account: str, event: h.LeadCreated, operation_id: str
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
    def get_leads(self, *, account: str, ids: list[str]) -> list[LeadView]:
        with self.db.reading() as s:
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
        page, total = self.pool_page(account=account, pool=pool, want=want)
        last = page.rows[-1] if page.rows and page.has_next else None
        cursor = lead_cursor(last.created_at, last.id) if last else ""
        return page.rows, cursor, total

    def pool_page(
        self, *, account: str, pool: Pool, want: PageRequest
    ) -> tuple[Page[LeadView], int]:
        """A keyset page of the pool in claim order (oldest first), and its size."""
        with self.db.reading() as s:
            where = _pool_filter(account, pool)
            # Counted in the database, not by reading every id of the pool.
            total = s.scalar(select(func.count()).select_from(Lead).where(*where))
            page = keyset_page(
                s,
                select(Lead).where(*where),
                [col(Lead.created_at), col(Lead.id)],
                want,
            )
            views = self._views(s, account, page.rows)
            return Page(views, page.has_previous, page.has_next), int(total or 0)

    def lead_ids_page(
        self, *, account: str, f: LeadFilter, want: PageRequest
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
        self, *, account: str, f: LeadFilter, offset: int = 0, limit: int = 0
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
        self, *, account: str, f: LeadFilter, operation_prefix: str
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
        self, *, account: str, lead_id: str, by: str, at: datetime | None
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
        *,
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
        *,
        account: str,
        users: list[str],
        settings: StageSettings,
        windows: Windows,
        group_id: str = "",
    ) -> Measured:
        # A read: on SQLite it runs beside the takes, not between them.
        with self.db.reading() as s:
            return measure(s, account, users, settings, windows, group_id)

    def events_after(self, *, account: str, offset: int, limit: int) -> list[Event]:
        with self.db.reading() as s:
            stmt = select(Event).where(col(Event.offset) > offset)
            if account:
                stmt = stmt.where(col(Event.account) == account)
            return list(s.scalars(stmt.order_by(col(Event.offset)).limit(limit)))


def _pool_filter(account: str, pool: Pool) -> list[ColumnElement[bool]]:
    return [
        col(Lead.account) == account,
        col(Lead.stage_key).in_(pool.source_stages),
        col(Lead.responsible).in_(pool.exchange_users),
    ]


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


__all__ = [
    "AssignedHook",
    "Assignment",
    "CrmStore",
    "LeadFilter",
    "LeadScope",
    "LeadView",
    "LeadWork",
    "Link",
    "ManualAssignment",
    "ManualOutcome",
    "OwnedItem",
    "Pool",
]
