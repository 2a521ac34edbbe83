"""Writes to amoCRM decided here: recorded with the decision, sent until accepted.

An assignment changes the mirror and adds an outbox row in one transaction, so
the lead leaves the pool at once and for good, whether amoCRM is quick, slow
or down. The worker sends what is waiting in batches of at most 50 per entity
type; while amoCRM fails, the whole outbox waits with growing pauses, so a
newer write of a lead never overtakes an older one. A block of the whole
account (403, 402) is not a failure of the rows: they wait, untouched, until
the account is served again (block.py).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from leadrouter import metrics
from leadrouter.clock import Clock
from leadrouter.db import Database
from leadrouter.timestamps import utc
from services.crm.amocrm.client import AmoClient
from services.crm.amocrm.errors import AmoAuthFailed, AmoBlocked, AmoRefused
from services.crm.amocrm.tables import AmoOutbox, AmoUnsortedLead
from services.crm.amocrm.unsorted import Unsorted
from services.crm.tables import Lead, LeadParty, Task

log = logging.getLogger(__name__)

PATHS = {
    "leads": "/api/v4/leads",
    "contacts": "/api/v4/contacts",
    "companies": "/api/v4/companies",
    "tasks": "/api/v4/tasks",
}


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 5 * 2 ** max(attempts - 1, 0)))


def lead_write(
    s: Session,
    account: str,
    lead: Lead,
    cascade: bool,
    unsorted: AmoUnsortedLead | None = None,
) -> dict[str, Any]:
    """The items that make amoCRM's lead (and its parties, tasks) match ours.

    A lead amoCRM holds in Unsorted is accepted into the target stage, not
    PATCHed there: amoCRM refuses that with NotSupportedChoice (amocrm-api-php
    issue #156). Its contacts are reachable only once it is accepted."""
    user = int(lead.responsible)
    item: dict[str, Any] = {"id": int(lead.id), "responsible_user_id": user}
    write: dict[str, Any] = {"leads": [item]}
    if unsorted is None:
        item.update(pipeline_id=int(lead.pipeline), status_id=int(lead.stage))
    else:
        same = unsorted.pipeline == lead.pipeline
        moving = same and lead.stage != unsorted.stage
        write["accept"] = [
            {
                "id": int(lead.id),
                "uid": unsorted.uid,
                "pipeline": unsorted.pipeline,
                "user_id": user,
                # "status_id | int | ID статуса, в котором окажется сделка
                # после принятия": the same pipeline's stages only.
                "status_id": int(lead.stage) if moving else None,
                "cascade": cascade,
            }
        ]
        if not same:  # accepted in its own pipeline, then moved to ours
            item.update(pipeline_id=int(lead.pipeline), status_id=int(lead.stage))
    if cascade:
        parties = s.execute(
            select(col(LeadParty.kind), col(LeadParty.party_id))
            .where(
                col(LeadParty.account) == account,
                col(LeadParty.lead_id) == lead.id,
            )
            .order_by(col(LeadParty.sort))
        ).all()
        tasks = s.scalars(
            select(col(Task.id)).where(
                col(Task.account) == account,
                col(Task.lead_id) == lead.id,
                col(Task.completed_at).is_(None),
            )
        ).all()
        write["contacts"] = [
            {"id": int(p), "responsible_user_id": user}
            for kind, p in parties
            if kind == "contact"
        ]
        write["companies"] = [
            {"id": int(p), "responsible_user_id": user}
            for kind, p in parties
            if kind == "company"
        ]
        write["tasks"] = [
            {"id": int(t), "responsible_user_id": user} for t in sorted(tasks, key=int)
        ]
    return write


def coalesce(writes: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Per entity the latest write wins; entity types in a fixed order, the
    accepts of Unsorted leads first (their contacts are reachable only after)."""
    latest: dict[str, dict[int, dict[str, Any]]] = {
        kind: {} for kind in ("accept", *PATHS)
    }
    for write in writes:
        for kind, items in write.items():
            for item in items:
                latest[kind][item["id"]] = item
    return {kind: list(items.values()) for kind, items in latest.items() if items}


@dataclass
class Flushed:
    sent: int = 0  # outbox rows amoCRM accepted
    refused: int = 0  # rows set aside: amoCRM will not take them as they are
    waiting: int = 0  # rows kept for a later attempt


class Outbox:
    """The connector's outbox for one account."""

    def __init__(self, db: Database, account: str, clock: Clock) -> None:
        self.db = db
        self.account = account
        self.clock = clock
        self.unsorted = Unsorted(db, account)

    def record(self, s: Session, account: str, lead: Lead, cascade: bool) -> None:
        """CrmStore's hook: runs inside the transaction that assigned the lead."""
        if account != self.account:
            return
        ids = [lead.id, lead.responsible, lead.pipeline, lead.stage]
        if not all(x.isdigit() for x in ids):
            log.warning("lead %s has ids amoCRM cannot know; not written", lead.id)
            return
        now = self.clock.now()
        unsorted = s.get(AmoUnsortedLead, (account, lead.id))
        s.add(
            AmoOutbox(
                account=account,
                lead_id=lead.id,
                payload=json.dumps(lead_write(s, account, lead, cascade, unsorted)),
                created_at=now,
                next_attempt_at=now,
            )
        )

    async def flush(self, amo: AmoClient, limit: int = 500) -> Flushed:
        """Sends what is due; on failure everything waiting is retried later."""
        rows = await self.db.run(self._due, limit=limit)
        if not rows:
            return Flushed()
        try:
            await self._send(amo, [payload for _, payload in rows])
        except AmoBlocked:
            raise  # the whole account waits, these rows untouched with it
        except AmoAuthFailed as error:
            return await self._later(rows, error)
        except AmoRefused:
            return await self._one_by_one(amo, rows)
        except Exception as error:  # unavailable, or anything unforeseen
            return await self._later(rows, error)
        await self.db.run(
            self._mark, seqs=[seq for seq, _ in rows], error="", refused=False
        )
        return Flushed(sent=len(rows))

    async def pending(self) -> int:
        def count() -> int:
            with self.db.session() as s:
                return len(s.scalars(self._waiting_rows()).all())

        waiting = await self.db.run(count)
        metrics.OUTBOX_DEPTH.labels(self.account).set(waiting)
        return waiting

    async def _send(self, amo: AmoClient, writes: list[dict[str, Any]]) -> None:
        batches = coalesce(writes)
        for accept in batches.pop("accept", []):
            for kind, more in (await self.unsorted.accept(amo, accept)).items():
                # What the accept leaves to write joins the entity's own item.
                mine = {x["id"]: x for x in batches.setdefault(kind, [])}
                for item in more:
                    if item["id"] in mine:
                        mine[item["id"]].update(item)
                    else:
                        batches[kind].append(item)
        for kind, items in batches.items():
            if items:
                await amo.patch(PATHS[kind], items)

    async def _later(
        self, rows: list[tuple[int, dict[str, Any]]], error: Exception
    ) -> Flushed:
        log.warning("amoCRM writes wait: %s", error)
        await self.db.run(self._retry, seqs=[seq for seq, _ in rows], error=str(error))
        return Flushed(waiting=len(rows))

    async def _one_by_one(
        self, amo: AmoClient, rows: list[tuple[int, dict[str, Any]]]
    ) -> Flushed:
        """A refused item refuses its whole batch: find it by sending rows alone."""
        done = Flushed()
        for n, (seq, payload) in enumerate(rows):
            try:
                await self._send(amo, [payload])
            except AmoBlocked:
                raise
            except AmoAuthFailed as error:
                done.waiting += (await self._later(rows[n:], error)).waiting
                return done
            except AmoRefused as error:
                log.error("amoCRM refused a write of lead %s: %s", payload, error)
                await self.db.run(
                    self._mark, seqs=[seq], error=str(error), refused=True
                )
                done.refused += 1
                continue
            except Exception as error:
                done.waiting += (await self._later(rows[n:], error)).waiting
                return done
            await self.db.run(self._mark, seqs=[seq], error="", refused=False)
            done.sent += 1
        return done

    # -- rows ----------------------------------------------------------------
    def _waiting_rows(self) -> Any:
        return (
            select(AmoOutbox)
            .where(
                col(AmoOutbox.account) == self.account,
                col(AmoOutbox.sent_at).is_(None),
                col(AmoOutbox.failed_at).is_(None),
            )
            .order_by(col(AmoOutbox.seq))
        )

    def _due(self, *, limit: int) -> list[tuple[int, dict[str, Any]]]:
        with self.db.session() as s:
            rows = list(s.scalars(self._waiting_rows().limit(limit)))
            retried = [r.next_attempt_at for r in rows if r.attempts > 0]
            if retried and utc(min(retried)) > self.clock.now():
                return []  # amoCRM failed lately: everything waits its turn
            return [(int(r.seq or 0), json.loads(r.payload)) for r in rows]

    def _retry(self, *, seqs: list[int], error: str) -> None:
        with self.db.session() as s:
            rows = [r for r in (s.get(AmoOutbox, seq) for seq in seqs) if r is not None]
            # One pause for all: the longest any of them has earned.
            wait = backoff(max((r.attempts for r in rows), default=0) + 1)
            for row in rows:
                row.attempts += 1
                row.next_attempt_at = self.clock.now() + wait
                row.error = error[:1000]

    def _mark(self, *, seqs: list[int], error: str, refused: bool) -> None:
        with self.db.session() as s:
            now = self.clock.now()
            for seq in seqs:
                row = s.get(AmoOutbox, seq)
                if row is None:
                    continue
                row.attempts += 1
                row.error = error[:1000]
                if refused:
                    row.failed_at = now
                else:
                    row.sent_at = now
