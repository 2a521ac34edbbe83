"""gRPC entry point of the reports service."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from leadrouter.clients import Clients
from leadrouter.clock import Clock
from leadrouter.config import Settings
from leadrouter.db import Database
from leadrouter.reports.v1 import reports_pb2, reports_pb2_grpc
from leadrouter.rpc import ServiceRunner
from services.reports.tables import metadata


class ReportsServicer(reports_pb2_grpc.ReportsServicer):
    """Reports come from read models; until those exist, calls are UNIMPLEMENTED."""


def build(
    settings: Settings, clock: Clock, clients: Clients
) -> tuple[ServiceRunner, Database]:
    db = Database(settings.database_url_for("reports"), "reports", metadata)
    db.create_all()
    servicer = ReportsServicer()

    def register(server: grpc.aio.Server) -> Sequence[str]:
        reports_pb2_grpc.add_ReportsServicer_to_server(servicer, server)
        return [reports_pb2.DESCRIPTOR.services_by_name["Reports"].full_name]

    async def healthy() -> bool:
        return await db.run(db.ping)

    return ServiceRunner("reports", register, healthy), db
