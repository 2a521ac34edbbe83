"""Reopening a closed lead, journaled (seed 002: "информация о том, кто и когда
отменил сделку, будет записана в журнале действия").

The crm returns the lead to its stage (services/crm/reopening.py); the journal
gets an entry of kind "reopen" naming the admin, the moment, and the stages
from and to, so the decision journal shows it beside claims and pushes.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from leadrouter.clients import Clients
from leadrouter.clock import Clock
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import NotFound
from leadrouter.telemetry import current_trace_id
from leadrouter.timestamps import to_ts
from services.assigner.engine.reasons import Outcome
from services.assigner.store import AssignerStore
from services.assigner.tables import DecisionRow

KIND = "reopen"


class Reopening:
    def __init__(
        self,
        store: AssignerStore,
        clients: Clients,
        clock: Clock,
        on_recorded: Callable[[], None],
    ) -> None:
        self.store = store
        self.clients = clients
        self.clock = clock
        self.on_recorded = on_recorded

    async def reopen(
        self, account: str, lead_id: str, actor: str
    ) -> tuple[crm_pb2.Lead, DecisionRow]:
        found = await self.clients.crm.get_leads(
            crm_pb2.GetLeadsRequest(account=account, ids=[lead_id])
        )
        before = next((x for x in found.leads if x.id == lead_id), None)
        if before is None:
            raise NotFound(f"no lead '{lead_id[:200]}'")
        now = self.clock.now()
        # The crm refuses a lead that is not closed; then nothing is journaled.
        lead: crm_pb2.Lead = await self.clients.crm.reopen_lead(
            crm_pb2.ReopenLeadRequest(
                account=account, lead_id=lead_id, by=actor, at=to_ts(now)
            ),
        )
        decision = DecisionRow(
            account=account,
            kind=KIND,
            outcome=Outcome.REOPENED,
            actor=actor,
            lead_id=lead_id,
            at=now,
            details=json.dumps(
                {
                    "from": f"{before.pipeline}/{before.stage}",
                    "to": f"{lead.pipeline}/{lead.stage}",
                    "responsible": lead.responsible,
                    "loss_reason": before.loss_reason,
                }
            ),
            trace_id=current_trace_id(),
        )
        recorded = await self.store.db.run(self.store.record, decision=decision)
        self.on_recorded()
        return lead, recorded
