"""The gateway as amoCRM mode serves it, over the test stack's services.

Widget tokens are checked only when the gateway runs with LEADROUTER_CRM=amocrm,
so the security tests put such a gateway in front of the same services; the
service's own bearer tokens work there as everywhere.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
from starlette.types import ASGIApp
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from gateway.app import create_app
from leadrouter.amocrm_token import issue_widget_token
from leadrouter.config import Settings
from tests.e2e.reports_fixtures import live_gateway
from tests.stack import Stack

WIDGET_SECRET = "integration-client-secret-of-32-bytes!"
AUDIENCE = "https://leadrouter.example"
AMO_ACCOUNT = 31000001
WIDGET_USER = 5003  # an amoCRM user id; the workspace declares it as a manager
WAIT = 10.0


def amocrm_settings(stack: Stack) -> Settings:
    return stack.settings.model_copy(
        update={
            "crm": "amocrm",
            "amocrm_client_secret": WIDGET_SECRET,
            "amocrm_redirect_uri": f"{AUDIENCE}/amocrm/oauth",
            "amocrm_account_id": AMO_ACCOUNT,
            "amocrm_subdomain": "emulated",
        }
    )


def widget_token(
    now: datetime,
    *,
    audience: str = AUDIENCE,
    secret: str = WIDGET_SECRET,
    account_id: int = AMO_ACCOUNT,
) -> str:
    return issue_widget_token(
        secret=secret,
        audience=audience,
        account_id=account_id,
        user_id=WIDGET_USER,
        subdomain="emulated",
        now=now,
    )


def headers_for(token: str | None, *, widget: bool = False) -> dict[str, str]:
    if token is None:
        return {}
    return {"X-Auth-Token": token} if widget else {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def amocrm_gateway(stack: Stack) -> AsyncIterator[tuple[ASGIApp, str]]:
    """The amoCRM-mode gateway as an ASGI app and served on a loopback port."""
    app = create_app(amocrm_settings(stack), stack.clients, stack.clock)
    async with live_gateway(stack, app) as url:
        yield app, url.removeprefix("ws://").removesuffix("/graphql")


@asynccontextmanager
async def client(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as http:
        yield http


async def first_message(
    address: str, headers: dict[str, str], query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """The first answer to a subscription: its data, or its errors."""
    async with connect(
        f"ws://{address}/graphql",
        subprotocols=[Subprotocol("graphql-transport-ws")],
        additional_headers=headers,
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert ack["type"] == "connection_ack", ack
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables},
                }
            )
        )
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        except ConnectionClosed as closed:
            return {"errors": [{"extensions": {"code": f"closed {closed.rcvd}"}}]}
        payload = message.get("payload")
        if message["type"] == "error":
            return {"errors": payload}
        assert message["type"] == "next", message
        result: dict[str, Any] = payload
        return result


TTL = timedelta(hours=1)
