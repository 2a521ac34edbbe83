"""Visibility of the subscriptions: the live journal and the pool's changes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from typing import Any

from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from tests.security.visibility.world import (
    FORBIDDEN,
    OWN,
    WAIT,
    A,
    Items,
    Probe,
    World,
    decisions_of,
    graphql,
)


def live_journal(group: str | None) -> Probe:
    """The live journal replayed from its start up to the sentinel decision."""

    async def probe(world: World, token: str) -> Items | str:
        # The newest decision this caller's journal shows ends the replay.
        newest = await graphql(
            world, token, "{ decisions(first: 1) { edges { node { id } } } }"
        )
        last = newest["decisions"]["edges"][0]["node"]["id"]
        query = (
            "subscription($g: ID, $after: ID) { decisionMade(groupId: $g, "
            "after: $after) { id actor assignee } }"
        )
        seen: list[dict[str, Any]] = []
        async with connect(
            world.ws, subprotocols=[Subprotocol("graphql-transport-ws")]
        ) as ws:
            payload = {"Authorization": f"Bearer {token}"}
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert ack["type"] == "connection_ack", ack
            variables = {"g": group, "after": "0"}
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": query, "variables": variables},
                    }
                )
            )
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
                payload = message.get("payload")
                if message["type"] == "error" or payload.get("errors"):
                    errors = (
                        payload if message["type"] == "error" else payload["errors"]
                    )
                    return str(errors[0]["extensions"]["code"])
                d = payload["data"]["decisionMade"]
                seen.append(d)
                if d["id"] == last:
                    return decisions_of(seen)

    return probe


def live_pool(world: World, token: str) -> Awaitable[Items | str]:
    async def probe() -> Items | str:
        async with connect(
            world.ws, subprotocols=[Subprotocol("graphql-transport-ws")]
        ) as ws:
            payload = {"Authorization": f"Bearer {token}"}
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            query = 'subscription { poolChanged(groupId: "main") { totalCount } }'
            await ws.send(
                json.dumps(
                    {"id": "1", "type": "subscribe", "payload": {"query": query}}
                )
            )
            message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            payload = message["payload"]
            if message["type"] == "error" or payload.get("errors"):
                errors = payload if message["type"] == "error" else payload["errors"]
                return str(errors[0]["extensions"]["code"])
            return [{"pool"}]  # a pool's leads belong to the exchange, to nobody

    return probe()


# One row per subscription: (name, probe, what each role gets).
ROWS: list[tuple[str, Probe, dict[str, str]]] = [
    (
        "subscription decisionMade",
        live_journal(None),
        {"admin": A, "viewer": A, "partner": A, "manager": OWN, "outsider": OWN},
    ),
    (
        "subscription decisionMade(groupId)",
        live_journal("main"),
        {"admin": A, "viewer": A, "partner": A, "manager": OWN, "outsider": OWN},
    ),
    (
        "subscription poolChanged",
        live_pool,
        {
            "admin": A,
            "viewer": A,
            "partner": FORBIDDEN,
            "manager": A,
            "outsider": FORBIDDEN,
        },
    ),
]
