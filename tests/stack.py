"""The whole product in one test: real gRPC servers on loopback, real databases."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from gateway.app import create_app
from leadrouter.auth import issue_token
from leadrouter.clients import Clients
from leadrouter.clock import FixedClock
from leadrouter.config import SERVICES, Settings
from leadrouter.db import Database
from leadrouter.rpc import ServiceRunner
from leadrouter.serve import builder


@dataclass
class Stack:
    settings: Settings
    clock: FixedClock
    clients: Clients
    http: httpx.AsyncClient
    runners: dict[str, ServiceRunner]
    dbs: dict[str, Database]
    account: str = "acme"

    def token(
        self, user: str, role: str = "manager", account: str | None = None
    ) -> str:
        return issue_token(
            self.settings.signing_secret,
            account=account or self.account,
            user_id=user,
            role=role,
            now=self.clock.now(),
            ttl=timedelta(hours=1),
        )

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        user: str = "head",
        role: str = "admin",
        token: str | None = None,
    ) -> dict[str, Any]:
        """The full GraphQL response (data and errors) as a client sees it."""
        headers = {}
        if token != "":
            headers["Authorization"] = f"Bearer {token or self.token(user, role)}"
        reply = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
        )
        assert reply.status_code == 200, reply.text
        body: dict[str, Any] = reply.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, **kw: Any
    ) -> Any:
        body = await self.gql(query, variables, **kw)
        assert not body.get("errors"), json.dumps(body["errors"], indent=2)
        return body["data"]

    async def apply(self, yaml_text: str) -> dict[str, Any]:
        result = await self.data(
            "mutation($y: String!) { applyWorkspace(yaml: $y) "
            "{ ok changes problems { path message } } }",
            {"y": yaml_text},
        )
        return result["applyWorkspace"]

    async def import_history(self, events: list[dict[str, Any]]) -> None:
        from leadrouter.crm.v1 import crm_pb2

        reply = await self.clients.crm.import_history(
            crm_pb2.ImportHistoryRequest(
                account=self.account, lines=[json.dumps(e) for e in events]
            ),
        )
        assert not reply.problems, [f"{p.path}: {p.message}" for p in reply.problems]


@asynccontextmanager
async def running_stack(
    data_dir: Path, database_url: str | None, now: datetime, **configured: Any
) -> AsyncIterator[Stack]:
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret="test-secret-of-at-least-thirty-two-bytes",
        account="acme",
        **configured,
    )
    clock = FixedClock(now)
    addresses: dict[str, Sequence[str]] = {}
    clients = Clients(addresses, timeout=30)  # filled in as servers come up
    runners: dict[str, ServiceRunner] = {}
    dbs: dict[str, Database] = {}
    try:
        for service in SERVICES:
            runner, db = builder(service)(settings, clock, clients)
            port = await runner.start("127.0.0.1:0")
            addresses[service] = [f"127.0.0.1:{port}"]
            runners[service], dbs[service] = runner, db
        app = create_app(settings, clients, clock)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://gateway"
        ) as http:
            yield Stack(settings, clock, clients, http, runners, dbs)
    finally:
        await clients.close()
        for runner in runners.values():
            await runner.stop(grace=0)
        for db in dbs.values():
            db.close()
