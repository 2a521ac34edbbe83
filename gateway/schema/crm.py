"""Leads: the list a head of sales selects from, leads handed in by partners,
and reopening closed leads."""

from __future__ import annotations

import strawberry

from gateway.context import Info
from gateway.schema.manual import LeadFilter
from gateway.schema.types import Lead, LeadConnection, LeadEdge, PageInfo
from gateway.visibility import Visibility, allowed
from leadrouter import messages
from leadrouter.clients import Clients
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import BadInput

MAX_PAGE = 200
LEAD_ROLES = ("admin", "manager")


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


async def _matching(
    clients: Clients,
    rule: Visibility,
    lead_filter: LeadFilter | None,
    responsible: strawberry.ID | None,
    offset: int = 0,
    limit: int = 0,
) -> tuple[list[str], int]:
    """A page of the ids the filter selects, oldest first, and how many in all;
    a manager's own only."""
    query = lead_filter.message() if lead_filter else crm_pb2.LeadFilter()
    query.responsible = rule.user(str(responsible or ""), "leads")
    caller = rule.caller
    found = await clients.crm.call(
        "FindLeads",
        crm_pb2.FindLeadsRequest(
            account=caller.account,
            filter=query,
            ids_only=True,
            offset=offset,
            limit=limit,
        ),
    )
    return [x.lead_id for x in found.leads], found.total


def _offset(after: str | None) -> int:
    if not after:
        return 0
    if not (after.isascii() and after.isdigit()) or len(after) > 9:
        raise BadInput(messages.bad_cursor("after"))
    return int(after)


@strawberry.type
class CrmQueries:
    @strawberry.field(
        description="Leads the filter selects, oldest first, a page at a time; "
        "`responsible` narrows to one user's. Admins see every lead, managers "
        "their own.",
        extensions=allowed(*LEAD_ROLES),
    )
    async def leads(
        self,
        info: Info,
        filter: LeadFilter | None = None,
        responsible: strawberry.ID | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> LeadConnection:
        ctx = info.context
        rule = ctx.visibility()
        caller = rule.caller
        if not 0 < first <= MAX_PAGE:
            raise BadInput(f"first must be between 1 and {MAX_PAGE}")
        start = _offset(after)
        page, total = await _matching(
            ctx.clients, rule, filter, responsible, offset=start, limit=first
        )
        found = await ctx.clients.crm.call(
            "GetLeads", crm_pb2.GetLeadsRequest(account=caller.account, ids=page)
        )
        by_id = {x.id: x for x in found.leads}
        end = start + len(page)
        return LeadConnection(
            edges=[
                LeadEdge(cursor=str(start + i + 1), node=Lead.of(by_id[x]))
                for i, x in enumerate(page)
                if x in by_id
            ],
            page_info=PageInfo(
                has_next_page=end < total, end_cursor=str(end) if page else None
            ),
            total_count=total,
        )

    @strawberry.field(
        description="Every id the same filter selects in `leads`, for a "
        "selection across all pages.",
        extensions=allowed(*LEAD_ROLES),
    )
    async def matching_lead_ids(
        self,
        info: Info,
        filter: LeadFilter | None = None,
        responsible: strawberry.ID | None = None,
    ) -> list[strawberry.ID]:
        ctx = info.context
        ids, _ = await _matching(ctx.clients, ctx.visibility(), filter, responsible)
        return [strawberry.ID(x) for x in ids]
