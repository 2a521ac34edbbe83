"""Leads arriving in the CRM, taken into push distribution a batch at a time.

The crm's event follower hands over the new leads of a batch of events at
once. What they all need is read once for the batch: push's rows for them,
the leads, which owners are technical users, the template in force (once per
kind of lead: channel, pipeline, tags) and the groups. Then each lead is
placed in turn, as one arriving alone would be: its attempt reserved with the
rotation's turn, the crm's assignment and the journal entry under one
operation id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from leadrouter.clock import Clock
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import BadInput, NotFound
from leadrouter.timestamps import from_ts
from services.assigner.engine import arrival, lifecycle
from services.assigner.engine.reasons import Trigger
from services.assigner.push_facts import InForce, PushFacts, is_open, stage_key
from services.assigner.push_store import PushStore
from services.assigner.store import AssignerStore, Group
from services.assigner.tables import DecisionRow

log = logging.getLogger(__name__)
# A lead's kind for the template match: what MatchTemplate reads of it.
Kind = tuple[str, str, tuple[str, ...]]


def home_group(groups: list[Group], lead: crm_pb2.Lead) -> str:
    """The group whose source stages hold the lead: whose limits apply."""
    stages = ((g.id, g.source_stages) for g in groups)
    return arrival.home_group(stages, stage_key(lead))


class Arrivals:
    """The arrival of new leads, for PushDistribution."""

    pushes: PushStore
    store: AssignerStore
    facts: PushFacts
    clock: Clock
    _lock: asyncio.Lock
    _attempt: Callable[..., Awaitable[DecisionRow | None]]

    async def arrived(self, account: str, lead_id: str) -> DecisionRow | None:
        """A new lead in the CRM: distributes it if it is one push takes."""
        made = await self.arrived_many(account, [lead_id])
        return made[0] if made else None

    async def arrived_many(
        self, account: str, lead_ids: list[str]
    ) -> list[DecisionRow]:
        """New leads of one account, in order: the decisions for those push takes."""
        async with self._lock:
            now = self.clock.now()
            taken = await self._taken_on_arrival(account, lead_ids, now)
            if not taken:
                return []
            groups = await self.pushes.db.run(
                self.store.groups, account=account, ids=[]
            )
            rows = await self.pushes.db.run(
                self.pushes.admit_many,
                account=account,
                leads=[
                    (
                        lead.id,
                        from_ts(lead.created_at),
                        home_group(groups, lead),
                        lead.responsible,
                    )
                    for lead, _ in taken
                ],
            )
            by_id = {g.id: g for g in groups}
            made: list[DecisionRow] = []
            for lead, force in taken:
                row = rows.get(lead.id)
                if row is None or row.state != lifecycle.WAITING or row.attempt != 0:
                    continue  # a twin replica has it already
                try:
                    decision = await self._attempt(
                        row, lead, Trigger.ARRIVAL, "", now, force, groups=by_id
                    )
                except (NotFound, BadInput) as error:
                    log.info("push skipped lead %s: %s", lead.id, error)
                    continue
                if decision is not None:
                    made.append(decision)
            return made

    async def _taken_on_arrival(
        self, account: str, lead_ids: list[str], now: datetime
    ) -> list[tuple[crm_pb2.Lead, InForce]]:
        """The leads push takes now, each with the template in force for it."""
        ids = list(dict.fromkeys(lead_ids))
        # Seen before: a replayed event, or a twin replica's.
        seen = await self.pushes.db.run(
            self.pushes.known, leads={(account, x) for x in ids}
        )
        ids = [x for x in ids if (account, x) not in seen]
        if not ids:
            return []
        found = await self.facts.leads(account, ids)
        leads = [
            found[x]
            for x in ids
            if x in found
            and is_open(found[x])
            and now - from_ts(found[x].created_at) <= arrival.ARRIVAL_HORIZON
        ]
        if not leads:
            return []
        owners = sorted({lead.responsible for lead in leads})
        technical = await self.facts.technical_among(account, owners)
        forces: dict[Kind, InForce] = {}
        out: list[tuple[crm_pb2.Lead, InForce]] = []
        for lead in leads:
            if lead.responsible not in technical:
                continue
            kind = (lead.channel, lead.pipeline, tuple(lead.tags))
            if kind not in forces:
                forces[kind] = await self.facts.in_force(account, lead, now)
            force = forces[kind]
            if arrival.takes_on_arrival(
                is_open=True,
                technical_owner=True,
                created_at=from_ts(lead.created_at),
                now=now,
                template_now=force.template is not None,
                opening=force.next_opening,
            ):
                out.append((lead, force))
        return out
