"""Every service answers the gRPC health check and lists itself by reflection."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from leadrouter.rpc import ServiceRunner
from tests.stack import Stack

EXPECTED = {
    "crm": "leadrouter.crm.v1.Crm",
    "limits": "leadrouter.limits.v1.Limits",
    "scheduler": "leadrouter.scheduler.v1.Scheduler",
    "assigner": "leadrouter.assigner.v1.Assigner",
    "reports": "leadrouter.reports.v1.Reports",
}


async def test_each_service_reports_serving_and_lists_its_api(stack: Stack) -> None:
    for service, full_name in EXPECTED.items():
        address = stack.clients.addresses[service][0]
        async with grpc.aio.insecure_channel(address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            reply = await health.Check(health_pb2.HealthCheckRequest(service=full_name))
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            request = reflection_pb2.ServerReflectionRequest(list_services="")
            responses = [r async for r in stub.ServerReflectionInfo(iter([request]))]
            names = {s.name for s in responses[0].list_services_response.service}
            assert {full_name, "grpc.health.v1.Health"} <= names


async def test_a_stopping_service_reports_not_serving(stack: Stack) -> None:
    runner = stack.runners["reports"]
    address = stack.clients.addresses["reports"][0]
    async with grpc.aio.insecure_channel(address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        await runner._health.enter_graceful_shutdown()
        reply = await health.Check(health_pb2.HealthCheckRequest())
        assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING


async def test_a_client_pinging_an_idle_stream_keeps_its_connection(
    stack: Stack,
) -> None:
    # Keepalive pings are timed by the gRPC transport itself, not by any clock
    # the project can inject; a 50 ms ping interval makes a few seconds of idling
    # enough for a server that rations pings to send GOAWAY ("too_many_pings"),
    # which would cut every call on the connection, claims included.
    address = stack.clients.addresses["crm"][0]
    options = [
        ("grpc.keepalive_time_ms", 50),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
    ]
    async with grpc.aio.insecure_channel(address, options=options) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        watch = health.Watch(health_pb2.HealthCheckRequest())
        first = await watch.read()
        assert first.status == health_pb2.HealthCheckResponse.SERVING
        idle = asyncio.create_task(watch.read())
        done, _ = await asyncio.wait({idle}, timeout=6)
        assert not done, f"the idle stream was cut: {idle.exception()}"
        reply = await health.Check(health_pb2.HealthCheckRequest())
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        watch.cancel()
        idle.cancel()


async def test_a_second_server_on_a_taken_port_fails_to_start(stack: Stack) -> None:
    address = stack.clients.addresses["limits"][0]
    second = ServiceRunner("limits", lambda server: [])
    try:
        with pytest.raises(RuntimeError):
            await second.start(address)
    finally:
        if second.server is not None:
            await second.server.stop(grace=0)
    async with grpc.aio.insecure_channel(address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for _ in range(20):  # the kernel would spread these over both servers
            reply = await health.Check(
                health_pb2.HealthCheckRequest(service=EXPECTED["limits"]), timeout=5
            )
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
