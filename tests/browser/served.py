"""The product of an in-process stack, served to a real browser on loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn

from gateway.app import create_app
from tests.stack import Stack


@asynccontextmanager
async def served_gateway(stack: Stack) -> AsyncIterator[str]:
    """The stack's gateway on a free loopback port; yields its base URL."""
    app = create_app(stack.settings, stack.clients, stack.clock)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve([sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
