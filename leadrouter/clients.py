"""Typed gRPC clients of every service, turning RPC failures into domain errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import grpc

from leadrouter.assigner.v1 import assigner_pb2_grpc
from leadrouter.config import Settings
from leadrouter.crm.v1 import crm_pb2_grpc
from leadrouter.i18n import call_metadata
from leadrouter.limits.v1 import limits_pb2_grpc
from leadrouter.reports.v1 import reports_pb2_grpc
from leadrouter.rpc import RECONNECT_OPTIONS, error_from_rpc
from leadrouter.scheduler.v1 import scheduler_pb2_grpc
from leadrouter.telemetry import client_interceptors

S = TypeVar("S")


class Client(Generic[S]):
    """Calls a service's methods with a deadline; failures become domain errors."""

    def __init__(
        self,
        service: str,
        addresses: Sequence[str],
        stub_type: Callable[[grpc.aio.Channel], S],
        timeout: float,
        interceptors: Sequence[grpc.aio.ClientInterceptor] = (),
    ) -> None:
        self.service = service
        target = (
            addresses[0]
            if len(addresses) == 1
            else "ipv4:" + ",".join(addresses)  # several replicas: round robin
        )
        options: list[tuple[str, Any]] = [
            ("grpc.keepalive_time_ms", 30_000),
            *RECONNECT_OPTIONS,
        ]
        if len(addresses) > 1 or target.startswith("dns:"):
            # Several replicas, listed or behind one DNS name (a headless
            # Kubernetes Service, a Compose service): spread calls over all.
            options.append(("grpc.lb_policy_name", "round_robin"))
        self.channel = grpc.aio.insecure_channel(
            target,
            options=options,
            interceptors=[*client_interceptors(), *interceptors],
        )
        self.stub = stub_type(self.channel)
        self.timeout = timeout

    async def call(
        self, method: str, request: Any, timeout: float | None = None
    ) -> Any:
        try:
            return await getattr(self.stub, method)(
                request, timeout=timeout or self.timeout, metadata=call_metadata()
            )
        except grpc.aio.AioRpcError as error:
            raise error_from_rpc(error, self.service) from error

    def stream(self, method: str, request: Any) -> Any:
        return getattr(self.stub, method)(request)

    async def close(self) -> None:
        await self.channel.close()


class Clients:
    """One client per service; created lazily so a service only dials what it uses."""

    def __init__(
        self,
        addresses: dict[str, Sequence[str]],
        timeout: float = 10.0,
        interceptors: Sequence[grpc.aio.ClientInterceptor] = (),
    ) -> None:
        self.addresses = addresses
        self.timeout = timeout
        self.interceptors = interceptors
        self._made: dict[str, Client[Any]] = {}

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> Clients:
        from leadrouter.config import SERVICES

        return cls(
            {s: settings.addr_for(s).split(",") for s in SERVICES},
            timeout=settings.rpc_timeout_seconds,
            **kwargs,
        )

    def _client(
        self, service: str, stub_type: Callable[[grpc.aio.Channel], S]
    ) -> Client[S]:
        if service not in self._made:
            self._made[service] = Client(
                service,
                self.addresses[service],
                stub_type,
                self.timeout,
                self.interceptors,
            )
        return self._made[service]

    @property
    def crm(self) -> Client[crm_pb2_grpc.CrmStub]:
        return self._client("crm", crm_pb2_grpc.CrmStub)

    @property
    def limits(self) -> Client[limits_pb2_grpc.LimitsStub]:
        return self._client("limits", limits_pb2_grpc.LimitsStub)

    @property
    def scheduler(self) -> Client[scheduler_pb2_grpc.SchedulerStub]:
        return self._client("scheduler", scheduler_pb2_grpc.SchedulerStub)

    @property
    def assigner(self) -> Client[assigner_pb2_grpc.AssignerStub]:
        return self._client("assigner", assigner_pb2_grpc.AssignerStub)

    @property
    def reports(self) -> Client[reports_pb2_grpc.ReportsStub]:
        return self._client("reports", reports_pb2_grpc.ReportsStub)

    async def close(self) -> None:
        for client in self._made.values():
            await client.close()
        self._made.clear()
