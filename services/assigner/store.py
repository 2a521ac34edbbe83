"""Persistence of the assigner: groups, the decision journal and idempotency keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from leadrouter import messages
from leadrouter.db import Database
from leadrouter.errors import NotFound
from leadrouter.keyset import Page, PageRequest, keyset_page
from leadrouter.timestamps import utc
from services.assigner.tables import (
    ClaimAttempt,
    DecisionRow,
    DistributionGroup,
    IdempotencyKey,
)


def _split(text: str) -> tuple[str, ...]:
    return tuple(x for x in text.split(",") if x)


@dataclass(frozen=True)
class Group:
    id: str
    name: str = ""
    source_stages: tuple[str, ...] = ()
    target_stage: str = ""
    exchange_users: tuple[str, ...] = ()
    cascade: bool = False

    @classmethod
    def of(cls, row: DistributionGroup) -> Group:
        return cls(
            id=row.id,
            name=row.name,
            source_stages=_split(row.source_stages),
            target_stage=row.target_stage,
            exchange_users=_split(row.exchange_users),
            cascade=row.cascade,
        )


@dataclass(frozen=True)
class DecisionFilter:
    lead_id: str = ""
    user_id: str = ""
    group_id: str = ""
    since: datetime | None = None
    until: datetime | None = None


class AssignerStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def apply_groups(
        self, *, account: str, groups: list[Group], dry_run: bool
    ) -> list[str]:
        changes: list[str] = []
        with self.db.session() as s:
            stored = {
                g.id: g
                for g in s.scalars(
                    select(DistributionGroup).where(
                        col(DistributionGroup.account) == account
                    )
                )
            }
            for sort, g in enumerate(groups):
                values: dict[str, Any] = {
                    "name": g.name,
                    "source_stages": ",".join(g.source_stages),
                    "target_stage": g.target_stage,
                    "exchange_users": ",".join(g.exchange_users),
                    "cascade": g.cascade,
                    "sort": sort,
                }
                row = stored.pop(g.id, None)
                if row is None:
                    s.add(DistributionGroup(account=account, id=g.id, **values))
                    changes.append(f"group {g.id} added")
                elif any(getattr(row, k) != v for k, v in values.items()):
                    for k, v in values.items():
                        setattr(row, k, v)
                    changes.append(f"group {g.id}: distribution settings changed")
            for row in stored.values():
                s.delete(row)
                changes.append(f"group {row.id} removed")
            if dry_run:
                s.rollback()
        return changes

    def groups(self, *, account: str, ids: list[str]) -> list[Group]:
        with self.db.session() as s:
            return _groups(s, account, ids)

    def group(self, *, account: str, group_id: str) -> Group:
        with self.db.session() as s:
            return group_in(s, account, group_id)

    def replay(self, *, account: str, scope: str, key: str) -> DecisionRow | None:
        """The decision an idempotency key already produced, if any."""
        with self.db.session() as s:
            return replay_in(s, account, scope, key)

    def record(
        self,
        *,
        decision: DecisionRow,
        scope: str = "",
        key: str = "",
        attempt: str = "",
    ) -> DecisionRow:
        """Journals a decision; with a key, a concurrent twin's decision may win.

        With an attempt (services/assigner/claim_attempts.py, by operation id)
        the decision closes it, once: if it was closed already, settled or by
        a twin press, the decision it was closed with is the answer.
        """
        try:
            with self.db.session() as s:
                opened = (
                    s.get(
                        ClaimAttempt,
                        (decision.account, attempt),
                        with_for_update=not self.db.is_sqlite,
                    )
                    if attempt
                    else None
                )
                if opened is not None and opened.decision_seq is not None:
                    first = s.get(DecisionRow, opened.decision_seq)
                    assert first is not None
                    return first
                s.add(decision)
                s.flush()
                if opened is not None:
                    opened.decision_seq = decision.seq
                if key:
                    assert decision.seq is not None
                    s.add(
                        IdempotencyKey(
                            account=decision.account,
                            scope=scope,
                            key=key,
                            decision_seq=decision.seq,
                        )
                    )
            return decision
        except IntegrityError:
            first = self.replay(account=decision.account, scope=scope, key=key)
            if first is None:
                raise
            return first

    def decision(self, *, account: str, seq: int) -> DecisionRow:
        with self.db.session() as s:
            row = s.get(DecisionRow, seq)
            if row is None or row.account != account:
                raise NotFound(messages.not_found("decision", str(seq)))
            return row

    def decisions(
        self, *, account: str, f: DecisionFilter, want: PageRequest
    ) -> Page[DecisionRow]:
        """A keyset page of the journal, newest first."""
        with self.db.session() as s:
            stmt = select(DecisionRow).where(col(DecisionRow.account) == account)
            if f.lead_id:
                stmt = stmt.where(col(DecisionRow.lead_id) == f.lead_id)
            if f.user_id:
                stmt = stmt.where(
                    or_(
                        col(DecisionRow.actor) == f.user_id,
                        col(DecisionRow.assignee) == f.user_id,
                    )
                )
            if f.group_id:
                stmt = stmt.where(col(DecisionRow.group_id) == f.group_id)
            if f.since is not None:
                stmt = stmt.where(col(DecisionRow.at) >= f.since)
            if f.until is not None:
                stmt = stmt.where(col(DecisionRow.at) < f.until)
            return keyset_page(s, stmt, [col(DecisionRow.seq)], want, descending=True)

    def journal(
        self, *, account: str, since: datetime, until: datetime
    ) -> list[DecisionRow]:
        """The presses and push decisions in [since, until), in journal order."""
        with self.db.session() as s:
            stmt = select(DecisionRow).where(
                col(DecisionRow.account) == account,
                col(DecisionRow.kind).in_(("claim", "push")),
                col(DecisionRow.at) >= since,
                col(DecisionRow.at) < until,
            )
            rows = list(s.scalars(stmt.order_by(col(DecisionRow.seq))))
        for r in rows:
            r.at = utc(r.at)
        return rows

    def decisions_after(
        self, *, account: str, seq: int, limit: int
    ) -> list[DecisionRow]:
        with self.db.session() as s:
            stmt = select(DecisionRow).where(col(DecisionRow.seq) > seq)
            if account:
                stmt = stmt.where(col(DecisionRow.account) == account)
            return list(s.scalars(stmt.order_by(col(DecisionRow.seq)).limit(limit)))


def _groups(s: Session, account: str, ids: list[str]) -> list[Group]:
    stmt = select(DistributionGroup).where(col(DistributionGroup.account) == account)
    if ids:
        stmt = stmt.where(col(DistributionGroup.id).in_(ids))
    return [Group.of(r) for r in s.scalars(stmt.order_by(col(DistributionGroup.sort)))]


def group_in(s: Session, account: str, group_id: str) -> Group:
    found = _groups(s, account, [group_id])
    if not found:
        raise NotFound(messages.not_found("group", group_id))
    return found[0]


def replay_in(s: Session, account: str, scope: str, key: str) -> DecisionRow | None:
    row = s.get(IdempotencyKey, (account, scope, key))
    return s.get(DecisionRow, row.decision_seq) if row else None
