"""Presses that reached the crm: every lead the crm hands out gets its decision.

A press changes the crm first (TakePoolLead under an operation id) and the
journal second. The attempt row is written before the crm call and closed in
the same transaction as the decision, so a crash, a killed process or a lost
reply in between leaves it open. Settling an open attempt asks the crm for
the same operation again, with a pool that holds nothing: if the crm took a
lead under it, that lead comes back and is journaled as claimed; if not, the
crm remembers the operation as having taken nothing, so a call still on its
way can no longer take a lead behind the journal's back.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.json_format import MessageToDict
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from leadrouter.clients import Clients
from leadrouter.crm.v1 import crm_pb2
from leadrouter.db import Database
from leadrouter.timestamps import to_ts
from services.assigner.store import AssignerStore, Group, group_in, replay_in
from services.assigner.tables import ClaimAttempt, DecisionRow

log = logging.getLogger(__name__)
# Background tries to settle one failed press: about a minute of them.
RETRIES = 35
# How long a closed attempt is kept: long past any retry, settling or twin
# press that could still ask for it (a key's replay reads the key, not this).
KEEP_CLOSED = timedelta(minutes=10)


def claim_scope(user_id: str) -> str:
    return f"claim:{user_id}"


def press_details(group: Group) -> dict[str, Any]:
    """What a press's decision explains of its group; the limits come later."""
    return {
        "limits": [],
        "pool": {
            "source_stages": list(group.source_stages),
            "exchange_users": list(group.exchange_users),
        },
        "target_stage": group.target_stage,
        "cascade": group.cascade,
        "moved": {},
    }


def real_now() -> datetime:
    """Wall time, for how old an attempt is; decisions use the injected clock."""
    return datetime.now(UTC)


@dataclass
class Begun:
    """A press's first transaction: its group, and what a key already decided."""

    group: Group
    replayed: DecisionRow | None = None
    # The attempt was open already: a press again with the key of one that
    # failed after it reached (or may have reached) the crm.
    resumed: bool = False


class ClaimAttempts:
    """Attempts: opened before the crm call, closed with the decision."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def begin(self, *, attempt: ClaimAttempt, scope: str) -> Begun:
        """Reads the group and the key's decision and opens the attempt, at once.

        The attempt is opened before the limits are known: a refused press
        closes it with its refusal, so a press is one transaction here
        before the crm and one after, whatever its outcome.
        """
        try:
            with self.db.session() as s:
                begun = Begun(group_in(s, attempt.account, attempt.group_id))
                if attempt.key:
                    begun.replayed = replay_in(s, attempt.account, scope, attempt.key)
                    if begun.replayed is not None:
                        return begun
                attempt.details = json.dumps(press_details(begun.group))
                found = s.get(ClaimAttempt, (attempt.account, attempt.operation_id))
                if found is None:
                    s.add(attempt)
                else:
                    begun.resumed = found.decision_seq is None
                    if not begun.resumed:  # closed by a twin since: its answer
                        begun.replayed = s.get(DecisionRow, found.decision_seq)
                return begun
        except IntegrityError:
            # A twin press with the same key opened it first: same operation.
            with self.db.session() as s:
                group = group_in(s, attempt.account, attempt.group_id)
            attempt.details = json.dumps(press_details(group))
            return Begun(group, None, True)

    def drop(self, *, account: str, operation_id: str) -> None:
        """Forgets an attempt under which the crm took nothing."""
        with self.db.session() as s:
            s.execute(
                delete(ClaimAttempt).where(
                    col(ClaimAttempt.account) == account,
                    col(ClaimAttempt.operation_id) == operation_id,
                    col(ClaimAttempt.decision_seq).is_(None),
                )
            )

    def prune(self, *, started_before: datetime) -> int:
        """Forgets closed attempts begun before the moment: one row a press
        would otherwise stay for good."""
        with self.db.session() as s:
            result = s.execute(
                delete(ClaimAttempt).where(
                    col(ClaimAttempt.decision_seq).is_not(None),
                    col(ClaimAttempt.started) < started_before,
                )
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def open_ones(self, *, started_before: datetime) -> list[ClaimAttempt]:
        with self.db.session() as s:
            stmt = select(ClaimAttempt).where(
                col(ClaimAttempt.decision_seq).is_(None),
                col(ClaimAttempt.started) < started_before,
            )
            return list(s.scalars(stmt.order_by(col(ClaimAttempt.started)).limit(500)))


class Settler:
    """Settles open attempts: at start (their process is gone) and when stale."""

    def __init__(
        self,
        attempts: ClaimAttempts,
        store: AssignerStore,
        clients: Clients,
        recorded: Callable[[], None],
        stale_after: timedelta,
        every_seconds: float = 30.0,
    ) -> None:
        self.attempts = attempts
        self.store = store
        self.clients = clients
        self.recorded = recorded
        self.stale_after = stale_after
        self.every = every_seconds
        self._retrying: set[asyncio.Task[None]] = set()

    async def settle(self, attempt: ClaimAttempt) -> DecisionRow | None:
        """The claimed decision for the lead the crm gave, or None if it gave none."""
        taken = await self.clients.crm.take_pool_lead(
            crm_pb2.TakePoolLeadRequest(
                account=attempt.account,
                operation_id=attempt.operation_id,
                pool=crm_pb2.PoolQuery(),  # nothing to take: replay or nothing
                user_id=attempt.user_id,
                at=to_ts(attempt.at),
            ),
        )
        if not taken.taken:
            await self.attempts.db.run(
                self.attempts.drop,
                account=attempt.account,
                operation_id=attempt.operation_id,
            )
            return None
        details = json.loads(attempt.details)
        details["moved"] = MessageToDict(taken.moved, preserving_proto_field_name=True)
        decision = DecisionRow(
            account=attempt.account,
            kind="claim",
            outcome="claimed",
            group_id=attempt.group_id,
            actor=attempt.user_id,
            lead_id=taken.lead.id,
            assignee=attempt.user_id,
            at=attempt.at,
            reasons="[]",
            details=json.dumps(details),
            trace_id=attempt.trace_id,
        )
        journaled = await self.store.db.run(
            self.store.record,
            decision=decision,
            scope=claim_scope(attempt.user_id),
            key=attempt.key,
            attempt=attempt.operation_id,
        )
        if journaled is decision:
            log.info(
                "claim of lead %s by %s journaled after the fact",
                taken.lead.id,
                attempt.user_id,
            )
            self.recorded()
        return journaled

    def soon(self, attempt: ClaimAttempt) -> None:
        """Settles in the background, as soon as the crm and the database answer.

        For a press that failed after the crm may have given it a lead (its
        reply or its journal entry lost), so the journal catches up within
        moments of the fault ending rather than at the next stale pass.
        """
        task = asyncio.create_task(self._until_settled(attempt))
        self._retrying.add(task)
        task.add_done_callback(self._retrying.discard)

    async def _until_settled(self, attempt: ClaimAttempt) -> None:
        delay = 0.2
        for _ in range(RETRIES):  # bounded: the stale pass catches the rest
            try:
                await self.settle(attempt)
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.info("claim %s not settled yet: %s", attempt.operation_id, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def settle_open(self, started_before: datetime) -> int:
        settled = 0
        for attempt in await self.attempts.db.run(
            self.attempts.open_ones, started_before=started_before
        ):
            await self.settle(attempt)
            settled += 1
        return settled

    async def run(self) -> None:
        """At start every open attempt is a dead process's; later, only stale ones."""
        started_before = real_now()
        while True:
            try:
                await self.settle_open(started_before)
                await self.attempts.db.run(
                    self.attempts.prune,
                    started_before=real_now() - max(KEEP_CLOSED, self.stale_after),
                )
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the crm or the database not back yet
                log.warning("settling open claims: %s; trying again", error)
                await asyncio.sleep(1.0)
                continue
            await asyncio.sleep(self.every)
            started_before = real_now() - self.stale_after
