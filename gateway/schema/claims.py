"""The "Get lead" button and the decision journal."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from gateway.context import Info
from gateway.schema.pages import page_args, page_info
from gateway.schema.types import (
    Claimed,
    ClaimResult,
    Decision,
    DecisionConnection,
    DecisionEdge,
    Lead,
    Reason,
    Refused,
)
from gateway.visibility import allowed
from leadrouter import messages, sign_in_messages
from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.cursors import decision_cursor
from leadrouter.errors import BadInput, Forbidden, NotFound
from leadrouter.timestamps import to_ts

MAX_KEY = 200
JOURNAL_ROLES = ("admin", "manager", "partner", "viewer")


@strawberry.type
class ClaimMutations:
    @strawberry.mutation(
        description="Press 'Get lead': the oldest pool lead, or the reasons it was "
        "refused. The same idempotency key returns the first result again."
    )
    async def claim_lead(
        self,
        info: Info,
        group_id: strawberry.ID,
        idempotency_key: str | None = None,
        user_id: strawberry.ID | None = None,
    ) -> ClaimResult:
        ctx = info.context
        caller = ctx.require("admin", "manager")
        who = str(user_id) if user_id is not None else caller.user_id
        if who != caller.user_id and not caller.is_admin:
            raise Forbidden(sign_in_messages.claim_only_for_themselves())
        if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_KEY:
            raise BadInput(messages.key_length("idempotencyKey", MAX_KEY))
        if ctx.rate_limits is not None:
            # Per person pressing: an admin claiming for others spends their own.
            ctx.rate_limits.claims.take((caller.account, caller.user_id))
        reply = await ctx.clients.assigner.claim_lead(
            assigner_pb2.ClaimLeadRequest(
                account=caller.account,
                group_id=str(group_id),
                user_id=who,
                idempotency_key=idempotency_key or "",
            ),
        )
        decision = Decision.of(reply.decision)
        if reply.claimed:
            return Claimed(lead=Lead.of(reply.lead), decision=decision)
        return Refused(reasons=[Reason.of(r) for r in reply.reasons], decision=decision)


@strawberry.type
class DecisionQueries:
    @strawberry.field(
        description="The decision journal, newest first. A manager reads only "
        "their own decisions: those they made or that gave them a lead.",
        extensions=allowed(*JOURNAL_ROLES),
    )
    async def decisions(
        self,
        info: Info,
        lead_id: strawberry.ID | None = None,
        user_id: strawberry.ID | None = None,
        group_id: strawberry.ID | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> DecisionConnection:
        ctx = info.context
        rule = ctx.visibility()
        user = rule.user(str(user_id or ""), "decisions")
        args = page_args(first, after, last, before, default=20, maximum=500)
        request = args.into(
            assigner_pb2.ListDecisionsRequest(
                account=rule.caller.account,
                lead_id=str(lead_id or ""),
                user_id=user,
                group_id=str(group_id or ""),
            )
        )
        for name, value in (("from", from_), ("to", to)):
            if value is not None:
                if value.tzinfo is None:
                    raise BadInput(messages.needs_offset(name))
                getattr(request, name).CopyFrom(to_ts(value))
        page = await ctx.clients.assigner.list_decisions(request)
        cursors = [decision_cursor(int(d.id)) for d in page.decisions]
        return DecisionConnection(
            edges=[
                DecisionEdge(cursor=c, node=Decision.of(d))
                for c, d in zip(cursors, page.decisions, strict=True)
            ],
            page_info=page_info(
                cursors,
                has_previous=page.has_previous_page,
                has_next=page.has_next_page,
            ),
        )

    @strawberry.field(
        description="One decision with its full explanation.",
        extensions=allowed(*JOURNAL_ROLES),
    )
    async def decision(self, info: Info, id: strawberry.ID) -> Decision:
        ctx = info.context
        rule = ctx.visibility()
        d = await ctx.clients.assigner.get_decision(
            assigner_pb2.GetDecisionRequest(account=rule.caller.account, id=str(id)),
        )
        if not rule.sees_decision(d.actor, d.assignee):
            # Same answer as a missing one: a manager learns nothing of others' work.
            raise NotFound(messages.not_found("decision", str(id)))
        return Decision.of(d)
