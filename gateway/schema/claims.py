"""The "Get lead" button and the decision journal."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from gateway.context import Info
from gateway.schema.types import (
    Claimed,
    ClaimResult,
    Decision,
    DecisionConnection,
    DecisionEdge,
    Lead,
    PageInfo,
    Reason,
    Refused,
)
from gateway.visibility import allowed
from leadrouter import messages
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
            raise Forbidden("a manager can claim only for themselves")
        if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_KEY:
            raise BadInput(f"idempotencyKey must be 1..{MAX_KEY} characters")
        if ctx.rate_limits is not None:
            # Per person pressing: an admin claiming for others spends their own.
            ctx.rate_limits.claims.take((caller.account, caller.user_id))
        reply = await ctx.clients.assigner.call(
            "ClaimLead",
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
        first: int = 20,
        after: str | None = None,
    ) -> DecisionConnection:
        ctx = info.context
        rule = ctx.visibility()
        caller = rule.caller
        user = rule.user(str(user_id or ""), "decisions")
        if not 0 < first <= 500:
            raise BadInput("first must be between 1 and 500")
        request = assigner_pb2.ListDecisionsRequest(
            account=caller.account,
            lead_id=str(lead_id or ""),
            user_id=user,
            group_id=str(group_id or ""),
            first=first,
            after=after or "",
        )
        for name, value in (("from", from_), ("to", to)):
            if value is not None:
                if value.tzinfo is None:
                    raise BadInput(f"'{name}' needs a UTC offset")
                getattr(request, name).CopyFrom(to_ts(value))
        page = await ctx.clients.assigner.call("ListDecisions", request)
        return DecisionConnection(
            edges=[
                DecisionEdge(cursor=decision_cursor(int(d.id)), node=Decision.of(d))
                for d in page.decisions
            ],
            page_info=PageInfo(
                has_next_page=bool(page.end_cursor), end_cursor=page.end_cursor or None
            ),
        )

    @strawberry.field(
        description="One decision with its full explanation.",
        extensions=allowed(*JOURNAL_ROLES),
    )
    async def decision(self, info: Info, id: strawberry.ID) -> Decision:
        ctx = info.context
        rule = ctx.visibility()
        d = await ctx.clients.assigner.call(
            "GetDecision",
            assigner_pb2.GetDecisionRequest(account=rule.caller.account, id=str(id)),
        )
        if not rule.sees_decision(d.actor, d.assignee):
            # Same answer as a missing one: a manager learns nothing of others' work.
            raise NotFound(messages.not_found("decision", str(id)))
        return Decision.of(d)
