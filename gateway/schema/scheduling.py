"""Presence, working intervals and who is on duty."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from gateway.context import Context, Info
from gateway.visibility import allowed
from leadrouter import messages
from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import BadInput, NotFound
from leadrouter.scheduler.v1 import scheduler_pb2
from leadrouter.timestamps import from_ts, to_ts


@strawberry.type
class Duty:
    user_id: strawberry.ID
    working: bool = strawberry.field(description="Working per schedule.")
    online: bool
    on_duty: bool = strawberry.field(description="Working and online.")

    @classmethod
    def of(cls, d: scheduler_pb2.UserDuty) -> Duty:
        return cls(
            user_id=strawberry.ID(d.user_id),
            working=d.working,
            online=d.online,
            on_duty=d.on_duty,
        )


@strawberry.type
class Interval:
    start: datetime
    end: datetime


@strawberry.type
class TemplateParticipant:
    user_id: strawberry.ID
    weight: int
    on_duty: bool


@strawberry.type
class MatchedTemplate:
    id: strawberry.ID
    algorithm: str
    participants: list[TemplateParticipant]
    hold: bool
    fallback_user: strawberry.ID | None


@strawberry.type
class OnDuty:
    at: datetime
    users: list[Duty]
    template: MatchedTemplate | None = strawberry.field(
        description="For a channel: the template that would take such a lead."
    )
    next_opening: datetime | None = strawberry.field(
        description="For a channel no template takes now: when one will."
    )


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise BadInput(messages.needs_offset_like(name, value.isoformat()))


async def _require_user(ctx: Context, account: str, user_id: str) -> None:
    """NOT_FOUND for a user the account does not have, rather than a silent no-op."""
    try:
        directory = await ctx.clients.crm.get_directory(
            crm_pb2.GetDirectoryRequest(account=account)
        )
    except NotFound:
        directory = None
    if directory is None or all(u.id != user_id for u in directory.users):
        raise NotFound(messages.not_found("user", user_id))


@strawberry.type
class SchedulingQueries:
    @strawberry.field(
        description="Working intervals of a user in a range; a manager's own only.",
        extensions=allowed("admin", "manager", "viewer"),
    )
    async def schedule(
        self,
        info: Info,
        user_id: strawberry.ID,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
    ) -> list[Interval]:
        ctx = info.context
        rule = ctx.visibility()
        caller = rule.caller
        rule.user(str(user_id), "schedule")
        _aware("from", from_)
        _aware("to", to)
        await _require_user(ctx, caller.account, str(user_id))
        request = scheduler_pb2.GetWorkingIntervalsRequest(
            account=caller.account, user_ids=[str(user_id)], to=to_ts(to)
        )
        getattr(request, "from").CopyFrom(to_ts(from_))
        reply = await ctx.clients.scheduler.get_working_intervals(request)
        return [
            Interval(start=from_ts(i.start), end=from_ts(i.end))
            for u in reply.users
            for i in u.intervals
        ]

    @strawberry.field(
        description="Users on duty at `at` (default now); for a channel, the template "
        "that would take such a lead and its participants. A manager sees only "
        "themselves among them.",
        extensions=allowed("admin", "manager", "partner", "viewer"),
    )
    async def on_duty(
        self, info: Info, at: datetime | None = None, channel: str | None = None
    ) -> OnDuty:
        ctx = info.context
        rule = ctx.visibility()
        caller = rule.caller
        _aware("at", at)
        when = at or ctx.clock.now()
        duty = await ctx.clients.scheduler.get_duty(
            scheduler_pb2.GetDutyRequest(account=caller.account, at=to_ts(when)),
        )
        result = OnDuty(
            at=when,
            users=[
                Duty.of(d)
                for d in duty.users
                if d.on_duty and rule.sees_user(d.user_id)
            ],
            template=None,
            next_opening=None,
        )
        if channel is not None:
            match = await ctx.clients.scheduler.match_template(
                scheduler_pb2.MatchTemplateRequest(
                    account=caller.account,
                    lead=scheduler_pb2.LeadFacts(channel=channel),
                    at=to_ts(when),
                ),
            )
            if match.matched:
                t = match.template
                result.template = MatchedTemplate(
                    id=strawberry.ID(t.id),
                    algorithm=t.algorithm,
                    hold=t.hold,
                    fallback_user=strawberry.ID(t.fallback_user)
                    if t.fallback_user
                    else None,
                    participants=[
                        TemplateParticipant(
                            user_id=strawberry.ID(p.user_id),
                            weight=p.weight,
                            on_duty=p.duty.on_duty,
                        )
                        for p in t.participants
                        if rule.sees_user(p.user_id)
                    ],
                )
            elif match.HasField("next_opening"):
                result.next_opening = from_ts(match.next_opening)
        return result


@strawberry.type
class SchedulingMutations:
    @strawberry.mutation(
        description="ONLINE or OFFLINE: a manager for themselves, an admin for anyone."
    )
    async def set_presence(
        self, info: Info, user_id: strawberry.ID, online: bool
    ) -> Duty:
        ctx = info.context
        caller = ctx.require_self_or_admin(str(user_id), "admin", "manager")
        await _require_user(ctx, caller.account, str(user_id))
        duty = await ctx.clients.scheduler.set_presence(
            scheduler_pb2.SetPresenceRequest(
                account=caller.account,
                user_id=str(user_id),
                online=online,
                at=to_ts(ctx.clock.now()),
            ),
        )
        if duty.on_duty:
            # Someone came on duty: leads held for want of anyone go out now,
            # not at the next periodic round.
            await ctx.clients.assigner.tick(
                assigner_pb2.TickRequest(account=caller.account)
            )
        return Duty.of(duty)
