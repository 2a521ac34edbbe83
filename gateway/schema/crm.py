"""Leads handed in by partners, and reopening closed leads."""

from __future__ import annotations

import strawberry

from gateway.context import Info
from gateway.schema.types import Lead
from leadrouter.crm.v1 import crm_pb2


@strawberry.input
class LeadInput:
    id: strawberry.ID | None = None
    name: str = ""
    budget: int = 0
    pipeline: str
    stage: str
    responsible: strawberry.ID
    channel: str = ""
    contacts: list[strawberry.ID] = strawberry.field(default_factory=list)
    companies: list[strawberry.ID] = strawberry.field(default_factory=list)
    tags: list[str] = strawberry.field(default_factory=list)


@strawberry.type
class CrmMutations:
    @strawberry.mutation(
        description="A partner system hands in a new lead; the same idempotency key "
        "creates it once."
    )
    async def submit_lead(
        self, info: Info, input: LeadInput, idempotency_key: str | None = None
    ) -> Lead:
        ctx = info.context
        caller = ctx.require("admin", "partner")
        created = await ctx.clients.crm.call(
            "SubmitLead",
            crm_pb2.SubmitLeadRequest(
                account=caller.account,
                operation_id=f"submit:{idempotency_key}" if idempotency_key else "",
                lead=crm_pb2.Lead(
                    id=str(input.id or ""),
                    name=input.name,
                    budget=input.budget,
                    pipeline=input.pipeline,
                    stage=input.stage,
                    responsible=str(input.responsible),
                    channel=input.channel,
                    contacts=[str(c) for c in input.contacts],
                    companies=[str(c) for c in input.companies],
                    tags=input.tags,
                ),
            ),
        )
        return Lead.of(created)

    @strawberry.mutation(
        description="Returns a won or lost lead to the open stage it was in."
    )
    async def reopen_lead(self, info: Info, lead_id: strawberry.ID) -> Lead:
        ctx = info.context
        caller = ctx.require("admin")
        lead = await ctx.clients.crm.call(
            "ReopenLead",
            crm_pb2.ReopenLeadRequest(
                account=caller.account, lead_id=str(lead_id), by=caller.user_id
            ),
        )
        return Lead.of(lead)
