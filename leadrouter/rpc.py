"""gRPC plumbing: servers with health and reflection, clients, and error mapping."""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from leadrouter.errors import (
    BadInput,
    Conflict,
    Forbidden,
    LeadrouterError,
    NotFound,
    Unauthenticated,
    Unavailable,
)
from leadrouter.telemetry import TracingServerInterceptor

log = logging.getLogger(__name__)
# A health service name that answers SERVING while the process runs, whatever
# its database says: for liveness probes, so a database outage does not get
# every replica restarted (readiness uses "" and follows the database).
LIVENESS = "liveness"

P = ParamSpec("P")
R = TypeVar("R")

_STATUS_OF: list[tuple[type[LeadrouterError], grpc.StatusCode]] = [
    (BadInput, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (Forbidden, grpc.StatusCode.PERMISSION_DENIED),
    (Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (Unavailable, grpc.StatusCode.UNAVAILABLE),
    (Conflict, grpc.StatusCode.ABORTED),
]


def status_for(error: LeadrouterError) -> grpc.StatusCode:
    for kind, code in _STATUS_OF:
        if isinstance(error, kind):
            return code
    return grpc.StatusCode.FAILED_PRECONDITION


def handles_errors(
    method: Callable[P, Awaitable[R]],
) -> Callable[P, Awaitable[R]]:
    """Turns domain errors into gRPC statuses; anything else is logged, not leaked."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        context: grpc.aio.ServicerContext[Any, Any] = args[2]
        try:
            return await method(*args, **kwargs)
        except LeadrouterError as error:
            await context.abort(status_for(error), str(error))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("unhandled error in %s", method.__qualname__)
            await context.abort(grpc.StatusCode.INTERNAL, "internal error")
        raise AssertionError("unreachable")  # abort() always raises

    return wrapper


def error_from_rpc(error: grpc.aio.AioRpcError, service: str) -> LeadrouterError:
    """The domain error a gRPC failure stands for, with a message a person can read."""
    code = error.code()
    detail = error.details() or ""
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return BadInput(detail)
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFound(detail)
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return Forbidden(detail)
    if code == grpc.StatusCode.ABORTED:
        return Conflict(detail)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return Unavailable(
            f"the {service} service is not answering; try again in a moment"
        )
    return Unavailable(f"the {service} service failed to answer ({code.name.lower()})")


@dataclass
class ServiceRunner:
    """One gRPC server: its servicers, health, reflection, and a graceful stop."""

    name: str
    register: Callable[[grpc.aio.Server], Sequence[str]]
    health_check: Callable[[], Awaitable[bool]] | None = None
    interceptors: Sequence[grpc.aio.ServerInterceptor] = ()
    server: grpc.aio.Server | None = None
    port: int = 0
    _health: health.aio.HealthServicer = field(
        default_factory=health.aio.HealthServicer
    )
    _watch: asyncio.Task[None] | None = None

    async def start(self, address: str) -> int:
        self.server = grpc.aio.server(
            interceptors=[TracingServerInterceptor(self.name), *self.interceptors]
        )
        names = list(self.register(self.server))
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self.server)
        reflection.enable_server_reflection(
            [*names, health.SERVICE_NAME, reflection.SERVICE_NAME], self.server
        )
        self.port = self.server.add_insecure_port(address)
        await self.server.start()
        serving = health_pb2.HealthCheckResponse.SERVING
        for name in ["", LIVENESS, *names]:
            await self._health.set(name, serving)
        if self.health_check is not None:
            self._watch = asyncio.create_task(self._watch_health(names))
        return self.port

    async def _watch_health(self, names: Sequence[str]) -> None:
        """Reports NOT_SERVING while the service's database does not answer."""
        assert self.health_check is not None
        while True:
            ok = await self.health_check()
            status = (
                health_pb2.HealthCheckResponse.SERVING
                if ok
                else health_pb2.HealthCheckResponse.NOT_SERVING
            )
            for name in ["", *names]:
                await self._health.set(name, status)
            await asyncio.sleep(5)

    async def stop(self, grace: float = 5.0) -> None:
        if self._watch is not None:
            self._watch.cancel()
        if self.server is not None:
            await self._health.enter_graceful_shutdown()
            await self.server.stop(grace)


async def run_until_terminated(runner: ServiceRunner, address: str) -> None:
    """Serves until SIGTERM or SIGINT, then drains in-flight calls."""
    port = await runner.start(address)
    log.info("%s listening on port %s", runner.name, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("%s stopping", runner.name)
    await runner.stop()


def channel(address: str, *options: tuple[str, Any]) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(
        address,
        options=[
            ("grpc.keepalive_time_ms", 30_000),
            ("grpc.enable_retries", 1),
            *options,
        ],
    )


async def wait_for_health(address: str, timeout: float = 30.0) -> None:
    """Waits until the server at address reports SERVING."""
    deadline = asyncio.get_running_loop().time() + timeout
    # Retry connecting every second: by default the pause between attempts
    # grows to two minutes, far longer than a slow start takes.
    async with channel(address, ("grpc.max_reconnect_backoff_ms", 1000)) as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        while True:
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"no healthy gRPC server at {address}")
            await asyncio.sleep(0.1)


async def stream_items(call: AsyncIterator[R]) -> list[R]:
    return [item async for item in call]
