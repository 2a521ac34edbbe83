"""gRPC plumbing: servers with health and reflection, clients, and error mapping."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    InternalError,
    OperationalError,
    StatementError,
)

from leadrouter import messages
from leadrouter.errors import (
    BadInput,
    Conflict,
    Forbidden,
    LeadrouterError,
    NotFound,
    Problem,
    Unauthenticated,
    Unavailable,
)
from leadrouter.ids import check_request
from leadrouter.telemetry import server_interceptors

log = logging.getLogger(__name__)
# A health service name that answers SERVING while the process runs, whatever
# its database says: for liveness probes, so a database outage does not get
# every replica restarted (readiness uses "" and follows the database).
LIVENESS = "liveness"

# Trailing metadata on statuses a service chose to send: their details are a
# message for people, unlike the transport's own ("failed to connect to all
# addresses; ..."), which a caller replaces with its own words.
DOMAIN_ERROR = ("leadrouter-error", "1")
# A bad input's problems, each with the path of the field it is about, so the
# caller can point at the field (JSON; binary metadata, as messages are UTF-8).
PROBLEMS = "leadrouter-problems-bin"
# How soon a client dials a restarted service again: gRPC's default pause
# grows to two minutes, so claims would stay refused long after it is back.
RECONNECT_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 1000),
]

# Clients ping every 30 s to keep long-lived streams (the event followers)
# alive; a server's default allows one ping in five minutes on a quiet
# connection and answers more with GOAWAY "too_many_pings", which cuts every
# call on that connection, a press in flight included. The services are each
# other's only callers, so they accept any rate of pings.
SERVER_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
    ("grpc.http2.max_ping_strikes", 0),
    # A second process started on a taken port must fail, not quietly share
    # the port with the first and get half of its calls.
    ("grpc.so_reuseport", 0),
]

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


def database_problem(error: DBAPIError, service: str) -> Unavailable:
    """What a failed database call means for the caller, in words.

    Nothing was written: each change is one transaction, rolled back whole.
    """
    code = str(getattr(error.orig, "sqlstate", "") or "")
    text = str(error.orig).lower()
    if code == "25006" or "readonly database" in text or "read-only" in text:
        return Unavailable(messages.database_read_only(service))
    if code == "53100" or "disk is full" in text or "disk full" in text:
        return Unavailable(messages.database_full(service))
    return Unavailable(messages.database_unreachable(service))


def _is_database_fault(error: DBAPIError) -> bool:
    """Faults of the database itself, not of a statement (a constraint, a bug)."""
    code = str(getattr(error.orig, "sqlstate", "") or "")
    return (
        error.connection_invalidated
        or isinstance(error, OperationalError)
        or (isinstance(error, InternalError) and code == "25006")
    )


def service_of(method: Callable[..., Any]) -> str:
    """The service a servicer method belongs to, as its messages name it.

    From its package (`services.crm.rpcs.pool` -> crm), not its class: a
    servicer is composed of classes by use case whose names are no service's.
    """
    parts = method.__module__.split(".")
    if len(parts) > 1 and parts[0] == "services":
        return parts[1]
    return method.__qualname__.split(".")[0].removesuffix("Servicer").lower()


def handles_errors(
    method: Callable[P, Awaitable[R]],
) -> Callable[P, Awaitable[R]]:
    """Turns domain errors into gRPC statuses; anything else is logged, not leaked."""
    service = service_of(method)

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        context: grpc.aio.ServicerContext[Any, Any] = args[2]
        try:
            check_request(args[1])  # type: ignore[arg-type]
            return await method(*args, **kwargs)
        except LeadrouterError as error:
            await context.abort(status_for(error), str(error), _trailer(error))
        except asyncio.CancelledError:
            raise
        except DataError as error:
            # A value the database cannot hold (a number past its columns): the
            # request's fault, not the database's.
            log.info("%s: %s", method.__qualname__, error.orig)
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                messages.value_out_of_range(),
                (DOMAIN_ERROR,),
            )
        except DBAPIError as error:
            if not _is_database_fault(error):
                log.exception("unhandled error in %s", method.__qualname__)
                await context.abort(grpc.StatusCode.INTERNAL, "internal error")
            problem = database_problem(error, service)
            log.warning("%s: %s (%s)", method.__qualname__, problem, error.orig)
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, str(problem), (DOMAIN_ERROR,)
            )
        except StatementError as error:
            if not isinstance(error.orig, OverflowError | ValueError):
                log.exception("unhandled error in %s", method.__qualname__)
                await context.abort(grpc.StatusCode.INTERNAL, "internal error")
            # The driver refused a parameter before sending it (an integer past
            # 64 bits on SQLite, a NUL in a PostgreSQL text).
            log.info("%s: %s", method.__qualname__, error.orig)
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                messages.value_out_of_range(),
                (DOMAIN_ERROR,),
            )
        except Exception:
            log.exception("unhandled error in %s", method.__qualname__)
            await context.abort(grpc.StatusCode.INTERNAL, "internal error")
        raise AssertionError("unreachable")  # abort() always raises

    return wrapper


def _trailer(error: LeadrouterError) -> tuple[tuple[str, str | bytes], ...]:
    """The metadata of a domain error: its mark, and its problems by path."""
    problems = getattr(error, "problems", None)
    if not problems:
        return (DOMAIN_ERROR,)
    listed = [{"path": p.path, "message": p.message} for p in problems]
    return (DOMAIN_ERROR, (PROBLEMS, json.dumps(listed).encode()))


def _problems(error: grpc.aio.AioRpcError) -> list[Problem]:
    for key, value in error.trailing_metadata() or ():
        if key == PROBLEMS and isinstance(value, bytes):
            return [Problem(p["path"], p["message"]) for p in json.loads(value)]
    return []


def _from_service(error: grpc.aio.AioRpcError) -> bool:
    metadata = error.trailing_metadata() or ()
    return any((key, value) == DOMAIN_ERROR for key, value in metadata)


def error_from_rpc(error: grpc.aio.AioRpcError, service: str) -> LeadrouterError:
    """The domain error a gRPC failure stands for, with a message a person can read."""
    code = error.code()
    detail = error.details() or ""
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return BadInput(detail, _problems(error))
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFound(detail)
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return Forbidden(detail)
    if code == grpc.StatusCode.ABORTED:
        return Conflict(detail)
    if code == grpc.StatusCode.UNAVAILABLE and _from_service(error):
        return Unavailable(detail)  # e.g. a service further down is not reachable
    if code == grpc.StatusCode.UNAVAILABLE:
        return Unavailable(messages.service_unreachable(service))
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return Unavailable(messages.service_too_slow(service))
    return Unavailable(messages.service_failed(service, code.name.lower()))


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
            interceptors=[*server_interceptors(self.name), *self.interceptors],
            options=SERVER_OPTIONS,
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
            *RECONNECT_OPTIONS,
            *options,
        ],
    )


async def wait_for_health(address: str, timeout: float = 30.0) -> None:
    """Waits until the server at address reports SERVING."""
    deadline = asyncio.get_running_loop().time() + timeout
    # channel() retries connecting every second: by default the pause between
    # attempts grows to two minutes, far longer than a slow start takes.
    async with channel(address) as ch:
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
