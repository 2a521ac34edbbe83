"""Groups, their members' limits, eligibility and the pool."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from gateway.context import Info
from gateway.schema.pages import lead_connection, page_args
from gateway.schema.types import LeadConnection, LimitVerdict
from gateway.visibility import allowed
from leadrouter import messages
from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.errors import BadInput, NotFound
from leadrouter.limits.v1 import limits_pb2
from leadrouter.timestamps import to_ts

STAFF = ("admin", "manager", "viewer")
MEMBERSHIP = {
    limits_pb2.MEMBERSHIP_ENABLED: "ENABLED",
    limits_pb2.MEMBERSHIP_DISABLED: "DISABLED",
    limits_pb2.MEMBERSHIP_NOT_A_MEMBER: "NOT_A_MEMBER",
    limits_pb2.MEMBERSHIP_EXCHANGE_USER: "EXCHANGE_USER",
}


@strawberry.enum
class Membership(Enum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"
    NOT_A_MEMBER = "NOT_A_MEMBER"
    EXCHANGE_USER = "EXCHANGE_USER"


@strawberry.type
class LimitSetting:
    limit: str
    value: int


@strawberry.type
class Member:
    user_id: strawberry.ID
    enabled: bool
    limits: list[LimitSetting]


@strawberry.type
class Group:
    id: strawberry.ID
    name: str
    source_stages: list[str]
    target_stage: str | None
    exchange_users: list[strawberry.ID]
    cascade: bool
    excluded_stages: list[str]
    key_stage: str | None
    sale_stages: list[str] = strawberry.field(description="Empty = every won stage.")
    loss_stages: list[str] = strawberry.field(description="Empty = every lost stage.")
    default_limits: list[LimitSetting] = strawberry.field(
        description="What a member without a value of their own takes (seed 000's "
        "default limits); empty = none."
    )
    members: list[Member]


@strawberry.type
class Eligibility:
    user_id: strawberry.ID
    membership: Membership
    eligible: bool
    limits: list[LimitVerdict]


async def load_groups(info: Info, ids: list[str]) -> list[Group]:
    ctx = info.context
    caller = ctx.require("admin", "manager", "viewer")
    dist = await ctx.clients.assigner.list_groups(
        assigner_pb2.ListGroupsRequest(account=caller.account, ids=ids)
    )
    lim = await ctx.clients.limits.get_group_limits(
        limits_pb2.GetGroupLimitsRequest(account=caller.account, group_ids=ids),
    )
    counting = {g.group_id: g for g in lim.groups}
    out = []
    for g in dist.groups:
        c = counting.get(g.id)
        members = (
            [
                Member(
                    user_id=strawberry.ID(m.user_id),
                    enabled=m.enabled,
                    limits=[
                        LimitSetting(limit=k, value=v)
                        for k, v in sorted(m.limits.items())
                    ],
                )
                for m in c.members
            ]
            if c
            else []
        )
        out.append(
            Group(
                id=strawberry.ID(g.id),
                name=g.name,
                source_stages=list(g.source_stages),
                target_stage=g.target_stage or None,
                exchange_users=[strawberry.ID(u) for u in g.exchange_users],
                cascade=g.cascade,
                excluded_stages=list(c.stages.excluded_stages) if c else [],
                key_stage=(c.stages.key_stage or None) if c else None,
                sale_stages=list(c.stages.sale_stages) if c else [],
                loss_stages=list(c.stages.loss_stages) if c else [],
                default_limits=[
                    LimitSetting(limit=k, value=v)
                    for k, v in sorted(c.default_limits.items())
                ]
                if c
                else [],
                members=members,
            )
        )
    return out


@strawberry.type
class GroupQueries:
    @strawberry.field(description="Distribution groups with settings and members.")
    async def groups(self, info: Info) -> list[Group]:
        return await load_groups(info, [])

    @strawberry.field
    async def group(self, info: Info, id: strawberry.ID) -> Group:
        found = await load_groups(info, [str(id)])
        if not found:
            raise NotFound(messages.not_found("group", str(id)))
        return found[0]

    @strawberry.field(
        description="Per user: eligible, and each enabled limit's verdict. `at` "
        "defaults to now (a what-if for another instant). A manager sees only "
        "their own.",
        extensions=allowed(*STAFF),
    )
    async def eligibility(
        self,
        info: Info,
        group_id: strawberry.ID,
        user_ids: list[strawberry.ID] | None = None,
        at: datetime | None = None,
    ) -> list[Eligibility]:
        ctx = info.context
        rule = ctx.visibility()
        caller = rule.caller
        users = rule.users([str(u) for u in user_ids or []], "eligibility")
        if at is not None and at.tzinfo is None:
            raise BadInput(messages.needs_offset("at"))
        request = limits_pb2.GetEligibilityRequest(
            account=caller.account, group_id=str(group_id), user_ids=users
        )
        if at is not None:
            request.at.CopyFrom(to_ts(at))
        reply = await ctx.clients.limits.get_eligibility(request)
        return [
            Eligibility(
                user_id=strawberry.ID(u.user_id),
                membership=Membership(MEMBERSHIP.get(u.membership, "NOT_A_MEMBER")),
                eligible=u.eligible,
                limits=[LimitVerdict.of(v) for v in u.verdicts],
            )
            for u in reply.users
        ]

    @strawberry.field(
        description="The leads a claim would draw from, in claim order. A manager "
        "sees the pools of their own groups.",
        extensions=allowed(*STAFF),
    )
    async def pool(
        self,
        info: Info,
        group_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> LeadConnection:
        ctx = info.context
        rule = ctx.visibility()
        args = page_args(first, after, last, before, default=20, maximum=500)
        await rule.require_pool(str(group_id))
        page = await ctx.clients.assigner.get_pool(
            args.into(
                assigner_pb2.GetPoolRequest(
                    account=rule.caller.account, group_id=str(group_id)
                )
            ),
        )
        return lead_connection(
            list(page.leads),
            has_previous=page.has_previous_page,
            has_next=page.has_next_page,
            total=page.total,
        )
