"""Requests to a small ASGI app in memory: no server, no port."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.types import ASGIApp


async def call(app: ASGIApp, method: str, path: str, **kwargs: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as c:
        return await c.request(method, path, **kwargs)
