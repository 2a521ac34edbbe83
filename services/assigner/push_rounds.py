"""The rounds of push's tick: the queue, the SLA and the shift handover.

Each round reads what it needs for all its leads at once (the leads, where
watched leads stand, who is on duty; the template in force once per kind of
lead and the groups once per account, through `Shared`) and tries each lead
as push does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from leadrouter.crm.v1 import crm_pb2
from services.assigner.engine import lifecycle, timers
from services.assigner.engine.reasons import Trigger
from services.assigner.push_facts import (
    InForce,
    PushFacts,
    by_account,
    is_open,
    lead_facts,
)
from services.assigner.push_store import PushStore
from services.assigner.store import AssignerStore, Group
from services.assigner.tables import DecisionRow, PushLead


class Shared:
    """What one round's leads share at its instant: the template in force for
    a kind of lead (channel, pipeline, tags) and an account's groups."""

    def __init__(self) -> None:
        self.forces: dict[tuple[str, str, str, tuple[str, ...]], InForce] = {}
        self.groups: dict[str, dict[str, Group]] = {}


class Rounds:
    """The tick's rounds, for PushDistribution."""

    pushes: PushStore
    store: AssignerStore
    facts: PushFacts
    _attempt: Callable[..., Awaitable[DecisionRow | None]]

    async def _try(
        self,
        row: PushLead,
        lead: crm_pb2.Lead,
        trigger: Trigger,
        now: datetime,
        shared: Shared,
    ) -> DecisionRow | None:
        """One lead of a round, with what the round read for its kind already."""
        kind = (row.account, lead.channel, lead.pipeline, tuple(lead.tags))
        force = shared.forces.get(kind)
        if force is None:
            force = shared.forces[kind] = await self.facts.in_force(
                row.account, lead, now
            )
        groups = shared.groups.get(row.account)
        if groups is None:
            found = await self.pushes.db.run(
                self.store.groups, account=row.account, ids=[]
            )
            groups = shared.groups[row.account] = {g.id: g for g in found}
        return await self._attempt(row, lead, trigger, "", now, force, groups=groups)

    async def _serve_queue(self, account: str, now: datetime) -> list[DecisionRow]:
        """Waiting leads, oldest first; a kind of lead that found nobody stops."""
        made: list[DecisionRow] = []
        rows = await self.pushes.db.run(self.pushes.waiting, account=account)
        leads = await self.facts.leads_of(rows)
        round_ = timers.QueueRound()
        shared = Shared()
        for row in rows:
            lead = leads.get((row.account, row.lead_id))
            facts = lead_facts(lead) if lead is not None else None
            gone = timers.leaves_queue(row, facts, lead is not None and is_open(lead))
            if gone:
                await self.pushes.db.run(self.pushes.finish, row=row, reason=gone)
                continue
            assert lead is not None and facts is not None
            if not round_.tries(facts, row.account + "/" + row.group_id):
                continue
            decision = await self._try(row, lead, Trigger.QUEUE, now, shared)
            if decision is not None:
                made.append(decision)
            round_.tried(
                facts,
                row.account + "/" + row.group_id,
                decision.outcome if decision is not None else None,
            )
        return made

    async def _reassign_overdue(self, account: str, now: datetime) -> list[DecisionRow]:
        """SLA: leads still untouched when their time is up go to the next one."""
        rows = [
            r
            for r in await self.pushes.db.run(self.pushes.watched, account=account)
            if lifecycle.sla_due(r, now)
        ]
        return await self._send_on(rows, Trigger.SLA, now)

    async def _hand_over(self, account: str, now: datetime) -> list[DecisionRow]:
        """Shift handover: untouched leads of users now off duty go back out."""
        rows = await self.pushes.db.run(self.pushes.watched, account=account)
        off: list[PushLead] = []
        for acc, group in by_account(rows).items():
            users = sorted({r.assignee for r in group})
            on = await self.facts.on_duty(acc, users, now)
            off += [r for r in group if r.assignee not in on]
        return await self._send_on(off, Trigger.HANDOVER, now)

    async def _send_on(
        self, rows: list[PushLead], trigger: Trigger, now: datetime
    ) -> list[DecisionRow]:
        made: list[DecisionRow] = []
        if not rows:
            return made
        leads = await self.facts.leads_of(rows)
        shared = Shared()
        for acc, group in by_account(rows).items():
            work = await self.facts.work(acc, group, now)
            for row in group:
                reason = lifecycle.untouched(row, work[row.lead_id])
                lead = leads.get((acc, row.lead_id))
                if reason or lead is None:
                    await self.pushes.db.run(
                        self.pushes.finish, row=row, reason=reason or "gone"
                    )
                    continue
                decision = await self._try(row, lead, trigger, now, shared)
                if decision is not None:
                    made.append(decision)
        return made
