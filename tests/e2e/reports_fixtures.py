"""Helpers for the report tests: a workspace with two groups, claims, catching up."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import uvicorn
from starlette.types import ASGIApp

from gateway.app import create_app
from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.auth import issue_token
from leadrouter.clients import Clients
from leadrouter.crm.v1 import crm_pb2
from leadrouter.reports.v1 import reports_pb2
from tests.stack import Stack

TOMSK = ZoneInfo("Asia/Tomsk")
# The stack's starting clock. Tokens for claims at other moments are issued
# then: a token issued "in the future" of the real clock is refused.
START = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)

WORKSPACE = """
account: {timezone: Asia/Tomsk}
users:
  - {id: head, name: Head}
  - {id: ursula, name: Ursula}
  - {id: nadezhda, name: Nadezhda}
  - {id: marina, name: Marina}
  - {id: pool, name: Lead exchange, technical: true}
pipelines:
  - id: sales
    stages:
      - {id: new, kind: open}
      - {id: vip, kind: open}
      - {id: taken, kind: open}
      - {id: meeting, kind: open}
      - {id: won, kind: won}
      - {id: lost, kind: lost}
groups:
  - id: main
    name: Sales floor
    source_stages: [sales/new]
    target_stage: sales/taken
    exchange_users: [pool]
    members:
      - {user: ursula}
      - {user: nadezhda}
      - {user: marina}
  - id: vip
    name: Key accounts
    source_stages: [sales/vip]
    target_stage: sales/taken
    exchange_users: [pool]
    members:
      - {user: ursula}
      - {user: nadezhda}
"""

CLAIM = """
mutation($g: ID!) {
  claimLead(groupId: $g) {
    __typename
    ... on Claimed { lead { id } decision { id at kind assignee groupId } }
    ... on Refused { reasons { code } }
  }
}
"""


def tomsk(y: int, m: int, d: int, hh: int = 12, mm: int = 0) -> datetime:
    """A wall-clock moment in the account's zone."""
    return datetime(y, m, d, hh, mm, tzinfo=TOMSK)


def pool_lead(lead: str, at: datetime, stage: str = "new") -> dict[str, Any]:
    return {
        "type": "lead_created",
        "at": at.isoformat(),
        "lead": lead,
        "name": f"Lead {lead}",
        "pipeline": "sales",
        "stage": stage,
        "responsible": "pool",
        "channel": "form",
    }


@dataclass(frozen=True)
class Claim:
    """A claim as the claimer saw it in the claimLead answer."""

    decision_id: str
    lead: str
    user: str
    group: str
    at: datetime


def long_token(stack: Stack, user: str, role: str = "manager") -> str:
    """A token valid from the stack's start for a year, whatever the clock says."""
    return issue_token(
        stack.settings.signing_secret,
        account=stack.account,
        user_id=user,
        role=role,
        now=START,
        ttl=timedelta(days=366),
    )


async def claim(stack: Stack, user: str, group: str, at: datetime) -> Claim:
    """Presses the button as `user` at `at`, then puts the clock back."""
    stack.clock.set(at)
    try:
        data = await stack.data(CLAIM, {"g": group}, token=long_token(stack, user))
    finally:
        stack.clock.set(START)
    result = data["claimLead"]
    assert result["__typename"] == "Claimed", result
    d = result["decision"]
    return Claim(
        decision_id=d["id"],
        lead=result["lead"]["id"],
        user=d["assignee"],
        group=d["groupId"],
        at=datetime.fromisoformat(d["at"]),
    )


async def _crm_tail(clients: Clients) -> int:
    last = 0
    call = clients.crm.stream_events(
        crm_pb2.StreamEventsRequest(after_offset=0, follow=False)
    )
    async for e in call:
        last = e.offset
    return last


async def _decisions_tail(clients: Clients, account: str) -> int:
    page = await clients.assigner.list_decisions(
        assigner_pb2.ListDecisionsRequest(account=account, first=1),
    )
    return page.decisions[0].offset if page.decisions else 0


async def positions(clients: Clients) -> dict[str, int]:
    reply = await clients.reports.get_stream_positions(
        reports_pb2.GetStreamPositionsRequest()
    )
    return {p.stream: p.offset for p in reply.positions}


async def settled(stack: Stack, timeout: float = 15.0) -> None:
    """Waits (bounded) until the reports have read every decision and CRM event."""
    await caught_up(stack.clients, stack.account, timeout)


async def caught_up(clients: Clients, account: str, timeout: float) -> None:
    """`settled` for any running system: the reports have read both logs' ends."""
    want = {
        "assigner.decisions": await _decisions_tail(clients, account),
        "crm.events": await _crm_tail(clients),
    }
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        seen = await positions(clients)
        if all(seen.get(k, 0) >= v for k, v in want.items()):
            return
        if loop.time() > deadline:
            raise AssertionError(f"reports stuck at {seen}, want {want}")
        await asyncio.sleep(0.02)


def local_date(at: datetime) -> date:
    return at.astimezone(TOMSK).date()


def bucket_of(day: date, bucket: str) -> date:
    if bucket == "WEEK":
        return day - timedelta(days=day.weekday())
    if bucket == "MONTH":
        return day.replace(day=1)
    return day


@contextlib.asynccontextmanager
async def live_gateway(stack: Stack, app: ASGIApp | None = None) -> AsyncIterator[str]:
    """The gateway (or `app`) served by uvicorn on a free loopback port; yields
    its ws:// URL."""
    app = app or create_app(stack.settings, stack.clients, stack.clock)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="off",
        log_level="warning",
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not server.started:
        if task.done() or loop.time() > deadline:
            raise RuntimeError("the gateway did not start")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task
