"""Names of what a page names by id, read in one batch per request."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

import pytest

from gateway.context import Context
from gateway.names import names
from leadrouter.auth import Caller
from leadrouter.clients import Clients
from leadrouter.clock import FixedClock
from leadrouter.config import Settings
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import Unauthenticated


@dataclass
class FakeCrm:
    asked: list[list[str]] = field(default_factory=list)

    async def get_directory(
        self, request: crm_pb2.GetDirectoryRequest
    ) -> crm_pb2.Directory:
        self.asked.append(list(request.user_ids))
        reply = crm_pb2.Directory()
        reply.users.add(id="ursula", name="Ursula Kim")
        reply.users.add(id="bot", name="")
        return reply


@dataclass
class FakeClients:
    crm: FakeCrm = field(default_factory=FakeCrm)


def _context(caller: Caller | None) -> tuple[Context, FakeCrm]:
    clients = FakeClients()
    ctx = Context(
        settings=Settings(),
        clients=cast(Clients, clients),
        clock=FixedClock(datetime(2026, 11, 2, tzinfo=UTC)),
        caller=caller,
    )
    return ctx, clients.crm


async def test_a_page_of_names_asks_the_crm_once() -> None:
    ctx, crm = _context(Caller("acme", "admin-1", "admin"))
    loader = names(ctx).users
    found = await asyncio.gather(
        loader.load("ursula"),
        loader.load("bot"),
        loader.load("gone"),
        loader.load("ursula"),
    )
    assert found == ["Ursula Kim", "bot", None, "Ursula Kim"]
    assert crm.asked == [["ursula", "bot", "gone"]]


async def test_the_loader_is_the_requests_own_and_made_once() -> None:
    ctx, _crm = _context(Caller("acme", "admin-1", "admin"))
    assert names(ctx) is names(ctx)


async def test_names_are_not_read_for_a_caller_not_signed_in() -> None:
    ctx, crm = _context(None)
    with pytest.raises(Unauthenticated):
        names(ctx)
    assert crm.asked == []
