"""Typed gRPC clients of every service, turning RPC failures into domain errors.

The kit below every edge and service: `base` has the machinery (deadlines,
retries of idempotent calls, one shared channel per target), each
`<service>.py` lists that service's RPCs with their types and whether a call
may be repeated. It imports only the generated stubs and the kit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import grpc

from leadrouter.clients.assigner import AssignerClient
from leadrouter.clients.base import RETRY_PAUSES, ServiceClient
from leadrouter.clients.crm import CrmClient
from leadrouter.clients.limits import LimitsClient
from leadrouter.clients.reports import ReportsClient
from leadrouter.clients.scheduler import SchedulerClient
from leadrouter.config import Settings

C = TypeVar("C", bound=ServiceClient)

__all__ = [
    "AssignerClient",
    "Clients",
    "CrmClient",
    "LimitsClient",
    "ReportsClient",
    "SchedulerClient",
    "ServiceClient",
]


class Clients:
    """One client per service; created lazily so a service only dials what it uses."""

    def __init__(
        self,
        addresses: dict[str, Sequence[str]],
        timeout: float = 10.0,
        interceptors: Sequence[grpc.aio.ClientInterceptor] = (),
        pauses: Sequence[float] = RETRY_PAUSES,
    ) -> None:
        self.addresses = addresses
        self.timeout = timeout
        self.interceptors = interceptors
        self.pauses = pauses
        self._made: dict[str, ServiceClient] = {}

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> Clients:
        from leadrouter.config import SERVICES

        return cls(
            {s: settings.addr_for(s).split(",") for s in SERVICES},
            timeout=settings.rpc_timeout_seconds,
            **kwargs,
        )

    def _client(self, kind: Callable[..., C]) -> C:
        service: str = getattr(kind, "service")  # noqa: B009  (a class attribute)
        made = self._made.get(service)
        if made is None:
            made = kind(
                self.addresses[service], self.timeout, self.interceptors, self.pauses
            )
            self._made[service] = made
        return made  # type: ignore[return-value]

    @property
    def crm(self) -> CrmClient:
        return self._client(CrmClient)

    @property
    def limits(self) -> LimitsClient:
        return self._client(LimitsClient)

    @property
    def scheduler(self) -> SchedulerClient:
        return self._client(SchedulerClient)

    @property
    def assigner(self) -> AssignerClient:
        return self._client(AssignerClient)

    @property
    def reports(self) -> ReportsClient:
        return self._client(ReportsClient)

    async def close(self) -> None:
        for client in self._made.values():
            await client.close()
        self._made.clear()
