"""Persistence of push distribution: leads in distribution, rotations, the offset.

Each change of a lead is one transaction that first locks the lead's row (and,
for a pick, its template's rotation row, always in that order), checks that
the lead is still where the caller saw it, and journals the decision in the
same transaction. So a lead seen twice, or by two replicas, moves once, and
the journal has one entry per move.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from leadrouter.db import Database
from services.assigner.engine import lifecycle
from services.assigner.engine.attempt import Give
from services.assigner.engine.rotation import RotationState
from services.assigner.engine.situation import Situation
from services.assigner.tables import (
    DecisionRow,
    IdempotencyKey,
    PushLead,
    RotationRow,
    Subscription,
)

CRM_EVENTS = "crm-events"


@dataclass(frozen=True)
class Pending:
    """A reserved attempt: everything needed to finish it, even after a crash."""

    user: str
    trigger: str
    actor: str
    template_id: str
    algorithm: str
    target_stage: str
    cascade: bool
    expected_owner: str
    watched: bool
    reassign_after_minutes: int | None
    rotated: bool  # counted in the template's rotation (not a fallback user)
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, given: Give, s: Situation, expected_owner: str) -> Pending:
        return cls(
            user=given.user,
            trigger=s.trigger,
            actor=s.actor,
            template_id=given.template_id,
            algorithm=given.algorithm,
            target_stage=given.target_stage,
            cascade=given.cascade,
            expected_owner=expected_owner,
            watched=given.watched,
            reassign_after_minutes=given.reassign_after_minutes,
            rotated=given.rotated,
            details=given.details,
        )

    def to_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True, default=str)

    @classmethod
    def from_json(cls, text: str) -> Pending:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class Reserved:
    attempt: int
    pending: Pending


class PushStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- the followed stream -------------------------------------------------
    def offset(self, name: str = CRM_EVENTS) -> int:
        with self.db.session() as s:
            row = s.get(Subscription, name)
            return row.offset if row else 0

    def advance(self, *, offset: int, name: str = CRM_EVENTS) -> None:
        """Moves the offset forward only: replicas sharing it never move it back."""
        with self.db.session() as s:
            _insert_ignore(s, Subscription, {"name": name, "offset": offset})
            s.execute(
                update(Subscription)
                .where(
                    col(Subscription.name) == name, col(Subscription.offset) < offset
                )
                .values(offset=offset)
            )

    # -- reading -------------------------------------------------------------
    def get(self, *, account: str, lead_id: str) -> PushLead | None:
        with self.db.session() as s:
            return s.get(PushLead, (account, lead_id))

    def known(self, *, leads: set[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (account, lead) push has a row for, in one transaction."""
        by_account: dict[str, list[str]] = {}
        for account, lead in leads:
            by_account.setdefault(account, []).append(lead)
        found: set[tuple[str, str]] = set()
        with self.db.session() as s:
            for account, ids in by_account.items():
                rows = s.exec(
                    select(col(PushLead.lead_id)).where(
                        col(PushLead.account) == account,
                        col(PushLead.lead_id).in_(ids),
                    )
                )
                found.update((account, lead) for lead in rows)
        return found

    def waiting(self, *, account: str = "", limit: int = 500) -> list[PushLead]:
        """Leads waiting for distribution, oldest lead first."""
        return self._rows(lifecycle.WAITING, account, limit, queue=True)

    def watched(self, *, account: str = "", limit: int = 2000) -> list[PushLead]:
        """Assigned leads whose SLA or handover may still send them on."""
        with self.db.session() as s:
            stmt = select(PushLead).where(
                col(PushLead.state) == lifecycle.ASSIGNED,
                col(PushLead.watched).is_(True),
            )
            if account:
                stmt = stmt.where(col(PushLead.account) == account)
            stmt = stmt.order_by(col(PushLead.assigned_at), col(PushLead.lead_id))
            return list(s.exec(stmt.limit(limit)))

    def stale(self, *, before: datetime, limit: int = 100) -> list[PushLead]:
        """Attempts reserved before `before` and never finished (a crash)."""
        with self.db.session() as s:
            stmt = (
                select(PushLead)
                .where(
                    col(PushLead.state) == lifecycle.ASSIGNING,
                    col(PushLead.pending_since) <= before,
                )
                .limit(limit)
            )
            return list(s.exec(stmt))

    def _rows(
        self, state: str, account: str, limit: int, queue: bool = False
    ) -> list[PushLead]:
        with self.db.session() as s:
            stmt = select(PushLead).where(col(PushLead.state) == state)
            if account:
                stmt = stmt.where(col(PushLead.account) == account)
            if queue:
                stmt = stmt.order_by(col(PushLead.created_at), col(PushLead.lead_id))
            return list(s.exec(stmt.limit(limit)))

    def latest_decision(self, *, account: str, lead_id: str) -> DecisionRow | None:
        with self.db.session() as s:
            stmt = (
                select(DecisionRow)
                .where(
                    col(DecisionRow.account) == account,
                    col(DecisionRow.lead_id) == lead_id,
                    col(DecisionRow.kind) == "push",
                )
                .order_by(col(DecisionRow.seq).desc())
                .limit(1)
            )
            return s.exec(stmt).first()

    # -- changing ------------------------------------------------------------
    def admit(
        self,
        *,
        account: str,
        lead_id: str,
        created_at: datetime,
        group_id: str,
        owner: str,
    ) -> PushLead:
        """The lead's row, created waiting if it is new to push distribution."""
        return self.admit_many(
            account=account, leads=[(lead_id, created_at, group_id, owner)]
        )[lead_id]

    def admit_many(
        self, *, account: str, leads: list[tuple[str, datetime, str, str]]
    ) -> dict[str, PushLead]:
        """Rows of many leads at once, as `admit` makes each: (lead, created at,
        group, owner)."""
        if not leads:
            return {}
        with self.db.session() as s:
            for lead_id, created_at, group_id, owner in leads:
                _insert_ignore(
                    s,
                    PushLead,
                    {
                        "account": account,
                        "lead_id": lead_id,
                        "state": lifecycle.WAITING,
                        "attempt": 0,
                        "created_at": created_at,
                        "group_id": group_id,
                        "expected_owner": owner,
                        "skipped": "[]",
                        "pending": "{}",
                    },
                )
            rows = s.exec(
                select(PushLead).where(
                    col(PushLead.account) == account,
                    col(PushLead.lead_id).in_([x[0] for x in leads]),
                )
            )
            return {r.lead_id: r for r in rows}

    def reserve(
        self,
        *,
        row: PushLead,
        now: datetime,
        decide: Callable[[RotationState], tuple[Pending, RotationState | None]],
        template_id: str,
    ) -> Reserved | None:
        """Takes the lead's next attempt and its template's next turn, atomically.

        None when the lead moved since `row` was read (another replica, or the
        same event seen twice, got there first).
        """
        with self.db.session() as s:
            current = _locked(s, row.account, row.lead_id)
            if current is None or not lifecycle.movable(current, row.attempt):
                return None
            rotation = _locked_rotation(s, row.account, template_id)
            pending, state = decide(RotationState.from_json(rotation.state))
            if state is not None:
                rotation.state = state.to_json()
                rotation.updated_at = now
            attempt = lifecycle.reserve(current, now, pending.to_json())
            return Reserved(attempt, pending)

    def complete(
        self,
        account: str,
        lead_id: str,
        attempt: int,
        *,
        assigned_stage: str,
        decision: DecisionRow,
    ) -> DecisionRow | None:
        """Records the finished attempt and its decision; None if already done."""
        with self.db.session() as s:
            current = _locked(s, account, lead_id)
            if (
                current is None
                or current.state != lifecycle.ASSIGNING
                or current.attempt != attempt
            ):
                return None
            pending = Pending.from_json(current.pending)
            lifecycle.complete(
                current,
                trigger=pending.trigger,
                user=pending.user,
                template_id=pending.template_id,
                watched=pending.watched,
                reassign_after_minutes=pending.reassign_after_minutes,
                at=decision.at,
                assigned_stage=assigned_stage,
            )
            s.add(decision)
            s.flush()
            return decision

    def give_back(
        self,
        *,
        account: str,
        lead_id: str,
        attempt: int,
        reason: str,
        decision: DecisionRow,
    ) -> DecisionRow | None:
        """The CRM refused the attempt: the turn is returned and the lead let go."""
        with self.db.session() as s:
            current = _locked(s, account, lead_id)
            if (
                current is None
                or current.state != lifecycle.ASSIGNING
                or current.attempt != attempt
            ):
                return None
            pending = Pending.from_json(current.pending)
            if pending.rotated:
                rotation = _locked_rotation(s, account, pending.template_id)
                state = RotationState.from_json(rotation.state)
                rotation.state = state.taken_back(pending.user).to_json()
            lifecycle.give_back(current, reason)
            s.add(decision)
            s.flush()
            return decision

    def hold(
        self,
        *,
        row: PushLead,
        now: datetime,
        reason: str,
        decision: DecisionRow,
        force: bool,
    ) -> tuple[bool, DecisionRow | None]:
        """The lead waits (again). False if it moved meanwhile.

        The decision is journaled when the lead starts waiting, or waits for
        another reason, or `force` (someone asked); a twin seeing the same
        wait, and every later round of the queue, adds nothing.
        """
        with self.db.session() as s:
            current = _locked(s, row.account, row.lead_id)
            if current is None or not lifecycle.movable(current, row.attempt):
                return False, None
            news = lifecycle.hold(current, now, reason)
            if news or force:
                s.add(decision)
                s.flush()
                return True, decision
            return True, None

    def rearm(
        self, *, row: PushLead, reassign_at: datetime, decision: DecisionRow | None
    ) -> bool:
        """The SLA found nobody else on duty: the lead stays, the timer restarts."""
        with self.db.session() as s:
            current = _locked(s, row.account, row.lead_id)
            if current is None or current.attempt != row.attempt:
                return False
            lifecycle.rearm(current, reassign_at)
            if decision is not None:
                s.add(decision)
            return True

    def finish(self, *, row: PushLead, reason: str) -> bool:
        """Push distribution lets the lead go: taken into work, closed, or taken."""
        with self.db.session() as s:
            current = _locked(s, row.account, row.lead_id)
            if current is None or not lifecycle.movable(current, row.attempt):
                return False
            lifecycle.finish(current, reason)
            return True

    def remember_key(
        self, *, account: str, scope: str, key: str, decision: DecisionRow
    ) -> DecisionRow:
        """Ties an idempotency key to a decision; a twin's earlier tie wins."""
        assert decision.seq is not None
        try:
            with self.db.session() as s:
                s.add(
                    IdempotencyKey(
                        account=account, scope=scope, key=key, decision_seq=decision.seq
                    )
                )
            return decision
        except IntegrityError:
            with self.db.session() as s:
                row = s.get(IdempotencyKey, (account, scope, key))
                first = s.get(DecisionRow, row.decision_seq) if row else None
            return first or decision


def _locked(s: Session, account: str, lead_id: str) -> PushLead | None:
    stmt = select(PushLead).where(
        col(PushLead.account) == account, col(PushLead.lead_id) == lead_id
    )
    return s.exec(stmt.with_for_update()).first()


def _locked_rotation(s: Session, account: str, template_id: str) -> RotationRow:
    _insert_ignore(
        s, RotationRow, {"account": account, "template_id": template_id, "state": ""}
    )
    stmt = select(RotationRow).where(
        col(RotationRow.account) == account,
        col(RotationRow.template_id) == template_id,
    )
    row = s.exec(stmt.with_for_update()).first()
    assert row is not None
    return row


def _insert_ignore(s: Session, table: Any, values: dict[str, Any]) -> None:
    """INSERT … ON CONFLICT DO NOTHING: concurrent twins both end with one row."""
    dialect = s.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    s.execute(module.insert(table).values(**values).on_conflict_do_nothing())
