"""Live GraphQL subscriptions: decisions as they are made and changes of a group's pool.

Both follow a service's event stream (the assigner's decision journal, the
crm's canonical events) for as long as the client stays subscribed. Auth is
that of queries: the bearer token comes with the WebSocket's HTTP headers or
in the `connection_init` payload as {"Authorization": "Bearer <token>"}.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable
from datetime import datetime
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.exceptions import ConnectionRejectionError

from gateway.context import Context, Info
from gateway.errors import code_of
from gateway.schema.types import Decision, Lead
from leadrouter import messages
from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.auth import Caller
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import LeadrouterError, Unavailable
from leadrouter.ids import decision_number
from leadrouter.reports.v1 import reports_pb2

# CRM events that can move a lead into or out of a pool.
POOL_EVENTS = frozenset(
    {
        "lead_created",
        "stage_changed",
        "responsible_changed",
        "lead_reopened",
        "lead_deleted",
        "lead_restored",
    }
)


def connection_token(params: Any) -> str | None:
    """The bearer token of a connection_init payload, if it carries one."""
    if not isinstance(params, dict):
        return None
    value = params.get("Authorization") or params.get("authorization") or ""
    if not isinstance(value, str):
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def authenticate_connection(
    context: Context, verify: Callable[[dict[str, str]], tuple[Caller | None, str]]
) -> None:
    """A token in connection_init replaces the header's; a bad one closes the socket."""
    params = getattr(context, "connection_params", None)
    token = connection_token(params)
    if token is None:
        return
    caller, problem = verify({"authorization": f"Bearer {token}"})
    if caller is None:
        raise ConnectionRejectionError({"message": problem, "code": "UNAUTHENTICATED"})
    context.caller, context.auth_error = caller, ""


async def _latest_decision(ctx: Context, account: str) -> int:
    page = await ctx.clients.assigner.list_decisions(
        assigner_pb2.ListDecisionsRequest(account=account, first=1)
    )
    return page.decisions[0].offset if page.decisions else 0


@strawberry.type(description="A group's pool as it is after a change.")
class PoolChanged:
    group_id: strawberry.ID
    total_count: int
    next_lead: Lead | None = strawberry.field(
        description="The lead the next claim would take."
    )
    at: datetime = strawberry.field(description="When the pool was read.")


async def _pool(ctx: Context, account: str, group_id: str) -> tuple[int, Lead | None]:
    page = await ctx.clients.assigner.get_pool(
        assigner_pb2.GetPoolRequest(account=account, group_id=group_id, first=1),
    )
    return page.total, Lead.of(page.leads[0]) if page.leads else None


async def _crm_position(ctx: Context) -> int:
    """Where the reports service has read the crm's events up to.

    The crm stream cannot start at its end, and a pool change is read from the
    pool itself, so any recent position will do: events before the subscription
    only make the pool be read again.
    """
    try:
        reply = await ctx.clients.reports.get_stream_positions(
            reports_pb2.GetStreamPositionsRequest()
        )
    except Unavailable as error:
        raise Unavailable(messages.pool_changes_unavailable()) from error
    return next((p.offset for p in reply.positions if p.stream == "crm.events"), 0)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Decisions (claims, refusals, pushes, manual assignments) as they "
        "are made; with `groupId`, only that group's. A manager receives only "
        "their own: those they made or that gave them a lead. `after` (a decision "
        "id) resumes after that decision, so a reconnecting client misses none."
    )
    async def decision_made(
        self,
        info: Info,
        group_id: strawberry.ID | None = None,
        after: strawberry.ID | None = None,
    ) -> AsyncGenerator[Decision, None]:
        async for d in public(_decisions(info.context, group_id, after)):
            yield d

    @strawberry.subscription(
        description="The group's pool now, then again each time it changes (a lead "
        "arrives, is claimed, assigned or moved out)."
    )
    async def pool_changed(
        self, info: Info, group_id: strawberry.ID
    ) -> AsyncGenerator[PoolChanged, None]:
        async for change in public(_pool_changes(info.context, str(group_id))):
            yield change


T = TypeVar("T")


async def public(source: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
    """Ends a subscription on a domain error with the code queries would give."""
    async with contextlib.aclosing(source):
        try:
            async for item in source:
                yield item
        except LeadrouterError as error:
            raise GraphQLError(
                str(error), extensions={"code": code_of(error)}
            ) from None


async def _decisions(
    ctx: Context, group_id: strawberry.ID | None, after: strawberry.ID | None
) -> AsyncGenerator[Decision, None]:
    rule = ctx.visibility("admin", "manager", "partner", "viewer")
    caller = rule.caller
    group = str(group_id) if group_id is not None else ""
    if after is not None:
        start = decision_number(str(after), "after")
    else:
        start = await _latest_decision(ctx, caller.account)

    def wanted(d: assigner_pb2.Decision) -> bool:
        if group and d.group_id != group:
            return False
        return rule.sees_decision(d.actor, d.assignee)

    call = ctx.clients.assigner.stream_decisions(
        assigner_pb2.StreamDecisionsRequest(
            account=caller.account, after_offset=start, follow=True
        ),
    )
    try:
        async for d in call:
            if wanted(d):
                yield Decision.of(d)
    finally:
        call.cancel()


async def _pool_changes(ctx: Context, group: str) -> AsyncGenerator[PoolChanged, None]:
    rule = ctx.visibility("admin", "manager", "viewer")
    caller = rule.caller
    await rule.require_pool(group)
    # The position is taken before the pool is read: a change in between is seen.
    after = await _crm_position(ctx)
    total, head = await _pool(ctx, caller.account, group)
    yield PoolChanged(
        group_id=strawberry.ID(group),
        total_count=total,
        next_lead=head,
        at=ctx.clock.now(),
    )
    seen = (total, head.id if head else None)
    events: asyncio.Queue[Any] = asyncio.Queue()
    call = ctx.clients.crm.stream_events(
        crm_pb2.StreamEventsRequest(
            account=caller.account, after_offset=after, follow=True
        ),
    )

    async def read() -> None:
        try:
            async for e in call:
                await events.put(e)
        finally:
            await events.put(None)

    reader = asyncio.create_task(read())
    try:
        while True:
            e = await events.get()
            touched = e is not None and e.type in POOL_EVENTS
            # Everything already arrived is one change: the pool is read once.
            while e is not None and not events.empty():
                e = events.get_nowait()
                touched = touched or (e is not None and e.type in POOL_EVENTS)
            if touched:
                total, head = await _pool(ctx, caller.account, group)
                now = (total, head.id if head else None)
                if now != seen:
                    seen = now
                    yield PoolChanged(
                        group_id=strawberry.ID(group),
                        total_count=total,
                        next_lead=head,
                        at=ctx.clock.now(),
                    )
            if e is None:
                raise Unavailable(messages.event_stream_ended())
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader
        call.cancel()
