"""The typed clients against a real gRPC server on a loopback port.

A call the transport refuses with UNAVAILABLE (a replica restarting, a
connection cut) is tried again only when repeating it is safe: a read, or a
write that carries its idempotency key. The server counts what reached it.
"""

from __future__ import annotations

import asyncio
import importlib
import re
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from leadrouter.clients import (
    AssignerClient,
    Clients,
    CrmClient,
    LimitsClient,
    ReportsClient,
    SchedulerClient,
    ServiceClient,
)
from leadrouter.clients.base import CHANNELS, Stream, Unary
from leadrouter.crm.v1 import crm_pb2, crm_pb2_grpc
from leadrouter.errors import Unavailable
from leadrouter.limits.v1 import limits_pb2, limits_pb2_grpc
from leadrouter.rpc import DOMAIN_ERROR, ServiceRunner


class Flaky:
    """How many calls of each method reached the server, and how many to refuse."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.refuse: Counter[str] = Counter()
        self.in_words = False  # refuse as a service does (its database down)
        self.limits: Limits
        self.crm: Crm

    async def answer(self, method: str, context: Any) -> None:
        self.calls[method] += 1
        if self.refuse[method] > 0:
            self.refuse[method] -= 1
            trailer = (DOMAIN_ERROR,) if self.in_words else ()
            await context.abort(grpc.StatusCode.UNAVAILABLE, "not now", trailer)


class Limits(limits_pb2_grpc.LimitsServicer):
    def __init__(self, flaky: Flaky) -> None:
        self.flaky = flaky
        self.downstream: Clients | None = None

    async def GetGroupLimits(
        self, request: limits_pb2.GetGroupLimitsRequest, context: Any
    ) -> limits_pb2.GetGroupLimitsResponse:
        await self.flaky.answer("GetGroupLimits", context)
        return limits_pb2.GetGroupLimitsResponse()

    async def GetEligibility(
        self, request: limits_pb2.GetEligibilityRequest, context: Any
    ) -> limits_pb2.GetEligibilityResponse:
        """Asks the crm in turn, as the limits service does, and in a task
        of its own, as work that outlives the call does."""
        assert self.downstream is not None
        ask = crm_pb2.GetActivityRequest(account=request.account)
        await self.downstream.crm.get_activity(ask)
        await asyncio.create_task(self.downstream.crm.get_activity(ask))
        return limits_pb2.GetEligibilityResponse()

    async def RecordSetupVersion(
        self, request: limits_pb2.RecordSetupVersionRequest, context: Any
    ) -> limits_pb2.SetupVersion:
        await self.flaky.answer("RecordSetupVersion", context)
        return limits_pb2.SetupVersion(number=1)


class Crm(crm_pb2_grpc.CrmServicer):
    def __init__(self, flaky: Flaky) -> None:
        self.flaky = flaky
        self.time_left: list[float | None] = []

    async def GetActivity(
        self, request: crm_pb2.GetActivityRequest, context: Any
    ) -> crm_pb2.GetActivityResponse:
        self.time_left.append(context.time_remaining())
        return crm_pb2.GetActivityResponse()

    async def TakePoolLead(
        self, request: crm_pb2.TakePoolLeadRequest, context: Any
    ) -> crm_pb2.TakePoolLeadResponse:
        await self.flaky.answer("TakePoolLead", context)
        return crm_pb2.TakePoolLeadResponse()


@pytest.fixture
async def served() -> AsyncIterator[tuple[Flaky, str]]:
    flaky = Flaky()
    flaky.limits, flaky.crm = Limits(flaky), Crm(flaky)

    def register(server: grpc.aio.Server) -> list[str]:
        limits_pb2_grpc.add_LimitsServicer_to_server(flaky.limits, server)
        crm_pb2_grpc.add_CrmServicer_to_server(flaky.crm, server)
        return []

    runner = ServiceRunner("flaky", register)
    port = await runner.start("127.0.0.1:0")
    try:
        yield flaky, f"127.0.0.1:{port}"
    finally:
        await runner.stop(0)


def clients_of(address: str) -> Clients:
    # No pauses between attempts: the test waits on no real time.
    return Clients({"limits": [address], "crm": [address]}, 10, pauses=(0, 0))


async def test_a_read_refused_once_by_the_transport_is_tried_again(
    served: tuple[Flaky, str],
) -> None:
    flaky, address = served
    clients = clients_of(address)
    flaky.refuse["GetGroupLimits"] = 1
    try:
        reply = await clients.limits.get_group_limits(
            limits_pb2.GetGroupLimitsRequest(account="acme")
        )
        assert reply == limits_pb2.GetGroupLimitsResponse()
        assert flaky.calls["GetGroupLimits"] == 2
    finally:
        await clients.close()


async def test_a_write_without_a_key_is_tried_once(served: tuple[Flaky, str]) -> None:
    flaky, address = served
    clients = clients_of(address)
    flaky.refuse["RecordSetupVersion"] = 1
    try:
        with pytest.raises(Unavailable, match="the limits service is not reachable"):
            await clients.limits.record_setup_version(
                limits_pb2.RecordSetupVersionRequest(account="acme")
            )
        assert flaky.calls["RecordSetupVersion"] == 1
    finally:
        await clients.close()


async def test_a_write_is_tried_again_only_when_it_carries_its_key(
    served: tuple[Flaky, str],
) -> None:
    flaky, address = served
    clients = clients_of(address)
    try:
        flaky.refuse["TakePoolLead"] = 1
        await clients.crm.take_pool_lead(
            crm_pb2.TakePoolLeadRequest(account="acme", operation_id="claim:u:1")
        )
        assert flaky.calls["TakePoolLead"] == 2
        flaky.refuse["TakePoolLead"] = 1
        with pytest.raises(Unavailable):
            await clients.crm.take_pool_lead(
                crm_pb2.TakePoolLeadRequest(account="acme")
            )
        assert flaky.calls["TakePoolLead"] == 3
    finally:
        await clients.close()


async def test_a_service_refusing_in_words_is_not_asked_again(
    served: tuple[Flaky, str],
) -> None:
    """A service that answered UNAVAILABLE itself (its database down) has done
    its own retrying; asking again would multiply the load down the chain."""
    flaky, address = served
    clients = clients_of(address)
    flaky.in_words = True
    flaky.refuse["GetGroupLimits"] = 1
    try:
        with pytest.raises(Unavailable, match="not now"):
            await clients.limits.get_group_limits(
                limits_pb2.GetGroupLimitsRequest(account="acme")
            )
        assert flaky.calls["GetGroupLimits"] == 1
    finally:
        await clients.close()


async def test_a_read_is_tried_three_times_at_most(served: tuple[Flaky, str]) -> None:
    flaky, address = served
    clients = clients_of(address)
    flaky.refuse["GetGroupLimits"] = 5
    try:
        with pytest.raises(Unavailable):
            await clients.limits.get_group_limits(
                limits_pb2.GetGroupLimitsRequest(account="acme")
            )
        assert flaky.calls["GetGroupLimits"] == 3
    finally:
        await clients.close()


async def test_clients_of_one_process_share_one_channel_per_target(
    served: tuple[Flaky, str],
) -> None:
    flaky, address = served
    before = CHANNELS.count()
    first, second = clients_of(address), clients_of(address)
    assert first.limits.channel is second.limits.channel
    # Two services behind one address: still the one channel.
    assert first.crm.channel is first.limits.channel
    assert CHANNELS.count() == before + 1
    await first.close()
    # The other clients' calls go on over the channel they share.
    await second.limits.get_group_limits(limits_pb2.GetGroupLimitsRequest())
    await second.close()
    assert CHANNELS.count() == before
    assert flaky.calls["GetGroupLimits"] == 1


@pytest.mark.parametrize(
    "kind", [AssignerClient, CrmClient, LimitsClient, ReportsClient, SchedulerClient]
)
def test_each_client_lists_every_rpc_of_its_service_with_its_types(
    kind: type[ServiceClient],
) -> None:
    module = importlib.import_module(f"leadrouter.{kind.service}.v1.{kind.service}_pb2")
    service = module.DESCRIPTOR.services_by_name[kind.service.capitalize()]
    for method in service.methods:
        name = re.sub(r"(?<!^)(?=[A-Z])", "_", method.name).lower()
        rpc = getattr(kind, name, None)
        expected = Stream if method.server_streaming else Unary
        assert isinstance(rpc, expected), f"{kind.__name__}.{name}"
        assert rpc.name == method.name
        request, response = rpc.__orig_class__.__args__  # type: ignore[union-attr]
        assert request.DESCRIPTOR.full_name == method.input_type.full_name, name
        assert response.DESCRIPTOR.full_name == method.output_type.full_name, name


async def test_a_served_call_gives_the_calls_it_makes_no_more_than_its_caller_waits(
    served: tuple[Flaky, str],
) -> None:
    flaky, address = served
    caller, downstream = clients_of(address), clients_of(address)
    flaky.limits.downstream = downstream  # a 10 s deadline of its own
    try:
        await caller.limits.get_eligibility(
            limits_pb2.GetEligibilityRequest(account="acme"), timeout=2
        )
        within_the_call, in_a_task = flaky.crm.time_left
        # gRPC sends deadlines rounded up a little: well under its own 10 s.
        assert within_the_call is not None and within_the_call < 3
        # Work handed to a task of its own keeps its own deadline.
        assert in_a_task is not None and in_a_task > 9
    finally:
        await caller.close()
        await downstream.close()
