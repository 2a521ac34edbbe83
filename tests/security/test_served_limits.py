"""The bounds hold on the gateway as it is run (`python -m gateway`), not only
in-process: an oversized body over HTTP and an oversized WebSocket message."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from gateway.request_size import MAX_REQUEST_BYTES
from tests.processes import process_stack


async def _oversized_message(url: str) -> int | None:
    """Sends a subscribe message past the ceiling; the close code it gets."""
    async with connect(
        url.replace("http://", "ws://") + "/graphql",
        subprotocols=[Subprotocol("graphql-transport-ws")],
        max_size=None,
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack"
        query = "subscription { decisionMade { id } }" + " " * MAX_REQUEST_BYTES
        await ws.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}})
        )
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
        return closed.value.rcvd.code if closed.value.rcvd else None


def test_the_running_gateway_refuses_oversized_bodies_and_messages(
    tmp_path: Path,
) -> None:
    with process_stack(tmp_path / "var", None) as stack:
        reply = httpx.post(
            f"{stack.url}/graphql",
            content=b" " * (MAX_REQUEST_BYTES + 1),
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert reply.status_code == 413
        assert reply.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert asyncio.run(_oversized_message(stack.url)) == 1009  # message too big
        healthy = httpx.get(f"{stack.url}/healthz", timeout=10)
        assert healthy.status_code == 200  # and the gateway serves on
