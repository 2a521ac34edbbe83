"""Live subscriptions over a real WebSocket: decisions and pool changes as they come."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.e2e.reports_fixtures import (
    START,
    WORKSPACE,
    claim,
    live_gateway,
    long_token,
    pool_lead,
    tomsk,
)
from tests.stack import Stack

WAIT = 10.0  # seconds an expected message may take to arrive

DECISIONS = """
subscription($g: ID, $after: ID) {
  decisionMade(groupId: $g, after: $after) {
    id kind outcome groupId actor assignee leadId details
  }
}
"""
POOL = """
subscription($g: ID!) {
  poolChanged(groupId: $g) { groupId totalCount nextLead { id } }
}
"""


@pytest.fixture
async def ws_url(stack: Stack) -> AsyncIterator[str]:
    result = await stack.apply(WORKSPACE)
    assert result["ok"], result["problems"]
    start = tomsk(2026, 10, 20)
    await stack.import_history(
        [pool_lead(f"L{i}", start + timedelta(minutes=i)) for i in range(3)]
        + [pool_lead(f"V{i}", start + timedelta(minutes=i), "vip") for i in range(2)]
    )
    async with live_gateway(stack) as url:
        yield url


async def _open(
    url: str, token: str | None, *, in_header: bool = False
) -> ClientConnection:
    headers = {"Authorization": f"Bearer {token}"} if token and in_header else {}
    ws = await connect(
        url,
        subprotocols=[Subprotocol("graphql-transport-ws")],
        additional_headers=headers,
    )
    payload = {"Authorization": f"Bearer {token}"} if token and not in_header else {}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    return ws


async def _acked(ws: ClientConnection) -> None:
    reply = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
    assert reply["type"] == "connection_ack", reply


async def _subscribe(
    ws: ClientConnection, query: str, variables: dict[str, Any], op: str = "1"
) -> None:
    await ws.send(
        json.dumps(
            {
                "id": op,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables},
            }
        )
    )


async def _next(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
    return message


async def _latest_decision(stack: Stack) -> str:
    data = await stack.data("{ decisions(first: 1) { edges { node { id } } } }")
    edges = data["decisions"]["edges"]
    return str(edges[0]["node"]["id"]) if edges else "0"


async def test_a_claim_made_while_subscribed_arrives_as_a_decision(
    stack: Stack, ws_url: str
) -> None:
    ws = await _open(ws_url, stack.token("head", "admin"))
    try:
        await _acked(ws)
        await _subscribe(ws, DECISIONS, {"after": await _latest_decision(stack)})
        made = await claim(stack, "ursula", "main", tomsk(2026, 11, 2, 10))
        message = await _next(ws)
        assert message["type"] == "next", message
        decision = message["payload"]["data"]["decisionMade"]
        assert decision["id"] == made.decision_id
        assert decision["kind"] == "claim"
        assert decision["outcome"] == "claimed"
        assert decision["assignee"] == "ursula"
        assert decision["leadId"] == made.lead
        assert decision["groupId"] == "main"
        assert "limits" in decision["details"]
    finally:
        await ws.close()


async def test_a_manager_receives_only_their_own_decisions(
    stack: Stack, ws_url: str
) -> None:
    after = await _latest_decision(stack)
    ws = await _open(ws_url, stack.token("marina", "manager"), in_header=True)
    try:
        await _acked(ws)
        await _subscribe(ws, DECISIONS, {"after": after})
        # Colleagues' claims, in her group and in another, do not reach her;
        # her own claim does.
        await claim(stack, "nadezhda", "vip", tomsk(2026, 11, 2, 10))
        await claim(stack, "ursula", "main", tomsk(2026, 11, 2, 11))
        mine = await claim(stack, "marina", "main", tomsk(2026, 11, 2, 12))
        message = await _next(ws)
        assert message["payload"]["data"]["decisionMade"]["id"] == mine.decision_id
    finally:
        await ws.close()


async def test_a_manager_following_another_group_gets_only_their_own_there(
    stack: Stack, ws_url: str
) -> None:
    after = await _latest_decision(stack)
    ws = await _open(ws_url, stack.token("marina", "manager"))
    try:
        await _acked(ws)
        await _subscribe(ws, DECISIONS, {"g": "vip", "after": after})
        await claim(stack, "nadezhda", "vip", tomsk(2026, 11, 2, 10))
        # Marina is no member of 'vip': her press there is refused, and that
        # refusal is hers to see.
        stack.clock.set(tomsk(2026, 11, 2, 11))
        try:
            await stack.data(
                'mutation { claimLead(groupId: "vip") { __typename } }',
                token=long_token(stack, "marina"),
            )
        finally:
            stack.clock.set(START)
        decision = (await _next(ws))["payload"]["data"]["decisionMade"]
        assert (decision["actor"], decision["outcome"]) == ("marina", "refused")
    finally:
        await ws.close()


async def test_a_subscription_without_a_token_is_unauthenticated(
    stack: Stack, ws_url: str
) -> None:
    ws = await _open(ws_url, None)
    try:
        await _acked(ws)
        await _subscribe(ws, DECISIONS, {})
        message = await _next(ws)
        errors = message["payload"].get("errors", message["payload"])
        assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    finally:
        await ws.close()


async def test_a_bad_token_in_connection_init_closes_the_socket(
    stack: Stack, ws_url: str
) -> None:
    ws = await _open(ws_url, "not-a-token")
    try:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), WAIT)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4403
    finally:
        await ws.close()


async def test_pool_changed_gives_the_pool_then_each_change(
    stack: Stack, ws_url: str
) -> None:
    ws = await _open(ws_url, stack.token("ursula", "manager"))
    try:
        await _acked(ws)
        await _subscribe(ws, POOL, {"g": "main"})
        first = (await _next(ws))["payload"]["data"]["poolChanged"]
        assert first == {"groupId": "main", "totalCount": 3, "nextLead": {"id": "L0"}}

        await claim(stack, "nadezhda", "main", tomsk(2026, 11, 2, 10))
        taken = (await _next(ws))["payload"]["data"]["poolChanged"]
        assert taken == {"groupId": "main", "totalCount": 2, "nextLead": {"id": "L1"}}

        await stack.import_history([pool_lead("L9", tomsk(2026, 11, 2, 10, 5))])
        arrived = (await _next(ws))["payload"]["data"]["poolChanged"]
        assert arrived["totalCount"] == 3
        assert arrived["nextLead"] == {"id": "L1"}
    finally:
        await ws.close()


async def test_a_manager_may_not_follow_another_groups_pool(
    stack: Stack, ws_url: str
) -> None:
    ws = await _open(ws_url, stack.token("marina", "manager"))
    try:
        await _acked(ws)
        await _subscribe(ws, POOL, {"g": "vip"})
        message = await _next(ws)
        errors = message["payload"].get("errors", message["payload"])
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    finally:
        await ws.close()
