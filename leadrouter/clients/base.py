"""The client kit: one typed method per RPC, deadlines, retries, shared channels.

A service's client lists its RPCs as `Unary` and `Stream` attributes, each
typed with its request and response, so mypy sees every call. A call has a
deadline (the client's, or its own); a call that is idempotent (a read, or
a write that carries an idempotency key) is tried again when the transport
answers UNAVAILABLE (a replica restarting, a connection cut) before it
reached a service; any other call is tried once, since the service may have
done it. Channels are shared by every client of the process that dials the
same target, and closed with the last of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

import grpc

from leadrouter import deadlines
from leadrouter.i18n import call_metadata
from leadrouter.rpc import DOMAIN_ERROR, RECONNECT_OPTIONS, error_from_rpc
from leadrouter.telemetry import client_interceptors

Req = TypeVar("Req")
Resp = TypeVar("Resp")
C = TypeVar("C", bound="ServiceClient")

# Pauses before the second and third attempts of an idempotent call: the
# channel dials a lost server again after 200 ms (RECONNECT_OPTIONS).
RETRY_PAUSES: tuple[float, ...] = (0.05, 0.25)


def _always(_request: Any) -> bool:
    return True


def _never(_request: Any) -> bool:
    return False


# Not frozen: a typed instance keeps its __orig_class__, so a test can check
# each RPC's types against the service's descriptor.
@dataclass
class Unary(Generic[Req, Resp]):
    """One unary RPC: `await client.method(request, timeout=...)`.

    `idempotent` is True for reads, or a test of the request for writes
    that are idempotent when they carry a key (or when they are dry runs).
    """

    name: str
    idempotent: bool | Callable[[Req], bool] = False

    def retries(self, request: Req) -> bool:
        if callable(self.idempotent):
            return self.idempotent(request)
        return self.idempotent

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Unary[Req, Resp]: ...

    @overload
    def __get__(self, client: ServiceClient, owner: type[Any]) -> Bound[Req, Resp]: ...

    def __get__(
        self, client: ServiceClient | None, owner: type[Any]
    ) -> Unary[Req, Resp] | Bound[Req, Resp]:
        if client is None:
            return self
        return Bound(client, self)


@dataclass(frozen=True)
class Bound(Generic[Req, Resp]):
    client: ServiceClient
    rpc: Unary[Req, Resp]

    def __call__(
        self, request: Req, *, timeout: float | None = None
    ) -> Awaitable[Resp]:
        return self.client.unary(
            self.rpc.name, request, timeout, retry=self.rpc.retries(request)
        )


@dataclass
class Stream(Generic[Req, Resp]):
    """One server-streaming RPC: `client.method(request)` is the call to iterate."""

    name: str

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Stream[Req, Resp]: ...

    @overload
    def __get__(
        self, client: ServiceClient, owner: type[Any]
    ) -> Callable[[Req], grpc.aio.UnaryStreamCall[Req, Resp]]: ...

    def __get__(
        self, client: ServiceClient | None, owner: type[Any]
    ) -> Stream[Req, Resp] | Callable[[Req], grpc.aio.UnaryStreamCall[Req, Resp]]:
        if client is None:
            return self
        bound: ServiceClient = client
        return lambda request: bound.stream(self.name, request)


class ServiceClient:
    """A service's client: its shared channel, deadline and retry pauses."""

    service = ""  # the name a caller's message uses ("the crm service ...")
    stub_type: Callable[[grpc.aio.Channel], Any]

    def __init__(
        self,
        addresses: Sequence[str],
        timeout: float,
        interceptors: Sequence[grpc.aio.ClientInterceptor] = (),
        pauses: Sequence[float] = RETRY_PAUSES,
    ) -> None:
        self.timeout = timeout
        self.pauses = tuple(pauses)
        self.channel = CHANNELS.open(_target(addresses), tuple(interceptors))
        self.stub = type(self).stub_type(self.channel)
        self._closed = False

    async def unary(
        self, method: str, request: Any, timeout: float | None, retry: bool
    ) -> Any:
        """Calls one unary RPC; idempotent ones again on the transport's UNAVAILABLE."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + deadlines.within(timeout or self.timeout)
        pauses = list(self.pauses) if retry else []
        call = getattr(self.stub, method)
        while True:
            try:
                return await call(
                    request,
                    timeout=max(deadline - loop.time(), 0.001),
                    metadata=call_metadata(),
                )
            except grpc.aio.AioRpcError as error:
                if not (pauses and _transport_unavailable(error)):
                    raise error_from_rpc(error, self.service) from error
                pause = pauses.pop(0)
                if loop.time() + pause >= deadline:
                    raise error_from_rpc(error, self.service) from error
                await asyncio.sleep(pause)

    async def call(
        self, method: str, request: Any, timeout: float | None = None
    ) -> Any:
        """Calls an RPC by its name, once: for callers that choose it at run time."""
        return await self.unary(method, request, timeout, retry=False)

    def stream(self, method: str, request: Any) -> Any:
        return getattr(self.stub, method)(request)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await CHANNELS.close(self.channel)


def _transport_unavailable(error: grpc.aio.AioRpcError) -> bool:
    """UNAVAILABLE from the transport, not a service's own (its database down):
    a service that answered has tried what it could already."""
    if error.code() != grpc.StatusCode.UNAVAILABLE:
        return False
    return not any(
        (key, value) == DOMAIN_ERROR for key, value in error.trailing_metadata() or ()
    )


def _target(addresses: Sequence[str]) -> str:
    if len(addresses) == 1:
        return addresses[0]
    return "ipv4:" + ",".join(addresses)  # several replicas: round robin


class Channels:
    """The process's channels, one per target, shared and counted."""

    def __init__(self) -> None:
        self._open: dict[tuple[Any, ...], tuple[grpc.aio.Channel, int]] = {}

    def open(
        self, target: str, interceptors: tuple[grpc.aio.ClientInterceptor, ...]
    ) -> grpc.aio.Channel:
        key = (target, interceptors, _loop())
        channel, users = self._open.get(key) or (_dial(target, interceptors), 0)
        self._open[key] = (channel, users + 1)
        return channel

    async def close(self, channel: grpc.aio.Channel) -> None:
        for key, (held, users) in list(self._open.items()):
            if held is channel:
                if users > 1:
                    self._open[key] = (held, users - 1)
                    return
                del self._open[key]
        await channel.close()

    def count(self) -> int:
        return len(self._open)


def _loop() -> asyncio.AbstractEventLoop | None:
    """A channel serves the event loop it was made in."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _dial(
    target: str, interceptors: tuple[grpc.aio.ClientInterceptor, ...]
) -> grpc.aio.Channel:
    options: list[tuple[str, Any]] = [
        ("grpc.keepalive_time_ms", 30_000),
        *RECONNECT_OPTIONS,
    ]
    if target.startswith(("ipv4:", "dns:")):
        # Several replicas, listed or behind one DNS name (a headless
        # Kubernetes Service, a Compose service): spread calls over all.
        options.append(("grpc.lb_policy_name", "round_robin"))
    return grpc.aio.insecure_channel(
        target, options=options, interceptors=[*client_interceptors(), *interceptors]
    )


CHANNELS = Channels()
