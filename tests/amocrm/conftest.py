"""Fixtures: the amoCRM emulator on a loopback port, and clients of it on one clock."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from leadrouter.clock import FixedClock
from leadrouter.config import Settings
from leadrouter.db import Database
from services.crm.amocrm.auth import FileTokenStore, LongLivedToken, OAuth
from services.crm.amocrm.client import AmoClient
from services.crm.amocrm.connector import AmoConnector
from services.crm.amocrm.emulator import AmoEmulator
from services.crm.amocrm.hooks import HOOK_SETTINGS
from services.crm.amocrm.retries import sleeper_for
from services.crm.amocrm.sync import Syncer
from services.crm.store import CrmStore
from services.crm.tables import metadata

ACCOUNT = "acme"

# Monday 2 November 2026, 10:00 in Tomsk (UTC+7).
START = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


@dataclass
class Served:
    url: str
    server: uvicorn.Server
    task: asyncio.Task[None]

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task


def loopback_socket() -> socket.socket:
    """A listening socket on a free loopback port, to learn the port before serving."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


async def serve(app: ASGIApp, sock: socket.socket | None = None) -> Served:
    """Starts `app` with uvicorn on a free loopback port in this event loop."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve([sock] if sock else None))
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    return Served(f"http://127.0.0.1:{port}", server, task)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
async def emulator(
    clock: FixedClock, request: pytest.FixtureRequest
) -> AsyncIterator[AmoEmulator]:
    """The emulated account; a test module may set EMULATED_LEADS to seed fewer."""
    emu = AmoEmulator(clock=clock, leads=getattr(request.module, "EMULATED_LEADS", 300))
    served = await serve(emu)
    emu.url = served.url
    try:
        yield emu
    finally:
        await emu.aclose()
        await served.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


@pytest.fixture
def amo(emulator: AmoEmulator, clock: FixedClock, http: httpx.AsyncClient) -> AmoClient:
    """A client with a long-lived token."""
    return AmoClient(
        emulator.url,
        LongLivedToken(emulator.issue_long_lived_token()),
        clock=clock,
        sleeper=sleeper_for(clock),
        http=http,
    )


def oauth(
    emulator: AmoEmulator, clock: FixedClock, http: httpx.AsyncClient, tokens: Path
) -> OAuth:
    return OAuth(
        http=http,
        base_url=emulator.url,
        client_id=emulator.client_id,
        client_secret=emulator.client_secret,
        redirect_uri=emulator.redirect_uri,
        store=FileTokenStore(tokens),
        clock=clock,
        sleeper=sleeper_for(clock),
    )


def client_with(
    emulator: AmoEmulator, clock: FixedClock, http: httpx.AsyncClient, auth: OAuth
) -> AmoClient:
    return AmoClient(
        emulator.url, auth, clock=clock, sleeper=sleeper_for(clock), http=http
    )


def crm_database(path: Path) -> Database:
    """A crm service database (its tables and the connector's) in a SQLite file."""
    db = Database(f"sqlite:///{path}", "crm", metadata)
    db.create_all()
    return db


@pytest.fixture
def crm_db(tmp_path: Path) -> Iterator[Database]:
    db = crm_database(tmp_path / "crm.db")
    yield db
    db.close()


def syncer_for(
    amo: AmoClient, db: Database, clock: FixedClock, **kwargs: Any
) -> Syncer:
    return Syncer(
        amo=amo,
        db=db,
        store=CrmStore(db, clock),
        account=ACCOUNT,
        clock=clock,
        subdomain="emulated",
        **kwargs,
    )


def connector_settings(emulator: AmoEmulator, **changes: Any) -> Settings:
    """The crm service's amoCRM settings for the emulated account."""
    values: dict[str, Any] = {
        "crm": "amocrm",
        "account": ACCOUNT,
        "amocrm_subdomain": emulator.subdomain,
        "amocrm_base_url": emulator.url,
        "amocrm_long_lived_token": emulator.issue_long_lived_token(),
        "amocrm_account_id": emulator.account_id,
        "amocrm_technical_users": str(emulator.exchange_user),
        **changes,
    }
    return Settings(**values)


@pytest.fixture
async def connector(
    emulator: AmoEmulator, crm_db: Database, clock: FixedClock
) -> AsyncIterator[AmoConnector]:
    """The crm service's amoCRM worker, driven step by step on the test's clock."""
    worker = AmoConnector(connector_settings(emulator), crm_db, clock)
    try:
        yield worker
    finally:
        await worker.stop()


@pytest.fixture
def syncer(amo: AmoClient, crm_db: Database, clock: FixedClock) -> Syncer:
    return syncer_for(amo, crm_db, clock)


async def hook_receiver(syncer: Syncer) -> Served:
    """What the gateway does with a webhook, minus the gateway: keep it for later."""

    async def receive(request: Request) -> Response:
        body = (await request.body()).decode()
        await syncer.db.run(syncer.accept, body=body)
        return Response("ok")

    return await serve(Starlette(routes=[Route("/hook", receive, methods=["POST"])]))


@pytest.fixture
async def listening(
    syncer: Syncer, amo: AmoClient, emulator: AmoEmulator
) -> AsyncIterator[Syncer]:
    """A synced mirror whose webhooks amoCRM sends to a receiver that keeps them."""
    await syncer.initial_sync()
    receiver = await hook_receiver(syncer)
    await subscribe(amo, f"{receiver.url}/hook")
    emulator.log.clear()
    try:
        yield syncer
    finally:
        await receiver.stop()


async def subscribe(amo: AmoClient, destination: str) -> None:
    await amo.request(
        "POST",
        "/api/v4/webhooks",
        body={
            "destination": destination,
            "settings": HOOK_SETTINGS,
        },
    )


@dataclass
class Receiver:
    """A webhook destination that keeps what it gets and answers `status`."""

    url: str
    bodies: list[str]
    status: int = 200


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    kept = Receiver(url="", bodies=[])

    async def receive(request: Request) -> Response:
        kept.bodies.append((await request.body()).decode())
        return Response("ok" if kept.status < 300 else "no", kept.status)

    served = await serve(Starlette(routes=[Route("/", receive, methods=["POST"])]))
    kept.url = served.url + "/"
    try:
        yield kept
    finally:
        await served.stop()
