"""The crm's event log as its followers read it while presses run concurrently.

Followers (the assigner's push, the reports) read "events after my offset";
an event that committed later with a smaller offset than one already read
would be passed over for good.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from leadrouter.crm.v1 import crm_pb2
from tests.e2e.test_claim import CLAIM
from tests.fixtures import WORKSPACE, lead_created
from tests.stack import Stack

pytestmark = pytest.mark.slow

MANAGERS = ["ursula", "nadezhda", "marina"]
PRESSES = 24


async def test_a_follower_reading_during_concurrent_presses_sees_every_event_once(
    any_stack: Stack,
) -> None:
    stack = any_stack
    assert (await stack.apply(WORKSPACE))["ok"]
    start = stack.clock.now() - timedelta(days=1)
    await stack.import_history(
        [
            lead_created(
                f"L{i:02d}", start + timedelta(minutes=i), contacts=[f"C{i}", f"D{i}"]
            )
            for i in range(PRESSES)
        ]
    )
    seen: list[crm_pb2.CrmEvent] = []
    grew = asyncio.Event()
    call = stack.clients.crm.stream_events(
        crm_pb2.StreamEventsRequest(after_offset=0, follow=True)
    )

    async def follow() -> None:
        async for event in call:
            seen.append(event)
            grew.set()

    follower = asyncio.create_task(follow())
    try:
        # Each manager presses one after another (the limits service records
        # one manager's claims one at a time); the managers press at once.
        async def presses(user: str) -> list[dict]:
            return [
                await stack.data(CLAIM, {"g": "main"}, user=user, role="manager")
                for _ in range(PRESSES // len(MANAGERS))
            ]

        replies = [
            reply
            for mine in await asyncio.gather(*(presses(m) for m in MANAGERS))
            for reply in mine
        ]
        claimed = [
            r["claimLead"]["lead"]["id"]
            for r in replies
            if r["claimLead"]["__typename"] == "Claimed"
        ]
        logged = [
            e
            async for e in stack.clients.crm.stream_events(
                crm_pb2.StreamEventsRequest(after_offset=0, follow=False),
            )
        ]
        # Each claim hands over the lead, moves its stage and its two contacts.
        assert len(claimed) >= 2
        assert sum(e.type == "responsible_changed" for e in logged) == len(claimed)

        async def caught_up() -> None:
            while len(seen) < len(logged):
                grew.clear()
                await grew.wait()

        await asyncio.wait_for(caught_up(), timeout=30)
    finally:
        follower.cancel()
        call.cancel()
    offsets = [e.offset for e in seen[: len(logged)]]
    assert offsets == [e.offset for e in logged]
    assert offsets == sorted(set(offsets))
    assert [e.type for e in seen[: len(logged)]] == [e.type for e in logged]
