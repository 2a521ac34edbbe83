"""Giving leads: the pool's oldest to a claimer, one lead or a batch to a user.

Each is one transaction and happens once per operation id: a retried call
replays what the first one did.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from leadrouter.clock import Clock
from leadrouter.db import Database
from leadrouter.errors import BadInput, NotFound
from services.crm.claims import note_claim
from services.crm.lead_views import LeadView, LeadViews
from services.crm.pool import Pool, Raises, oldest, raise_floors
from services.crm.state import EventRejected, Ledger, Moved
from services.crm.tables import Lead, Operation


@dataclass
class Assignment:
    lead: LeadView | None
    moved: Moved = field(default_factory=Moved)
    conflict: str = ""


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


class Assignments(LeadViews):
    """The crm store's changes of who owns a lead."""

    db: Database
    clock: Clock
    raises: Raises
    on_assigned: AssignedHook | None

    def _assigned(self, s: Session, account: str, lead: Lead, cascade: bool) -> None:
        if self.on_assigned is not None:
            self.on_assigned(s, account, lead, cascade)

    # -- changing ----------------------------------------------------------
    def take_pool_lead(
        self,
        *,
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
        *,
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
        *,
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

    def _replay(self, s: Session, account: str, done: dict[str, Any]) -> Assignment:
        lead_id = done.get("lead")
        moved = Moved(**done.get("moved", {}))
        if not isinstance(lead_id, str):
            return Assignment(lead=None, moved=moved)
        return Assignment(lead=self._view(s, account, lead_id), moved=moved)


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
