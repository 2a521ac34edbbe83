"""A lead's history as its view shows it, and where reopening would return it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.context import Info
from gateway.schema.crm import LEAD_ROLES, visible_lead
from gateway.schema.types import Lead
from gateway.visibility import allowed
from leadrouter.crm.v1 import crm_pb2
from leadrouter.timestamps import from_ts


@strawberry.type(description="One event of a lead, as the CRM recorded it.")
class LeadHistoryEntry:
    at: datetime
    type: str = strawberry.field(
        description="lead_created, stage_changed, responsible_changed, "
        "lead_reopened, task_created, task_completed …"
    )
    by: strawberry.ID | None = strawberry.field(
        description="Who did it, when the event says; a reopening always does."
    )
    stage: str | None = strawberry.field(
        description="'pipeline/stage' the lead is in after it, for creations, "
        "moves and reopenings."
    )
    responsible: strawberry.ID | None = strawberry.field(
        description="The lead's responsible user after it."
    )
    loss_reason: str | None
    task: strawberry.ID | None


@strawberry.type
class LeadHistory:
    lead: Lead
    entries: list[LeadHistoryEntry] = strawberry.field(description="Oldest first.")
    reopens_to: str | None = strawberry.field(
        description="For a won or lost lead: the 'pipeline/stage' reopenLead "
        "returns it to (from lost, the stage it was lost from; from won, the "
        "last open stage before the won stage). Null for an open lead."
    )


@strawberry.type
class LeadHistoryQueries:
    @strawberry.field(
        description="A lead's events and where reopening returns it. Admins see "
        "every lead, managers their own.",
        extensions=allowed(*LEAD_ROLES),
    )
    async def lead_history(self, info: Info, lead_id: strawberry.ID) -> LeadHistory:
        rule = info.context.visibility()
        lead = await visible_lead(rule, str(lead_id))
        reply = await rule.clients.crm.get_lead_history(
            crm_pb2.GetLeadHistoryRequest(
                account=rule.caller.account, lead_id=str(lead_id)
            ),
        )
        return LeadHistory(
            lead=Lead.of(lead),
            entries=[
                LeadHistoryEntry(
                    at=from_ts(e.at),
                    type=e.type,
                    by=strawberry.ID(e.by) if e.by else None,
                    stage=e.stage or None,
                    responsible=strawberry.ID(e.responsible) if e.responsible else None,
                    loss_reason=e.loss_reason or None,
                    task=strawberry.ID(e.task) if e.task else None,
                )
                for e in reply.entries
            ],
            reopens_to=reply.reopens_to or None,
        )
