"""Leads: the list a head of sales selects from, one lead, moving a lead between
stages, and reopening closed leads."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gateway.context import Context, Info
from gateway.schema.manual import LeadFilter
from gateway.schema.pages import lead_connection, page_args
from gateway.schema.reports import LossReasonsCell, loss_reasons_leads
from gateway.schema.types import Lead, LeadConnection
from gateway.visibility import Visibility, allowed
from leadrouter import messages
from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import NotFound

MAX_PAGE = 200
LEAD_ROLES = ("admin", "manager")


@strawberry.type
class CrmMutations:
    @strawberry.mutation(
        description="Admins: returns a won or lost lead to an open stage (seed "
        '002 "Отозвать сделку"): from lost, the stage it was lost from; from '
        "won, the last open stage before the won stage. leadHistory says which "
        "before. Journaled as a decision of kind 'reopen' (who, when) and shown "
        "in the lead's history."
    )
    async def reopen_lead(self, info: Info, lead_id: strawberry.ID) -> Lead:
        ctx = info.context
        caller = ctx.require("admin")
        reply = await ctx.clients.assigner.reopen_lead(
            assigner_pb2.ReopenLeadRequest(
                account=caller.account, lead_id=str(lead_id), actor=caller.user_id
            ),
        )
        return Lead.of(reply.lead)

    @strawberry.mutation(
        description="Moves a lead to another stage of the built-in CRM. Into a "
        "lost stage it takes a loss reason: one of the stage's listed reasons, or "
        "free text kept as 'other: <text>'; a stage that requires a reason takes "
        "only a listed one. A closed lead is reopened, not moved. Managers move "
        "their own leads."
    )
    async def move_lead(
        self,
        info: Info,
        lead_id: strawberry.ID,
        stage: str,
        loss_reason: str | None = None,
    ) -> Lead:
        ctx = info.context
        rule = ctx.visibility("admin", "manager", "partner")
        await visible_lead(rule, str(lead_id))
        lead = await ctx.clients.crm.move_lead(
            crm_pb2.MoveLeadRequest(
                account=rule.caller.account,
                lead_id=str(lead_id),
                stage=stage,
                loss_reason=loss_reason or "",
                by=rule.caller.user_id,
            ),
        )
        return Lead.of(lead)


async def visible_lead(rule: Visibility, lead_id: str) -> crm_pb2.Lead:
    """The lead, if the caller may see it: a manager only their own."""
    found = await rule.clients.crm.get_leads(
        crm_pb2.GetLeadsRequest(account=rule.caller.account, ids=[lead_id])
    )
    lead = next((x for x in found.leads if x.id == lead_id), None)
    if lead is None or not rule.sees_user(lead.responsible):
        # Same answer as a missing one: a manager learns nothing of others' leads.
        raise NotFound(messages.not_found("lead", lead_id))
    return lead


async def _lead_filter(
    ctx: Context,
    rule: Visibility,
    lead_filter: LeadFilter | None,
    responsible: strawberry.ID | None,
    closing: LossReasonsCell | None,
) -> crm_pb2.LeadFilter | None:
    """The filter as the caller may apply it: a manager's own leads only.

    None when it selects nothing: a count of the loss-reasons report with no
    leads behind it (an empty list of ids would select every lead).
    """
    query = lead_filter.message() if lead_filter else crm_pb2.LeadFilter()
    query.responsible = rule.user(str(responsible or ""), "leads")
    if closing is not None:
        ids = await loss_reasons_leads(ctx, closing)
        if query.lead_ids:
            wanted = set(query.lead_ids)
            ids = [x for x in ids if x in wanted]
        if not ids:
            return None
        query.ClearField("lead_ids")
        query.lead_ids.extend(ids)
    return query


CLOSING = strawberry.argument(
    description="Only the leads behind one count of lossReasonsReport."
)


@strawberry.type
class CrmQueries:
    @strawberry.field(
        description="One lead. Admins see every lead, managers their own.",
        extensions=allowed(*LEAD_ROLES),
    )
    async def lead(self, info: Info, id: strawberry.ID) -> Lead:
        return Lead.of(await visible_lead(info.context.visibility(), str(id)))

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
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        closing: Annotated[LossReasonsCell | None, CLOSING] = None,
    ) -> LeadConnection:
        ctx = info.context
        rule = ctx.visibility()
        account = rule.caller.account
        args = page_args(first, after, last, before, default=50, maximum=MAX_PAGE)
        query = await _lead_filter(ctx, rule, filter, responsible, closing)
        if query is None:
            return lead_connection([], has_previous=False, has_next=False, total=0)
        found = await ctx.clients.crm.find_leads(
            args.into(
                crm_pb2.FindLeadsRequest(account=account, filter=query, ids_only=True)
            ),
        )
        ids = [x.lead_id for x in found.leads]
        leads = await ctx.clients.crm.get_leads(
            crm_pb2.GetLeadsRequest(account=account, ids=ids)
        )
        by_id = {x.id: x for x in leads.leads}
        return lead_connection(
            [by_id[x] for x in ids if x in by_id],
            has_previous=found.has_previous_page,
            has_next=found.has_next_page,
            total=found.total,
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
        closing: Annotated[LossReasonsCell | None, CLOSING] = None,
    ) -> list[strawberry.ID]:
        ctx = info.context
        rule = ctx.visibility()
        query = await _lead_filter(ctx, rule, filter, responsible, closing)
        if query is None:
            return []
        found = await ctx.clients.crm.find_leads(
            crm_pb2.FindLeadsRequest(
                account=rule.caller.account, filter=query, ids_only=True
            ),
        )
        return [strawberry.ID(x.lead_id) for x in found.leads]
