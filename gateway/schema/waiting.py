"""Leads that wait: what push distribution holds, and pools nobody may take from.

The head of sales' banner ("7 leads wait for a window; the oldest for 2 h")
and its list of the leads read this; ages are by the assigner's clock.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.context import Info
from gateway.schema.types import Lead
from leadrouter import messages
from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import BadInput
from leadrouter.timestamps import from_ts

MAX_LEADS = 200
REASONS = "no_template (no template takes the lead now: it waits for a window) or "
REASONS += "nobody_on_duty (no participant of its template is on duty, or may take it)"


def _seconds(at: datetime, since: datetime) -> int:
    return max(0, int((at - since).total_seconds()))


@strawberry.type(description="Leads held in one group for one reason.")
class HeldLeadGroup:
    group_id: strawberry.ID | None = strawberry.field(
        description="Null when no group takes the leads' stage."
    )
    group_name: str | None
    reason: str = strawberry.field(description=f"Why they wait: {REASONS}.")
    count: int
    oldest_since: datetime
    oldest_wait_seconds: int


@strawberry.type(description="One lead push distribution holds.")
class HeldLead:
    lead_id: strawberry.ID
    lead: Lead | None = strawberry.field(description="Null if the CRM lost it.")
    group_id: strawberry.ID | None
    group_name: str | None
    reason: str = strawberry.field(description=f"Why it waits: {REASONS}.")
    since: datetime
    wait_seconds: int


@strawberry.type(description="A group's pool with leads that no member may take now.")
class StuckPool:
    group_id: strawberry.ID
    group_name: str
    leads: int


@strawberry.type(description="Leads that wait for someone, at the clock's now.")
class WaitingLeads:
    at: datetime
    total: int = strawberry.field(description="Leads push distribution holds.")
    oldest_wait_seconds: int | None = strawberry.field(
        description="How long the longest-held of them has waited; null when none."
    )
    groups: list[HeldLeadGroup] = strawberry.field(
        description="Held leads per group and reason, the longest-waiting first."
    )
    leads: list[HeldLead] = strawberry.field(
        description="The held leads themselves (up to `first`), longest-waiting first."
    )
    stuck_pools: list[StuckPool]


@strawberry.type
class WaitingQueries:
    @strawberry.field(
        description="Leads that wait: held by push distribution (why, and for how "
        "long), and pools with leads that no member may take now. Admins and "
        "viewers."
    )
    async def waiting_leads(self, info: Info, first: int = 50) -> WaitingLeads:
        ctx = info.context
        caller = ctx.require("admin", "viewer")
        if not 0 < first <= MAX_LEADS:
            raise BadInput(messages.whole_number_from("first", 1, MAX_LEADS))
        waiting = await ctx.clients.assigner.get_waiting(
            assigner_pb2.GetWaitingRequest(account=caller.account, first=first),
        )
        groups = await ctx.clients.assigner.list_groups(
            assigner_pb2.ListGroupsRequest(account=caller.account)
        )
        names = {g.id: g.name or g.id for g in groups.groups}
        ids = [lead.lead_id for lead in waiting.leads]
        found = (
            await ctx.clients.crm.get_leads(
                crm_pb2.GetLeadsRequest(account=caller.account, ids=ids)
            )
            if ids
            else crm_pb2.LeadList()
        )
        leads = {lead.id: lead for lead in found.leads}
        at = from_ts(waiting.at)
        held = [
            HeldLeadGroup(
                group_id=strawberry.ID(h.group_id) if h.group_id else None,
                group_name=names.get(h.group_id) if h.group_id else None,
                reason=h.reason,
                count=h.leads,
                oldest_since=from_ts(h.oldest_since),
                oldest_wait_seconds=_seconds(at, from_ts(h.oldest_since)),
            )
            for h in waiting.held
        ]
        return WaitingLeads(
            at=at,
            total=sum(h.count for h in held),
            oldest_wait_seconds=max(
                (h.oldest_wait_seconds for h in held), default=None
            ),
            groups=held,
            leads=[
                HeldLead(
                    lead_id=strawberry.ID(item.lead_id),
                    lead=Lead.of(leads[item.lead_id])
                    if item.lead_id in leads
                    else None,
                    group_id=strawberry.ID(item.group_id) if item.group_id else None,
                    group_name=names.get(item.group_id) if item.group_id else None,
                    reason=item.reason,
                    since=from_ts(item.since),
                    wait_seconds=_seconds(at, from_ts(item.since)),
                )
                for item in waiting.leads
            ],
            stuck_pools=[
                StuckPool(
                    group_id=strawberry.ID(p.group_id),
                    group_name=names.get(p.group_id, p.group_id),
                    leads=p.leads,
                )
                for p in waiting.pools
                if p.leads > 0 and p.eligible_members == 0
            ],
        )
