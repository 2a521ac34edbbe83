"""gRPC entry point of the reports service: reports read from subscribed models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeAlias

import grpc

from leadrouter.clients import Clients
from leadrouter.clock import Clock
from leadrouter.config import Settings
from leadrouter.db import Database
from leadrouter.reports.v1 import reports_pb2, reports_pb2_grpc
from leadrouter.rpc import ServiceRunner, handles_errors
from leadrouter.timestamps import set_ts
from services.reports import domain
from services.reports.store import LossQuestion, ReportsStore
from services.reports.subscribers import Directories, Subscribers
from services.reports.tables import metadata

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


def counts_message(c: domain.Counts) -> reports_pb2.DistributionCounts:
    return reports_pb2.DistributionCounts(
        claimed=c.claimed, pushed=c.pushed, manual=c.manual, total=c.total
    )


def closings_row(key: str, c: domain.Closings) -> reports_pb2.LossReasonsRow:
    return reports_pb2.LossReasonsRow(
        key=key,
        won=c.won,
        lost=c.lost,
        won_percent=c.won_percent,
        lost_percent=c.lost_percent,
        reasons=[
            reports_pb2.ReasonCount(reason=r, count=n, percent=p)
            for r, n, p in c.reason_split()
        ],
    )


class ReportsServicer(reports_pb2_grpc.ReportsServicer):
    def __init__(self, store: ReportsStore, clients: Clients) -> None:
        self.store = store
        self.clients = clients
        self._directories: Directories | None = None

    async def _timezone(self, account: str) -> str:
        """The zone the account's days were counted in, else the CRM's, else UTC."""
        stored = await self.store.db.run(self.store.zones, accounts=[account])
        if account in stored:
            return stored[account]
        if self._directories is None:
            self._directories = Directories(self.clients.crm)
        return (await self._directories.get(account)).timezone

    @handles_errors
    async def DistributionReport(
        self, request: reports_pb2.DistributionReportRequest, context: Ctx
    ) -> reports_pb2.DistributionReportResponse:
        days = domain.DayRange.of(getattr(request, "from"), request.to)
        bucket = domain.check_bucket(request.bucket)
        tz_name = await self._timezone(request.account)
        tz = domain.zone(tz_name)
        rows = await self.store.db.run(
            self.store.distribution,
            account=request.account,
            days=days,
            bucket=bucket,
            group_ids=list(request.group_ids),
            user_ids=list(request.user_ids),
        )
        figures = domain.distribution(rows)
        reply = reports_pb2.DistributionReportResponse(
            timezone=tz_name,
            total=counts_message(figures.total),
            managers=[
                reports_pb2.ManagerTotal(user_id=user, counts=counts_message(counts))
                for user, counts in figures.managers.items()
            ],
        )
        if figures.cells:
            days_, users, claimed, pushed, manual = zip(*figures.cells, strict=True)
            reply.cells.bucket.extend(d.isoformat() for d in days_)
            reply.cells.user_id.extend(users)
            reply.cells.claimed.extend(claimed)
            reply.cells.pushed.extend(pushed)
            reply.cells.manual.extend(manual)
        for day, counts in figures.buckets.items():
            b = reply.buckets.add(bucket=day.isoformat(), counts=counts_message(counts))
            set_ts(b, "bucket_start", domain.local_midnight(day, tz))
        return reply

    async def _loss_question(
        self, request: reports_pb2.LossReasonsReportRequest
    ) -> tuple[str, LossQuestion]:
        """The account's zone, and what the store reads for the request."""
        period = domain.Period.of(getattr(request, "from"), request.to)
        group_by = domain.check_grouping(request.group_by)
        tz_name = await self._timezone(request.account)
        start, end = period.instants(domain.zone(tz_name))
        return tz_name, LossQuestion(
            request.account,
            start,
            end,
            group_by,
            list(request.group_ids),
            list(request.user_ids),
        )

    @handles_errors
    async def LossReasonsReport(
        self, request: reports_pb2.LossReasonsReportRequest, context: Ctx
    ) -> reports_pb2.LossReasonsReportResponse:
        tz_name, question = await self._loss_question(request)
        rows = await self.store.db.run(self.store.closings, q=question)
        by_key, total = domain.loss_reasons(rows)
        return reports_pb2.LossReasonsReportResponse(
            timezone=tz_name,
            rows=[closings_row(k, c) for k, c in by_key.items()],
            total=closings_row("", total),
        )

    @handles_errors
    async def LossReasonsLeads(
        self, request: reports_pb2.LossReasonsLeadsRequest, context: Ctx
    ) -> reports_pb2.LossReasonsLeadsResponse:
        _, question = await self._loss_question(request.report)
        outcome = domain.check_outcome(request.outcome)
        ids = await self.store.db.run(
            partial(
                self.store.closing_leads,
                question,
                key=request.key if request.HasField("key") else None,
                outcome=outcome,
                reason=request.reason if request.HasField("reason") else None,
            )
        )
        return reports_pb2.LossReasonsLeadsResponse(lead_ids=ids)

    @handles_errors
    async def GetStreamPositions(
        self, request: reports_pb2.GetStreamPositionsRequest, context: Ctx
    ) -> reports_pb2.GetStreamPositionsResponse:
        positions = await self.store.db.run(self.store.positions)
        return reports_pb2.GetStreamPositionsResponse(
            positions=[
                reports_pb2.StreamPosition(stream=s, offset=o)
                for s, o in positions.items()
            ]
        )


@dataclass
class ReportsRunner(ServiceRunner):
    """The gRPC server, plus the subscribers that feed its read models."""

    subscribers: Subscribers | None = None

    async def start(self, address: str) -> int:
        port = await super().start(address)
        if self.subscribers is not None:
            self.subscribers.start()
        return port

    async def stop(self, grace: float = 5.0) -> None:
        if self.subscribers is not None:
            await self.subscribers.stop()
        await super().stop(grace)


def build(
    settings: Settings, clock: Clock, clients: Clients
) -> tuple[ServiceRunner, Database]:
    db = Database(settings.database_url_for("reports"), "reports", metadata)
    db.create_all()
    store = ReportsStore(db)
    servicer = ReportsServicer(store, clients)

    def register(server: grpc.aio.Server) -> Sequence[str]:
        reports_pb2_grpc.add_ReportsServicer_to_server(servicer, server)
        return [reports_pb2.DESCRIPTOR.services_by_name["Reports"].full_name]

    async def healthy() -> bool:
        return await db.run(db.ping)

    runner = ReportsRunner(
        "reports", register, healthy, subscribers=Subscribers(store, clients)
    )
    return runner, db
